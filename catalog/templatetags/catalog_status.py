"""Request status badges, progress lines and timeline sentences in the customer's
words. IT's own terms (work notes, assignment, service-level bookkeeping) never
reach these: the selector leaves those events out."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from catalog.models import ItemStatus, status_words
from catalog.templatetags.catalog_tags import DAYS, MONTHS

register = template.Library()

TONES = {
    ItemStatus.SUBMITTED: "info",
    ItemStatus.AWAITING_APPROVAL: "warning",
    ItemStatus.APPROVED: "info",
    ItemStatus.REJECTED: "error",
    ItemStatus.IN_PROGRESS: "info",
    ItemStatus.ON_HOLD: "warning",
    ItemStatus.FULFILLED: "ok",
    ItemStatus.CLOSED: "muted",
    ItemStatus.CANCELLED: "muted",
}


@register.simple_tag
def status_badge(status, label=None):
    """An item's status as a badge; ``label`` for another kind of status (an
    approval step's)."""
    return format_html(
        '<span class="status status--{}">{}</span>',
        TONES.get(status, "info"),
        status_words(status) if label is None else label,
    )


@register.filter
def status_label(status) -> str:
    """An item's status in words: ``in_progress`` → ``Being worked on``."""
    return status_words(status)


def _by_party(event) -> bool:
    """Did the requester (or the person it is for) do this, rather than IT?"""
    service_request = event.request
    return event.actor_id is not None and event.actor_id in (
        service_request.requested_by_id,
        service_request.requested_for_id,
    )


def _status_sentence(event, who: str, item: str) -> str:
    to_state, from_state = event.to_state, event.from_state
    if to_state == ItemStatus.ON_HOLD:
        text = (event.data or {}).get("customer_text", "")
        return f"We paused {item} {text}.".replace(" .", ".")
    if to_state == ItemStatus.IN_PROGRESS and from_state == ItemStatus.ON_HOLD:
        return f"We picked {item} up again."
    if to_state == ItemStatus.IN_PROGRESS and from_state == ItemStatus.FULFILLED:
        return f"We reopened {item}."
    if to_state == ItemStatus.IN_PROGRESS:
        return f"We started work on {item}."
    if to_state == ItemStatus.FULFILLED:
        return f"We delivered {item}."
    if to_state == ItemStatus.APPROVED:
        return f"{item} has every approval it needs."
    if to_state == ItemStatus.REJECTED:
        return f"{item} was not approved."
    if to_state == ItemStatus.CANCELLED:
        return f"{who if _by_party(event) else 'We'} cancelled {item}."
    if to_state == ItemStatus.CLOSED:
        return f"{item} was closed."
    return f"{item} is now “{status_words(to_state)}”."


def _behalf(data: dict) -> str:
    name = data.get("on_behalf_of_name")
    return f" on behalf of {name}" if name else ""


@register.simple_tag
def event_sentence(event) -> str:
    who = event.actor_name or "IT Services"
    item = event.item.service_name if event.item_id else ""
    data = event.data or {}
    name = event.name
    if name == "request.submitted":
        return f"{who} submitted the request."
    if name == "item.created":
        if event.to_state == ItemStatus.AWAITING_APPROVAL:
            return f"{item} needs approval before we can start."
        if event.to_state == ItemStatus.SUBMITTED:
            return f"We received your order for {item}."
        return f"{item} is “{status_words(event.to_state)}”."
    if name == "item.status_changed":
        return _status_sentence(event, who, item)
    if name == "request.commented":
        return f"{who} commented."
    if name == "item.commented":
        return f"{who} commented on {item}."
    if name == "item.rated":
        return f"{who} rated {item} {data.get('rating')} out of 5."
    if name == "approval.requested":
        approver = data.get("approver_name")
        if approver:
            return f"We asked {approver} to approve {item}."
        return f"{item} needs approval: we asked IT's approvers."
    if name == "approval.approved":
        return f"{who} approved {item}{_behalf(data)}."
    if name == "approval.rejected":
        return f"{who} did not approve {item}{_behalf(data)}."
    if name == "approval.withdrawn":
        return f"The approval of {item} is no longer needed."
    return f"{item or 'The request'} was updated."


# The note of these events is shown elsewhere (the request's reason) or by the
# event before it (an approver's reason, then the item turned down for it).
_NOTE_SHOWN_ELSEWHERE = {
    ("request.submitted", ""),
    ("item.status_changed", ItemStatus.REJECTED),
}


@register.filter
def event_note(event) -> str:
    """The note the requester may read with ``event``, or ""."""
    key = (event.name, event.to_state if event.name == "item.status_changed" else "")
    if key in _NOTE_SHOWN_ELSEWHERE:
        return ""
    return event.note


def _short_date(value) -> str:
    """`Tue 1 Dec`, in local time, as ``date:"D j M"`` prints it in English."""
    local = timezone.localtime(value)
    return f"{DAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}"


@register.simple_tag
def progress_line(item) -> str:
    """One short line for a list: where the item stands, without a query, and
    nothing where the status badge already says it all."""
    status = item.status
    if status == ItemStatus.ON_HOLD:
        reason = item.hold_reason
        if reason is not None and reason.requester_must_act:
            return "Paused: waiting for you"
        return f"Paused {reason.customer_text}" if reason else "Paused"
    if (
        status in (ItemStatus.SUBMITTED, ItemStatus.APPROVED, ItemStatus.IN_PROGRESS)
        and item.resolution_due_at
    ):
        return f"Expected by {_short_date(item.resolution_due_at)}"
    if status == ItemStatus.FULFILLED and item.fulfilled_at:
        if item.rating is None:
            return f"Delivered on {_short_date(item.fulfilled_at)}: rate it"
        return f"Delivered on {_short_date(item.fulfilled_at)}"
    return ""
