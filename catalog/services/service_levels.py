"""Keeping the stored service-level figures equal to what the log says.

Every service that appends to an item's log calls ``items_clock_refresh`` in the
same transaction (which also brings the item's reporting facts up to date);
``service_levels_rebuild`` re-derives every item's figures from scratch and
reports (or repairs) any difference. Calendars are versioned: saving a changed
calendar records a new version and moves open items onto it with an
``item.calendar_changed`` event, which recomputes their due times.
"""

import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.business_time import BusinessClock, CalendarSpec
from catalog.clock import ItemFigures, Targets, item_figures
from catalog.models import (
    OPEN_STATES,
    BusinessCalendar,
    CalendarVersion,
    RequestEvent,
    RequestItem,
    ServiceRequest,
)
from catalog.services.request_log import event_append

FIGURE_FIELDS = ItemFigures.field_names()


# --- Calendars and their versions -----------------------------------------------------


# Clocks keep caches of the days they have worked out; one per set of rules, for
# the life of the process (keyed by the rules themselves, never by a row id).
_CLOCKS: dict[str, BusinessClock] = {}


def clock_for_spec(spec: dict) -> BusinessClock:
    key = json.dumps(spec, sort_keys=True)
    clock = _CLOCKS.get(key)
    if clock is None:
        if len(_CLOCKS) > 500:
            _CLOCKS.clear()
        clock = _CLOCKS[key] = BusinessClock(CalendarSpec.from_json(spec))
    return clock


class VersionClocks:
    """``clock_for(version_id)`` for the figures, reading each version once."""

    def __init__(self):
        self._known: dict[int, BusinessClock | None] = {}

    def preload(self, version_ids) -> None:
        wanted = {pk for pk in version_ids if pk and pk not in self._known}
        if not wanted:
            return
        for pk, spec in CalendarVersion.objects.filter(pk__in=wanted).values_list(
            "pk", "spec"
        ):
            self._known[pk] = clock_for_spec(spec)
        for pk in wanted - self._known.keys():
            self._known[pk] = None

    def __call__(self, version_id: int) -> BusinessClock | None:
        if version_id not in self._known:
            self.preload([version_id])
        return self._known[version_id]


def _latest_version(calendar_id: int) -> CalendarVersion | None:
    return (
        CalendarVersion.objects.filter(calendar_id=calendar_id)
        .order_by("-number")
        .first()
    )


def calendar_current_version(calendar_id: int, *, actor=None) -> CalendarVersion:
    """The calendar's newest version, recording one if its rules changed since
    (or none was recorded yet).

    Two checkouts at the same moment may both find the version missing: one
    records it at a time (the calendar's row lock on PostgreSQL), and the other
    then uses the version just recorded if it says the same. Where the lock is
    not available (SQLite), the unique version number decides, with the same
    outcome."""
    calendar = BusinessCalendar.objects.get(pk=calendar_id)
    spec = calendar.spec().to_json()
    latest = _latest_version(calendar_id)
    if latest is not None and latest.spec == spec:
        return latest
    with transaction.atomic():
        BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
        latest = _latest_version(calendar_id)
        if latest is not None and latest.spec == spec:
            return latest
        try:
            with transaction.atomic():
                return CalendarVersion.objects.create(
                    calendar_id=calendar_id,
                    number=(latest.number + 1) if latest else 1,
                    spec=spec,
                    created_at=timezone.now(),
                    created_by=actor,
                )
        except IntegrityError:
            latest = _latest_version(calendar_id)
            if latest is not None and latest.spec == spec:
                return latest
            raise


def calendar_clock(calendar_id: int) -> BusinessClock:
    return clock_for_spec(calendar_current_version(calendar_id).spec)


def calendar_versions(calendar_ids) -> dict[int, CalendarVersion]:
    """The current version of each calendar, recording new ones where needed."""
    return {pk: calendar_current_version(pk) for pk in set(calendar_ids) if pk}


