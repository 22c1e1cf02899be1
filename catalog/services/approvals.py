"""Approvals: deciding at checkout which steps each item needs, asking the right
people in order, recording their decisions, and naming substitutes.

The policy is declared in the admin, not here: a service may need the recipient's
manager (``ServicePage.requires_approval``); a cost centre has an owner and a
threshold. ``plan_item_steps`` turns that into ordered steps:

1. the recipient's manager, when the service asks for it;
2. the cost centre's owner, for a priced item, when the request's one-off total or
   its monthly charges over 12 months are above the threshold, or when the cost
   centre is not the recipient's department's.

Nobody approves a request they ordered or that is for them: such a step goes to
that person's own manager instead. When both steps would ask the same person, they
are asked once. Every step opened, decided, reminded or escalated is a log event.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import ApprovalRefused, InvalidInput, NotFoundForUser
from catalog.models import (
    ApprovalDelegation,
    ApprovalStep,
    ItemStatus,
    RequestItem,
    ServiceDeskSettings,
    ServiceRequest,
    UserProfile,
)
from catalog.selectors.people import MAX_REPORTING_DEPTH, display_name
from catalog.services.notifications import notify_after_commit
from catalog.services.request_log import event_append
from catalog.services.text import clean_text

K = ApprovalStep.Kind
ST = ApprovalStep.Status


@dataclass(frozen=True)
class StepPlan:
    kind: str
    approver_id: int | None
    reason: str


def first_eligible(
    candidate_id: int | None, *, excluded: set[int], manager_of: Callable
) -> int | None:
    """``candidate_id``, or the first manager above them who is not excluded."""
    seen: set[int] = set()
    for _ in range(MAX_REPORTING_DEPTH):
        if candidate_id is None or candidate_id in seen:
            return None
        if candidate_id not in excluded:
            return candidate_id
        seen.add(candidate_id)
        candidate_id = manager_of(candidate_id)
    return None


def money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def cost_centre_reasons(
    *,
    cost_centre,
    recipient_cost_centre_id: int | None,
    recipient_name: str,
    one_off_total: Decimal,
    monthly_total: Decimal,
    currency: str,
) -> list[str]:
    """Why the cost centre's owner must approve this request ([] if not)."""
    reasons = []
    threshold = cost_centre.approval_threshold
    if threshold is not None:
        if one_off_total > threshold:
            reasons.append(
                f"One-off total {money(one_off_total, currency)} is above the "
                f"{money(threshold, currency)} limit of {cost_centre.code}"
            )
        elif monthly_total * 12 > threshold:
            reasons.append(
                f"Monthly charges come to {money(monthly_total * 12, currency)} "
                f"a year, above the {money(threshold, currency)} limit of "
                f"{cost_centre.code}"
            )
    if cost_centre.pk != recipient_cost_centre_id:
        reasons.append(
            f"Charged to {cost_centre.code}, which is not {recipient_name}'s "
            "department's cost centre"
        )
    return reasons


def plan_item_steps(
    *,
    needs_manager: bool,
    priced: bool,
    owner_reasons: list[str],
    recipient_id: int,
    requester_id: int,
    department_head_id: int | None,
    owner_id: int | None,
    manager_of: Callable[[int], int | None],
) -> list[StepPlan]:
    """The ordered approval steps of one item (see the module docstring)."""
    excluded = {recipient_id, requester_id}
    steps: list[StepPlan] = []
    if needs_manager:
        approver = first_eligible(
            manager_of(recipient_id), excluded=excluded, manager_of=manager_of
        )
        if approver is None:
            approver = first_eligible(
                department_head_id, excluded=excluded, manager_of=manager_of
            )
        steps.append(
            StepPlan(K.MANAGER, approver, "The service needs the manager's approval")
        )
    if priced and owner_reasons:
        approver = first_eligible(owner_id, excluded=excluded, manager_of=manager_of)
        reason = "; ".join(owner_reasons)
        if steps and approver is not None and steps[0].approver_id == approver:
            steps[0] = StepPlan(K.MANAGER, approver, f"{steps[0].reason}; {reason}")
        else:
            steps.append(StepPlan(K.COST_CENTRE, approver, reason))
    return steps


class _Managers:
    """``manager_of`` backed by the database, remembering what it looked up."""

    def __init__(self):
        self._known: dict[int, int | None] = {}

    def __call__(self, user_id: int) -> int | None:
        if user_id not in self._known:
            self._known[user_id] = (
                UserProfile.objects.filter(user_id=user_id)
                .values_list("manager_id", flat=True)
                .first()
            )
        return self._known[user_id]


