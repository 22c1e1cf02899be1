"""Reading requests with their rules: people see the requests they placed or that
were placed for them; fulfillers see the queue (a later issue)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

from django.core.paginator import Paginator
from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
)

from catalog import permissions
from catalog.exceptions import NotFoundForUser
from catalog.filters import RequestFilter
from catalog.models import (
    QUEUE_STATES,
    ApprovalStep,
    CostCentre,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceRequest,
    UserProfile,
)
from catalog.selectors.people import (
    active_people,
    display_name,
    people_matching,
    reports_of,
)

REQUESTS_PER_PAGE = 20
# My services: a page of what someone holds (a person can hold hundreds).
HELD_PER_PAGE = 25
MONEY = DecimalField(max_digits=14, decimal_places=2)


def default_cost_centre(person) -> CostCentre | None:
    """The cost centre of the person's department: who pays by default."""
    profile = (
        UserProfile.objects.select_related("department__cost_centre")
        .filter(user=person)
        .first()
    )
    if profile and profile.department:
        return profile.department.cost_centre
    return None


def people_to_order_for(*, user, query: str = "", chosen_id: int | None = None):
    """The people offered as "who is it for": the person themselves first, then
    up to 20 matching ``query`` among those they may order for (anyone, with
    ``order_for_anyone``; the people who report to them, with
    ``order_on_behalf``), and the one already ``chosen_id``, so a form that comes
    back with an error keeps it. Nobody else for those who order only for
    themselves. ``request_submit`` checks the choice again."""
    if not permissions.can_order_on_behalf(user):
        return [user]
    query = (query or "").strip()
    if not query and not chosen_id:
        return [user]
    allowed = active_people().exclude(pk=user.pk)
    if not permissions.can_order_for_anyone(user):
        allowed = allowed.filter(pk__in=reports_of(user.pk))
    allowed = allowed.select_related("profile__department")
    found = list(people_matching(allowed, query)) if query else []
    if chosen_id and chosen_id not in {person.pk for person in found}:
        chosen = allowed.filter(pk=chosen_id).first()
        if chosen is not None:
            found.insert(0, chosen)
    return [user, *found]


def _mine(user, *, model=ServiceRequest):
    """The person's requests, in two parts that never overlap: those for them,
    and those they ordered for someone else. Each part is one index's range
    (person, then date), which a single OR of the two would not be. With
    ``model`` ``RequestItem``, their items (which copy the request's people and
    date), for filtering by an item's status."""
    return (
        model.objects.filter(requested_for=user),
        model.objects.filter(requested_by=user).exclude(requested_for=user),
    )


def requests_with_lines(ids, *, related=(), only=None) -> dict[int, ServiceRequest]:
    """The requests ``ids`` by key, with the ``related`` people and rows named
    as for ``select_related``, each with ``lines``: its items in order, each with
    its hold reason (which words its progress) and its ``request`` set. With
    ``only`` (field names as for ``QuerySet.only``, from the item), the rest of
    each row stays in the database: a list reads a quarter of an item's columns.

    One query, through the items: each item's row brings its request's. A
    request with no items (checkout never makes one) is read on its own. The
    query does not sort: a request's few items are sorted here. With an ORDER
    BY, Django hashes every selected column of each query it compiles, which
    costs more than this sort (bench/README.md, "Sorting in Python")."""
    found: dict[int, ServiceRequest] = {}
    lines: dict[int, list] = defaultdict(list)
    items = RequestItem.objects.select_related(
        *(f"request__{name}" for name in related), "hold_reason"
    )
    if only is not None:
        items = items.only(*only)
    for item in items.filter(request_id__in=ids).order_by():
        item.request = found.setdefault(item.request_id, item.request)
        lines[item.request_id].append(item)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        requests = ServiceRequest.objects.select_related(*related).order_by()
        if only is not None:
            requests = requests.only(
                *(
                    name.removeprefix("request__")
                    for name in only
                    if name.startswith("request__")
                )
            )
        found.update(requests.in_bulk(missing))
    for pk, service_request in found.items():
        service_request.lines = sorted(lines[pk], key=attrgetter("line_number"))
    return found


# What a list of requests shows of each (``request_list.html`` and the
# ``progress_line`` tag).
LIST_FIELDS = [
    "request_id",
    "line_number",
    "service_name",
    "status",
    "quantity",
    "one_off_price",
    "monthly_price",
    "resolution_due_at",
    "fulfilled_at",
    "rating",
    "hold_reason__requester_must_act",
    "hold_reason__customer_text",
    "request__submitted_at",
    "request__requested_for__username",
    "request__requested_for__first_name",
    "request__requested_for__last_name",
]


