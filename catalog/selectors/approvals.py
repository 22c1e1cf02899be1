"""Reading approvals with their rules: what waits for a person's decision (as the
approver, as a named substitute, or as an IT approver for steps nobody else could
be asked), what they decided lately, and who stands in for whom.

Who may decide one step is ``catalog.permissions.approval_refusal``, checked by the
approval service on every decision; the lists here use its query form,
``permissions.decidable_steps_q``, so the page stays one query (the header's count
is ``catalog.selectors.header``). The tests hold every form to the same table.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.paginator import Paginator
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import NotFoundForUser
from catalog.models import (
    ApprovalDelegation,
    ApprovalStep,
    RequestItem,
    ServiceRequest,
)
from catalog.selectors.people import active_people, display_name, people_matching

RECENT_DECISIONS = 10
# Requests waiting for a decision, a page at a time, oldest first. A card is a
# whole decision (what was asked, the answers, the costs, a reason box per item):
# ten make a long page already, and each card costs about 0.6 ms to serve
# (bench/README.md, "Approvals, ten to a page, and a queue with nothing due").
WAITING_PER_PAGE = 10


def waiting_steps(*, user, on: date | None = None):
    """Open steps ``user`` may decide on ``on`` (today): assigned to them, to
    someone they stand in for, or to nobody when they may decide any. Never a
    request they ordered or that is for them."""
    on = on or timezone.localdate()
    return ApprovalStep.objects.filter(
        permissions.decidable_steps_q(user, on=on),
        status=ApprovalStep.Status.PENDING,
    )


# --- The approvals page -------------------------------------------------------------


@dataclass
class WaitingItem:
    step: ApprovalStep
    item: RequestItem
    one_off_total: Decimal
    yearly_total: Decimal
    # The approver's name when the viewer decides as their substitute.
    on_behalf_of: str
    # Nobody could be asked: the viewer decides as an IT approver.
    unassigned: bool
    form: object = None


@dataclass
class WaitingRequest:
    service_request: ServiceRequest
    recipient_name: str
    recipient_job_title: str
    requester_name: str
    items: list[WaitingItem] = field(default_factory=list)
    form: object = None

    @property
    def one_off_total(self) -> Decimal:
        return sum((i.one_off_total for i in self.items), Decimal("0"))

    @property
    def yearly_total(self) -> Decimal:
        return sum((i.yearly_total for i in self.items), Decimal("0"))


def _job_title(person) -> str:
    # A missing profile raises an AttributeError subclass: no job title.
    profile = getattr(person, "profile", None)
    return profile.job_title if profile else ""


def approvals_waiting_page(*, user, page, on: date | None = None):
    """A page of ``approvals_waiting``: the paginator's page (of request keys)
    and the page's requests with their steps. Someone who decides for a whole
    company can have hundreds waiting; a page costs the same either way.

    The keys of every request waiting for the person are read first and sorted
    here. They are as many as the approvals open now, whatever the history
    (open steps are decided or withdrawn), while a database asked for the
    oldest page walks every request by date to find the few that wait: 300
    ms at a million items (bench/README.md, "Approvals at a million items")."""
    waiting = (
        waiting_steps(user=user, on=on)
        .order_by()
        .values_list("request__submitted_at", "request_id")
    )
    keys = [request_id for _, request_id in sorted(set(waiting))]
    page_obj = Paginator(keys, WAITING_PER_PAGE).get_page(page)
    return page_obj, approvals_waiting(
        user=user, on=on, request_ids=list(page_obj.object_list)
    )


# What a card on the approvals page shows (``approvals.html``). An item row has
# some fifty columns, twenty of them times, and a request a dozen more: read
# whole with their people, a full page of requests took twice as long to read
# (bench/README.md, "Approvals, My requests and the queue's at-risk filter").
WAITING_CARD_FIELDS = (
    "reason",
    "request",
    "item",
    "approver__username",
    "approver__first_name",
    "approver__last_name",
    "item__service_name",
    "item__quantity",
    "item__currency",
    "item__one_off_price",
    "item__monthly_price",
    "item__answers",
    "request__submitted_at",
    "request__business_reason",
    "request__currency",
    "request__requested_by__username",
    "request__requested_by__first_name",
    "request__requested_by__last_name",
    "request__requested_for__username",
    "request__requested_for__first_name",
    "request__requested_for__last_name",
    "request__requested_for__profile__job_title",
    "request__cost_centre__code",
    "request__cost_centre__name",
    "request__department__name",
)


def approvals_waiting(
    *, user, on: date | None = None, request_ids=None
) -> list[WaitingRequest]:
    """What waits for ``user``'s decision, grouped by request, oldest first;
    only the requests ``request_ids`` when given."""
    steps = waiting_steps(user=user, on=on)
    if request_ids is not None:
        steps = steps.filter(request_id__in=request_ids)
    steps = steps.select_related(
        "item",
        "approver",
        "request__requested_for__profile",
        "request__requested_by",
        "request__cost_centre",
        "request__department",
    ).only(*WAITING_CARD_FIELDS)
    groups: dict[int, WaitingRequest] = {}
    for step in steps.order_by(
        "request__submitted_at", "request_id", "item__line_number", "position"
    ):
        service_request = step.request
        group = groups.get(service_request.pk)
        if group is None:
            group = groups[service_request.pk] = WaitingRequest(
                service_request=service_request,
                recipient_name=display_name(service_request.requested_for),
                recipient_job_title=_job_title(service_request.requested_for),
                requester_name=display_name(service_request.requested_by),
            )
        item = step.item
        behalf = step.approver if step.approver_id not in (None, user.pk) else None
        group.items.append(
            WaitingItem(
                step=step,
                item=item,
                one_off_total=item.one_off_price * item.quantity,
                yearly_total=item.monthly_price * 12 * item.quantity,
                on_behalf_of=display_name(behalf) if behalf else "",
                unassigned=step.approver_id is None,
            )
        )
    return list(groups.values())


# What a row of "Recently decided by you" shows.
DECIDED_ROW_FIELDS = (
    "status",
    "note",
    "decided_at",
    "request",
    "item__service_name",
    "request__requested_for__username",
    "request__requested_for__first_name",
    "request__requested_for__last_name",
    "on_behalf_of__username",
    "on_behalf_of__first_name",
    "on_behalf_of__last_name",
)


def approvals_decided_by(*, user, limit: int = RECENT_DECISIONS) -> list[ApprovalStep]:
    """The last decisions ``user`` made, newest first."""
    return list(
        ApprovalStep.objects.filter(decided_by=user)
        .select_related("item", "request__requested_for", "on_behalf_of")
        .only(*DECIDED_ROW_FIELDS)
        .order_by("-decided_at", "-pk")[:limit]
    )


def approval_step_for(*, user, step_id: int) -> ApprovalStep:
    """A step of a request ``user`` may see (or a 404, as for no step at all)."""
    step = (
        ApprovalStep.objects.select_related("item", "request__requested_for")
        .filter(pk=step_id)
        .first()
    )
    if step is None or not permissions.can_view_request(user, step.request):
        raise NotFoundForUser("No such approval.")
    return step


def request_for_approver(*, user, request_id: int) -> ServiceRequest:
    service_request = (
        ServiceRequest.objects.select_related("requested_for")
        .filter(pk=request_id)
        .first()
    )
    if service_request is None or not permissions.can_view_request(
        user, service_request
    ):
        raise NotFoundForUser("No such request.")
    return service_request


# --- Substitutes ---------------------------------------------------------------------


def substitutes_of(*, user, today: date | None = None):
    """Who decides for ``user`` while they're away: current and future dates."""
    today = today or timezone.localdate()
    return (
        ApprovalDelegation.objects.filter(approver=user, ends_on__gte=today)
        .select_related("substitute")
        .order_by("starts_on", "pk")
    )