def approval_plans(
    *, requested_by, requested_for, cost_centre, items: list[RequestItem], currency
) -> list[list[StepPlan]]:
    """The steps each of ``items`` (not yet saved) will need."""
    profile = (
        UserProfile.objects.select_related("department")
        .filter(user=requested_for)
        .first()
    )
    department = profile.department if profile else None
    one_off = sum((i.one_off_price * i.quantity for i in items), Decimal("0"))
    monthly = sum((i.monthly_price * i.quantity for i in items), Decimal("0"))
    reasons = cost_centre_reasons(
        cost_centre=cost_centre,
        recipient_cost_centre_id=department.cost_centre_id if department else None,
        recipient_name=display_name(requested_for),
        one_off_total=one_off,
        monthly_total=monthly,
        currency=currency,
    )
    managers = _Managers()
    return [
        plan_item_steps(
            needs_manager=item.requires_approval,
            priced=bool(item.one_off_price or item.monthly_price),
            owner_reasons=reasons,
            recipient_id=requested_for.pk,
            requester_id=requested_by.pk,
            department_head_id=department.head_id if department else None,
            owner_id=cost_centre.owner_id,
            manager_of=managers,
        )
        for item in items
    ]


def reminder_times(opened_at) -> tuple:
    """When a step opened at ``opened_at`` reminds and escalates: working hours
    on the approval calendar, so neither fires at night or on a holiday."""
    from catalog.services.service_levels import calendar_clock

    settings = ServiceDeskSettings.load()
    clock = (
        calendar_clock(settings.approval_calendar_id)
        if settings.approval_calendar_id
        else None
    )

    def after(hours: int):
        if clock is None:
            return opened_at + timedelta(hours=hours)
        return clock.add(opened_at, hours * 3600)

    return (
        after(settings.approval_reminder_hours),
        after(settings.approval_escalation_hours),
    )


def _open_step(step: ApprovalStep, *, at, actor) -> None:
    step.status = ST.PENDING
    step.opened_at = at
    step.remind_at, step.escalate_at = reminder_times(at)
    step.save(update_fields=["status", "opened_at", "remind_at", "escalate_at"])
    _log_requested(step, at=at, actor=actor)


def _log_requested(step, *, at, actor) -> None:
    approver = step.approver
    event_append(
        service_request=step.request,
        item=step.item,
        name="approval.requested",
        actor=actor,
        at=at,
        data=step_event_data(step, approver=approver),
    )
    if approver is not None:
        notify_after_commit(
            "approval.requested",
            request_id=step.request_id,
            item_id=step.item_id,
            user_id=approver.pk,
        )


def step_event_data(step, *, approver=None, **extra) -> dict:
    """What the log records about a step (the history generator writes the same)."""
    return {
        "step": step.position,
        "kind": step.kind,
        "reason": step.reason,
        "approver": approver.pk if approver else None,
        "approver_name": display_name(approver) if approver else "",
        **extra,
    }


def approvals_open(*, service_request, items, plans, at, actor) -> None:
    """Create the planned steps of a new request's items and ask the first
    approver of each. Call inside ``request_open``'s transaction."""
    steps = []
    for item, plan in zip(items, plans, strict=True):
        for position, planned in enumerate(plan, start=1):
            steps.append(
                ApprovalStep(
                    request=service_request,
                    item=item,
                    position=position,
                    kind=planned.kind,
                    approver_id=planned.approver_id,
                    reason=planned.reason[:255],
                )
            )
    if not steps:
        return
    steps = ApprovalStep.objects.bulk_create(steps)
    approvers = {
        u.pk: u
        for u in get_user_model().objects.filter(
            pk__in={s.approver_id for s in steps if s.approver_id}
        )
    }
    for step in steps:
        step.request = service_request
        step.approver = approvers.get(step.approver_id)
        if step.position == 1:
            _open_step(step, at=at, actor=actor)


def _decision_note(note: str, *, approve: bool) -> str:
    return clean_text(
        note,
        required=""
        if approve
        else "Say why you are not approving it, so they know what to do.",
    )


def approval_decide(
    *, step_id: int, actor, approve: bool, note: str = "", on: date | None = None
) -> ApprovalStep:
    """Approve or reject one step, as its approver or their substitute."""
    note = _decision_note(note, approve=approve)
    with transaction.atomic():
        step = _locked_step(step_id)
        if step is None:
            raise NotFoundForUser("No such approval.")
        _decide(step, actor=actor, approve=approve, note=note, on=on)
    return step


