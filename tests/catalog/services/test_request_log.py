"""The request log is append-only and tamper-evident: its chains, the heads on
the request rows, the key, the rows against the log, anchors, and the PostgreSQL
roles that keep the application from rewriting it.

Tampering is done the way someone with write access to the database would: raw
SQL, and hashes computed here from the algorithm docs/security.md describes. On
PostgreSQL that person is the table owner, who can switch the append-only trigger
off (the application's role cannot: see the role test below).
"""

import hashlib
import hmac
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from catalog.models import HoldReason, RequestEvent, RequestItem, ServicePage
from catalog.services.fulfilment import (
    item_comment_add,
    item_hold,
    item_rate,
    item_resolve,
    item_resume,
    item_start,
)
from catalog.services.request_log import (
    ITEM_SNAPSHOT_FIELDS,
    REQUEST_COPIES,
    RequestLogBroken,
    event_append,
    event_hash,
    request_log_verify,
)
from catalog.services.service_levels import FIGURE_FIELDS
from tests.conftest import order
from tests.factories import CostCentreFactory, FulfilmentGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_request(employee, catalog):
    service_request = order(employee, catalog, "password", reason="Locked out.")
    event_append(
        service_request=service_request,
        name="request.commented",
        actor=employee,
        note="Please hurry",
    )
    return service_request


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


# --- Tampering, as someone with write access to the database -------------------------

KEY = "a-test-key-of-some-length-0123456789abcdef"
GUESSED_KEY = "not-the-key"
ON_PG = connection.vendor == "postgresql"


def tamper(sql, params=()):
    """Raw SQL with the append-only trigger switched off, as the table owner can
    on PostgreSQL (elsewhere there is no trigger)."""
    with connection.cursor() as cursor:
        if ON_PG:
            # ALTER TABLE refuses while the test's transaction still has
            # foreign-key checks pending on the table: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE catalog_requestevent "
                "DISABLE TRIGGER catalog_requestevent_no_update_delete"
            )
        cursor.execute(sql, params)
        if ON_PG:
            cursor.execute(
                "ALTER TABLE catalog_requestevent "
                "ENABLE TRIGGER catalog_requestevent_no_update_delete"
            )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def attacker_hash(row: dict, *, key: str | None = None) -> str:
    """An event's hash as docs/security.md describes it, computed without the
    portal's code."""
    content = {
        "request": row["request_id"],
        "item": row["item_id"],
        "sequence": row["sequence"],
        "name": row["name"],
        "actor": row["actor_id"],
        "actor_name": row["actor_name"],
        "created_at": row["created_at"]
        .astimezone(UTC)
        .strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "note": row["note"],
        "data": row["data"],
        "previous_hash": row["previous_hash"],
    }
    if key is not None:
        content["scheme"] = "hmac-sha256"
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    if key is None:
        return hashlib.sha256(encoded).hexdigest()
    return hmac.new(key.encode(), encoded, hashlib.sha256).hexdigest()


ROW_FIELDS = (
    "id",
    "request_id",
    "item_id",
    "sequence",
    "name",
    "actor_id",
    "actor_name",
    "created_at",
    "from_state",
    "to_state",
    "note",
    "data",
    "previous_hash",
)


def rewrite_chain(service_request, *, edit, key=None):
    """Edit the events with ``edit(rows)``, rehash the whole chain (plain, or
    keyed with ``key``) and move the head on the request row to match."""
    rows = list(
        RequestEvent.objects.filter(request=service_request)
        .order_by("sequence")
        .values(*ROW_FIELDS)
    )
    edit(rows)
    previous = ""
    for row in rows:
        row["previous_hash"] = previous
        row["hash"] = previous = attacker_hash(row, key=key)
        tamper(
            "UPDATE catalog_requestevent SET note = %s, data = %s, "
            "previous_hash = %s, hash = %s, scheme = %s WHERE id = %s",
            [
                row["note"],
                json.dumps(row["data"]),
                row["previous_hash"],
                row["hash"],
                "sha256" if key is None else "hmac-sha256",
                row["id"],
            ],
        )
    tamper(
        "UPDATE catalog_servicerequest SET log_sequence = %s, log_hash = %s "
        "WHERE id = %s",
        [rows[-1]["sequence"], rows[-1]["hash"], service_request.pk],
    )