def standing_in_for(*, user, today: date | None = None):
    """Whom ``user`` decides for, now or later."""
    today = today or timezone.localdate()
    return (
        ApprovalDelegation.objects.filter(substitute=user, ends_on__gte=today)
        .select_related("approver")
        .order_by("starts_on", "pk")
    )


def my_delegation(*, user, delegation_id: int) -> ApprovalDelegation:
    delegation = (
        ApprovalDelegation.objects.select_related("substitute")
        .filter(pk=delegation_id, approver=user)
        .first()
    )
    if delegation is None:
        raise NotFoundForUser("No such substitute.")
    return delegation


def substitute_candidates(*, user, query: str, chosen_id: int | None = None) -> list:
    """Active people other than ``user`` matching ``query`` by name, and the one
    already ``chosen_id`` (so a form that comes back with an error keeps it)."""
    people = active_people().exclude(pk=user.pk).select_related("profile__department")
    found = list(people_matching(people, query)) if (query or "").strip() else []
    if chosen_id and chosen_id not in {person.pk for person in found}:
        chosen = people.filter(pk=chosen_id).first()
        if chosen is not None:
            found.insert(0, chosen)
    return found


@dataclass(frozen=True)
class Approver:
    """One approval an item needs, in the customer's words: who (empty when
    nobody could be named and IT will decide) and in which role."""

    name: str
    role: str


