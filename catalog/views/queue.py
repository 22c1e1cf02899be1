"""The fulfilment queue: the list of a team's open items with bulk assignment and
the item work page with its actions, in the portal's own pages (a fulfiller works
there all day, and it answers faster than the admin's frame); and the calendar
preview, in the admin beside the calendars.

Every read goes through ``catalog.selectors.queue`` (which applies who sees what)
and every change through ``catalog.services.fulfilment``; these views map a
refusal to a message and bad input to the field it concerns.
"""

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from catalog import permissions
from catalog.business_time import BusinessClock, CalendarNeverOpen
from catalog.exceptions import CatalogError, InvalidInput
from catalog.forms_admin import ACTION_FORMS, CalendarPreviewForm
from catalog.ids import parse_id
from catalog.models import status_words
from catalog.selectors.queue import fulfilment_queue, item_work
from catalog.services import fulfilment
from catalog.views.forms import add_service_errors

CLOSED_DAYS_SHOWN = 60


def error_summary(*forms) -> list[dict]:
    """The errors of ``forms`` for the summary at the top of a page: each one
    links to its field."""
    summary = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            if name in form.fields and not form[name].is_hidden:
                field_id = form[name].auto_id
                label = form.fields[name].label or name
            else:
                field_id, label = "", ""
            for error in errors:
                summary.append({"id": field_id, "label": label, "message": error})
    return summary


# --- The queue ------------------------------------------------------------------------


def unbound_form_fingerprint(filterset) -> str | None:
    """What an unbound filter form's HTML depends on (each filter's name, label,
    choices and widget), for caching that HTML: the form renders the same
    whenever these are the same, whoever asks. Read from the filters, so the
    form itself is only built when the cache misses. None for a bound form,
    which shows the person's own values and errors, and for a filter whose
    choices come from a query (not read here, so never cached)."""
    if filterset.is_bound:
        return None
    parts = []
    for name, filter_ in filterset.filters.items():
        if filter_.extra.get("queryset") is not None:
            return None
        choices = [
            (str(v), str(label)) for v, label in filter_.extra.get("choices", ())
        ]
        widget = filter_.extra.get("widget")
        parts.append(repr((name, str(filter_.label), choices, type(widget).__name__)))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def queue(request):
    context = fulfilment_queue(user=request.user, params=request.GET)
    query = request.GET.copy()
    query.pop("page", None)
    context["filter_fingerprint"] = unbound_form_fingerprint(context["filter"])
    context["query_without_page"] = query.urlencode()
    context["return_query"] = request.GET.urlencode()
    return render(request, "catalog/queue.html", context)


def admin_queue_moved(request, item_id: int | None = None):
    """The queue's old address in the admin, kept for bookmarks and old e-mails:
    the same page in the portal."""
    url = (
        reverse("catalog:queue_item", args=[item_id])
        if item_id
        else reverse("catalog:queue")
    )
    if request.GET:
        url += "?" + request.GET.urlencode()
    return redirect(url, permanent=True)


def _back_to_queue(request):
    # Only a query string of the queue itself is followed, never another address.
    query = QueryDict(request.POST.get("return_query", ""))
    url = reverse("catalog:queue")
    if query:
        url += "?" + query.urlencode()
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        url = reverse("catalog:queue")
    return redirect(url)


@require_POST
def queue_assign(request):
    # Refuse before reading the form: otherwise anyone with admin access was told
    # "Nothing to change" (or which items they failed to pick).
    permissions.require(
        permissions.can_work_requests(request.user), "Only fulfillers assign items."
    )
    item_ids = [parse_id(pk) for pk in request.POST.getlist("items")]
    if None in item_ids:
        messages.error(request, "Tick the items to assign from the list.")
        return _back_to_queue(request)
    choice = request.POST.get("assignee", "")
    if choice == "me":
        assignee_id = request.user.pk
    elif parse_id(choice):
        assignee_id = parse_id(choice)
    elif choice in ("", "none"):
        assignee_id = None
    else:
        messages.error(request, "Choose whom to assign the items to.")
        return _back_to_queue(request)
    try:
        changed = fulfilment.items_assign(
            item_ids=item_ids, assignee_id=assignee_id, actor=request.user
        )
    except InvalidInput as exc:
        messages.error(request, " ".join(m for ms in exc.errors.values() for m in ms))
    except CatalogError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{changed} item{'s' if changed != 1 else ''} assigned."
            if changed
            else "Nothing to change: they were already assigned that way.",
        )
    return _back_to_queue(request)


# --- One item ------------------------------------------------------------------------


