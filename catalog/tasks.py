"""Background tasks (django-tasks). Run inline in development and tests; in
production a worker runs them (see docs/operations.md).

- ``send_request_notification``: one e-mail about a request, queued after commit.
  If the mail server can't take it, the task queues itself again with a growing
  wait (``EMAIL_SEND_ATTEMPTS`` in all); the last failure is logged at ERROR and
  left as a failed task result, which operators can list.
- ``service_desk_check``: the scheduled check of service levels, approvals and
  delivered items (``catalog.services.sweep``).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

# The wait before attempt 2, 3, 4 …; the last one repeats.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=25),
    timedelta(hours=1),
)


class NotificationNotSent(Exception):
    """Every attempt to hand an e-mail to the mail server failed. The task result
    (``exception_class_path`` ``catalog.tasks.NotificationNotSent``) is the record
    of it."""


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (from 1)."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1]


SUBJECTS = {
    "request.submitted": "We've received your request {number}",
    "item.status_changed": "{number}: {service} is now “{status}”",
    "item.fulfilled": "{number}: your {service} is ready",
    "item.on_hold": "{number}: we need something from you",
    "item.commented": "{number}: a message from IT about {service}",
    "request.commented": "New comment on your request {number}",
    "approval.requested": "Please approve {number}: {service}",
    "approval.reminded": "Reminder: {number} is waiting for your approval",
    "approval.escalated": "{number} is waiting for approval and now needs you",
    "item.at_risk": "At risk: {number} {service}",
    "item.breached": "Late: {number} {service} missed its target",
}
# Sent to the people on the request (the requester and who it is for).
TO_REQUESTER = {
    "request.submitted",
    "item.status_changed",
    "item.fulfilled",
    "item.on_hold",
    "item.commented",
    "request.commented",
}
TO_APPROVER = {"approval.requested", "approval.reminded", "approval.escalated"}
TO_TEAM = {"item.at_risk", "item.breached"}


def _people_emails(people, *, exclude_user_id=None) -> list[str]:
    return sorted({p.email for p in people if p.email and p.pk != exclude_user_id})


def _approver_emails(user_id: int) -> list[str]:
    """The approver, and whoever stands in for them today."""
    from django.utils import timezone

    from catalog.models import ApprovalDelegation

    today = timezone.localdate()
    people = list(get_user_model().objects.filter(pk=user_id))
    people += [
        d.substitute
        for d in ApprovalDelegation.objects.select_related("substitute").filter(
            approver_id=user_id, starts_on__lte=today, ends_on__gte=today
        )
    ]
    return _people_emails(people)


def _recipients(kind, service_request, item, event, user_id) -> list[str]:
    if kind in TO_APPROVER:
        return _approver_emails(user_id) if user_id else []
    if kind in TO_TEAM:
        group = item.fulfilment_group if item else None
        return [group.email] if group and group.email else []
    if kind == "item.on_hold" and not (event and event.data.get("requester_must_act")):
        return []  # paused for a reason that asks nothing of them
    parties = (service_request.requested_by, service_request.requested_for)
    if kind == "request.commented" and event:
        if event.actor_id in (p.pk for p in parties):
            # The requester wrote: tell the teams working on it instead.
            return sorted(
                {
                    i.fulfilment_group.email
                    for i in service_request.items.select_related("fulfilment_group")
                    if i.fulfilment_group and i.fulfilment_group.email
                }
            )
        return _people_emails(parties, exclude_user_id=event.actor_id)
    return _people_emails(parties)


@task()
def send_request_notification(
    kind: str,
    request_id: int,
    item_id: int | None = None,
    event_id: int | None = None,
    user_id: int | None = None,
    attempt: int = 1,
) -> int:
    """Send one e-mail about a request; returns the number of messages sent (0
    when there was no one to tell, or when a later attempt has been queued)."""
    from catalog.models import RequestEvent, ServiceRequest

    service_request = (
        ServiceRequest.objects.select_related("requested_by", "requested_for")
        .filter(pk=request_id)
        .first()
    )
    if service_request is None or kind not in SUBJECTS:
        return 0
    item = (
        service_request.items.select_related("fulfilment_group")
        .filter(pk=item_id)
        .first()
        if item_id
        else None
    )
    event = RequestEvent.objects.filter(pk=event_id).first() if event_id else None
    recipients = _recipients(kind, service_request, item, event, user_id)
    if not recipients:
        return 0
    base_url = settings.WAGTAILADMIN_BASE_URL
    context = {
        "kind": kind,
        "service_request": service_request,
        "items": list(service_request.items.all()),
        "item": item,
        "event": event,
        "base_url": base_url,
        "request_url": base_url
        + reverse("catalog:request_detail", args=[service_request.pk]),
        "approvals_url": base_url + reverse("catalog:approvals"),
        "rate_url": (
            base_url + reverse("catalog:item_rate", args=[item.pk]) if item else ""
        ),
        "queue_url": (
            base_url + reverse("catalog:queue_item", args=[item.pk]) if item else ""
        ),
    }
    subject = SUBJECTS[kind].format(
        number=item.number if item else service_request.number,
        service=item.service_name if item else "",
        status=item.get_status_display() if item else "",
    )
    body = render_to_string("catalog/email/request_notification.txt", context)
    try:
        return send_mail(subject, body, None, recipients, fail_silently=False)
    except OSError as error:  # refused, timed out, or any SMTP error
        _retry_or_give_up(
            error,
            attempt=attempt,
            kind=kind,
            ids={
                "request_id": request_id,
                "item_id": item_id,
                "event_id": event_id,
                "user_id": user_id,
            },
        )
        return 0


def _retry_or_give_up(error: OSError, *, attempt: int, kind: str, ids: dict) -> None:
    """Queue the next attempt after a wait, or, after the last one (or with an
    inline backend, which has no worker to come back later), fail for good."""
    limit = settings.EMAIL_SEND_ATTEMPTS
    if attempt < limit and send_request_notification.get_backend().supports_defer:
        run_after = timezone.now() + retry_delay(attempt)
        send_request_notification.using(run_after=run_after).enqueue(
            kind, **ids, attempt=attempt + 1
        )
        logger.warning(
            "Could not send the %s e-mail %s (attempt %d of %d): %s. Trying again "
            "after %s.",
            kind,
            ids,
            attempt,
            limit,
            error,
            run_after.isoformat(timespec="seconds"),
        )
        return
    logger.error(
        "Gave up sending the %s e-mail %s after %d attempt(s): %s",
        kind,
        ids,
        attempt,
        error,
    )
    raise NotificationNotSent(
        f"{kind} e-mail {ids} not sent after {attempt} attempt(s): {error}"
    ) from error


@task()
def service_desk_check() -> dict:
    """The scheduled check; safe to run as often as you like (see
    ``catalog.services.sweep``)."""
    from catalog.services.sweep import service_desk_sweep

    return service_desk_sweep().as_dict()