def my_requests(*, user, params) -> dict:
    """A page of the person's requests, newest first, each with its items and
    ``one_off_total`` and ``monthly_total`` (summed from the items already
    loaded: a GROUP BY over every request would cost more than the page).

    The page's keys come from the two parts of ``_mine`` merged in date order,
    which PostgreSQL reads from the two indexes and stops at the page: the
    cost of a page does not grow with how many requests the person has
    (bench/README.md, "Every page at a million items"). Filtered by status,
    the keys come from the person's items in that status, in the same order
    from their own indexes, one key per request ("A person's items")."""
    asked = RequestFilter(params or None, queryset=ServiceRequest.objects.none())
    by_status = asked.is_valid() and bool(asked.form.cleaned_data.get("status"))
    model, key = (RequestItem, "request_id") if by_status else (ServiceRequest, "pk")
    parts = [
        RequestFilter(params or None, queryset=part)
        for part in _mine(user, model=model)
    ]
    filterset = parts[0]
    first, second = (
        part.qs.order_by().values_list("submitted_at", key) for part in parts
    )
    if by_status:  # a request with several items in the status, once
        first, second = first.distinct(), second.distinct()
    keys = first.union(second, all=True).order_by("-submitted_at", f"-{key}")
    page_obj = Paginator(keys, REQUESTS_PER_PAGE).get_page(params.get("page"))
    ids = [pk for _, pk in page_obj.object_list]
    by_key = requests_with_lines(ids, related=["requested_for"], only=LIST_FIELDS)
    requests = [by_key[pk] for pk in ids if pk in by_key]
    for service_request in requests:
        service_request.one_off_total = sum(
            (item.one_off_total for item in service_request.lines), Decimal(0)
        )
        service_request.monthly_total = sum(
            (item.monthly_total for item in service_request.lines), Decimal(0)
        )
    page_obj.object_list = requests
    return {"filter": filterset, "page_obj": page_obj, "requests": requests}


# Log events that are IT's own bookkeeping, never shown to the requester: work
# notes are private, the rest is the service-level and reminder machinery.
INTERNAL_EVENTS = frozenset(
    {
        "item.work_note",
        "item.assigned",
        "item.at_risk",
        "item.breached",
        "item.calendar_changed",
        "approval.reminded",
        "approval.escalated",
        "approval.escalation_failed",
        "log.sealed",
    }
)


def _asked_for_approval(events) -> bool:
    """Whether the log shows approval steps were opened: an item that started
    out waiting for approval, or any approval event."""
    return any(
        event.name.startswith("approval.")
        or (
            event.name == "item.created"
            and event.to_state == ItemStatus.AWAITING_APPROVAL
        )
        for event in events
    )


def request_detail(*, user, request_id) -> ServiceRequest:
    """One request as its people see it: ``lines``, its items in order, each with
    ``progress`` (where it stands, in their words), and ``public_events``, the
    log without IT's internal events, in order (sorted here, as in
    ``requests_with_lines``). A fixed number of queries however long the log."""
    service_request = requests_with_lines(
        [request_id], related=["requested_by", "requested_for", "cost_centre"]
    ).get(request_id)
    if service_request is None or not permissions.can_view_request(
        user, service_request
    ):
        raise NotFoundForUser("No such request.")
    service_request.public_events = sorted(
        RequestEvent.objects.filter(request_id=service_request.pk)
        .exclude(name__in=INTERNAL_EVENTS)
        .order_by(),
        key=attrgetter("sequence"),
    )
    # Approval steps are made only when a request opens, and opening them is
    # logged: most requests need none, and their page skips the query.
    service_request.steps = (
        list(
            ApprovalStep.objects.filter(request=service_request)
            .select_related("approver", "decided_by")
            .order_by("item_id", "position")
        )
        if _asked_for_approval(service_request.public_events)
        else []
    )
    # Each event's request and item are rows loaded above, not rows of their own.
    items = {item.pk: item for item in service_request.lines}
    for event in service_request.public_events:
        event.request = service_request
        if event.item_id is not None:
            event.item = items[event.item_id]
    for item in service_request.lines:
        item.progress = item_progress(
            item,
            steps=[s for s in service_request.steps if s.item_id == item.pk],
            events=[e for e in service_request.public_events if e.item_id == item.pk],
            viewer=user,
        )
    service_request.summary = request_summary(service_request.lines)
    return service_request


