"""Sessions read with one plain query behave as Django's database sessions: a
live session is found, an expired, unknown or deleted one starts afresh."""

import datetime

import pytest
from django.utils import timezone

from home.models import PortalSession as Session
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


# --- The person read with the session ------------------------------------------------


def _row(client):
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def test_the_session_row_names_the_person_it_logs_in(client, employee):
    client.force_login(employee)
    assert _row(client).user_id == employee.pk
    client.post("/accounts/logout/")
    assert not Session.objects.filter(user=employee).exists()


def test_the_person_comes_with_the_session_in_one_query(
    client, employee, django_assert_num_queries
):
    client.force_login(employee)
    store = SessionStore(session_key=client.cookies["sessionid"].value)
    with django_assert_num_queries(1):
        assert store["_auth_user_id"] == str(employee.pk)
        assert (store.loaded_user.pk, store.loaded_user.username) == (
            employee.pk,
            "emp",
        )


def test_an_anonymous_session_names_nobody():
    store = SessionStore()
    store["basket"] = 3
    store.save()
    again = SessionStore(session_key=store.session_key)
    assert again["basket"] == 3
    assert again.loaded_user is None
    assert Session.objects.get(session_key=store.session_key).user_id is None


def _who(client) -> str:
    """Who the portal thinks is asking: the header names them."""
    response = client.get("/requests/")
    if response.status_code == 302:
        return "nobody"
    assert response.status_code == 200
    return response.context["request"].user.username


def test_a_row_naming_someone_else_does_not_change_who_is_logged_in(
    client, employee, a_manager
):
    # The row's key is only a hint: the session's own data decides who it is.
    client.force_login(employee)
    Session.objects.filter(user=employee).update(user=a_manager)
    assert _who(client) == "emp"


def test_django_checks_still_run_on_the_person_read_with_the_session(client, employee):
    client.force_login(employee)
    assert _who(client) == "emp"
    # A changed password ends the session (its hash no longer matches) ...
    employee.set_password("another-long-password")
    employee.save()
    assert _who(client) == "nobody"
    # ... and someone made inactive is nobody, even with a fresh session.
    client.force_login(employee)
    employee.is_active = False
    employee.save()
    assert _who(client) == "nobody"


def test_removing_a_person_ends_their_sessions(client, employee):
    client.force_login(employee)
    employee.delete()
    assert not Session.objects.exists()
    assert _who(client) == "nobody"


def _loaded(client, person):
    client.force_login(person)
    store = SessionStore(session_key=client.cookies["sessionid"].value)
    store.load()
    return store.loaded_user


@pytest.mark.parametrize(
    ("groups", "direct", "holds", "lacks"),
    [
        # Worked out by hand from the roles the migrations create.
        ([], [], [], ["catalog.work_requests", "catalog.view_reports"]),
        (["Fulfiller"], [], ["catalog.work_requests"], ["catalog.view_reports"]),
        (
            ["Fulfiller"],
            ["view_reports"],
            ["catalog.work_requests", "catalog.view_reports"],
            ["catalog.approve_any_request"],
        ),
    ],
)
def test_the_permissions_come_with_the_session(
    client, django_assert_num_queries, groups, direct, holds, lacks
):
    from django.contrib.auth.models import Group, Permission

    from tests.factories import UserFactory

    person = UserFactory(groups=[Group.objects.get(name=name) for name in groups])
    person.user_permissions.add(*Permission.objects.filter(codename__in=direct))
    loaded = _loaded(client, person)
    with django_assert_num_queries(0):
        assert all(loaded.has_perm(perm) for perm in holds)
        assert not any(loaded.has_perm(perm) for perm in lacks)
        names = loaded.get_all_permissions()
    # The same set as the backend's own query for a fresh copy of the person.
    fresh = type(person).objects.get(pk=person.pk)
    assert names == fresh.get_all_permissions()


def test_a_superuser_still_holds_every_permission(client):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    loaded = _loaded(client, UserFactory(is_superuser=True))
    assert loaded.has_perm("catalog.work_requests")
    assert len(loaded.get_all_permissions()) == Permission.objects.count()


def test_a_page_that_checks_a_permission_asks_no_query_for_it(
    client, fulfiller, django_assert_num_queries
):
    client.force_login(fulfiller)
    client.get("/queue/")  # the site's routes, read once
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/queue/").status_code == 200
    assert not any(
        "auth_permission" in q["sql"]
        and "session_data" not in q["sql"]
        and "catalog_basketline" not in q["sql"]
        for q in queries.captured_queries
    )