def forge_event(service_request, *, name, key=None, move_head=False, **fields):
    """Insert one more event at the end of the log with a correct hash."""
    last = RequestEvent.objects.filter(request=service_request).latest("sequence")
    row = {
        "request_id": service_request.pk,
        "item_id": None,
        "sequence": last.sequence + 1,
        "name": name,
        "actor_id": None,
        "actor_name": "",
        "created_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "from_state": "",
        "to_state": "",
        "note": "",
        "data": {},
        "previous_hash": last.hash,
        **fields,
    }
    digest = attacker_hash(row, key=key)
    event = RequestEvent.objects.create(
        **row, hash=digest, scheme="sha256" if key is None else "hmac-sha256"
    )
    if move_head:
        tamper(
            "UPDATE catalog_servicerequest SET log_sequence = %s, log_hash = %s "
            "WHERE id = %s",
            [event.sequence, digest, service_request.pk],
        )
    return event


def findings():
    return [(p.sequence, p.reason) for p in request_log_verify()]


REMOVED = ": events were removed, added or rewritten"


def test_the_log_and_its_rows_of_a_fresh_request_verify(logged_request):
    assert findings() == []
    logged_request.refresh_from_db()
    assert logged_request.log_sequence == 3
    assert logged_request.log_hash == logged_request.events.get(sequence=3).hash


def test_only_the_chosen_requests_are_checked(logged_request, employee, catalog):
    other = order(employee, catalog, "password", reason="Locked out again.")
    third = order(employee, catalog, "password", reason="And again.")
    tamper(
        "UPDATE catalog_requestevent SET note = 'edited' "
        "WHERE request_id = %s AND sequence = 2",
        [other.pk],
    )
    assert list(request_log_verify(request_ids=[logged_request.pk, third.pk])) == []
    assert [
        (p.request_id, p.sequence, p.reason)
        for p in request_log_verify(request_ids=[logged_request.pk, other.pk])
    ] == [(other.pk, 2, "its content was changed")]


def test_removing_the_last_event_is_caught(logged_request, capsys):
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s AND sequence = 3",
        [logged_request.pk],
    )
    assert findings() == [
        (
            None,
            "the request row says its log ends at event #3, but the log ends at "
            "event #2" + REMOVED,
        )
    ]
    with pytest.raises(CommandError, match="1 broken link"):
        call_command("verify_request_log")
    assert f"REQ-{logged_request.pk:06d}: the request row" in capsys.readouterr().out


def test_removing_the_whole_log_is_caught(logged_request):
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s", [logged_request.pk]
    )
    assert findings() == [
        (
            None,
            "the request row says its log ends at event #3, but the log is empty"
            + REMOVED,
        )
    ]


def test_removing_the_whole_log_and_its_head_is_caught(logged_request):
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s", [logged_request.pk]
    )
    tamper(
        "UPDATE catalog_servicerequest SET log_sequence = 0, log_hash = '' "
        "WHERE id = %s",
        [logged_request.pk],
    )
    assert findings() == [(None, "has no log at all: it was removed")]


def test_a_forged_event_with_a_correct_plain_hash_is_caught_by_the_head(
    logged_request,
):
    forge_event(logged_request, name="request.commented", note="Approved by phone.")
    assert findings() == [
        (
            None,
            "the request row says its log ends at event #3, but the log ends at "
            "event #4" + REMOVED,
        )
    ]


def test_a_forged_event_and_head_are_caught_with_a_key(settings, employee, catalog):
    settings.REQUEST_LOG_KEY = KEY
    service_request = order(employee, catalog, "password", reason="Locked out.")
    assert findings() == []
    forge_event(
        service_request,
        name="request.commented",
        note="Approved by phone.",
        move_head=True,
    )
    assert findings() == [
        (3, "has a plain hash after keyed ones: the portal did not write it")
    ]


def test_a_forged_event_with_a_guessed_key_is_caught(settings, employee, catalog):
    settings.REQUEST_LOG_KEY = KEY
    service_request = order(employee, catalog, "password", reason="Locked out.")
    forge_event(
        service_request, name="request.commented", key=GUESSED_KEY, move_head=True
    )
    assert findings() == [(3, "its content was changed")]


def _new_comment(rows):
    rows[-1]["note"] = "Never mind, cancel it."