def calendar_changed(*, calendar_id: int, actor) -> int:
    """After a calendar was saved: record its new version and move every open item
    measured on an older version of it. Returns how many items moved."""
    with transaction.atomic():
        BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
        version = calendar_current_version(calendar_id, actor=actor)
        stale = list(
            RequestItem.objects.filter(
                calendar_version__calendar_id=calendar_id, status__in=OPEN_STATES
            )
            .exclude(calendar_version=version)
            .values_list("pk", "request_id", "calendar_version_id")
            .order_by("request_id", "pk")
        )
        request_ids = sorted({request_id for _, request_id, _ in stale})
        requests = ServiceRequest.objects.select_for_update().in_bulk(request_ids)
        now = timezone.now()
        for item_id, request_id, old_version in stale:
            event_append(
                service_request=requests[request_id],
                item=RequestItem(pk=item_id),
                name="item.calendar_changed",
                actor=actor,
                at=now,
                data={
                    "calendar": version.calendar.name,
                    "from_version": old_version,
                    "to_version": version.pk,
                },
            )
        items_clock_refresh(item_ids=[item_id for item_id, _, _ in stale])
    return len(stale)


# --- Figures --------------------------------------------------------------------------


def _figures_for(items: list[RequestItem]) -> dict[int, ItemFigures]:
    """Compute the figures of ``items`` (with ``request`` loaded) from the log."""
    request_ids = {item.request_id for item in items}
    item_ids = {item.pk for item in items}
    events_by_request: dict[int, list] = {}
    for event in (
        RequestEvent.objects.filter(request_id__in=request_ids)
        .filter(Q(item_id__in=item_ids) | Q(item__isnull=True))
        .only(
            "request_id",
            "item_id",
            "sequence",
            "name",
            "actor_id",
            "created_at",
            "from_state",
            "to_state",
            "data",
        )
        .order_by("request_id", "sequence")
    ):
        events_by_request.setdefault(event.request_id, []).append(event)
    clocks = VersionClocks()
    clocks.preload(item.calendar_version_id for item in items)
    result = {}
    for item in items:
        result[item.pk] = item_figures(
            events=events_by_request.get(item.request_id, []),
            item_id=item.pk,
            requester_ids={item.request.requested_by_id, item.request.requested_for_id},
            targets=Targets.of(item),
            default_version_id=item.calendar_version_id,
            clock_for=clocks,
        )
    return result


def _differences(item: RequestItem, figures: ItemFigures) -> dict:
    return {
        name: value
        for name, value in figures.as_dict().items()
        if getattr(item, name) != value
    }


def items_clock_refresh(*, item_ids) -> None:
    """Recompute and store the figures of these items. Call in the transaction
    that appended to their log."""
    items = list(
        RequestItem.objects.select_related("request").filter(pk__in=list(item_ids))
    )
    if not items:
        return
    figures = _figures_for(items)
    changed = []
    for item in items:
        diff = _differences(item, figures[item.pk])
        if diff:
            for name, value in diff.items():
                setattr(item, name, value)
            changed.append(item)
    if changed:
        RequestItem.objects.bulk_update(changed, FIGURE_FIELDS)
    # Whatever changed about the items (status, rating, figures), the reports
    # follow in the same transaction.
    from catalog.services.reporting import item_facts_refresh

    item_facts_refresh(items=items)


def request_clock_refresh(*, request_id: int) -> None:
    """After a request-wide event (a comment): every item of the request."""
    items_clock_refresh(
        item_ids=RequestItem.objects.filter(request_id=request_id).values_list(
            "pk", flat=True
        )
    )


@dataclass(frozen=True)
class Difference:
    item_id: int
    number: str
    field: str
    stored: object
    rebuilt: object


def service_levels_rebuild(
    *, fix: bool = False, chunk_size: int = 2000, progress=None
) -> list[Difference]:
    """Re-derive every item's figures from its log and calendar; return where the
    stored figures differ, and store the rebuilt ones if ``fix``."""
    differences: list[Difference] = []
    last_pk = 0
    done = 0
    while True:
        items = list(
            RequestItem.objects.select_related("request")
            .filter(pk__gt=last_pk)
            .order_by("pk")[:chunk_size]
        )
        if not items:
            break
        last_pk = items[-1].pk
        figures = _figures_for(items)
        changed = []
        for item in items:
            diff = _differences(item, figures[item.pk])
            for name, value in diff.items():
                differences.append(
                    Difference(item.pk, item.number, name, getattr(item, name), value)
                )
                setattr(item, name, value)
            if diff:
                changed.append(item)
        if fix and changed:
            with transaction.atomic():
                RequestItem.objects.bulk_update(changed, FIGURE_FIELDS)
        done += len(items)
        if progress is not None:
            progress(done)
    return differences
