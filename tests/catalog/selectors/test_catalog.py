"""Entitlements: what a person may see, in lists, search and by direct URL."""

import pytest

from catalog.selectors.catalog import (
    catalog_as_seen_by,
    clean_query,
    service_is_visible,
    service_listing,
    visible_services,
)
from tests.factories import UserFactory

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
