"""Approvals waiting for me, deciding them (item by item or a whole request), and
naming a substitute while I'm away.

The approval service decides whether this person may decide (and says why not):
a double click, a stale page or an approver who was replaced gets its message and
changes nothing. Someone who could never see the request gets a 404.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import get_text_list
from django.views.decorators.http import require_POST

from catalog.exceptions import ApprovalRefused, InvalidInput
from catalog.ids import parse_id
from catalog.selectors.approvals import (
    approval_step_for,
    approvals_decided_by,
    approvals_waiting_page,
    my_delegation,
    request_for_approver,
    standing_in_for,
    substitute_candidates,
    substitutes_of,
)
from catalog.selectors.people import display_name
from catalog.services.approvals import (
    approval_decide,
    approval_delegation_add,
    approval_delegation_remove,
    request_approvals_decide,
)
from catalog.views.forms import (
    DecisionForm,
    SubstituteForm,
    add_service_errors,
    person_search,
)


def _step_prefix(step_id: int) -> str:
    return f"step-{step_id}"


def _request_prefix(request_id: int) -> str:
    return f"request-{request_id}"


def approval_list(request):
    return _approvals_page(request)


def _approvals_page(request, *, bound=None, status=200):
    """The page, with ``bound`` (one form that came back with errors) in its
    place. None if that form's item or request is no longer on the page."""
    page_obj, waiting = approvals_waiting_page(
        user=request.user, page=request.GET.get("page")
    )
    placed = bound is None
    for group in waiting:
        prefix = _request_prefix(group.service_request.pk)
        # The whole-request form is shown for more than one item only.
        if len(group.items) < 2:
            group.form = None
        elif bound is not None and bound.prefix == prefix:
            group.form, placed = bound, True
        else:
            group.form = DecisionForm(prefix=prefix)
        for row in group.items:
            prefix = _step_prefix(row.step.pk)
            if bound is not None and bound.prefix == prefix:
                row.form, placed = bound, True
            else:
                row.form = DecisionForm(prefix=prefix)
    if not placed:
        return None
    return render(
        request,
        "catalog/approvals.html",
        {
            "waiting": waiting,
            "page_obj": page_obj,
            "decided": approvals_decided_by(user=request.user),
            "error_form": bound,
        },
        status=status,
    )


def _back_with_errors(request, form):
    page = _approvals_page(request, bound=form, status=400)
    if page is not None:
        return page
    # Decided meanwhile (or never on this person's list): say what was wrong.
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("catalog:approvals")


def _verb(approve: bool) -> str:
    return "Approved" if approve else "Declined"


@require_POST
def approval_step_decide(request, step_id: int):
    step = approval_step_for(user=request.user, step_id=step_id)
    form = DecisionForm(request.POST, prefix=_step_prefix(step.pk))
    if form.is_valid():
        try:
            approval_decide(
                step_id=step.pk,
                actor=request.user,
                approve=form.approve,
                note=form.cleaned_data["note"],
            )
        except ApprovalRefused as exc:
            messages.error(request, exc.message)
            return redirect("catalog:approvals")
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"{_verb(form.approve)} {step.item.service_name} for "
                f"{display_name(step.request.requested_for)}.",
            )
            return redirect("catalog:approvals")
    return _back_with_errors(request, form)


@require_POST
def approval_request_decide(request, request_id: int):
    service_request = request_for_approver(user=request.user, request_id=request_id)
    form = DecisionForm(request.POST, prefix=_request_prefix(service_request.pk))
    if form.is_valid():
        try:
            steps = request_approvals_decide(
                request_id=service_request.pk,
                actor=request.user,
                approve=form.approve,
                note=form.cleaned_data["note"],
            )
        except ApprovalRefused as exc:
            messages.error(request, exc.message)
            return redirect("catalog:approvals")
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            names = get_text_list([s.item.service_name for s in steps], "and")
            messages.success(
                request,
                f"{_verb(form.approve)} {names} for "
                f"{display_name(service_request.requested_for)}.",
            )
            return redirect("catalog:approvals")
    return _back_with_errors(request, form)


# --- Substitutes -------------------------------------------------------------------


def substitutes(request):
    source = request.POST if request.method == "POST" else request.GET
    query = person_search(request, source.get("q", ""))
    people = substitute_candidates(
        user=request.user,
        query=query,
        chosen_id=parse_id(source.get("substitute")),
    )
    if request.method == "POST":
        form = SubstituteForm(request.POST, people=people)
        if form.is_valid():
            data = form.cleaned_data
            try:
                delegation = approval_delegation_add(
                    approver=request.user,
                    substitute=data["substitute"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                )
            except InvalidInput as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"{display_name(delegation.substitute)} will decide your "
                    f"approvals from {delegation.starts_on:%-d %B %Y} to "
                    f"{delegation.ends_on:%-d %B %Y}.",
                )
                return redirect("catalog:substitutes")
        status = 400
    else:
        form = SubstituteForm(people=people, initial={"q": query})
        status = 200
    return render(
        request,
        "catalog/substitutes.html",
        {
            "form": form,
            "person_query": query,
            "searched": bool(query),
            "people": people,
            "substitutes": substitutes_of(user=request.user),
            "standing_in": standing_in_for(user=request.user),
            "today": timezone.localdate(),
        },
        status=status,
    )


@require_POST
def substitute_remove(request, delegation_id: int):
    delegation = my_delegation(user=request.user, delegation_id=delegation_id)
    approval_delegation_remove(delegation_id=delegation.pk, approver=request.user)
    messages.success(
        request,
        f"{display_name(delegation.substitute)} no longer decides for you from "
        f"{delegation.starts_on:%-d %B %Y} to {delegation.ends_on:%-d %B %Y}.",
    )
    return redirect("catalog:substitutes")