def request_record(service_request) -> tuple[list, list]:
    """The request as the system of record holds it, for IT: its items (with
    whom each is assigned to) and its whole log as (event, internal) pairs,
    ``internal`` when the requester's page leaves the event out."""
    items = list(
        service_request.items.select_related("assigned_to").order_by("line_number")
    )
    by_pk = {item.pk: item for item in items}
    events = list(service_request.events.order_by("sequence"))
    for event in events:
        if event.item_id is not None:
            event.item = by_pk[event.item_id]
    return items, [(event, event.name in INTERNAL_EVENTS) for event in events]


@dataclass(frozen=True)
class RequestSummary:
    """Where the whole request stands, for the top of its page. ``state`` is
    one of ``needs_you``, ``awaiting_approval``, ``in_progress``, ``delivered``,
    ``not_approved`` and ``cancelled``; the other parts are set where they
    apply, and the template words them."""

    state: str
    total: int
    delivered: int = 0
    # The services we need something for from the requester.
    waiting_on_you: tuple[str, ...] = ()
    # Whom we asked to approve (names we can give).
    approvers: tuple[str, ...] = ()
    # When the last open item is due, and when the last one was delivered.
    expected_by: datetime | None = None
    delivered_on: datetime | None = None


_DONE = (ItemStatus.FULFILLED, ItemStatus.CLOSED)
_ENDED = (ItemStatus.CANCELLED, ItemStatus.REJECTED)


def request_summary(items) -> RequestSummary:
    """The request's overall state from its ``items`` (each with ``progress``,
    see ``item_progress``). The first that applies wins: something needed from
    the requester, an approval awaited, work under way, delivered, nothing to
    deliver."""
    delivered = [i for i in items if i.status in _DONE]
    open_items = [i for i in items if i.status not in _DONE + _ENDED]
    counts = {"total": len(items), "delivered": len(delivered)}
    waiting_on_you = tuple(
        i.service_name for i in open_items if i.progress.need_from_you
    )
    if waiting_on_you:
        return RequestSummary("needs_you", waiting_on_you=waiting_on_you, **counts)
    awaiting = [i for i in open_items if i.progress.awaiting_approval]
    if awaiting:
        approvers = sorted({i.progress.waiting_for for i in awaiting} - {""})
        return RequestSummary("awaiting_approval", approvers=tuple(approvers), **counts)
    if open_items:
        due = [i.progress.expected_by for i in open_items if i.progress.expected_by]
        return RequestSummary(
            "in_progress", expected_by=max(due, default=None), **counts
        )
    if delivered:
        return RequestSummary(
            "delivered",
            delivered_on=max(
                (i.fulfilled_at for i in delivered if i.fulfilled_at), default=None
            ),
            **counts,
        )
    if any(i.status == ItemStatus.REJECTED for i in items):
        return RequestSummary("not_approved", **counts)
    return RequestSummary("cancelled", **counts)


@dataclass(frozen=True)
class ItemProgress:
    """Where an item stands, for the people on the request. Each part is shown
    when it is set; the template words them."""

    # The team that has it now ("With our … team").
    team: str = ""
    expected_by: datetime | None = None
    # "Paused <paused_text> since <paused_since>".
    paused_text: str = ""
    paused_since: datetime | None = None
    # What the requester must do before we can go on (the hold's note).
    need_from_you: str = ""
    awaiting_approval: bool = False
    # Whom we asked; empty when nobody could be named (IT decides).
    waiting_for: str = ""
    delivered_at: datetime | None = None
    resolution_note: str = ""
    rejected_by: str = ""
    rejection_reason: str = ""
    can_rate: bool = False
    rating: int | None = None
    rated_by: str = ""


def _last(events, to_state: str):
    found = None
    for event in events:
        if event.name == "item.status_changed" and event.to_state == to_state:
            found = event
    return found


