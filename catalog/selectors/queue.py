"""The fulfilment queue and the item work page, as fulfillers see them.

A fulfiller sees the open items (``QUEUE_STATES``) of the teams they work on, and
items of no team; a superuser sees every team's. The visibility comes first and
the person's filters are applied on top, so a filter can never widen it.

Time left, "at risk" and "breached" are worked out at the moment of reading
(``catalog.selectors.due``), from the due times the clock stored and the
current time.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import NotAllowed, NotFoundForUser
from catalog.filters import QueueFilter
from catalog.models import (
    ALLOWED_TRANSITIONS,
    BREACH_RECORDS,
    QUEUE_STATES,
    FulfilmentGroup,
    HoldReason,
    ItemStatus,
    RequestEvent,
    RequestItem,
)
from catalog.pagination import CappedCount
from catalog.selectors.due import is_at_risk, is_breached, time_left
from catalog.selectors.requests import INTERNAL_EVENTS

ITEMS_PER_PAGE = 25
# The queue lists (and counts) this many items at most, in the order chosen.
QUEUE_LISTED_AT_MOST = 1_000
NOT_A_FULFILLER = "The fulfilment queue is for the teams who work on requests."


@dataclass(frozen=True)
class QueueRow:
    item: RequestItem
    internal_left: str
    customer_left: str
    internal_overdue: bool
    customer_overdue: bool
    breached: bool
    at_risk: bool


def _row(item: RequestItem, now: datetime) -> QueueRow:
    internal_paused = (
        item.status == ItemStatus.ON_HOLD
        and item.internal_resolution_target_hours is not None
    )
    return QueueRow(
        item=item,
        internal_left=time_left(
            item.internal_resolution_due_at, now, paused=internal_paused
        ),
        customer_left=time_left(
            item.resolution_due_at, now, paused=item.paused_since is not None
        ),
        internal_overdue=_overdue(item.internal_resolution_due_at, now),
        customer_overdue=_overdue(item.resolution_due_at, now),
        breached=is_breached(item, now),
        at_risk=is_at_risk(item, now),
    )


def _overdue(due: datetime | None, now: datetime) -> bool:
    return due is not None and due < now


# --- The queue ------------------------------------------------------------------------


def _require_fulfiller(user) -> None:
    if not permissions.can_work_requests(user):
        raise NotAllowed(NOT_A_FULFILLER)


def workable_items(user):
    """Every item ``user`` may work on, in any state: the queryset form of
    ``permissions.works_on_group`` (their teams' items and items of no team;
    all of them for a superuser)."""
    condition = permissions.workable_items_q(user)
    if condition is None:
        return RequestItem.objects.none()
    return RequestItem.objects.filter(condition)


def my_groups(user) -> list[FulfilmentGroup]:
    """The teams whose items ``user`` sees in the queue (all, for a superuser),
    by name."""
    if user.is_superuser:
        return list(FulfilmentGroup.objects.order_by("name"))
    return permissions.fulfilment_groups(user)


def colleagues(user, groups: list[FulfilmentGroup]) -> list:
    """Whom ``user`` may hand items to: the active members of their teams
    (``groups``), themselves included."""
    people = (
        get_user_model()
        .objects.filter(is_active=True, fulfilment_groups__in=groups)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return list(people)


QUEUE_ROW_FIELDS = (
    "request_id",
    "line_number",
    "service_name",
    "fulfilment_group_name",
    "status",
    "internal_resolution_target_hours",
    "internal_resolution_due_at",
    "resolution_due_at",
    "paused_since",
    "created_at",
    # For "breached" and "at risk" (catalog.selectors.due).
    *BREACH_RECORDS,
    "internal_at_risk_from",
    "request__requested_for__username",
    "request__requested_for__first_name",
    "request__requested_for__last_name",
    "assigned_to__username",
    "assigned_to__first_name",
    "assigned_to__last_name",
)


def teams_and_colleagues(user) -> tuple[list[FulfilmentGroup], list]:
    """``my_groups`` and their ``colleagues``: for a team member, one query
    over the memberships of their teams (which also answers
    ``permissions.fulfilment_groups`` for the rest of the request)."""
    if user.is_superuser:
        groups = my_groups(user)
        return groups, colleagues(user, groups)
    membership = FulfilmentGroup.members.through
    rows = list(
        membership.objects.filter(
            fulfilmentgroup__in=membership.objects.filter(user=user).values(
                "fulfilmentgroup"
            )
        ).select_related("fulfilmentgroup", "user")
    )
    permissions.fulfilment_groups_known(
        user, {row.fulfilmentgroup_id: row.fulfilmentgroup for row in rows}.values()
    )
    people = {row.user_id: row.user for row in rows if row.user.is_active}
    return permissions.fulfilment_groups(user), sorted(
        people.values(),
        key=lambda person: (person.first_name, person.last_name, person.username),
    )


def fulfilment_queue(*, user, params, now: datetime | None = None) -> dict:
    """The queue page: the filter, one page of rows, and who items can go to."""
    _require_fulfiller(user)
    now = now or timezone.now()
    groups, people = teams_and_colleagues(user)
    items = (
        workable_items(user)
        .filter(status__in=QUEUE_STATES)
        .select_related("request__requested_for", "assigned_to")
        # What a row shows: a page of whole items, requests and people costs
        # the queue a third of its time.
        .only(*QUEUE_ROW_FIELDS)
    )
    filterset = QueueFilter(
        params or None,
        queryset=items,
        user=user,
        groups=groups,
        people=people,
        now=now,
    )
    # The keys in order, up to one past the cap, in one query that both counts
    # and pages; then the page's rows. Counting every match of a filter over a
    # large team's queue, and reading it again for the page, cost more than
    # the page (bench/README.md, "The queue up to a cap").
    ordered = filterset.qs
    keys = list(ordered.values_list("pk", flat=True)[: QUEUE_LISTED_AT_MOST + 1])
    page_obj = CappedCount(keys, ITEMS_PER_PAGE, cap=QUEUE_LISTED_AT_MOST).get_page(
        params.get("page")
    )
    page_obj.object_list = list(
        items.filter(pk__in=page_obj.object_list).order_by(*ordered.query.order_by)
    )
    return {
        "filter": filterset,
        "page_obj": page_obj,
        "rows": [_row(item, now) for item in page_obj.object_list],
        "people": people,
        "now": now,
    }


# --- One item ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One log entry; ``internal`` when the requester's page leaves it out
    (``INTERNAL_EVENTS``), so the team knows who reads what."""

    event: RequestEvent
    internal: bool