def test_a_recomputed_chain_is_caught_with_a_key(settings, employee, catalog):
    settings.REQUEST_LOG_KEY = KEY
    service_request = order(employee, catalog, "password", reason="Locked out.")
    event_append(
        service_request=service_request, name="request.commented", note="Please hurry"
    )
    rewrite_chain(service_request, edit=_new_comment)
    assert findings() == [
        (
            None,
            "no event of this log is keyed: it was never sealed with "
            "REQUEST_LOG_KEY (manage.py request_log_seal), or it was recomputed "
            "without the key",
        )
    ]


def test_a_chain_recomputed_with_a_guessed_key_is_caught(settings, employee, catalog):
    settings.REQUEST_LOG_KEY = KEY
    service_request = order(employee, catalog, "password", reason="Locked out.")
    event_append(
        service_request=service_request, name="request.commented", note="Please hurry"
    )
    rewrite_chain(service_request, edit=_new_comment, key=GUESSED_KEY)
    assert findings() == [
        (1, "its content was changed"),
        (2, "its content was changed"),
        (3, "its content was changed"),
    ]


def test_a_recomputed_chain_with_a_mangled_snapshot_is_reported(logged_request):
    def mangle(rows):
        rows[0]["data"]["snapshot"] = {"request": "gone"}

    rewrite_chain(logged_request, edit=mangle)
    assert findings() == [
        (1, "its snapshot of the request is not one the portal writes")
    ]


def take_anchor() -> str:
    out = io.StringIO()
    call_command("request_log_anchor", stdout=out)
    return out.getvalue().strip()


def test_an_anchor_names_the_newest_event_and_matches_an_untouched_log(
    logged_request,
):
    anchor = take_anchor()
    newest = RequestEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    assert re.fullmatch(rf"{newest}:[0-9a-f]{{64}}", anchor)
    event_append(service_request=logged_request, name="request.commented", note="Later")
    out = io.StringIO()
    call_command("verify_request_log", anchor=anchor, stdout=out)
    assert f"Anchor matches: nothing up to event id {newest} changed" in out.getvalue()


def test_a_recomputed_chain_is_caught_by_an_anchor_taken_before(logged_request):
    anchor = take_anchor()
    rewrite_chain(logged_request, edit=_new_comment)
    # Without a key, the rewritten chain is consistent in itself ...
    call_command("verify_request_log", stdout=io.StringIO())
    # ... but not with what the anchor kept outside the database.
    out = io.StringIO()
    with pytest.raises(CommandError, match="the anchor does not match"):
        call_command("verify_request_log", anchor=anchor, stdout=out)
    assert f"Anchor {anchor} does not match" in out.getvalue()


def test_a_request_removed_with_its_items_and_log_is_caught_by_an_anchor(
    logged_request,
):
    anchor = take_anchor()
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s", [logged_request.pk]
    )
    for table in ("catalog_itemfact", "catalog_approvalstep"):
        tamper(
            f"DELETE FROM {table} WHERE item_id IN "
            "(SELECT id FROM catalog_requestitem WHERE request_id = %s)",
            [logged_request.pk],
        )
    tamper("DELETE FROM catalog_requestitem WHERE request_id = %s", [logged_request.pk])
    tamper("DELETE FROM catalog_servicerequest WHERE id = %s", [logged_request.pk])
    with pytest.raises(CommandError, match="the anchor does not match"):
        call_command("verify_request_log", anchor=anchor, stdout=io.StringIO())


@pytest.mark.parametrize("anchor", ["", "12", "12:abc", "x:" + "0" * 64])
def test_a_malformed_anchor_is_refused(logged_request, anchor):
    with pytest.raises(CommandError, match="is not an anchor"):
        call_command("verify_request_log", anchor=anchor, stdout=io.StringIO())


# --- Checking only what changed since an anchor ---------------------------------------


@pytest.fixture
def two_requests(logged_request, employee, catalog):
    """The logged request (events #1 to #3) and a second one (#1 and #2), with
    an anchor over both taken after them."""
    other = order(employee, catalog, "password", reason="Locked out again.")
    return logged_request, other, take_anchor()


def since(anchor: str) -> str:
    out = io.StringIO()
    call_command("verify_request_log", since=anchor, stdout=out)
    return out.getvalue()


def since_fails(anchor: str, match: str) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError, match=match):
        call_command("verify_request_log", since=anchor, stdout=out)
    return out.getvalue()


