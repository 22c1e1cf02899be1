"""Working requests after checkout: status moves, assignment, holds, resolution,
comments and work notes, ratings, cancellations, and asking for a held service to be
removed.

Every status change goes through ``item_move``, which checks the one table of
allowed moves (``ALLOWED_TRANSITIONS``), appends to the log and refreshes the
item's service-level figures. ``item_transition`` and the named actions
(``item_start``, ``item_hold`` …) add the check of who may make the move, and of
what the person saw: a move made from a page that is out of date is refused with
a message instead of overwriting someone else's change.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import (
    CatalogError,
    InvalidInput,
    ItemChanged,
    NotFoundForUser,
    TransitionNotAllowed,
)
from catalog.models import (
    ALLOWED_TRANSITIONS,
    HoldReason,
    ItemStatus,
    RequestItem,
    ServiceDeskSettings,
    ServiceRequest,
)
from catalog.selectors.people import display_name
from catalog.selectors.requests import (
    default_cost_centre,
    held_items,
    removals_under_way,
)
from catalog.services.checkout import request_open
from catalog.services.notifications import notify_after_commit
from catalog.services.request_log import event_append
from catalog.services.service_levels import (
    items_clock_refresh,
    request_clock_refresh,
)
from catalog.services.text import clean_text


def _locked(item_id: int, actor) -> RequestItem:
    """The item and its request, locked, in that order (the request first: its
    log hands out sequence numbers). Someone who may not see the request gets
    the same answer as for an item that does not exist."""
    request_id = (
        RequestItem.objects.filter(pk=item_id).values_list("request_id", flat=True)
    ).first()
    if request_id is None:
        raise NotFoundForUser("No such request item.")
    service_request = ServiceRequest.objects.select_for_update().get(pk=request_id)
    if actor is not None and not permissions.can_view_request(actor, service_request):
        raise NotFoundForUser("No such request item.")
    item = RequestItem.objects.select_for_update().get(pk=item_id)
    item.request = service_request
    return item


def _expect(item, expected_status: str | None) -> None:
    if expected_status and item.status != expected_status:
        raise ItemChanged(
            f"{item.number} changed while you were looking at it: it is now "
            f"“{item.get_status_display()}”. Nothing was changed; have a look and "
            "try again."
        )


def item_move(
    *,
    item: RequestItem,
    to_state: str,
    actor,
    at=None,
    note: str = "",
    data: dict | None = None,
):
    """Move a locked item along the table, log it and refresh its figures. No
    permission check: callers decide who may (``item_transition`` for people,
    the approval service and the scheduled check for themselves)."""
    from_state = item.status
    if to_state not in ALLOWED_TRANSITIONS.get(from_state, ()):
        raise TransitionNotAllowed(
            f"{item.number} is “{item.get_status_display()}” and can't move to "
            f"“{ItemStatus(to_state).label}”."
        )
    now = at or timezone.now()
    item.status = to_state
    item.status_changed_at = now
    if to_state == ItemStatus.FULFILLED:
        item.fulfilled_at = now
    elif to_state == ItemStatus.IN_PROGRESS and from_state == ItemStatus.FULFILLED:
        item.fulfilled_at = None  # reopened: not delivered after all
    if to_state != ItemStatus.ON_HOLD:
        item.hold_reason = None
    item.save(
        update_fields=["status", "status_changed_at", "fulfilled_at", "hold_reason"]
    )
    event = event_append(
        service_request=item.request,
        item=item,
        name="item.status_changed",
        actor=actor,
        at=now,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
    )
    if to_state == ItemStatus.CANCELLED:
        from catalog.services.approvals import approvals_withdraw

        approvals_withdraw(item=item, at=now, actor=actor)
    items_clock_refresh(item_ids=[item.pk])
    kind = {
        ItemStatus.FULFILLED: "item.fulfilled",
        ItemStatus.ON_HOLD: "item.on_hold",
    }.get(to_state, "item.status_changed")
    notify_after_commit(
        kind, request_id=item.request_id, item_id=item.pk, event_id=event.pk
    )
    return event


def item_transition(
    *,
    item_id: int,
    to_state: str,
    actor,
    note: str = "",
    expected_status: str | None = None,
) -> RequestItem:
    """Move an item to ``to_state`` by hand, if the table allows it and ``actor``
    may."""
    note = clean_text(note)
    if to_state not in ItemStatus.values:
        raise TransitionNotAllowed(f"“{to_state}” is not a status.")
    with transaction.atomic():
        item = _locked(item_id, actor)
        _expect(item, expected_status)
        if to_state not in ALLOWED_TRANSITIONS[item.status]:
            raise TransitionNotAllowed(
                f"{item.number} is “{item.get_status_display()}” and can't move to "
                f"“{ItemStatus(to_state).label}”."
            )
        if not permissions.can_transition(actor, item, to_state):
            raise TransitionNotAllowed(_refusal(item, to_state))
        item_move(item=item, to_state=to_state, actor=actor, note=note)
    return item


def _refusal(item, to_state) -> str:
    if to_state == ItemStatus.CANCELLED and not item.can_be_cancelled:
        return (
            f"{item.number} can't be cancelled any more: work on it has started. "
            "Add a comment if you no longer need it."
        )
    if to_state in permissions.APPROVAL_MOVES:
        return "Items are approved or turned down by their approvers."
    return "You can't make that change to this request."


def item_cancel(
    *, item_id: int, actor, note: str = "", expected_status: str | None = None
) -> RequestItem:
    return item_transition(
        item_id=item_id,
        to_state=ItemStatus.CANCELLED,
        actor=actor,
        note=note,
        expected_status=expected_status,
    )


def item_start(
    *, item_id: int, actor, expected_status: str | None = None
) -> RequestItem:
    """Start work; an unassigned item is assigned to whoever starts it."""
    with transaction.atomic():
        item = _locked(item_id, actor)
        _expect(item, expected_status)
        if not permissions.can_transition(actor, item, ItemStatus.IN_PROGRESS):
            raise TransitionNotAllowed(_refusal(item, ItemStatus.IN_PROGRESS))
        if item.assigned_to_id is None:
            _assign(item, actor, actor=actor)
        item_move(item=item, to_state=ItemStatus.IN_PROGRESS, actor=actor)
    return item


def item_hold(
    *,
    item_id: int,
    actor,
    reason_id,
    note: str = "",
    expected_status: str | None = None,
) -> RequestItem:
    """Put an item on hold for a reason, whose policy (which clocks stop) is
    written into the log as it stands today."""
    reason = HoldReason.objects.filter(pk=reason_id, active=True).first()
    if reason is None:
        raise InvalidInput({"reason": ["Choose why the item is on hold."]})
    note = clean_text(
        note,
        required=(
            "Tell the requester what you need from them."
            if reason.requester_must_act
            else ""
        ),
    )
    with transaction.atomic():
        item = _locked(item_id, actor)
        _expect(item, expected_status)
        if not permissions.can_transition(actor, item, ItemStatus.ON_HOLD):
            raise TransitionNotAllowed(_refusal(item, ItemStatus.ON_HOLD))
        item.hold_reason = reason
        _move_keeping_reason(
            item, ItemStatus.ON_HOLD, actor, note, hold_event_data(reason)
        )
    return item


def hold_event_data(reason: HoldReason) -> dict:
    """What the log keeps of a hold (the history generator writes the same)."""
    return {"hold_reason_id": reason.pk, **reason.policy()}


def _move_keeping_reason(item, to_state, actor, note, data) -> None:
    reason = item.hold_reason
    item_move(item=item, to_state=to_state, actor=actor, note=note, data=data)
    if reason is not None and to_state == ItemStatus.ON_HOLD:
        item.hold_reason = reason
        item.save(update_fields=["hold_reason"])


def item_resume(
    *, item_id: int, actor, note: str = "", expected_status: str | None = None
) -> RequestItem:
    note = clean_text(note)
    with transaction.atomic():
        item = _locked(item_id, actor)
        _expect(item, expected_status)
        if item.status != ItemStatus.ON_HOLD:
            raise TransitionNotAllowed(f"{item.number} is not on hold.")
        if not permissions.can_transition(actor, item, ItemStatus.IN_PROGRESS):
            raise TransitionNotAllowed(_refusal(item, ItemStatus.IN_PROGRESS))
        item_move(item=item, to_state=ItemStatus.IN_PROGRESS, actor=actor, note=note)
    return item


def item_resolve(
    *, item_id: int, actor, note: str, expected_status: str | None = None
) -> RequestItem:
    """Deliver the item, saying what was done (the requester reads it)."""
    note = clean_text(
        note, required="Say what was done, so the requester knows what they got."
    )
    with transaction.atomic():
        item = _locked(item_id, actor)
        _expect(item, expected_status)
        if item.status != ItemStatus.IN_PROGRESS:
            raise TransitionNotAllowed(
                f"{item.number} is “{item.get_status_display()}”: start work on it "
                "(or resume it) before resolving it."
            )
        if not permissions.can_transition(actor, item, ItemStatus.FULFILLED):
            raise TransitionNotAllowed(_refusal(item, ItemStatus.FULFILLED))
        item_move(item=item, to_state=ItemStatus.FULFILLED, actor=actor, note=note)
    return item


def _assign(item, assignee, *, actor, at=None) -> None:
    previous = item.assigned_to_id
    item.assigned_to = assignee
    item.save(update_fields=["assigned_to"])
    event_append(
        service_request=item.request,
        item=item,
        name="item.assigned",
        actor=actor,
        at=at or timezone.now(),
        data=assignment_event_data(assignee, previous),
    )
    items_clock_refresh(item_ids=[item.pk])


def assignment_event_data(assignee, previous_id) -> dict:
    return {
        "assignee": assignee.pk if assignee else None,
        "assignee_name": display_name(assignee) if assignee else "",
        "previous": previous_id,
    }


def items_assign(*, item_ids: list[int], assignee_id: int | None, actor) -> int:
    """Assign items to a fulfiller (or to nobody), all or none: if any item can't
    go to that person, nothing changes and the message says which."""
    item_ids = sorted({int(pk) for pk in item_ids})
    if not item_ids:
        raise InvalidInput({"items": ["Tick the items to assign."]})
    assignee = None
    if assignee_id:
        assignee = get_user_model().objects.filter(pk=assignee_id).first()
        if assignee is None:
            raise InvalidInput({"assignee": ["Choose someone from the list."]})
    with transaction.atomic():
        request_ids = sorted(
            set(
                RequestItem.objects.filter(pk__in=item_ids).values_list(
                    "request_id", flat=True
                )
            )
        )
        requests = ServiceRequest.objects.select_for_update().in_bulk(request_ids)
        items = list(
            RequestItem.objects.select_for_update()
            .filter(pk__in=item_ids)
            .order_by("pk")
        )
        if len(items) != len(item_ids):
            raise NotFoundForUser("No such request item.")
        refused = []
        for item in items:
            item.request = requests[item.request_id]
            if item.status not in (
                ItemStatus.SUBMITTED,
                ItemStatus.APPROVED,
                ItemStatus.IN_PROGRESS,
                ItemStatus.ON_HOLD,
            ):
                refused.append(f"{item.number} is {item.get_status_display().lower()}")
            elif not permissions.can_assign(actor, item, assignee):
                refused.append(
                    f"{item.number} is for {item.fulfilment_group_name or 'no team'}"
                    + (
                        f", which {display_name(assignee)} is not in"
                        if assignee
                        else ", which you don't work on"
                    )
                )
        if refused:
            raise CatalogError("Nothing was assigned: " + "; ".join(refused) + ".")
        changed = 0
        for item in items:
            if item.assigned_to_id != (assignee.pk if assignee else None):
                _assign(item, assignee, actor=actor)
                changed += 1
    return changed


def item_work_note_add(*, item_id: int, actor, text: str):
    """An internal note for the team: never shown to the requester."""
    text = clean_text(text, field="text", required="Write the note first.")
    with transaction.atomic():
        item = _locked(item_id, actor)
        permissions.require(
            permissions.works_on_group(actor, item.fulfilment_group_id),
            "Only the team working on this item can add work notes.",
        )
        event = event_append(
            service_request=item.request,
            item=item,
            name="item.work_note",
            actor=actor,
            note=text,
        )
        items_clock_refresh(item_ids=[item.pk])
    return event


def item_comment_add(*, item_id: int, actor, text: str):
    """A comment from the team about one item, which the requester reads."""
    text = clean_text(text, field="text", required="Write the comment first.")
    with transaction.atomic():
        item = _locked(item_id, actor)
        permissions.require(
            permissions.works_on_group(actor, item.fulfilment_group_id),
            "Only the team working on this item can comment on it here.",
        )
        event = event_append(
            service_request=item.request,
            item=item,
            name="item.commented",
            actor=actor,
            note=text,
        )
        items_clock_refresh(item_ids=[item.pk])
        notify_after_commit(
            "item.commented",
            request_id=item.request_id,
            item_id=item.pk,
            event_id=event.pk,
        )
    return event


def request_comment_add(*, request_id: int, actor, text: str):
    text = clean_text(text, field="text", required="Write something before sending.")
    with transaction.atomic():
        service_request = (
            ServiceRequest.objects.select_for_update().filter(pk=request_id).first()
        )
        if service_request is None or not permissions.can_view_request(
            actor, service_request
        ):
            raise NotFoundForUser("No such request.")
        event = event_append(
            service_request=service_request,
            name="request.commented",
            actor=actor,
            note=text,
        )
        request_clock_refresh(request_id=service_request.pk)
        notify_after_commit(
            "request.commented", request_id=service_request.pk, event_id=event.pk
        )
    return event


def item_rate(*, item_id: int, actor, rating, comment: str = "") -> RequestItem:
    """The requester's 1–5 verdict on a delivered item; it closes the item."""
    comment = clean_text(comment, field="comment")
    try:
        score = int(str(rating).strip())
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise InvalidInput({"rating": ["Choose from 1 (poor) to 5 (excellent)."]})
    with transaction.atomic():
        item = _locked(item_id, actor)
        if not permissions.can_rate_item(actor, item):
            raise NotFoundForUser("No such request item.")
        if item.rating is not None:
            raise CatalogError("You've already rated this. Thank you!")
        if item.status != ItemStatus.FULFILLED:
            raise CatalogError(
                "Only delivered items can be rated"
                + (
                    ": this one was closed."
                    if item.status == ItemStatus.CLOSED
                    else ", and this one isn't delivered yet."
                )
            )
        now = timezone.now()
        item.rating, item.rating_comment, item.rated_at = score, comment, now
        item.save(update_fields=["rating", "rating_comment", "rated_at"])
        event_append(
            service_request=item.request,
            item=item,
            name="item.rated",
            actor=actor,
            at=now,
            note=comment,
            data={"rating": score},
        )
        item_move(
            item=item,
            to_state=ItemStatus.CLOSED,
            actor=actor,
            at=now,
            note="Closed after the requester rated it.",
        )
    return item


