"""Request status badges and timeline sentences in the customer's words."""

from django import template
from django.utils.html import format_html

from catalog.models import ItemStatus

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
def status_badge(status, label):
    return format_html(
        '<span class="status status--{}">{}</span>', TONES.get(status, "info"), label
    )


def _label(state: str) -> str:
    return ItemStatus(state).label if state in ItemStatus.values else state


@register.simple_tag
def event_sentence(event) -> str:
    who = event.actor_name or "IT Services"
    item = event.item.service_name if event.item_id else ""
    if event.name == "request.submitted":
        return f"{who} submitted the request."
    if event.name == "item.created":
        return f"{item} was added as “{_label(event.to_state)}”."
    if event.name == "item.status_changed":
        return f"{who} changed {item} to “{_label(event.to_state)}”."
    if event.name == "request.commented":
        return f"{who} commented."
    return f"{who}: {event.name}"
