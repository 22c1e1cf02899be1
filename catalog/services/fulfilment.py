"""Changing requests after checkout: status moves, comments, cancellations, and
asking for a held service to be removed.

Every status change goes through ``item_transition``, which checks the one table of
allowed moves (``ALLOWED_TRANSITIONS``) and who may make it, and appends to the log.
"""

from django.db import transaction
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import CatalogError, NotFoundForUser, TransitionNotAllowed
from catalog.models import (
    ALLOWED_TRANSITIONS,
    ItemStatus,
    RequestItem,
    ServiceRequest,
)
from catalog.selectors.requests import default_cost_centre
from catalog.services.checkout import request_open
from catalog.services.notifications import notify_after_commit
from catalog.services.request_log import event_append

MAX_NOTE_LENGTH = 4000


def _check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise CatalogError(f"Keep it under {MAX_NOTE_LENGTH} characters.")
    return note


def item_transition(
    *, item_id: int, to_state: str, actor, note: str = ""
) -> RequestItem:
    """Move an item to ``to_state`` if the table allows it and ``actor`` may."""
    note = _check_note(note)
    if to_state not in ItemStatus.values:
        raise TransitionNotAllowed(f"“{to_state}” is not a status.")
    with transaction.atomic():
        item = (
            RequestItem.objects.select_for_update()
            .select_related("request")
            .filter(pk=item_id)
            .first()
        )
        if item is None or not permissions.can_view_request(actor, item.request):
            raise NotFoundForUser("No such request item.")
        # Lock the request too: its log's sequence numbers are handed out in order.
        ServiceRequest.objects.select_for_update().filter(pk=item.request_id).get()
        from_state = item.status
        if to_state not in ALLOWED_TRANSITIONS[from_state]:
            raise TransitionNotAllowed(
                f"{item.number} is “{item.get_status_display()}” and can't move to "
                f"“{ItemStatus(to_state).label}”."
            )
        permissions.require(
            permissions.can_transition(actor, item, to_state),
            "You can't make that change to this request.",
        )
        now = timezone.now()
        item.status = to_state
        item.status_changed_at = now
        if to_state == ItemStatus.FULFILLED:
            item.fulfilled_at = now
        elif to_state == ItemStatus.IN_PROGRESS:
            item.fulfilled_at = None  # reopened: not delivered after all
        item.save(update_fields=["status", "status_changed_at", "fulfilled_at"])
        event = event_append(
            request=item.request,
            item=item,
            name="item.status_changed",
            actor=actor,
            at=now,
            from_state=from_state,
            to_state=to_state,
            note=note,
        )
        kind = (
            "item.fulfilled"
            if to_state == ItemStatus.FULFILLED
            else "item.status_changed"
        )
        notify_after_commit(
            kind, request_id=item.request_id, item_id=item.pk, event_id=event.pk
        )
    return item


def item_cancel(*, item_id: int, actor, note: str = "") -> RequestItem:
    return item_transition(
        item_id=item_id, to_state=ItemStatus.CANCELLED, actor=actor, note=note
    )


def request_comment_add(*, request_id: int, actor, text: str):
    text = _check_note(text)
    if not text:
        raise CatalogError("Write something before sending.")
    with transaction.atomic():
        service_request = (
            ServiceRequest.objects.select_for_update().filter(pk=request_id).first()
        )
        if service_request is None or not permissions.can_view_request(
            actor, service_request
        ):
            raise NotFoundForUser("No such request.")
        event = event_append(
            request=service_request, name="request.commented", actor=actor, note=text
        )
        notify_after_commit(
            "request.commented", request_id=service_request.pk, event_id=event.pk
        )
    return event


def held_service_removal_request(*, item_id: int, actor, reason: str) -> ServiceRequest:
    """Ask for a service the person holds to be taken away: a new request."""
    reason = _check_note(reason) or "No longer needed."
    with transaction.atomic():
        held = (
            RequestItem.objects.select_for_update(of=("self",))
            .select_related("request", "service", "fulfilment_group")
            .filter(
                pk=item_id,
                request__requested_for=actor,
                status__in=[ItemStatus.FULFILLED, ItemStatus.CLOSED],
                monthly_price__gt=0,
            )
            .first()
        )
        if held is None:
            raise NotFoundForUser("You don't hold that service.")
        if RequestItem.objects.filter(
            removes_item=held,
            status__in=[
                s for s in ItemStatus.values if s not in ("rejected", "cancelled")
            ],
        ).exists():
            raise CatalogError("You've already asked for this to be removed.")
        now = timezone.now()
        removal = request_open(
            requested_by=actor,
            requested_for=actor,
            cost_centre=default_cost_centre(actor) or held.request.cost_centre,
            department_id=held.request.department_id,
            reason=reason,
            items=[
                RequestItem(
                    service=held.service,
                    service_name=f"Remove: {held.service_name}",
                    category_name=held.category_name,
                    quantity=held.quantity,
                    one_off_price=0,
                    monthly_price=0,
                    currency=held.currency,
                    **{n: getattr(held, n) for n in RequestItem.SERVICE_LEVEL_FIELDS},
                    fulfilment_group=held.fulfilment_group,
                    fulfilment_group_name=held.fulfilment_group_name,
                    status=ItemStatus.SUBMITTED,
                    created_at=now,
                    status_changed_at=now,
                    removes_item=held,
                )
            ],
            data={"removal_of": held.number},
            at=now,
        )
    return removal