def hours_text(hours) -> str:
    """4 → "4 h", 0.50 → "0.5 h"; no target → "—"."""
    if hours is None:
        return "—"
    return f"{hours.normalize():f} h"


APPROVAL_WORDS = {
    "approval.requested": "Approval asked of {approver_name}",
    "approval.approved": "Approved by {actor}",
    "approval.rejected": "Not approved by {actor}",
    "approval.reminded": "Approver {approver_name} reminded",
    "approval.escalated": "Approval escalated from {escalated_from_name} to "
    "{approver_name}",
    "approval.escalation_failed": "Approval could not be escalated from "
    "{approver_name}: nobody above them",
    "approval.withdrawn": "Approval step withdrawn",
}


def describe(event) -> str:
    """One line of the log in the team's words (the requester's page has its
    own, in theirs)."""
    data = event.data or {}
    actor = event.actor_name or "The system"
    name = event.name
    if name == "request.submitted":
        return f"{actor} submitted the request"
    if name == "item.created":
        return f"Item added as “{status_words(event.to_state)}”"
    if name == "item.status_changed":
        moved = f"{status_words(event.from_state)} → {status_words(event.to_state)}"
        line = f"{actor}: {moved}"
        if data.get("hold_reason"):
            line += f" ({data['hold_reason']})"
        return line
    if name == "item.assigned":
        if data.get("assignee_name"):
            return f"{actor} assigned it to {data['assignee_name']}"
        return f"{actor} unassigned it"
    if name == "item.work_note":
        return f"{actor} added a work note"
    if name == "item.commented":
        return f"{actor} commented to the requester"
    if name == "request.commented":
        return f"{actor} commented on the request"
    if name == "item.rated":
        return f"{actor} rated it {data.get('rating', '?')} out of 5"
    if name == "item.at_risk":
        return f"At risk on its {data.get('clock', 'internal')} target"
    if name == "item.breached":
        clock, target = data.get("clock", ""), data.get("target", "")
        return f"Breached its {clock} {target} target"
    if name == "item.calendar_changed":
        return f"Calendar “{data.get('calendar', '')}” changed: due times recomputed"
    if name in APPROVAL_WORDS:
        words = {"actor": actor, "approver_name": "nobody", **data}
        words["approver_name"] = words["approver_name"] or "nobody"
        line = APPROVAL_WORDS[name].format_map(_Blank(words))
        if data.get("on_behalf_of_name"):
            line += f" on behalf of {data['on_behalf_of_name']}"
        return line
    return f"{actor}: {name}"


class _Blank(dict):
    def __missing__(self, key):
        return ""


class QueueItemView(TemplateView):
    """The item work page. Its action forms post to ``QueueItemActionView``,
    which shows this page again (status 400) when the input needs correcting."""

    template_name = "catalog/queue_item.html"
    http_method_names = ["get", "head", "options"]
    bound_action = None
    bound_form = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.work = item_work(user=request.user, item_id=kwargs["item_id"])

    def form_kwargs(self, action: str) -> dict:
        kwargs = {"prefix": action}
        if action == "assign":
            kwargs["members"] = self.work.members
        elif action == "hold":
            kwargs["reasons"] = self.work.hold_reasons
        return kwargs

    def forms(self) -> dict:
        item = self.work.item
        built = {}
        for action, form_class in ACTION_FORMS.items():
            if action.replace("-", "_") not in self.work.actions:
                continue
            if action == self.bound_action:
                built[action] = self.bound_form
                continue
            initial = {"expected_status": item.status}
            if action == "assign":
                initial["assignee"] = item.assigned_to_id or ""
            built[action] = form_class(initial=initial, **self.form_kwargs(action))
        return built

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            work=self.work,
            item=self.work.item,
            forms=self.forms(),
            bound_form=self.bound_form,
            targets={
                name: hours_text(getattr(self.work.item, f"{name}_target_hours"))
                for name in (
                    "response",
                    "resolution",
                    "internal_response",
                    "internal_resolution",
                )
            },
            timeline=[
                {"event": e.event, "internal": e.internal, "text": describe(e.event)}
                for e in self.work.timeline
            ],
        )
        return context


queue_item = QueueItemView.as_view()