def walked(monkeypatch) -> list[int]:
    """The ids of the requests whose whole log is checked, as they are checked."""
    from catalog.services import request_log

    seen = []
    check = request_log._verify_request

    def spy(service_request, *args):
        seen.append(service_request.pk)
        return check(service_request, *args)

    monkeypatch.setattr(request_log, "_verify_request", spy)
    return seen


def test_since_an_anchor_with_nothing_new_checks_no_request(two_requests, monkeypatch):
    _, _, anchor = two_requests
    seen = walked(monkeypatch)
    upto = anchor.partition(":")[0]
    out = since(anchor)
    assert seen == []
    assert out.splitlines() == [
        f"Anchor matches: the head of every log up to event id {upto} is as it was.",
        f"Request log intact: checked 0 requests changed since anchor {upto}; "
        "2 untouched requests rely on the anchor and the last full check.",
        "New anchor, to keep outside the database for --since:",
        anchor,
    ]


def test_since_checks_exactly_the_request_with_a_new_event(two_requests, monkeypatch):
    first, other, anchor = two_requests
    comment = event_append(service_request=other, name="request.commented", note="?")
    seen = walked(monkeypatch)
    out = since(anchor)
    assert seen == [other.pk]
    upto = anchor.partition(":")[0]
    assert (
        f"checked 1 requests changed since anchor {upto}; 1 untouched requests"
    ) in out
    new_anchor = out.splitlines()[-1]
    assert new_anchor.startswith(f"{comment.pk}:")
    assert new_anchor == take_anchor()
    # The next night starts from the new anchor, with nothing new since.
    assert "checked 0 requests changed" in since(new_anchor)


def test_since_catches_an_edited_old_event_of_a_request_changed_after_the_anchor(
    two_requests,
):
    first, _, anchor = two_requests
    event_append(service_request=first, name="request.commented", note="Any news?")
    old = first.events.get(sequence=2)
    tamper("UPDATE catalog_requestevent SET note = 'edited' WHERE id = %s", [old.pk])
    out = since_fails(anchor, r"^1 broken link\(s\) in the request log\.$")
    assert out.splitlines() == [
        f"REQ-{first.pk:06d} event #2 (id {old.pk}): its content was changed"
    ]


def test_since_catches_a_rewritten_log_of_an_untouched_request_by_the_anchor(
    two_requests,
):
    first, other, anchor = two_requests
    event_append(service_request=other, name="request.commented", note="Any news?")
    # The first request gets no event after the anchor; its log is rewritten
    # consistently, head and request row included, as no chain check can see.
    rewrite_chain(first, edit=_new_comment)
    out = since_fails(anchor, r"^the anchor does not match\.$")
    assert out.splitlines() == [
        f"Anchor {anchor} does not match: the log up to event id "
        f"{anchor.partition(':')[0]} is not what it was when the anchor was taken."
    ]


@pytest.mark.parametrize(
    "anchor, match",
    [
        ("12:abc", "is not an anchor"),
        ("", "is not an anchor"),
    ],
)
def test_since_refuses_a_malformed_anchor(two_requests, anchor, match):
    since_fails(anchor, match)


def test_since_refuses_an_anchor_whose_digest_was_altered(two_requests):
    _, _, anchor = two_requests
    upto, _, digest = anchor.partition(":")
    altered = f"{upto}:{'0' if digest[0] != '0' else '1'}{digest[1:]}"
    out = since_fails(altered, r"^the anchor does not match\.$")
    assert f"Anchor {altered} does not match" in out
    assert "New anchor" not in out


def test_since_catches_a_deleted_event_of_an_untouched_request(two_requests):
    first, other, anchor = two_requests
    event_append(service_request=other, name="request.commented", note="Any news?")
    third = first.events.get(sequence=3)
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s AND sequence = 2",
        [first.pk],
    )
    out = since_fails(anchor, r"^1 broken link\(s\) in the request log\.$")
    assert out.splitlines() == [
        f"REQ-{first.pk:06d} event #3 (id {third.pk}): expected event number 2: "
        "an event is missing"
    ]


def test_since_catches_a_deleted_last_event_of_an_untouched_request(two_requests):
    first, _, anchor = two_requests
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s AND sequence = 3",
        [first.pk],
    )
    since_fails(anchor, r"^the anchor does not match\.$")