def request_approvals_decide(
    *, request_id: int, actor, approve: bool, note: str = "", on: date | None = None
) -> list[ApprovalStep]:
    """Approve or reject every step of the request waiting for ``actor``."""
    note = _decision_note(note, approve=approve)
    on = on or timezone.localdate()
    with transaction.atomic():
        service_request = (
            ServiceRequest.objects.select_for_update().filter(pk=request_id).first()
        )
        if service_request is None:
            raise NotFoundForUser("No such request.")
        steps = list(
            ApprovalStep.objects.select_for_update(of=("self",))
            .select_related("item", "approver")
            .filter(request=service_request, status=ST.PENDING)
            .order_by("item__line_number", "position")
        )
        mine = [
            s
            for s in steps
            if not permissions.approval_refusal(actor, _with(s, service_request), on=on)
        ]
        if not mine:
            if not permissions.can_view_request(actor, service_request):
                raise NotFoundForUser("No such request.")
            raise ApprovalRefused(
                f"Nothing on {service_request.number} is waiting for your decision."
            )
        for step in mine:
            _decide(step, actor=actor, approve=approve, note=note, on=on)
    return mine


def _with(step, service_request):
    step.request = service_request
    return step


def _decide(step, *, actor, approve: bool, note: str, on) -> None:
    on = on or timezone.localdate()
    service_request = step.request
    if step.status != ST.PENDING:
        if not permissions.can_view_request(actor, service_request):
            raise NotFoundForUser("No such approval.")
        raise ApprovalRefused(_already(step))
    refusal = permissions.approval_refusal(actor, step, on=on)
    if refusal:
        if not permissions.can_view_request(actor, service_request):
            raise NotFoundForUser("No such approval.")
        raise ApprovalRefused(refusal)
    now = timezone.now()
    behalf = step.approver if step.approver_id not in (None, actor.pk) else None
    step.status = ST.APPROVED if approve else ST.REJECTED
    step.decided_at = now
    step.decided_by = actor
    step.on_behalf_of = behalf
    step.note = note
    step.save(
        update_fields=["status", "decided_at", "decided_by", "on_behalf_of", "note"]
    )
    event_append(
        service_request=service_request,
        item=step.item,
        name="approval.approved" if approve else "approval.rejected",
        actor=actor,
        at=now,
        note=note,
        data=step_event_data(
            step,
            approver=step.approver,
            on_behalf_of=behalf.pk if behalf else None,
            on_behalf_of_name=display_name(behalf) if behalf else "",
        ),
    )
    from catalog.services.fulfilment import item_move

    item = step.item
    item.request = service_request
    if approve:
        following = (
            ApprovalStep.objects.select_related("approver")
            .filter(item=item, position__gt=step.position, status=ST.QUEUED)
            .order_by("position")
            .first()
        )
        if following is not None:
            following.request = service_request
            following.item = item
            _open_step(following, at=now, actor=actor)
            return
        item_move(item=item, to_state=ItemStatus.APPROVED, actor=actor, at=now)
    else:
        ApprovalStep.objects.filter(item=item, status=ST.QUEUED).update(
            status=ST.WITHDRAWN
        )
        item_move(
            item=item, to_state=ItemStatus.REJECTED, actor=actor, at=now, note=note
        )


def _already(step) -> str:
    when = timezone.localtime(step.decided_at) if step.decided_at else None
    who = display_name(step.decided_by) if step.decided_by_id else "someone"
    if step.status == ST.APPROVED:
        return f"This was already approved by {who} on {when:%-d %B at %H:%M}."
    if step.status == ST.REJECTED:
        return f"This was already turned down by {who} on {when:%-d %B at %H:%M}."
    if step.status == ST.WITHDRAWN:
        return "This approval is no longer needed: the item was cancelled or refused."
    return "This approval isn't open yet: an earlier step must be decided first."


def approvals_withdraw(*, item, at, actor) -> None:
    """The item was cancelled: nobody needs to decide its open steps any more.
    Call inside the transaction that cancelled it."""
    steps = list(
        ApprovalStep.objects.filter(
            item=item, status__in=[ST.PENDING, ST.QUEUED]
        ).order_by("position")
    )
    for step in steps:
        was_pending = step.status == ST.PENDING
        step.status = ST.WITHDRAWN
        step.save(update_fields=["status"])
        if was_pending:
            event_append(
                service_request=item.request,
                item=item,
                name="approval.withdrawn",
                actor=actor,
                at=at,
                data={"step": step.position, "kind": step.kind},
            )


def _locked_step(step_id: int) -> ApprovalStep | None:
    """The step and its request, locked: the request first (its log hands out
    sequence numbers), then the step."""
    request_id = (
        ApprovalStep.objects.filter(pk=step_id)
        .values_list("request_id", flat=True)
        .first()
    )
    if request_id is None:
        return None
    service_request = ServiceRequest.objects.select_for_update().get(pk=request_id)
    step = (
        ApprovalStep.objects.select_for_update(of=("self",))
        .select_related("item", "approver", "decided_by")
        .get(pk=step_id)
    )
    step.request = service_request
    return step


