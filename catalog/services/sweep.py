"""The scheduled check: what has to happen because time passed.

- An item whose due time (or at-risk moment) has passed gets a log event saying
  so; that event is what stores the breach or risk, with the moment it happened,
  and it e-mails the team.
- An approval that waited too long reminds its approver, then escalates to their
  manager.
- A delivered item nobody rated closes when its rating window ends.
- Once a day, the delivery figures shown on service pages are worked out again.

Each action re-checks its condition on the locked row inside its own transaction,
so running the check twice (or twice at once) does everything exactly once.
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import (
    QUEUE_STATES,
    ApprovalStep,
    ItemStatus,
    RequestItem,
    ServiceDeskSettings,
    ServiceRequest,
)
from catalog.services.approvals import approval_escalate, approval_remind
from catalog.services.fulfilment import item_auto_close
from catalog.services.notifications import notify_after_commit
from catalog.services.request_log import event_append
from catalog.services.service_levels import items_clock_refresh
from catalog.services.service_stats import service_stats_refresh_if_due


@dataclass
class SweepResult:
    breaches: int = 0
    at_risk: int = 0
    reminded: int = 0
    escalated: int = 0
    closed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


# (figure that says when, figure that records it happened, clock, what, extra
# condition). Response targets only count while nobody has answered.
MARKS = [
    ("response_due_at", "response_breached_at", "customer", "response"),
    (
        "internal_response_due_at",
        "internal_response_breached_at",
        "internal",
        "response",
    ),
    ("resolution_due_at", "resolution_breached_at", "customer", "resolution"),
    (
        "internal_resolution_due_at",
        "internal_resolution_breached_at",
        "internal",
        "resolution",
    ),
    ("at_risk_from", "at_risk_at", "customer", "risk"),
    ("internal_at_risk_from", "internal_at_risk_at", "internal", "risk"),
]


def _passed(item, when_field, happened_field, what, now) -> bool:
    when = getattr(item, when_field)
    if when is None or when >= now or getattr(item, happened_field) is not None:
        return False
    return not (what == "response" and item.first_response_at is not None)


def _due_query(now) -> Q:
    query = Q()
    for when, happened, _, what in MARKS:
        condition = Q(**{f"{when}__lt": now, f"{happened}__isnull": True})
        if what == "response":
            condition &= Q(first_response_at__isnull=True)
        query |= condition
    return query


def item_time_check(*, item_id: int, now) -> tuple[int, int]:
    """Log every due time or at-risk moment of the item that has passed and is not
    yet recorded; returns (breaches, risks) logged."""
    breaches = risks = 0
    with transaction.atomic():
        request_id = (
            RequestItem.objects.filter(pk=item_id)
            .values_list("request_id", flat=True)
            .first()
        )
        service_request = ServiceRequest.objects.select_for_update().get(pk=request_id)
        item = RequestItem.objects.select_for_update().get(pk=item_id)
        if item.status not in QUEUE_STATES:
            return 0, 0
        for when, happened, clock, what in MARKS:
            if not _passed(item, when, happened, what, now):
                continue
            moment = getattr(item, when)
            if what == "risk":
                name, data = "item.at_risk", {"clock": clock, "at": moment}
                risks += 1
            else:
                name = "item.breached"
                data = {"clock": clock, "target": what, "due": moment}
                breaches += 1
            event = event_append(
                service_request=service_request, item=item, name=name, at=now, data=data
            )
            # The team hears about its own clock: at risk, and any breach.
            if what != "risk" or clock == "internal":
                notify_after_commit(
                    name,
                    request_id=service_request.pk,
                    item_id=item.pk,
                    event_id=event.pk,
                )
        if breaches or risks:
            items_clock_refresh(item_ids=[item.pk])
    return breaches, risks


def service_desk_sweep(*, now=None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    due_items = (
        RequestItem.objects.filter(status__in=QUEUE_STATES)
        .filter(_due_query(now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for item_id in list(due_items):
        breaches, risks = item_time_check(item_id=item_id, now=now)
        result.breaches += breaches
        result.at_risk += risks
    pending = ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING)
    for step_id in list(
        pending.filter(remind_at__lte=now, reminded_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        result.reminded += approval_remind(step_id=step_id, now=now)
    for step_id in list(
        pending.filter(escalate_at__lte=now, escalated_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        result.escalated += approval_escalate(step_id=step_id, now=now)
    days = ServiceDeskSettings.load().rating_window_days
    for item_id in list(
        RequestItem.objects.filter(
            status=ItemStatus.FULFILLED, fulfilled_at__lte=now - timedelta(days=days)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        result.closed += item_auto_close(item_id=item_id, now=now)
    # The delivery figures on service pages: once a day, at the first check.
    service_stats_refresh_if_due(today=timezone.localdate(now))
    return result
