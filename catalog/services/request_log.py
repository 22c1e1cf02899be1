"""The request log: append-only, hash-chained events, and the proof that the
request and item rows are what the log says.

Each event's hash covers its own content and the previous event's hash for the
same request. Editing, deleting or re-ordering any event breaks the chain from that
point on. The request row keeps the chain's head (last number and hash), written
in the transaction that appends, so events removed from the end, or a whole log,
are noticed too. The first event carries a snapshot of the request and its items
as ordered; replaying the later events over it gives what the rows must hold.

With ``REQUEST_LOG_KEY`` set, hashes are HMAC-SHA256 with that key: write access to
the database is then not enough to forge an event or recompute a chain. Each event
records its ``scheme``, so events hashed before the key was set stay checkable;
``request_log_seal`` appends a keyed event to every log that ends with a plain one.

An anchor (``request_log_anchor``) is a digest over every chain's head as of one
event id, to be kept outside the database; ``request_log_anchor_check`` recomputes
it. docs/security.md says what all this proves and what it cannot.

Nothing in the code updates or deletes events; on PostgreSQL a trigger refuses it
as well.
"""

import functools
import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from catalog.models import ItemStatus, RequestEvent, RequestItem, ServiceRequest

GENESIS = ""
PLAIN = "sha256"
KEYED = "hmac-sha256"

# What the first event keeps of the request and of each item, as ordered. Fields
# an item's service-level figures are made of are left out: they are derived from
# the log and checked by ``manage.py rebuild_service_levels --check``.
REQUEST_SNAPSHOT_FIELDS = (
    "requested_by",
    "requested_for",
    "cost_centre",
    "department",
    "business_reason",
    "currency",
    "basket",
    "submitted_at",
)
ITEM_SNAPSHOT_FIELDS = (
    "line_number",
    "service",
    "service_name",
    "category_name",
    "quantity",
    "one_off_price",
    "monthly_price",
    "currency",
    "requires_approval",
    "answers",
    "service_level_name",
    "calendar_name",
    "response_target_hours",
    "resolution_target_hours",
    "internal_response_target_hours",
    "internal_resolution_target_hours",
    "at_risk_percent",
    "fulfilment_group",
    "fulfilment_group_name",
    "removes_item",
    "created_at",
    "status",
    "status_changed_at",
    "fulfilled_at",
    "hold_reason",
    "assigned_to",
    "rating",
    "rating_comment",
    "rated_at",
)
# The item's copies of its request's people and time (RequestItem.requested_for):
# checked against the request, not the log.
REQUEST_COPIES = ("requested_for_id", "requested_by_id", "submitted_at")
# Links the database clears when the other row is deleted (on_delete=SET_NULL):
# an empty value there is not a contradiction of the log.
CLEARABLE = frozenset(
    {"basket", "service", "fulfilment_group", "hold_reason", "assigned_to"}
)


class RequestLogBroken(Exception):
    """The request row's head does not match its log: someone changed one of
    them outside the portal. Nothing is appended until it is looked into."""


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_value(value):
    # Round-trip through JSON so a value compares and hashes exactly as the
    # database will give it back (Decimals and dates become strings).
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _normalise_data(data: dict | None) -> dict:
    return _json_value(data or {})


def _key() -> bytes:
    return (getattr(settings, "REQUEST_LOG_KEY", "") or "").encode()


def event_hash(event: RequestEvent, *, key: bytes | None = None) -> str:
    """The hash of an event's content chained to ``event.previous_hash``, by the
    event's ``scheme``: plain SHA-256, or HMAC-SHA256 with the key."""
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
    if event.scheme == KEYED:
        # The scheme is part of what is signed; plain events keep the content
        # they were hashed with before schemes existed.
        content["scheme"] = KEYED
    encoded = json.dumps(
        content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()
    if event.scheme == KEYED:
        key = _key() if key is None else key
        if not key:
            raise ImproperlyConfigured(
                "The request log is keyed: set REQUEST_LOG_KEY to write or check it."
            )
        return hmac.new(key, encoded, hashlib.sha256).hexdigest()
    return hashlib.sha256(encoded).hexdigest()


@functools.cache
def _columns(model, names: tuple) -> list[tuple[str, str, Callable]]:
    """(name, attribute, canonical form) of each field, worked out once."""
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        if isinstance(field, models.DecimalField):
            step = Decimal(1).scaleb(-field.decimal_places)
            form = functools.partial(_canonical_decimal, step=step)
        elif isinstance(field, models.DateTimeField):
            form = _canonical_time
        elif isinstance(field, models.JSONField):
            form = _json_value
        else:
            form = None
        columns.append((name, field.attname, form))
    return columns


def _canonical_decimal(value, *, step: Decimal) -> str:
    return str(Decimal(value).quantize(step))


def _row_state(row, names) -> dict:
    """The fields' values in the form the snapshot keeps them (JSON's)."""
    state = {}
    for name, attname, form in _columns(type(row), tuple(names)):
        value = getattr(row, attname)
        state[name] = form(value) if form is not None and value is not None else value
    return state


def request_snapshot(service_request: ServiceRequest, items) -> dict:
    """The request and its items as ordered, for the data of its first event.
    Items are listed by line number; their ids are in their ``item.created``
    events."""
    return {
        "request": _row_state(service_request, REQUEST_SNAPSHOT_FIELDS),
        "items": [
            _row_state(item, ITEM_SNAPSHOT_FIELDS)
            for item in sorted(items, key=lambda i: i.line_number)
        ],
    }


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
    """An unsaved, hashed event; for ``event_append`` and bulk history loads.
    Keyed if ``REQUEST_LOG_KEY`` is set."""
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
        scheme=KEYED if _key() else PLAIN,
    )
    event.hash = event_hash(event)
    return event