def test_since_catches_a_request_whose_log_and_head_were_removed(
    two_requests, employee, catalog
):
    _, _, anchor = two_requests
    fresh = order(employee, catalog, "password", reason="Once more.")
    tamper("DELETE FROM catalog_requestevent WHERE request_id = %s", [fresh.pk])
    tamper(
        "UPDATE catalog_servicerequest SET log_sequence = 0, log_hash = '' "
        "WHERE id = %s",
        [fresh.pk],
    )
    out = since_fails(anchor, r"^1 broken link\(s\) in the request log\.$")
    assert out.splitlines() == [
        f"REQ-{fresh.pk:06d}: has no log at all: it was removed"
    ]


def test_since_leaves_an_edit_in_place_of_an_untouched_log_to_the_full_check(
    two_requests,
):
    """What an incremental run does not prove: an older event of a log that got
    nothing new, edited without touching its hash, keeps the head and the
    numbering. The periodic full check finds it."""
    first, _, anchor = two_requests
    old = first.events.get(sequence=2)
    tamper("UPDATE catalog_requestevent SET note = 'edited' WHERE id = %s", [old.pk])
    assert "checked 0 requests changed" in since(anchor)
    assert findings() == [(2, "its content was changed")]


def test_since_and_anchor_are_not_given_together(two_requests):
    _, _, anchor = two_requests
    with pytest.raises(CommandError, match="give --since or --anchor"):
        call_command(
            "verify_request_log", since=anchor, anchor=anchor, stdout=io.StringIO()
        )


# --- The rows against the log -------------------------------------------------------


@pytest.mark.parametrize(
    "sql, value, field, row_says, log_says",
    [
        (
            "UPDATE catalog_requestitem SET status = %s WHERE request_id = %s",
            "fulfilled",
            "-1 status",
            "'fulfilled'",
            "'submitted'",
        ),
        (
            "UPDATE catalog_requestitem SET one_off_price = %s WHERE request_id = %s",
            "9.99",
            "-1 one off price",
            "'9.99'",
            "'0.00'",
        ),
        (
            "UPDATE catalog_requestitem SET monthly_price = %s WHERE request_id = %s",
            "120",
            "-1 monthly price",
            "'120.00'",
            "'0.00'",
        ),
        (
            "UPDATE catalog_requestitem SET answers = %s WHERE request_id = %s",
            '[{"label": "Which account?", "value": "the CFO\'s"}]',
            "-1 answers",
            "[{'label': 'Which account?', 'value': \"the CFO's\"}]",
            "[]",
        ),
        (
            "UPDATE catalog_servicerequest SET business_reason = %s WHERE id = %s",
            "Because the CEO said so.",
            " business reason",
            "'Because the CEO said so.'",
            "'Locked out.'",
        ),
    ],
)
def test_a_hand_edited_row_is_caught(
    logged_request, sql, value, field, row_says, log_says
):
    tamper(sql, [value, logged_request.pk])
    number = f"REQ-{logged_request.pk:06d}"
    assert findings() == [
        (None, f"{number}{field}: the row says {row_says}, the log says {log_says}")
    ]


def test_a_hand_edited_cost_centre_is_caught(logged_request):
    ordered_on = logged_request.cost_centre_id
    other = CostCentreFactory(code="CC-9999")
    tamper(
        "UPDATE catalog_servicerequest SET cost_centre_id = %s WHERE id = %s",
        [other.pk, logged_request.pk],
    )
    assert findings() == [
        (
            None,
            f"REQ-{logged_request.pk:06d} cost centre: the row says {other.pk}, "
            f"the log says {ordered_on}",
        )
    ]


def test_an_item_moved_to_another_person_by_hand_is_caught(logged_request, a_manager):
    """An item's copy of whom it is for decides whose My services lists it."""
    tamper(
        "UPDATE catalog_requestitem SET requested_for_id = %s WHERE request_id = %s",
        [a_manager.pk, logged_request.pk],
    )
    owner = logged_request.requested_for_id
    assert findings() == [
        (
            None,
            f"REQ-{logged_request.pk:06d}-1 requested for: "
            f"the row says {a_manager.pk}, its request says {owner}",
        )
    ]