def _call(action: str, item_id: int, actor, data: dict) -> str:
    """Run the service behind ``action``; returns the success message."""
    expected = data.get("expected_status") or None
    if action == "assign":
        assignee_id = parse_id(data.get("assignee"))
        fulfilment.items_assign(
            item_ids=[item_id], assignee_id=assignee_id, actor=actor
        )
        return "Assigned." if assignee_id else "Nobody is assigned now."
    if action == "start":
        item = fulfilment.item_start(
            item_id=item_id, actor=actor, expected_status=expected
        )
        return f"{item.number} is being worked on."
    if action == "hold":
        item = fulfilment.item_hold(
            item_id=item_id,
            actor=actor,
            reason_id=data.get("reason"),
            note=data.get("note", ""),
            expected_status=expected,
        )
        return f"{item.number} is on hold."
    if action == "resume":
        item = fulfilment.item_resume(
            item_id=item_id,
            actor=actor,
            note=data.get("note", ""),
            expected_status=expected,
        )
        return f"{item.number} is being worked on again."
    if action == "resolve":
        item = fulfilment.item_resolve(
            item_id=item_id,
            actor=actor,
            note=data.get("note", ""),
            expected_status=expected,
        )
        return f"{item.number} is delivered."
    if action == "cancel":
        item = fulfilment.item_cancel(
            item_id=item_id,
            actor=actor,
            note=data.get("note", ""),
            expected_status=expected,
        )
        return f"{item.number} is cancelled."
    if action == "work-note":
        fulfilment.item_work_note_add(
            item_id=item_id, actor=actor, text=data.get("text", "")
        )
        return "Work note added (the requester doesn't see it)."
    fulfilment.item_comment_add(item_id=item_id, actor=actor, text=data.get("text", ""))
    return "Comment sent to the requester."


class QueueItemActionView(QueueItemView):
    http_method_names = ["post"]

    def post(self, request, item_id: int, action: str):
        if action not in ACTION_FORMS:
            raise Http404
        data = request.POST
        if action == "assign" and data.get("assign-to-me"):
            data = data.copy()
            data["assign-assignee"] = str(request.user.pk)
        form = ACTION_FORMS[action](data=data, **self.form_kwargs(action))
        if form.is_valid():
            try:
                message = _call(action, item_id, request.user, form.cleaned_data)
            except InvalidInput as exc:
                add_service_errors(form, exc)
            except CatalogError as exc:
                # Stale page, a move the status no longer allows, someone else's
                # change: say so, and show the item as it is now.
                messages.error(request, exc.message)
                return redirect("catalog:queue_item", item_id=item_id)
            else:
                messages.success(request, message)
                return redirect("catalog:queue_item", item_id=item_id)
        self.bound_action, self.bound_form = action, form
        return self.render_to_response(self.get_context_data(), status=400)


queue_item_action = QueueItemActionView.as_view()


# --- Calendar preview -----------------------------------------------------------------


class CalendarPreviewView(WagtailAdminTemplateMixin, TemplateView):
    """When does a target run out on a calendar, and which closed days does it
    skip? Read only: counts on the calendar's rules as they are saved now."""

    template_name = "catalog/admin/calendar_preview.html"
    page_title = "Preview due times"
    header_icon = "time"

    def dispatch(self, request, *args, **kwargs):
        if not (
            request.user.has_perm("catalog.view_businesscalendar")
            or request.user.has_perm("catalog.change_businesscalendar")
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {
                "url": reverse("wagtailsnippets_catalog_businesscalendar:list"),
                "label": "Business calendars",
            },
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        submitted = any(
            name in params for name in ("start_date", "start_time", "hours")
        )
        form = CalendarPreviewForm(params if submitted else None, initial=params)
        context["form"] = form
        if submitted and form.is_valid():
            context["result"] = self.preview(form)
        context["errors"] = error_summary(form)
        return context

    def preview(self, form):
        data = form.cleaned_data
        calendar = data["calendar"]
        spec = calendar.spec()
        zone = ZoneInfo(spec.time_zone)
        start = datetime.combine(data["start_date"], data["start_time"], zone)
        try:
            # The calendar as saved; calendar_clock() would also record a new
            # version, and a preview must not write.
            clock = BusinessClock(spec)
            due = clock.add(start, float(data["hours"]) * 3600).astimezone(zone)
        except (CalendarNeverOpen, ValueError) as exc:
            form.add_error("calendar", f"This calendar can't be used: {exc}")
            return None
        closed = []
        day = start.date()
        while day <= due.date() and len(closed) < CLOSED_DAYS_SHOWN:
            reason = clock.closed_reason(day)
            if reason:
                closed.append({"day": day, "reason": reason})
            day += timedelta(days=1)
        return {
            "calendar": calendar,
            "start": start,
            "due": due,
            "hours": data["hours"],
            "closed": closed,
        }


calendar_preview = CalendarPreviewView.as_view()