@dataclass
class ItemWork:
    """What the item work page shows and which actions its status allows."""

    item: RequestItem
    timeline: list[TimelineEntry]
    members: list
    hold_reasons: list[HoldReason]
    internal_left: str
    customer_left: str
    internal_overdue: bool
    customer_overdue: bool
    breached: bool
    at_risk: bool
    actions: set[str] = field(default_factory=set)


def available_actions(item: RequestItem) -> set[str]:
    """The work-page actions the item's status allows (who may is checked by the
    services when they are used)."""
    moves = ALLOWED_TRANSITIONS.get(item.status, frozenset())
    actions = {"work_note", "comment"}
    if item.status in QUEUE_STATES:
        actions.add("assign")
    if ItemStatus.IN_PROGRESS in moves and item.status in (
        ItemStatus.SUBMITTED,
        ItemStatus.APPROVED,
    ):
        actions.add("start")
    if ItemStatus.ON_HOLD in moves:
        actions.add("hold")
    if item.status == ItemStatus.ON_HOLD:
        actions.add("resume")
    if ItemStatus.FULFILLED in moves:
        actions.add("resolve")
    if ItemStatus.CANCELLED in moves:
        actions.add("cancel")
    return actions


def item_work(*, user, item_id: int, now: datetime | None = None) -> ItemWork:
    """One item for the team working on it, with its whole log, the team's own
    notes included. Someone else's team's item looks like it doesn't exist."""
    _require_fulfiller(user)
    now = now or timezone.now()
    item = (
        RequestItem.objects.select_related(
            "request__requested_for",
            "request__requested_by",
            "request__cost_centre",
            "assigned_to",
            "fulfilment_group",
            "hold_reason",
        )
        .filter(pk=item_id)
        .first()
    )
    if item is None or not permissions.works_on_group(user, item.fulfilment_group_id):
        raise NotFoundForUser("No such request item.")
    events = (
        RequestEvent.objects.filter(request_id=item.request_id)
        .filter(Q(item_id=item.pk) | Q(item__isnull=True))
        .order_by("sequence")
    )
    if item.fulfilment_group_id is None:
        members = colleagues(user, my_groups(user))
    else:
        members = list(
            item.fulfilment_group.members.filter(is_active=True).order_by(
                "first_name", "last_name", "username"
            )
        )
    row = _row(item, now)
    return ItemWork(
        item=item,
        timeline=[
            TimelineEntry(event=event, internal=event.name in INTERNAL_EVENTS)
            for event in events
        ],
        members=members,
        hold_reasons=list(HoldReason.objects.filter(active=True).order_by("name")),
        internal_left=row.internal_left,
        customer_left=row.customer_left,
        internal_overdue=row.internal_overdue,
        customer_overdue=row.customer_overdue,
        breached=row.breached,
        at_risk=row.at_risk,
        actions=available_actions(item),
    )
