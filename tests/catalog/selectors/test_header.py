"""The header's figures: the basket count and the catalog's address, read in one
query on every page (the approvals count is held to the approval rule's table in
test_approvals.py)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import permissions
from catalog.selectors.header import header_for, served_url
from catalog.services.basket import basket_line_add
from tests.conftest import order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_basket_count_is_the_open_basket_only(employee, catalog):
    assert header_for(user=employee).basket_count == 0
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    assert header_for(user=employee).basket_count == 1
    # Checked out: those lines are a request now, not the basket.
    order(employee, catalog, "laptop")
    assert header_for(user=employee).basket_count == 0
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    assert header_for(user=employee).basket_count == 1


def test_another_persons_basket_is_not_counted(employee, finance_londoner, catalog):
    basket_line_add(user=finance_londoner, service_id=catalog["password"].pk, data={})
    assert header_for(user=employee).basket_count == 0
    assert header_for(user=finance_londoner).basket_count == 1


def test_the_catalog_address_follows_the_page(employee, catalog, catalog_index):
    header = header_for(user=employee)
    assert header.catalog_url_path == "/home/services/"
    assert served_url(header.catalog_url_path) == "/services/"
    catalog_index.slug = "it"
    catalog_index.save_revision().publish()
    assert served_url(header_for(user=employee).catalog_url_path) == "/it/"
    catalog_index.unpublish()
    assert header_for(user=employee).catalog_url_path == ""
    assert served_url("") == "/"


def test_one_query_once_permissions_are_loaded(
    employee, catalog, django_assert_num_queries
):
    employee.has_perm("wagtailadmin.access_admin")
    with django_assert_num_queries(1):
        header = header_for(user=employee)
    assert (header.basket_count, header.approvals.count) == (0, 0)


def role(name):
    return Group.objects.get(name=name)


def granted(codename):
    person = UserFactory()
    person.user_permissions.add(Permission.objects.get(codename=codename))
    return person


@pytest.mark.parametrize(
    ("make", "works_queue", "sees_reports"),
    [
        # Worked out by hand from the roles the migrations create.
        (lambda: UserFactory(), False, False),
        (
            lambda: UserFactory(groups=[Group.objects.get(name="Fulfiller")]),
            True,
            False,
        ),
        (
            lambda: UserFactory(groups=[Group.objects.get(name="Executive")]),
            False,
            True,
        ),
        (lambda: UserFactory(is_superuser=True), True, True),
        (lambda: granted("view_all_departments"), False, True),
        (lambda: granted("work_requests"), True, False),
    ],
)
def test_the_headers_links_follow_djangos_permission_rule(
    make, works_queue, sees_reports
):
    person = make()
    header = header_for(user=person)
    assert (header.works_queue, header.sees_reports) == (works_queue, sees_reports)
    # The same answers as Django's own check, on a fresh copy of the person.
    fresh = type(person).objects.get(pk=person.pk)
    assert fresh.has_perm(permissions.WORK_REQUESTS) == works_queue
    assert permissions.can_view_reports(fresh) == sees_reports


def test_the_header_needs_no_permission_query(employee):
    with CaptureQueriesContext(connection) as queries:
        header_for(user=employee)
    assert len(queries.captured_queries) == 1