def event_append(
    *, service_request, name: str, actor=None, item=None, **fields
) -> RequestEvent:
    """Append one event to a request's log and move the head on the request row.

    Call inside the transaction that made the change, with the request row locked
    (``select_for_update``) so two writers can't take the same sequence number;
    the unique (request, sequence) constraint backs this up, and the head moves
    only from the value the log ends with.
    """
    (event,) = events_append(
        service_request=service_request,
        entries=[dict(name=name, actor=actor, item=item, **fields)],
    )
    return event


def events_append(*, service_request, entries: list[dict]) -> list[RequestEvent]:
    """Append several events to one request's log in one insert, in order; each
    entry holds ``event_append``'s keyword arguments. Same rules as
    ``event_append``."""
    last = (
        RequestEvent.objects.filter(request_id=service_request.pk)
        .order_by("-sequence")
        .values("sequence", "hash", "scheme")
        .first()
    )
    if last and last["scheme"] == KEYED and not _key():
        raise ImproperlyConfigured(
            f"{service_request.number}'s log is keyed: "
            "set REQUEST_LOG_KEY to append to it."
        )
    previous_sequence, previous_hash = (
        (last["sequence"], last["hash"]) if last else (0, GENESIS)
    )
    events = []
    sequence, chained = previous_sequence, previous_hash
    for entry in entries:
        entry = dict(entry)
        item = entry.pop("item", None)
        sequence += 1
        event = event_build(
            request_id=service_request.pk,
            item_id=item.pk if item is not None else None,
            sequence=sequence,
            previous_hash=chained,
            **entry,
        )
        events.append(event)
        chained = event.hash
    events = RequestEvent.objects.bulk_create(events)
    moved = ServiceRequest.objects.filter(
        pk=service_request.pk, log_sequence=previous_sequence, log_hash=previous_hash
    ).update(log_sequence=sequence, log_hash=chained)
    if not moved:
        raise RequestLogBroken(
            f"{service_request.number}: the request row's record of its log does not "
            "match the log. Nothing was changed; run manage.py verify_request_log."
        )
    service_request.log_sequence, service_request.log_hash = sequence, chained
    return events


def heads_bulk_set(requests, events) -> None:
    """Record each request's head, for bulk loads that write requests before
    their events (the demo history): ``events`` are the saved events of these
    requests, each log in order."""
    heads = {event.request_id: (event.sequence, event.hash) for event in events}
    for service_request in requests:
        service_request.log_sequence, service_request.log_hash = heads.get(
            service_request.pk, (0, GENESIS)
        )
    ServiceRequest.objects.bulk_update(
        requests, ["log_sequence", "log_hash"], batch_size=1000
    )


# --- Verification ---------------------------------------------------------------------


_EVENT_COLUMNS = (
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
    "hash",
    "scheme",
)


@dataclass(frozen=True)
class BrokenLink:
    """Something in the log, or in the rows it covers, that is not as written.
    ``sequence`` and ``event_id`` are empty for findings about a whole log or a
    row."""

    request_id: int
    sequence: int | None
    event_id: int | None
    reason: str