def test_an_item_row_added_by_hand_is_caught(logged_request):
    item = logged_request.items.get()
    tamper(
        "INSERT INTO catalog_requestitem (request_id, line_number, service_name, "
        "category_name, quantity, one_off_price, monthly_price, currency, "
        "requires_approval, answers, service_level_name, calendar_name, "
        "at_risk_percent, fulfilment_group_name, status, created_at, "
        "status_changed_at, rating_comment, customer_paused_seconds, "
        "internal_paused_seconds, requested_for_id, requested_by_id, submitted_at) "
        "VALUES (%s, 2, 'Company car', '', 1, 30000, 0, 'EUR', false, '[]', '', '', "
        "75, '', 'submitted', %s, %s, '', 0, 0, %s, %s, %s)",
        [
            logged_request.pk,
            item.created_at,
            item.created_at,
            item.requested_for_id,
            item.requested_by_id,
            item.submitted_at,
        ],
    )
    extra = RequestItem.objects.get(request=logged_request, line_number=2)
    assert findings() == [
        (None, f"REQ-{logged_request.pk:06d}-2 (id {extra.pk}) is not in the log")
    ]


@pytest.fixture
def worked_request(employee, catalog, fulfiller):
    """A request worked through every service that changes an item: started
    (and so assigned), held for a reason, resumed, delivered and rated."""
    team = FulfilmentGroupFactory(name="Service desk")
    team.members.add(fulfiller)
    ServicePage.objects.filter(pk=catalog["password"].pk).update(fulfilment_group=team)
    service_request = order(employee, catalog, "password", reason="Locked out.")
    item = service_request.items.get()
    supplier = HoldReason.objects.get(name="Waiting for a supplier")
    item_start(item_id=item.pk, actor=fulfiller)
    item_hold(item_id=item.pk, actor=fulfiller, reason_id=supplier.pk, note="Token")
    item_comment_add(item_id=item.pk, actor=fulfiller, text="The token is on its way.")
    item_resume(item_id=item.pk, actor=fulfiller)
    item_resolve(item_id=item.pk, actor=fulfiller, note="Reset.")
    item_rate(item_id=item.pk, actor=employee, rating="4", comment="Quick")
    return service_request


def test_a_worked_request_verifies(worked_request):
    item = worked_request.items.get()
    assert (item.status, item.rating) == ("closed", 4)
    assert findings() == []


@pytest.mark.parametrize(
    "column, value, field, row_says, log_says",
    [
        ("rating", 5, "rating", "5", "4"),
        ("rating_comment", "Superb", "rating comment", "'Superb'", "'Quick'"),
        ("status", "cancelled", "status", "'cancelled'", "'closed'"),
    ],
)
def test_a_hand_edit_after_later_events_is_caught(
    worked_request, column, value, field, row_says, log_says
):
    tamper(
        f"UPDATE catalog_requestitem SET {column} = %s WHERE request_id = %s",
        [value, worked_request.pk],
    )
    number = f"REQ-{worked_request.pk:06d}-1"
    assert findings() == [
        (None, f"{number} {field}: the row says {row_says}, the log says {log_says}")
    ]


def test_a_hand_edited_assignee_is_caught(worked_request, employee, fulfiller):
    tamper(
        "UPDATE catalog_requestitem SET assigned_to_id = %s WHERE request_id = %s",
        [employee.pk, worked_request.pk],
    )
    assert findings() == [
        (
            None,
            f"REQ-{worked_request.pk:06d}-1 assigned to: the row says {employee.pk}, "
            f"the log says {fulfiller.pk}",
        )
    ]


def test_every_item_column_is_in_the_snapshot_or_a_derived_figure():
    """A new column on items must be decided on: in the log's snapshot (and
    replayed if a service changes it), derived from the log, or a copy of the
    request's (checked against the request)."""
    columns = {f.name for f in RequestItem._meta.concrete_fields}
    figures = {name.removesuffix("_id") for name in FIGURE_FIELDS}
    assert columns - set(ITEM_SNAPSHOT_FIELDS) - figures == {
        "id",
        "request",
        "requested_for",
        "requested_by",
        "submitted_at",
    }
    assert REQUEST_COPIES == ("requested_for_id", "requested_by_id", "submitted_at")


def test_appending_to_a_log_whose_head_was_tampered_with_is_refused(logged_request):
    tamper(
        "DELETE FROM catalog_requestevent WHERE request_id = %s AND sequence = 3",
        [logged_request.pk],
    )
    with pytest.raises(RequestLogBroken), transaction.atomic():
        event_append(
            service_request=logged_request, name="request.commented", note="More"
        )


# --- Introducing a key --------------------------------------------------------------


