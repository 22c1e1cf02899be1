"""The request log: append-only, hash-chained events.

Each event's hash covers its own content and the previous event's hash for the
same request. Editing, deleting or re-ordering any event breaks the chain from that
point on, which ``request_log_verify`` reports. Nothing in the code updates or
deletes events; on PostgreSQL a trigger refuses it as well.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from catalog.models import RequestEvent

GENESIS = ""


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: RequestEvent) -> str:
    """The hash of an event's content chained to ``event.previous_hash``."""
    content = {
        "request": event.request_id,
        "item": event.item_id,
        "sequence": event.sequence,
        "name": event.name,
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "created_at": _canonical_time(event.created_at),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "data": event.data,
        "previous_hash": event.previous_hash,
    }
    encoded = json.dumps(
        content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(encoded.encode()).hexdigest()


def _normalise_data(data: dict | None) -> dict:
    # Round-trip through JSON so the hash is computed over exactly what the
    # database will give back (Decimals and dates become strings).
    return json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))


def event_build(
    *,
    request_id: int,
    sequence: int,
    previous_hash: str,
    name: str,
    actor=None,
    item_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> RequestEvent:
    """An unsaved, hashed event; for ``event_append`` and bulk history loads."""
    event = RequestEvent(
        request_id=request_id,
        item_id=item_id,
        sequence=sequence,
        name=name,
        actor=actor,
        actor_name=(actor.get_full_name() or actor.get_username()) if actor else "",
        created_at=at or timezone.now(),
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=_normalise_data(data),
        previous_hash=previous_hash,
    )
    event.hash = event_hash(event)
    return event


def event_append(
    *, request, name: str, actor=None, item=None, **fields
) -> RequestEvent:
    """Append one event to a request's log.

    Call inside the transaction that made the change, with the request row locked
    (``select_for_update``) so two writers can't take the same sequence number;
    the unique (request, sequence) constraint backs this up.
    """
    last = (
        RequestEvent.objects.filter(request_id=request.pk)
        .order_by("-sequence")
        .values("sequence", "hash")
        .first()
    )
    event = event_build(
        request_id=request.pk,
        item_id=item.pk if item is not None else None,
        sequence=(last["sequence"] + 1) if last else 1,
        previous_hash=last["hash"] if last else GENESIS,
        name=name,
        actor=actor,
        **fields,
    )
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class BrokenLink:
    request_id: int
    sequence: int
    event_id: int
    reason: str


def request_log_verify(*, request_ids=None, chunk_size: int = 5000):
    """Yield every event whose chain is broken, in log order."""
    events = RequestEvent.objects.order_by("request_id", "sequence")
    if request_ids is not None:
        events = events.filter(request_id__in=request_ids)
    current_request = None
    expected_previous = GENESIS
    expected_sequence = 1
    for event in events.iterator(chunk_size=chunk_size):
        if event.request_id != current_request:
            current_request = event.request_id
            expected_previous = GENESIS
            expected_sequence = 1
        if event.sequence != expected_sequence:
            yield BrokenLink(
                event.request_id,
                event.sequence,
                event.pk,
                f"expected event number {expected_sequence}: an event is missing",
            )
        if event.previous_hash != expected_previous:
            yield BrokenLink(
                event.request_id,
                event.sequence,
                event.pk,
                "does not follow the previous event (an event was changed, "
                "removed or inserted before it)",
            )
        if event_hash(event) != event.hash:
            yield BrokenLink(
                event.request_id, event.sequence, event.pk, "its content was changed"
            )
        expected_previous = event.hash
        expected_sequence = event.sequence + 1