def request_log_verify(*, request_ids=None, chunk_size: int = 5000):
    """Yield every broken link, request by request in id order: the chain, the
    head on the request row, the key, and the rows against the log.
    ``request_ids`` (ids, or a query of them) limits the check to those requests.

    Streams: requests are read a slice of ids at a time, with their items and
    events, so memory stays flat however long the log is.
    """
    key = _key()
    requests = ServiceRequest.objects.order_by("pk")
    if request_ids is not None:
        requests = requests.filter(pk__in=request_ids)
    per_slice = max(1, chunk_size // 10)  # about ten events per request
    last_pk = 0
    while True:
        batch = list(requests.filter(pk__gt=last_pk)[:per_slice])
        if not batch:
            return
        last_pk = batch[-1].pk
        if request_ids is None:
            scope = {"request_id__gte": batch[0].pk, "request_id__lte": last_pk}
        else:
            # The chosen requests may lie far apart: a range would read the logs
            # of every request between them.
            scope = {"request_id__in": [r.pk for r in batch]}
        items = defaultdict(list)
        for item in RequestItem.objects.filter(**scope).order_by(
            "request_id", "line_number"
        ):
            items[item.request_id].append(item)
        events = defaultdict(list)
        # Plain rows, not model instances: building millions of those (with their
        # signals) would cost more than hashing them.
        for row in (
            RequestEvent.objects.filter(**scope)
            .order_by("request_id", "sequence")
            .values(*_EVENT_COLUMNS)
            .iterator(chunk_size=chunk_size)
        ):
            event = SimpleNamespace(pk=row["id"], **row)
            events[event.request_id].append(event)
        for service_request in batch:
            yield from _verify_request(
                service_request,
                events.get(service_request.pk, []),
                items.get(service_request.pk, []),
                key,
            )


def _verify_request(service_request, events, items, key: bytes):
    def broken(reason, event=None):
        return BrokenLink(
            service_request.pk,
            event.sequence if event is not None else None,
            event.pk if event is not None else None,
            reason,
        )

    expected_previous, expected_sequence, keyed = GENESIS, 1, False
    for event in events:
        if event.sequence != expected_sequence:
            yield broken(
                f"expected event number {expected_sequence}: an event is missing",
                event,
            )
        if event.previous_hash != expected_previous:
            yield broken(
                "does not follow the previous event (an event was changed, "
                "removed or inserted before it)",
                event,
            )
        if event.scheme == KEYED:
            keyed = True
            if not key:
                yield broken(
                    "is hashed with REQUEST_LOG_KEY, which is not set: it can't be "
                    "checked",
                    event,
                )
            elif event_hash(event, key=key) != event.hash:
                yield broken("its content was changed", event)
        elif event.scheme == PLAIN:
            if key and keyed:
                yield broken(
                    "has a plain hash after keyed ones: the portal did not write it",
                    event,
                )
            if event_hash(event) != event.hash:
                yield broken("its content was changed", event)
        else:
            yield broken(f"unknown hash scheme “{event.scheme}”", event)
        expected_previous = event.hash
        expected_sequence = event.sequence + 1
    if key and events and not keyed:
        yield broken(
            "no event of this log is keyed: it was never sealed with "
            "REQUEST_LOG_KEY (manage.py request_log_seal), or it was recomputed "
            "without the key"
        )
    last = events[-1] if events else None
    ends_at = (last.sequence, last.hash) if last else (0, GENESIS)
    if ends_at != (service_request.log_sequence, service_request.log_hash):
        yield broken(
            "the request row says its log ends at event "
            f"#{service_request.log_sequence}, but the log "
            + (f"ends at event #{last.sequence}" if last else "is empty")
            + (
                " with a different hash"
                if last and last.sequence == service_request.log_sequence
                else ""
            )
            + ": events were removed, added or rewritten"
        )
    if not events:
        if not service_request.log_sequence:
            yield broken("has no log at all: it was removed")
        return
    yield from _verify_rows(service_request, events, items, broken)


def _verify_rows(service_request, events, items, broken):
    first = events[0]
    snapshot = (
        _data(first).get("snapshot") if first.name == "request.submitted" else None
    )
    if snapshot is None:
        # Logged before snapshots existed: the chain and head are all there is.
        return
    try:
        logged_request = _known(snapshot["request"], REQUEST_SNAPSHOT_FIELDS)
        expected = {
            state["line_number"]: _known(state, ITEM_SNAPSHOT_FIELDS)
            for state in snapshot["items"]
        }
    except (KeyError, TypeError, AttributeError):
        yield broken("its snapshot of the request is not one the portal writes", first)
        return
    current = _row_state(service_request, logged_request.keys())
    for name, logged in logged_request.items():
        if not _agrees(name, current[name], logged):
            yield broken(_differs(service_request.number, name, current[name], logged))
    line_of: dict[int, int] = {}
    for event in events[1:]:
        if event.name == "item.created":
            line_of[event.item_id] = _data(event).get("line")
        elif event.item_id is not None:
            state = expected.get(line_of.get(event.item_id))
            if state is None:
                yield broken("is about an item its log never created", event)
            else:
                _replay(state, event)
    id_of = {line: item_id for item_id, line in line_of.items()}
    for item in items:
        state = expected.pop(item.line_number, None)
        if state is None or id_of.get(item.line_number) != item.pk:
            yield broken(f"{item.number} (id {item.pk}) is not in the log")
            continue
        now = _row_state(item, state.keys())
        for name, logged in state.items():
            if not _agrees(name, now[name], logged):
                yield broken(_differs(item.number, name, now[name], logged))
        # The item's copies of its request's people and time (which decide
        # whose lists it is in) are the request's, checked above.
        for name in REQUEST_COPIES:
            copied, original = getattr(item, name), getattr(service_request, name)
            if copied != original:
                label = name.removesuffix("_id")
                yield broken(
                    _differs(item.number, label, copied, original, "its request")
                )
    for line in sorted(expected):
        yield broken(f"{service_request.number}-{line} is in the log but has no row")


def _data(event) -> dict:
    return event.data if isinstance(event.data, dict) else {}


def _known(state: dict, names) -> dict:
    """The snapshot's fields that are columns (in case one was dropped since)."""
    return {name: value for name, value in state.items() if name in names}


def _replay(state: dict, event) -> None:
    """What an event changed on its item's row: the one place that knows, kept
    in step with the services in catalog.services.fulfilment."""
    at = _canonical_time(event.created_at)
    data = _data(event)
    if event.name == "item.status_changed":
        state["status"] = event.to_state
        state["status_changed_at"] = at
        if event.to_state == ItemStatus.FULFILLED:
            state["fulfilled_at"] = at
        elif (
            event.to_state == ItemStatus.IN_PROGRESS
            and event.from_state == ItemStatus.FULFILLED
        ):
            state["fulfilled_at"] = None
        state["hold_reason"] = (
            data.get("hold_reason_id") if event.to_state == ItemStatus.ON_HOLD else None
        )
    elif event.name == "item.assigned":
        state["assigned_to"] = data.get("assignee")
    elif event.name == "item.rated":
        state["rating"] = data.get("rating")
        state["rating_comment"] = event.note
        state["rated_at"] = at


def _agrees(name: str, current, logged) -> bool:
    return current == logged or (name in CLEARABLE and current is None)


def _differs(number: str, name: str, current, logged, source="the log") -> str:
    label = name.replace("_", " ")
    return f"{number} {label}: the row says {current!r}, {source} says {logged!r}"


# --- Anchors --------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A digest over every request's chain head among events up to ``upto_id``."""

    upto_id: int
    digest: str

    def __str__(self) -> str:
        return f"{self.upto_id}:{self.digest}"

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        upto, _, digest = text.strip().partition(":")
        if not upto.isdigit() or len(digest) != 64:
            raise ValueError(
                f"“{text}” is not an anchor: expected the event id, a colon and "
                "64 hexadecimal digits, as request_log_anchor prints them."
            )
        return cls(int(upto), digest.lower())


def heads_digest(*, upto_id: int, chunk_size: int = 5000) -> str:
    """SHA-256 over "request:sequence:hash" of each request's last event with an
    id up to ``upto_id``, in request order. Plain SHA-256 on purpose: an auditor
    can recompute it without the key."""
    digest = hashlib.sha256()
    head = None
    for row in (
        RequestEvent.objects.filter(pk__lte=upto_id)
        .order_by("request_id", "sequence")
        .values_list("request_id", "sequence", "hash")
        .iterator(chunk_size=chunk_size)
    ):
        if head is not None and head[0] != row[0]:
            digest.update(f"{head[0]}:{head[1]}:{head[2]}\n".encode())
        head = row
    if head is not None:
        digest.update(f"{head[0]}:{head[1]}:{head[2]}\n".encode())
    return digest.hexdigest()


def _log_end() -> int:
    """The highest event id, as the point of a new anchor.

    On PostgreSQL it is read while the table is locked against inserts (SHARE
    mode, which waits for transactions that are inserting): an event with a lower
    id can't commit after it. That lock needs the table's owner; any other role
    gets the highest id it can see.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            try:
                table = connection.ops.quote_name(RequestEvent._meta.db_table)
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
            except DatabaseError:
                pass
        return RequestEvent.objects.aggregate(upto=Max("pk"))["upto"] or 0


def request_log_anchor() -> Anchor:
    """An anchor over the log as it is now."""
    upto = _log_end()
    return Anchor(upto, heads_digest(upto_id=upto))


def request_log_anchor_check(anchor: Anchor) -> bool:
    """Whether every chain's head up to the anchor's event id is as it was."""
    return hmac.compare_digest(heads_digest(upto_id=anchor.upto_id), anchor.digest)


# --- Checking what changed since an anchor ------------------------------------------


@dataclass(frozen=True)
class SinceCheck:
    """What ``request_log_verify_since`` found. ``changed`` requests were checked
    end to end; ``untouched`` ones have no event after the old anchor and rely on
    it and on the last full check. ``anchor`` is the new one, to keep for the next
    run; it means something only if nothing is ``broken`` and the old anchor
    matched."""

    anchor_matches: bool
    changed: int
    untouched: int
    broken: list[BrokenLink]
    anchor: Anchor


def request_log_verify_since(*, anchor: Anchor, chunk_size: int = 5000) -> SinceCheck:
    """Check the log against an anchor kept from the last check, and in full only
    the logs that grew since.

    Proves that (a) the head of every log as of the anchor's event id is as it
    was, (b) no event of a log untouched since then is missing (their numbers
    still run from 1 to the head), and (c) every log with an event after the
    anchor, or with no event at all, passes ``request_log_verify`` end to end:
    its chain from the first event, head, key and rows. It does not re-hash the
    older events of untouched logs nor compare their rows: an event edited in
    place in the middle of such a log keeps its number and the head, so only the
    full check finds it. Run that periodically.

    One pass over the events' (id, request, number, hash) gives the old digest,
    the numbering of untouched logs and the new anchor's digest together; the
    logs walked are read again.
    """
    upto = max(_log_end(), anchor.upto_id)
    then, now = hashlib.sha256(), hashlib.sha256()
    broken: list[BrokenLink] = []
    untouched = 0
    request_id = None
    then_head = now_head = missing = None
    touched = False
    expected = 1

    def close():
        nonlocal untouched
        if then_head is not None:
            then.update(then_head)
        now.update(now_head)
        if not touched:
            untouched += 1
            if missing is not None:
                broken.append(missing)

    for event_id, row_request, sequence, digest in (
        RequestEvent.objects.filter(pk__lte=upto)
        .order_by("request_id", "sequence")
        .values_list("pk", "request_id", "sequence", "hash")
        .iterator(chunk_size=chunk_size)
    ):
        if row_request != request_id:
            if request_id is not None:
                close()
            request_id, then_head, missing = row_request, None, None
            touched, expected = False, 1
        head = f"{row_request}:{sequence}:{digest}\n".encode()
        if event_id <= anchor.upto_id:
            then_head = head
        else:
            touched = True
        now_head = head
        if sequence != expected and missing is None:
            missing = BrokenLink(
                row_request,
                sequence,
                event_id,
                f"expected event number {expected}: an event is missing",
            )
        expected = sequence + 1
    if request_id is not None:
        close()

    since = RequestEvent.objects.filter(pk__gt=anchor.upto_id).values("request_id")
    walk = ServiceRequest.objects.filter(
        Q(pk__in=since)
        | ~Exists(RequestEvent.objects.filter(request_id=OuterRef("pk")))
    ).values("pk")
    broken.extend(request_log_verify(request_ids=walk, chunk_size=chunk_size))
    broken.sort(key=lambda link: link.request_id)
    return SinceCheck(
        anchor_matches=hmac.compare_digest(then.hexdigest(), anchor.digest),
        changed=walk.count(),
        untouched=untouched,
        broken=broken,
        anchor=Anchor(upto, now.hexdigest()),
    )


# --- Introducing a key ----------------------------------------------------------------


def request_log_seal(*, chunk_size: int = 500) -> int:
    """Append a keyed ``log.sealed`` event to every request whose log ends with a
    plain one, after ``REQUEST_LOG_KEY`` was set; returns how many. From then on
    a plain event after it, or a chain without a keyed event, is reported."""
    if not _key():
        raise ImproperlyConfigured("Set REQUEST_LOG_KEY before sealing the log.")
    sealed = 0
    last_pk = 0
    while True:
        ids = list(
            ServiceRequest.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return sealed
        last_pk = ids[-1]
        for request_id in ids:
            with transaction.atomic():
                service_request = ServiceRequest.objects.select_for_update().get(
                    pk=request_id
                )
                last = (
                    RequestEvent.objects.filter(request_id=request_id)
                    .order_by("-sequence")
                    .values("scheme", "hash")
                    .first()
                )
                if last is None or last["scheme"] == KEYED:
                    continue
                event_append(
                    service_request=service_request,
                    name="log.sealed",
                    data={"sealed": last["hash"]},
                )
                sealed += 1