APPROVER_ROLES = {
    ApprovalStep.Kind.MANAGER: "manager",
    ApprovalStep.Kind.COST_CENTRE: "cost centre owner",
}


def approvers_of_steps(steps) -> list[Approver]:
    """The approvals of a submitted item, from its steps in order (with their
    ``approver`` loaded)."""
    return [
        Approver(
            name=display_name(step.approver) if step.approver_id else "",
            role=APPROVER_ROLES[step.kind],
        )
        for step in steps
    ]


def approvers_planned(*, user, recipient, cost_centre, rows) -> list[list[Approver]]:
    """The approvals each basket line (``rows``: the checkout's ``LineReview``s)
    would need if ``user`` submitted it now for ``recipient``, charged to
    ``cost_centre``: the approval service's own plan, so the page and the
    request it creates agree."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from catalog.services.approvals import approval_plans

    items = [
        RequestItem(
            quantity=row.line.quantity,
            one_off_price=row.one_off_price,
            monthly_price=row.monthly_price,
            requires_approval=row.line.service.requires_approval,
        )
        for row in rows
    ]
    plans = approval_plans(
        requested_by=user,
        requested_for=recipient,
        cost_centre=cost_centre,
        items=items,
        currency=settings.CATALOG_CURRENCY,
    )
    ids = {step.approver_id for plan in plans for step in plan if step.approver_id}
    names = {
        person.pk: display_name(person)
        for person in get_user_model().objects.filter(pk__in=ids)
    }
    return [
        [
            Approver(
                name=names.get(step.approver_id, ""), role=APPROVER_ROLES[step.kind]
            )
            for step in plan
        ]
        for plan in plans
    ]


def submitted_items_outlook(service_request) -> list[tuple]:
    """(item, approvers, usual delivery) for each item of a request loaded by
    ``catalog.selectors.requests.request_detail`` (its ``steps`` with their
    approvers): the confirmation page's version of the checkout's outlook. The
    delivery time is the service's, as its page shows it; none for a service
    since deleted. One query."""
    from catalog.models import ServicePage

    items = service_request.lines
    pages = ServicePage.objects.filter(
        pk__in={item.service_id for item in items if item.service_id}
    ).only("delivery_days")
    delivery = {page.pk: page.delivery_text for page in pages}
    return [
        (
            item,
            approvers_of_steps(
                s for s in service_request.steps if s.item_id == item.pk
            ),
            delivery.get(item.service_id, ""),
        )
        for item in items
    ]