def item_progress(item, *, steps, events, viewer) -> ItemProgress:
    """``item``'s progress from its approval ``steps`` and public ``events``."""
    status = item.status
    parts: dict = {}
    if status in QUEUE_STATES and item.fulfilment_group_name:
        parts["team"] = item.fulfilment_group_name
    if status in QUEUE_STATES and item.resolution_due_at:
        parts["expected_by"] = item.resolution_due_at
    if status == ItemStatus.ON_HOLD:
        reason = item.hold_reason
        parts["paused_text"] = reason.customer_text if reason else ""
        parts["paused_since"] = item.paused_since or item.status_changed_at
        hold = _last(events, ItemStatus.ON_HOLD)
        if reason is not None and reason.requester_must_act and hold is not None:
            parts["need_from_you"] = hold.note
    if status == ItemStatus.AWAITING_APPROVAL:
        parts["awaiting_approval"] = True
        pending = next(
            (s for s in steps if s.status == ApprovalStep.Status.PENDING), None
        )
        if pending is not None and pending.approver_id:
            parts["waiting_for"] = display_name(pending.approver)
    if item.fulfilled_at and status in (ItemStatus.FULFILLED, ItemStatus.CLOSED):
        parts["delivered_at"] = item.fulfilled_at
        delivered = _last(events, ItemStatus.FULFILLED)
        parts["resolution_note"] = delivered.note if delivered else ""
    rejected = next(
        (s for s in steps if s.status == ApprovalStep.Status.REJECTED), None
    )
    if rejected is not None:
        parts["rejected_by"] = (
            display_name(rejected.decided_by) if rejected.decided_by_id else ""
        )
        parts["rejection_reason"] = rejected.note
    if item.rating is not None:
        parts["rating"] = item.rating
        rated = next((e for e in reversed(events) if e.name == "item.rated"), None)
        if rated is not None and rated.actor_id != viewer.pk:
            parts["rated_by"] = rated.actor_name
    elif status == ItemStatus.FULFILLED:
        parts["can_rate"] = permissions.can_rate_item(viewer, item)
    return ItemProgress(**parts)


def item_to_rate(*, user, item_id: int) -> RequestItem:
    """An item ``user`` may rate (they ordered it or it is for them), whatever
    its state; anyone else's is a 404."""
    item = RequestItem.objects.select_related("request").filter(pk=item_id).first()
    if item is None or not permissions.can_rate_item(user, item):
        raise NotFoundForUser("No such request item.")
    return item


# A removal that was carried out, and one that will not be.
_REMOVAL_DONE = [ItemStatus.FULFILLED, ItemStatus.CLOSED]
_REMOVAL_REFUSED = [ItemStatus.REJECTED, ItemStatus.CANCELLED]


def held_items(*, person):
    """What ``person`` holds: delivered items with a monthly price that are not
    removals themselves and have not been taken away by a removal. The one rule
    for the "My services" list and for asking for a removal."""
    return RequestItem.objects.filter(
        requested_for=person,
        status__in=[ItemStatus.FULFILLED, ItemStatus.CLOSED],
        monthly_price__gt=0,
        removes_item__isnull=True,
    ).exclude(
        Exists(
            RequestItem.objects.filter(
                removes_item=OuterRef("pk"), status__in=_REMOVAL_DONE
            )
        )
    )


def removals_under_way():
    """Removal items neither carried out nor refused."""
    return RequestItem.objects.filter(removes_item__isnull=False).exclude(
        status__in=_REMOVAL_DONE + _REMOVAL_REFUSED
    )


HELD_COLUMNS = [
    "request_id",
    "line_number",
    "service_name",
    "quantity",
    "monthly_price",
    "currency",
    "fulfilled_at",
]


def held_services(*, user):
    """Services the person holds (``held_items``), for listing.
    ``removal_pending`` marks those with a removal under way."""
    return (
        held_items(person=user)
        .annotate(
            removal_pending=Exists(
                removals_under_way().filter(removes_item=OuterRef("pk"))
            ),
        )
        # What the list and the removal page show: an item row is wide (its
        # answers, a dozen dates), and decoding it is most of a row's cost.
        .only(*HELD_COLUMNS)
        .order_by("service_name", "fulfilled_at")
    )


def held_service(*, user, item_id: int):
    """One service the person holds (``held_services``), for the page that asks
    for its removal; anyone else's, or one they no longer hold, is not found."""
    held = held_services(user=user).filter(pk=item_id).first()
    if held is None:
        raise NotFoundForUser("You don't hold that service.")
    return held


def held_services_page(*, user, page):
    """One page of ``held_services``, in the same order: the page's cost does not
    grow with how much the person holds."""
    return Paginator(held_services(user=user), HELD_PER_PAGE).get_page(page)