def item_auto_close(*, item_id: int, now) -> bool:
    """Close a delivered item whose rating window has passed (the scheduled
    check). False if it was rated, reopened or closed meanwhile."""
    days = ServiceDeskSettings.load().rating_window_days
    with transaction.atomic():
        item = _locked(item_id, None)
        if item.status != ItemStatus.FULFILLED or item.fulfilled_at is None:
            return False
        if item.fulfilled_at + timezone.timedelta(days=days) > now:
            return False
        item_move(
            item=item,
            to_state=ItemStatus.CLOSED,
            actor=None,
            at=now,
            note=auto_close_note(days),
        )
    return True


def auto_close_note(days: int) -> str:
    return f"Closed automatically {days} days after delivery."


def held_service_removal_request(*, item_id: int, actor, reason: str) -> ServiceRequest:
    """Ask for a service the person holds to be taken away: a new request."""
    reason = clean_text(reason, field="reason") or "No longer needed."
    with transaction.atomic():
        held = (
            held_items(person=actor)
            .select_for_update(of=("self",))
            .select_related("request", "service", "fulfilment_group")
            .filter(pk=item_id)
            .first()
        )
        if held is None:
            raise NotFoundForUser("You don't hold that service.")
        # Asked after the lock, in a statement of its own, so a removal another
        # request created while this one waited for the lock is seen.
        if removals_under_way().filter(removes_item=held).exists():
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
