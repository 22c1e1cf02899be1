"""The admin's lists of the system of record and of reference data: the number
of queries stays the same however many rows a page shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Department, ServiceLevel, ServiceRequest, UserProfile
from tests.conftest import order
from tests.factories import DepartmentFactory, ServiceLevelFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def requests_up_to(count, *, catalog, finance, london, manager):
    while ServiceRequest.objects.count() < count:
        person = UserFactory(
            profile={"department": finance, "location": london, "manager": manager}
        )
        order(person, catalog, "password", "laptop")


def people_up_to(count, *, finance, london, manager):
    while UserProfile.objects.count() < count:
        UserFactory(
            profile={"department": finance, "location": london, "manager": manager}
        )


def departments_up_to(count, *, head):
    while Department.objects.count() < count:
        DepartmentFactory(head=head)


def service_levels_up_to(count):
    while ServiceLevel.objects.count() < count:
        ServiceLevelFactory()


def queries_for(client, url) -> int:
    assert client.get(url).status_code == 200  # warm per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def grows(client, url, make_rows, django_assert_max_num_queries, budget):
    make_rows(2)
    few = queries_for(client, url)
    make_rows(20)
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert response.status_code == 200
    return queries_for(client, url) - few


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        ("/admin/requests/", 14),
        ("/admin/request-log/", 12),
    ],
)
def test_request_lists_do_not_grow_with_the_requests(
    admin_client,
    catalog,
    employee,
    finance,
    london,
    url,
    budget,
    django_assert_max_num_queries,
):
    def make_rows(count):
        requests_up_to(
            count, catalog=catalog, finance=finance, london=london, manager=employee
        )

    assert (
        grows(admin_client, url, make_rows, django_assert_max_num_queries, budget) == 0
    )


def test_people_list_does_not_grow_with_the_people(
    admin_client, employee, finance, london, django_assert_max_num_queries
):
    def make_rows(count):
        people_up_to(count, finance=finance, london=london, manager=employee)

    url = "/admin/snippets/catalog/userprofile/"
    assert grows(admin_client, url, make_rows, django_assert_max_num_queries, 14) == 0


def test_department_list_does_not_grow_with_the_departments(
    admin_client, employee, django_assert_max_num_queries
):
    def make_rows(count):
        departments_up_to(count, head=employee)

    url = "/admin/snippets/catalog/department/"
    assert grows(admin_client, url, make_rows, django_assert_max_num_queries, 14) == 0


def test_service_level_list_does_not_grow_with_the_levels(
    admin_client, django_assert_max_num_queries
):
    url = "/admin/snippets/catalog/servicelevel/"
    grown = grows(
        admin_client, url, service_levels_up_to, django_assert_max_num_queries, 14
    )
    assert grown == 0
