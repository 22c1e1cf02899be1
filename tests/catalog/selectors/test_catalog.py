"""Entitlements: what a person may see, in lists, search and by direct URL."""

import pytest
from django.db import connection

from catalog.selectors.entitlements import (
    catalog_as_seen_by,
    service_is_visible,
    visible_among,
    visible_services,
)
from catalog.selectors.listing import service_listing
from catalog.selectors.search import clean_query
from catalog.triggers import TRIGGER_MIGRATIONS
from tests.factories import (
    DepartmentFactory,
    GroupFactory,
    LocationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def titles(queryset):
    return sorted(queryset.values_list("title", flat=True))


def test_unrestricted_services_are_visible_to_everyone(catalog, employee):
    assert titles(visible_services(user=employee)) == [
        "New laptop",
        "Reset a forgotten password",
    ]


def test_department_restriction_admits_only_that_department(catalog, finance_londoner):
    visible = titles(visible_services(user=finance_londoner))
    assert "Access to the finance system" in visible
    assert "Meeting-room video kit" in visible  # London
    assert "New starter bundle" not in visible  # not a manager


def test_group_restriction_admits_group_members(catalog, a_manager):
    visible = titles(visible_services(user=a_manager))
    assert "New starter bundle" in visible
    assert "Access to the finance system" not in visible


def test_every_restricted_dimension_must_match(catalog, finance, berlin, managers):
    service = catalog["finance_system"]
    service.restricted_to_locations.set([])
    service.restricted_to_groups.set([managers])
    service.save()  # parental many-to-many relations are written on save
    in_finance_not_manager = UserFactory(
        profile={"department": finance, "location": berlin}
    )
    in_finance_and_manager = UserFactory(
        profile={"department": finance, "location": berlin}, groups=[managers]
    )
    assert not service_is_visible(user=in_finance_not_manager, service=service)
    assert service_is_visible(user=in_finance_and_manager, service=service)


def test_person_without_profile_sees_only_unrestricted(catalog, db):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x")
    assert titles(visible_services(user=nobody)) == [
        "New laptop",
        "Reset a forgotten password",
    ]


def test_unpublished_service_is_invisible(catalog, employee):
    catalog["laptop"].unpublish()
    catalog["laptop"].refresh_from_db()
    assert not service_is_visible(user=employee, service=catalog["laptop"])


def test_search_never_shows_a_service_the_person_may_not_see(catalog, employee):
    result = service_listing(user=employee, params={"q": "finance"})
    assert result["result_count"] == 0
    result = service_listing(user=employee, params={"q": "laptop"})
    assert [s.title for s in result["services"]] == ["New laptop"]


def test_search_finds_also_known_as_terms(catalog, employee):
    result = service_listing(user=employee, params={"q": "notebook"})
    assert [s.title for s in result["services"]] == ["New laptop"]


def test_catalog_as_seen_by_explains_each_hidden_service(catalog, employee):
    rows = {row.service.title: row for row in catalog_as_seen_by(user=employee)}
    assert rows["New laptop"].visible
    finance_row = rows["Access to the finance system"]
    assert not finance_row.visible
    assert "Finance" in finance_row.reasons[0]
    assert "Sales" in finance_row.reasons[0]
    assert "London" in rows["Meeting-room video kit"].reasons[0]
    assert "Managers" in rows["New starter bundle"].reasons[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("  laptop  ", "laptop"),
        ('"; DROP TABLE x; --', "DROP TABLE x --"),
        ("a" * 5000, "a" * 100),
        ("vpn*()[]{}", "vpn"),
    ],
)
def test_clean_query_keeps_words_only(raw, expected):
    assert clean_query(raw) == expected


def test_page_check_and_list_agree_for_everyone(
    catalog, employee, finance_londoner, a_manager
):
    from catalog.models import ServicePage

    for person in (employee, finance_londoner, a_manager):
        listed = set(visible_services(user=person).values_list("pk", flat=True))
        for service in ServicePage.objects.all():
            assert service_is_visible(user=person, service=service) == (
                service.pk in listed
            ), (person, service)


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("employee", {"laptop", "password"}),
        ("finance_londoner", {"laptop", "password", "finance_system", "london_kit"}),
        ("a_manager", {"laptop", "password", "starter"}),
    ],
)
def test_several_services_at_once_in_one_query(
    catalog, person, expected, request, django_assert_num_queries
):
    """The basket's check of its lines: the same rule as one page at a time."""
    person = request.getfixturevalue(person)
    services = [
        catalog[key]
        for key in ("laptop", "password", "finance_system", "london_kit", "starter")
    ]
    with django_assert_num_queries(1):
        found = visible_among(user=person, services=services)
    assert found == {catalog[key].pk for key in expected}


