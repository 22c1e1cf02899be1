"""The request log is append-only and tamper-evident."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from catalog.models import RequestEvent
from catalog.services.request_log import event_append, event_hash, request_log_verify
from tests.conftest import order

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_request(employee, catalog):
    request = order(employee, catalog, "password", reason="Locked out.")
    event_append(
        request=request, name="request.commented", actor=employee, note="Please hurry"
    )
    return request


def hand_edit(sql, params):
    """What an administrator with a database console could do."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_events_chain_by_hash(logged_request):
    events = list(logged_request.events.order_by("sequence"))
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].previous_hash == ""
    for previous, event in zip(events, events[1:], strict=False):
        assert event.previous_hash == previous.hash
        assert event.hash == event_hash(event)


def test_verify_passes_on_an_untouched_log(logged_request, capsys):
    call_command("verify_request_log")
    assert "Request log intact: 3 events checked" in capsys.readouterr().out


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself"
)
def test_a_hand_edited_event_is_caught(logged_request, capsys):
    event = logged_request.events.get(sequence=2)
    hand_edit(
        "UPDATE catalog_requestevent SET note = %s WHERE id = %s",
        ["edited", event.pk],
    )
    problems = list(request_log_verify())
    assert [(p.sequence, p.reason) for p in problems] == [
        (2, "its content was changed")
    ]
    with pytest.raises(CommandError, match="1 broken link"):
        call_command("verify_request_log")
    assert f"REQ-{logged_request.pk:06d} event #2" in capsys.readouterr().out


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the delete itself"
)
def test_a_deleted_event_is_caught(logged_request):
    hand_edit(
        "DELETE FROM catalog_requestevent WHERE request_id = %s AND sequence = 2",
        [logged_request.pk],
    )
    reasons = [p.reason for p in request_log_verify()]
    assert any("missing" in r for r in reasons)
    assert any("does not follow" in r for r in reasons)


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself"
)
def test_a_rehashed_edit_still_breaks_the_chain(logged_request):
    event = logged_request.events.get(sequence=1)
    event.note = "A different reason"
    forged = event_hash(event)
    hand_edit(
        "UPDATE catalog_requestevent SET note = %s, hash = %s WHERE id = %s",
        [event.note, forged, event.pk],
    )
    assert [p.sequence for p in request_log_verify()] == [2]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE catalog_requestevent SET note = 'edited' WHERE request_id = %s",
        "DELETE FROM catalog_requestevent WHERE request_id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete(logged_request, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        hand_edit(sql, [logged_request.pk])
    assert logged_request.events.count() == 3
    assert list(request_log_verify()) == []


def test_the_admin_shows_the_log_but_offers_no_way_to_change_it(
    admin_client, logged_request
):
    event = logged_request.events.get(sequence=3)
    listing = admin_client.get("/admin/request-log/")
    assert listing.status_code == 200
    assert "request.commented" in listing.content.decode()
    inspect = admin_client.get(f"/admin/request-log/inspect/{event.pk}/")
    assert inspect.status_code == 200
    assert event.hash in inspect.content.decode()
    assert admin_client.get(f"/admin/request-log/edit/{event.pk}/").status_code in (
        302,
        403,
    )
    response = admin_client.post(f"/admin/request-log/delete/{event.pk}/", {})
    assert response.status_code in (302, 403)
    assert admin_client.get("/admin/request-log/new/").status_code in (
        302,
        403,
    )
    event.refresh_from_db()
    assert RequestEvent.objects.filter(pk=event.pk, note="Please hurry").exists()