def test_sealing_keys_logs_written_before_the_key(settings, logged_request):
    settings.REQUEST_LOG_KEY = KEY
    assert [reason for _, reason in findings()] == [
        "no event of this log is keyed: it was never sealed with "
        "REQUEST_LOG_KEY (manage.py request_log_seal), or it was recomputed "
        "without the key"
    ]
    out = io.StringIO()
    call_command("request_log_seal", stdout=out)
    assert "1 request log(s) sealed." in out.getvalue()
    sealed = logged_request.events.get(sequence=4)
    assert (sealed.name, sealed.scheme) == ("log.sealed", "hmac-sha256")
    assert findings() == []
    call_command("request_log_seal", stdout=out)
    assert "0 request log(s) sealed." in out.getvalue()


def test_a_keyed_log_is_neither_checked_nor_extended_without_the_key(
    settings, employee, catalog
):
    settings.REQUEST_LOG_KEY = KEY
    service_request = order(employee, catalog, "password", reason="Locked out.")
    settings.REQUEST_LOG_KEY = ""
    assert findings()[0] == (
        1,
        "is hashed with REQUEST_LOG_KEY, which is not set: it can't be checked",
    )
    with pytest.raises(ImproperlyConfigured, match="set REQUEST_LOG_KEY"):
        event_append(
            service_request=service_request, name="request.commented", note="More"
        )


def test_keyed_hashes_are_hmac_sha256_with_the_key(settings, employee, catalog):
    settings.REQUEST_LOG_KEY = KEY
    service_request = order(employee, catalog, "password", reason="Locked out.")
    first = RequestEvent.objects.filter(request=service_request).values(
        *ROW_FIELDS, "hash"
    )
    first = first.get(sequence=1)
    assert first["hash"] == attacker_hash(first, key=KEY)


# --- PostgreSQL: the application's role --------------------------------------------

APP_ROLE = "portal_app_under_test"


def app_role_grants() -> list[str]:
    """The grants docs/security.md gives, for the role under test: the test runs
    the documented SQL itself, so the page and the set-up can't drift apart."""
    page = (Path(django_settings.BASE_DIR) / "docs" / "security.md").read_text()
    block = page.split("-- after each `manage.py migrate`", 1)[1].split("```", 1)[0]
    sql = "\n".join(
        line for line in block.splitlines()[1:] if not line.startswith("--")
    )
    return [
        statement.strip().replace("portal_app", APP_ROLE)
        for statement in sql.split(";")
        if statement.strip()
    ]


def refused(sql, params=()):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return str(error).splitlines()[0]
    return None


@pytest.mark.skipif(not ON_PG, reason="PostgreSQL roles")
def test_application_role_cannot_rewrite_history(logged_request):
    from catalog.models import BillClosing

    bills = BillClosing._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
        for statement in app_role_grants():
            cursor.execute(statement)
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        # The portal's own work: reading, and appending (which moves the head).
        event_append(
            service_request=logged_request, name="request.commented", note="Hello"
        )
        assert logged_request.events.count() == 4
        assert BillClosing.objects.count() == 0
        for table in ("catalog_requestevent", bills):
            assert "permission denied" in refused(f"UPDATE {table} SET id = id")
            assert "permission denied" in refused(f"DELETE FROM {table}")
            assert "permission denied" in refused(f"TRUNCATE {table}")
            assert "must be owner" in refused(
                f"ALTER TABLE {table} DISABLE TRIGGER ALL"
            )
            assert "must be owner" in refused(
                f"ALTER TABLE {table} DISABLE TRIGGER USER"
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert logged_request.events.count() == 4
    assert findings() == []


def auditor_sql(upto_id: int) -> str:
    """The auditor's query from docs/security.md, for an anchor's event id."""
    page = (Path(django_settings.BASE_DIR) / "docs" / "security.md").read_text()
    sql = page.split("```sql\nSELECT encode(sha256", 1)[1].split("```", 1)[0]
    return ("SELECT encode(sha256" + sql).replace("184467", str(int(upto_id)))


@pytest.mark.skipif(not ON_PG, reason="the auditor's query is PostgreSQL's")
def test_the_auditors_query_gives_the_anchors_digest(logged_request, employee, catalog):
    order(employee, catalog, "password", reason="Locked out again.")
    upto, _, digest = take_anchor().partition(":")
    event_append(service_request=logged_request, name="request.commented", note="Later")
    with connection.cursor() as cursor:
        cursor.execute(auditor_sql(int(upto)))
        assert cursor.fetchone()[0] == digest
