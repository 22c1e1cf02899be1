"""Sessions read with one plain query behave as Django's database sessions: a
live session is found, an expired, unknown or deleted one starts afresh."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from home.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_is_read_back():
    store = SessionStore()
    store["basket"] = 3
    store.save()
    again = SessionStore(session_key=store.session_key)
    assert again["basket"] == 3
    assert again.session_key == store.session_key


@pytest.mark.parametrize(
    "key", ["nonexistentkey123", "", None], ids=["unknown", "empty", "none"]
)
def test_an_unknown_key_starts_a_new_session(key):
    store = SessionStore(session_key=key)
    assert store.load() == {}
    assert store.session_key is None


def test_an_expired_session_is_not_read():
    store = SessionStore()
    store["basket"] = 3
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    again = SessionStore(session_key=store.session_key)
    assert again.load() == {}
    assert again.session_key is None


def test_a_deleted_session_is_gone():
    store = SessionStore()
    store["basket"] = 3
    store.save()
    key = store.session_key
    store.delete()
    assert SessionStore(session_key=key).load() == {}


def test_logging_in_and_out_through_the_pages(client, employee):
    response = client.post(
        "/accounts/login/", {"username": "emp", "password": "portal-demo"}
    )
    assert response.status_code == 302
    assert client.get("/requests/").status_code == 200
    stolen = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    # The old cookie, replayed, is a stranger again.
    client.cookies["sessionid"] = stolen
    response = client.get("/requests/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
