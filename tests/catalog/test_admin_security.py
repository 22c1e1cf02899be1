"""The admin's "Locked logins" list and its unlock button: superusers and people
administrators only."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse

from catalog.exceptions import NotAllowed
from catalog.services.logins import login_lock_release
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/security/locked-logins/"


def lock_out(client, username, address, times=5):
    for _ in range(times):
        client.post(
            reverse("login"),
            {"username": username, "password": "wrong"},
            REMOTE_ADDR=address,
        )


def person_in(role, username):
    return UserFactory(username=username, groups=[Group.objects.get(name=role)])


@pytest.fixture
def people_admin(db):
    return person_in("People administrator", "hr")


def test_the_url_is_the_named_one():
    assert reverse("locked_logins") == URL


def test_lists_locked_logins_with_counts_and_times(client, people_admin):
    UserFactory(username="sam")
    lock_out(client, "sam", "10.0.0.7", times=7)
    lock_out(client, "kim", "10.0.0.9", times=2)  # not locked: under the limit
    client.force_login(people_admin)
    response = client.get(URL)
    assert response.status_code == 200
    (locked,) = response.context["locked"]
    assert (locked.username, locked.ip_address, locked.failures) == (
        "sam",
        "10.0.0.7",
        7,
    )
    assert locked.locked_until - locked.last_attempt == settings.AXES_COOLOFF_TIME
    page = response.content.decode()
    assert "Unlock sam" in page
    assert "kim" not in page


def test_unlock_releases_the_login(client, people_admin):
    UserFactory(username="sam")
    lock_out(client, "sam", "10.0.0.7")
    client.force_login(people_admin)
    response = client.post(
        URL, {"username": "sam", "ip_address": "10.0.0.7"}, follow=True
    )
    assert response.status_code == 200
    assert response.context["locked"] == []
    assert "“sam” can log in again" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="sam").exists()
    client.logout()
    response = client.post(
        reverse("login"),
        {"username": "sam", "password": "portal-demo"},
        REMOTE_ADDR="10.0.0.7",
    )
    assert response.status_code == 302


def test_unlock_leaves_other_locks_alone(client, people_admin):
    lock_out(client, "sam", "10.0.0.7")
    lock_out(client, "kim", "10.0.0.9")
    client.force_login(people_admin)
    client.post(URL, {"username": "sam", "ip_address": "10.0.0.7"})
    assert [lock.username for lock in client.get(URL).context["locked"]] == ["kim"]


# Employees and executives never reach the admin: its own gate sends them to
# the admin's login page (302) before this view is asked.
@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("People administrator", 200, 302),
        ("Administrator", 200, 302),
        ("Catalog editor", 403, 403),
        ("Fulfiller", 403, 403),
        ("Executive", 302, 302),
        ("Employee", 302, 302),
    ],
)
def test_who_may_see_and_unlock(client, role, get, post):
    lock_out(client, "sam", "10.0.0.7")
    client.force_login(person_in(role, "someone"))
    assert client.get(URL).status_code == get
    response = client.post(URL, {"username": "sam", "ip_address": "10.0.0.7"})
    assert response.status_code == post
    released = get == 200
    assert AccessAttempt.objects.filter(username="sam").exists() is not released


def test_a_superuser_may(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get(URL).status_code == 200


def test_the_service_refuses_someone_without_the_right(db):
    with pytest.raises(NotAllowed):
        login_lock_release(
            actor=person_in("Fulfiller", "fred"),
            username="sam",
            ip_address="10.0.0.7",
        )


def test_the_menu_shows_the_view_only_to_who_may_use_it(client, people_admin):
    client.force_login(people_admin)
    assert URL in client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(person_in("Catalog editor", "ed"))
    assert URL not in client.get(reverse("wagtailadmin_home")).content.decode()