def test_an_unpublished_service_among_several_is_not_visible(catalog, employee):
    catalog["laptop"].unpublish()
    catalog["laptop"].refresh_from_db()
    services = [catalog["laptop"], catalog["password"]]
    assert visible_among(user=employee, services=services) == {catalog["password"].pk}


# --- The catalog's version ------------------------------------------------------


def _changes_the_version(change) -> bool:
    from catalog.selectors.caching import catalog_version

    before = catalog_version()
    change()
    after = catalog_version()
    assert before and after
    return after != before


def _through(field):
    from catalog.models import ServicePage

    return ServicePage._meta.get_field(field).remote_field.through


def test_reading_the_catalog_keeps_the_version(catalog, employee):
    def read():
        list(visible_services(user=employee))
        service_listing(user=employee, params={})

    assert not _changes_the_version(read)


def test_publishing_unpublishing_moving_and_deleting_change_the_version(catalog):
    laptop = catalog["laptop"]

    def publish():
        laptop.title = "New notebook"
        laptop.save_revision().publish()

    assert _changes_the_version(publish)
    assert _changes_the_version(laptop.unpublish)
    assert _changes_the_version(lambda: laptop.move(catalog["access"], "last-child"))
    assert _changes_the_version(catalog["password"].delete)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite drops triggers on table rebuilds"
)
def test_every_versioned_table_keeps_its_triggers_after_migrate():
    """Django rebuilds a SQLite table to add a column, losing its triggers;
    catalog/triggers.py makes them again after every migrate."""
    import importlib

    from django.apps import apps

    expected = set()
    for name in TRIGGER_MIGRATIONS:
        module = importlib.import_module(f"catalog.migrations.{name}")
        for table in module._tables(apps):
            for event in ("INSERT", "UPDATE", "DELETE"):
                expected.add(f"{table}_catalog_version"[:61] + f"_{event}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    assert len(expected) == 33  # 11 tables, three events each
    assert expected <= present


def test_writes_that_bypass_the_orm_change_the_version(catalog):
    from django.db import connection

    from catalog.models import ServicePage

    laptop = catalog["laptop"]
    assert _changes_the_version(
        lambda: ServicePage.objects.filter(pk=laptop.pk).update(one_off_price=1)
    )
    table = _through("restricted_to_locations")._meta.db_table

    def raw_insert():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (servicepage_id, location_id) "
                f"SELECT {laptop.pk}, id FROM catalog_location"
            )

    assert _changes_the_version(raw_insert)


@pytest.mark.parametrize(
    ("field", "column", "factory"),
    [
        ("restricted_to_departments", "department_id", DepartmentFactory),
        ("restricted_to_locations", "location_id", LocationFactory),
        ("restricted_to_groups", "group_id", GroupFactory),
    ],
)
def test_each_restriction_row_added_swapped_or_removed_changes_the_version(
    catalog, field, column, factory
):
    """Swapping one row for another keeps the number of rows and the highest
    page log id; it must still start a new version."""
    first, second = factory(), factory()
    rows = _through(field).objects.filter(servicepage_id=catalog["laptop"].pk)
    assert _changes_the_version(
        lambda: rows.model.objects.create(
            servicepage_id=catalog["laptop"].pk, **{column: first.pk}
        )
    )
    assert _changes_the_version(lambda: rows.update(**{column: second.pk}))
    assert _changes_the_version(rows.delete)


def test_without_a_version_row_nothing_is_cached(catalog, employee):
    from django.http import QueryDict

    from catalog.models import CatalogVersion
    from catalog.selectors.caching import listing_cache_key

    CatalogVersion.objects.all().delete()
    assert listing_cache_key(user=employee, params=QueryDict()) is None
    # The next change makes the row again, with a new token.
    catalog["laptop"].unpublish()
    assert listing_cache_key(user=employee, params=QueryDict()) is not None
