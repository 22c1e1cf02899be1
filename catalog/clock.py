"""Service-level clocks: an item's due times, pauses, first response, risk and
breaches, as a pure function of its log and its calendar.

Nothing here reads the database or the time of day. The same events and the same
calendar always give the same figures, which is what lets
``manage.py rebuild_service_levels`` re-derive every stored figure, and lets the
demo history store exactly what the live services would have stored. The rules, in
words, are in docs/service-levels.md:

- The clock starts when the item is submitted, or, where approval is needed, when
  its last approval is given.
- First response is the first action visible to the requester after the start,
  by someone other than the requester or the person it is for: starting work,
  putting it on hold, delivering, cancelling it, or a comment.
- A hold pauses the customer clock, the internal clock, both or neither, as its
  reason said when it was put on hold (recorded in the event). Between delivery
  and a reopening both clocks stand still.
- The clock stops at delivery (or cancellation).
- A target is breached at its due time if the log shows the item still going
  after that moment: delivered later, or any later event (the scheduled check
  writes one when a due time passes). At risk likewise, at the configured share
  of the time.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from catalog.business_time import BusinessClock

SUBMITTED = "submitted"
AWAITING_APPROVAL = "awaiting_approval"
APPROVED = "approved"
REJECTED = "rejected"
IN_PROGRESS = "in_progress"
ON_HOLD = "on_hold"
FULFILLED = "fulfilled"
CLOSED = "closed"
CANCELLED = "cancelled"
# Moves by staff that the requester sees on their request.
RESPONSE_MOVES = frozenset({IN_PROGRESS, ON_HOLD, FULFILLED, CANCELLED})
PUBLIC_COMMENTS = frozenset({"request.commented", "item.commented"})


@dataclass(frozen=True)
class Targets:
    """An item's targets in hours on its calendar, as ordered."""

    response: Decimal | None
    resolution: Decimal | None
    internal_response: Decimal | None
    internal_resolution: Decimal | None
    at_risk_percent: int = 75

    @staticmethod
    def of(item) -> "Targets":
        return Targets(
            response=item.response_target_hours,
            resolution=item.resolution_target_hours,
            internal_response=item.internal_response_target_hours,
            internal_resolution=item.internal_resolution_target_hours,
            at_risk_percent=item.at_risk_percent or 75,
        )


@dataclass
class ItemFigures:
    """What is stored on ``RequestItem``; field names match its columns."""

    calendar_version_id: int | None = None
    clock_started_at: datetime | None = None
    first_response_at: datetime | None = None
    response_due_at: datetime | None = None
    response_breached_at: datetime | None = None
    internal_response_due_at: datetime | None = None
    internal_response_breached_at: datetime | None = None
    resolution_due_at: datetime | None = None
    at_risk_from: datetime | None = None
    at_risk_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    internal_resolution_due_at: datetime | None = None
    internal_at_risk_from: datetime | None = None
    internal_at_risk_at: datetime | None = None
    internal_resolution_breached_at: datetime | None = None
    customer_paused_seconds: int = 0
    internal_paused_seconds: int = 0
    paused_since: datetime | None = None
    resolution_seconds: int | None = None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.field_names()}


def _seconds(hours: Decimal | None) -> float | None:
    return float(Decimal(hours) * 3600) if hours is not None else None


@dataclass
class _Walk:
    """One item's life as the clock sees it, read from its events."""

    version_id: int | None = None
    start: datetime | None = None
    stop: datetime | None = None
    delivered: bool = False
    first_response: datetime | None = None
    horizon: datetime | None = None
    # (start, end or None) per clock; end None means "still paused".
    customer_pauses: list = None
    internal_pauses: list = None
    open_hold_customer: datetime | None = None


def _read(events, *, item_id, requester_ids, default_version_id) -> _Walk:
    walk = _Walk(version_id=default_version_id, customer_pauses=[], internal_pauses=[])
    state = None
    hold_started = None
    hold_policy: dict = {}
    delivered_at = None
    for event in events:
        mine = event.item_id == item_id
        if not mine and event.item_id is not None:
            continue  # another item's business
        at = event.created_at
        if walk.horizon is None or at > walk.horizon:
            walk.horizon = at
        name = event.name
        data = event.data or {}
        staff = event.actor_id is not None and event.actor_id not in requester_ids
        if mine and name == "item.created":
            state = event.to_state
            if data.get("calendar_version"):
                walk.version_id = data["calendar_version"]
            if state == SUBMITTED:
                walk.start = at
        elif mine and name == "item.calendar_changed":
            walk.version_id = data.get("to_version") or walk.version_id
        elif mine and name == "item.status_changed":
            to = event.to_state
            if to == APPROVED and walk.start is None:
                walk.start = at
            if walk.start is not None and walk.stop is None:
                if (
                    staff
                    and to in RESPONSE_MOVES
                    and walk.first_response is None
                    and at >= walk.start
                ):
                    walk.first_response = at
                if state == ON_HOLD and hold_started is not None:
                    if hold_policy.get("pauses_customer", True):
                        walk.customer_pauses.append((hold_started, at))
                    if hold_policy.get("pauses_internal", True):
                        walk.internal_pauses.append((hold_started, at))
                    hold_started = None
                    walk.open_hold_customer = None
                if to == ON_HOLD:
                    hold_started, hold_policy = at, data
                    if data.get("pauses_customer", True):
                        walk.open_hold_customer = at
                if to == FULFILLED:
                    delivered_at = at
                    walk.stop, walk.delivered = at, True
                elif to == CANCELLED:
                    walk.stop = at
            elif walk.stop is not None and state == FULFILLED and to == IN_PROGRESS:
                # Reopened: the time it spent delivered doesn't count.
                walk.customer_pauses.append((delivered_at, at))
                walk.internal_pauses.append((delivered_at, at))
                walk.stop, walk.delivered = None, False
            state = to
        elif (
            name in PUBLIC_COMMENTS
            and staff
            and walk.start is not None
            and walk.stop is None
            and walk.first_response is None
            and at >= walk.start
        ):
            walk.first_response = at
    if hold_started is not None and walk.stop is None:
        if hold_policy.get("pauses_customer", True):
            walk.customer_pauses.append((hold_started, None))
        if hold_policy.get("pauses_internal", True):
            walk.internal_pauses.append((hold_started, None))
    return walk