# --- Reminders and escalation (the scheduled check) -----------------------------------


def approval_remind(*, step_id: int, now) -> bool:
    """Remind the approver once; False if there was nothing to do."""
    with transaction.atomic():
        step = _locked_step(step_id)
        if step is None:
            return False
        service_request = step.request
        if step.status != ST.PENDING or step.reminded_at is not None:
            return False
        if step.remind_at is None or step.remind_at > now:
            return False
        step.reminded_at = now
        step.save(update_fields=["reminded_at"])
        event_append(
            service_request=service_request,
            item=step.item,
            name="approval.reminded",
            at=now,
            data=step_event_data(step, approver=step.approver),
        )
        if step.approver_id:
            notify_after_commit(
                "approval.reminded",
                request_id=service_request.pk,
                item_id=step.item_id,
                user_id=step.approver_id,
            )
    return True


def approval_escalate(*, step_id: int, now) -> bool:
    """Hand a step that waited too long to the approver's own manager, once."""
    with transaction.atomic():
        step = _locked_step(step_id)
        if step is None:
            return False
        service_request = step.request
        if step.status != ST.PENDING or step.escalated_at is not None:
            return False
        if step.escalate_at is None or step.escalate_at > now:
            return False
        managers = _Managers()
        excluded = {
            service_request.requested_by_id,
            service_request.requested_for_id,
        }
        previous = step.approver
        new_id = (
            first_eligible(
                managers(previous.pk), excluded=excluded, manager_of=managers
            )
            if previous
            else None
        )
        step.escalated_at = now
        if new_id is None:
            step.save(update_fields=["escalated_at"])
            event_append(
                service_request=service_request,
                item=step.item,
                name="approval.escalation_failed",
                at=now,
                data=step_event_data(step, approver=previous),
            )
            return True
        new = get_user_model().objects.get(pk=new_id)
        step.escalated_from = previous
        step.approver = new
        # The new approver gets a reminder of their own in due course.
        step.remind_at, _ = reminder_times(now)
        step.reminded_at = None
        step.save(
            update_fields=[
                "escalated_at",
                "escalated_from",
                "approver",
                "remind_at",
                "reminded_at",
            ]
        )
        event_append(
            service_request=service_request,
            item=step.item,
            name="approval.escalated",
            at=now,
            data=step_event_data(
                step,
                approver=new,
                escalated_from=previous.pk,
                escalated_from_name=display_name(previous),
            ),
        )
        notify_after_commit(
            "approval.escalated",
            request_id=service_request.pk,
            item_id=step.item_id,
            user_id=new.pk,
        )
    return True


# --- Substitutes ----------------------------------------------------------------------


def approval_delegation_add(
    *, approver, substitute, starts_on: date, ends_on: date, today: date | None = None
) -> ApprovalDelegation:
    """Name a substitute who decides the approver's approvals between two dates."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if substitute is None:
        errors["substitute"] = ["Choose who decides for you while you're away."]
    elif substitute.pk == approver.pk:
        errors["substitute"] = ["Choose someone other than yourself."]
    elif not substitute.is_active:
        errors["substitute"] = ["That person's account is not active."]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = ["The last day must be on or after the first day."]
    elif ends_on and ends_on < today:
        errors["ends_on"] = ["The last day has passed: choose a date from today."]
    elif starts_on and ends_on and (ends_on - starts_on).days > 366:
        errors["ends_on"] = ["Name a substitute for a year at most."]
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        # One approver's delegations are written one at a time.
        UserProfile.objects.select_for_update().filter(user=approver).first()
        clash = (
            ApprovalDelegation.objects.filter(
                approver=approver, starts_on__lte=ends_on, ends_on__gte=starts_on
            )
            .select_related("substitute")
            .first()
        )
        if clash is not None:
            raise InvalidInput(
                {
                    "starts_on": [
                        f"{display_name(clash.substitute)} already stands in for you "
                        f"from {clash.starts_on:%-d %B %Y} to "
                        f"{clash.ends_on:%-d %B %Y}; choose other dates or remove "
                        "that first."
                    ]
                }
            )
        return ApprovalDelegation.objects.create(
            approver=approver,
            substitute=substitute,
            starts_on=starts_on,
            ends_on=ends_on,
        )


def approval_delegation_remove(*, delegation_id: int, approver) -> None:
    deleted, _ = ApprovalDelegation.objects.filter(
        pk=delegation_id, approver=approver
    ).delete()
    if not deleted:
        raise NotFoundForUser("No such substitute.")
