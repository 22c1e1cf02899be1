"""Login throttling (django-axes): after five wrong passwords for one username
from one address, even the right password is refused for fifteen minutes, with
a page that says so; an unlock or the end of the wait lets the person in."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from catalog.services.logins import login_lock_release
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "portal-demo"


@pytest.fixture
def person(db):
    return UserFactory(username="sam")


def log_in(client, password, username="sam", address="10.0.0.7"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_logs_in(client, person):
    response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_four_wrong_passwords_then_the_right_one_logs_in(client, person):
    for _ in range(4):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, PASSWORD).status_code == 302


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, person):
    for _ in range(30):
        log_in(client, "wrong")
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)
    page = response.content.decode()
    assert "Logging in as “sam” is paused" in page
    assert "wrong 5 times in a row" in page
    assert "for 15 minutes" in page
    assert "You can try again after" in page
    assert "service desk on 1234" in page
    # The form is still there, with the username filled in.
    assert 'value="sam"' in page


def test_the_page_says_when_the_wait_ends(client, person):
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 50))):
        for _ in range(5):
            log_in(client, "wrong")
        response = log_in(client, PASSWORD)
    # Each try, the refused one too, restarts the fifteen minutes.
    assert "You can try again after <strong>10:05</strong>" in response.content.decode()


def test_the_lock_ends_after_the_cool_off(client, person):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(30):
            log_in(client, "wrong")
        assert log_in(client, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert log_in(client, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert log_in(client, PASSWORD).status_code == 302
    assert logged_in(client)


def test_an_unlock_lets_the_person_in_at_once(client, person):
    for _ in range(6):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 429
    admin = UserFactory(username="root", is_superuser=True)
    login_lock_release(actor=admin, username="sam", ip_address="10.0.0.7")
    assert log_in(client, PASSWORD).status_code == 302


def test_the_lock_is_for_that_username_from_that_address_only(client, person):
    UserFactory(username="kim")
    for _ in range(5):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 429
    assert log_in(client, PASSWORD, address="10.0.0.8").status_code == 302
    client.logout()
    assert log_in(client, PASSWORD, username="kim").status_code == 302


def test_the_limit_and_wait_come_from_settings(client, person, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=2)
    for _ in range(3):
        log_in(client, "wrong")
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert "for 2 minutes" in response.content.decode()