def _reach(clock: BusinessClock, start, amount: float, pauses) -> datetime | None:
    """The moment ``amount`` seconds of open, unpaused time have run from
    ``start``; None if a pause that hasn't ended comes first."""
    t, remaining = start, amount
    for begin, end in pauses:
        if end is not None and end <= t:
            continue
        if begin > t:
            gained = clock.seconds_between(t, begin)
            if gained >= remaining:
                return clock.add(t, remaining)
            remaining -= gained
        if end is None:
            return None
        t = max(t, end)
    return clock.add(t, remaining)


def _paused(clock: BusinessClock, start, end, pauses) -> float:
    total = 0.0
    for begin, finish in pauses:
        a = max(begin, start)
        b = min(finish or end, end)
        if b > a:
            total += clock.seconds_between(a, b)
    return total


def _late(due, until) -> datetime | None:
    return due if due is not None and until is not None and until > due else None


def item_figures(
    *,
    events: Iterable,
    item_id: int,
    requester_ids: set[int],
    targets: Targets,
    default_version_id: int | None,
    clock_for: Callable[[int], BusinessClock | None],
) -> ItemFigures:
    """The figures of one item.

    ``events`` are its request's log in order (its own events and request-wide
    ones such as comments; other items' events are skipped). ``requester_ids``
    are who ordered it and who it is for. ``clock_for`` turns a calendar version id
    into a ``BusinessClock``.
    """
    walk = _read(
        events,
        item_id=item_id,
        requester_ids=requester_ids,
        default_version_id=default_version_id,
    )
    figures = ItemFigures(
        calendar_version_id=walk.version_id, clock_started_at=walk.start
    )
    clock = clock_for(walk.version_id) if walk.version_id else None
    if walk.start is None or clock is None or targets.resolution is None:
        return figures
    start = walk.start
    end = walk.stop or walk.horizon or start
    figures.first_response_at = walk.first_response
    answered_by = walk.first_response or walk.stop or end
    share = targets.at_risk_percent / 100

    for prefix, hours in (
        ("", targets.response),
        ("internal_", targets.internal_response),
    ):
        amount = _seconds(hours)
        if amount is None:
            continue
        due = clock.add(start, amount)
        setattr(figures, f"{prefix}response_due_at", due)
        setattr(figures, f"{prefix}response_breached_at", _late(due, answered_by))

    for prefix, risk_prefix, hours, pauses in (
        ("", "", targets.resolution, _merged(walk.customer_pauses)),
        (
            "internal_",
            "internal_",
            targets.internal_resolution,
            _merged(walk.internal_pauses),
        ),
    ):
        amount = _seconds(hours)
        if amount is None:
            continue
        due = _reach(clock, start, amount, pauses)
        risk = _reach(clock, start, amount * share, pauses)
        setattr(figures, f"{prefix}resolution_due_at", due)
        setattr(figures, f"{prefix}resolution_breached_at", _late(due, end))
        setattr(figures, f"{risk_prefix}at_risk_from", risk)
        setattr(figures, f"{risk_prefix}at_risk_at", _late(risk, end))

    figures.customer_paused_seconds = round(
        _paused(clock, start, end, _merged(walk.customer_pauses))
    )
    figures.internal_paused_seconds = round(
        _paused(clock, start, end, _merged(walk.internal_pauses))
    )
    if walk.stop is None:
        figures.paused_since = walk.open_hold_customer
    if walk.delivered:
        figures.resolution_seconds = round(
            clock.seconds_between(start, walk.stop) - figures.customer_paused_seconds
        )
    return figures


def _merged(pauses) -> list:
    """Pauses in time order with overlaps joined (an open pause swallows what
    follows it)."""
    result: list = []
    for begin, end in sorted(pauses, key=lambda p: p[0]):
        if result and (result[-1][1] is None or begin <= result[-1][1]):
            last_begin, last_end = result[-1]
            if last_end is None or end is None:
                result[-1] = (last_begin, None)
            else:
                result[-1] = (last_begin, max(last_end, end))
        else:
            result.append((begin, end))
    return result
