"""Background tasks (django-tasks). Run inline in development and tests; in
production a worker runs them (see docs/operations.md)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

logger = logging.getLogger(__name__)

SUBJECTS = {
    "request.submitted": "We've received your request {number}",
    "item.status_changed": "{number}: {service} is now “{status}”",
    "item.fulfilled": "{number}: your {service} is ready",
    "request.commented": "New comment on your request {number}",
}


def _recipients(service_request, *, exclude_user_id=None) -> list[str]:
    people = {service_request.requested_by, service_request.requested_for}
    return sorted({p.email for p in people if p.email and p.pk != exclude_user_id})


@task()
def send_request_notification(
    kind: str, request_id: int, item_id: int | None = None, event_id: int | None = None
) -> int:
    """Send one e-mail about a request; returns the number of messages sent."""
    from catalog.models import RequestEvent, ServiceRequest

    service_request = (
        ServiceRequest.objects.select_related("requested_by", "requested_for")
        .filter(pk=request_id)
        .first()
    )
    if service_request is None:
        return 0
    item = service_request.items.filter(pk=item_id).first() if item_id else None
    event = RequestEvent.objects.filter(pk=event_id).first() if event_id else None
    exclude = event.actor_id if kind == "request.commented" and event else None
    recipients = _recipients(service_request, exclude_user_id=exclude)
    if (
        kind == "request.commented"
        and event
        and event.actor_id
        in (
            service_request.requested_by_id,
            service_request.requested_for_id,
        )
    ):
        # The requester wrote: tell the teams working on it instead.
        recipients = sorted(
            {
                i.fulfilment_group.email
                for i in service_request.items.select_related("fulfilment_group")
                if i.fulfilment_group and i.fulfilment_group.email
            }
        )
    if not recipients:
        return 0
    context = {
        "kind": kind,
        "request": service_request,
        "items": list(service_request.items.all()),
        "item": item,
        "event": event,
        "base_url": settings.WAGTAILADMIN_BASE_URL,
    }
    subject = SUBJECTS[kind].format(
        number=item.number if item else service_request.number,
        service=item.service_name if item else "",
        status=item.get_status_display() if item else "",
    )
    body = render_to_string("catalog/email/request_notification.txt", context)
    return send_mail(subject, body, None, recipients, fail_silently=False)
