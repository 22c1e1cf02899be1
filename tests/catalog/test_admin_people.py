"""Deleting people in the Wagtail admin: someone whose requests are kept as the
record is refused with what to do instead (deactivate), not a 500."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REFUSAL = (
    "Pat Person{n} can't be deleted: their requests, approvals and other records "
    "are kept as the record of what was ordered and delivered. To stop someone "
    "signing in, deactivate their account instead: edit it, untick “Active” and "
    "save."
)


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


def messages_of(client, response) -> list[str]:
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def test_deleting_someone_with_requests_is_refused_with_what_to_do(
    admin_client, employee, catalog
):
    order(employee, catalog, "password")
    number = employee.last_name.removeprefix("Person")
    for method in ("get", "post"):
        response = getattr(admin_client, method)(f"/admin/users/delete/{employee.pk}/")
        assert response.status_code == 302
        assert response["Location"] == f"/admin/users/edit/{employee.pk}/"
        assert messages_of(admin_client, response) == [REFUSAL.format(n=number)]
    assert get_user_model().objects.filter(pk=employee.pk, is_active=True).exists()


def test_someone_without_records_can_still_be_deleted(admin_client, employee):
    response = admin_client.post(f"/admin/users/delete/{employee.pk}/")
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=employee.pk).exists()


def test_bulk_deleting_someone_with_requests_deletes_nobody(
    admin_client, employee, catalog
):
    order(employee, catalog, "password")
    bystander = UserFactory(username="bystander")
    response = admin_client.post(
        f"/admin/bulk/auth/user/delete/?id={employee.pk}&id={bystander.pk}"
    )
    assert response.status_code == 302
    number = employee.last_name.removeprefix("Person")
    assert messages_of(admin_client, response) == [
        "Nobody was deleted. " + REFUSAL.format(n=number)
    ]
    assert (
        get_user_model().objects.filter(pk__in=[employee.pk, bystander.pk]).count() == 2
    )
