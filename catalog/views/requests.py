"""My requests, one request's timeline, and the services a person holds."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.exceptions import CatalogError, InvalidInput
from catalog.ids import parse_id
from catalog.models import ItemStatus
from catalog.selectors.requests import (
    held_service,
    held_services_page,
    item_to_rate,
    my_requests,
    request_detail,
)
from catalog.services.fulfilment import (
    held_service_removal_request,
    item_cancel,
    item_rate,
    request_comment_add,
)
from catalog.views.forms import (
    NoteForm,
    RatingForm,
    RemovalForm,
    add_service_errors,
)


def _refusal_text(exc: CatalogError) -> str:
    """A refusal as one message: for bad input, what to change rather than
    "check the details below" on a page whose form has no such details."""
    if isinstance(exc, InvalidInput):
        return " ".join(error for errors in exc.errors.values() for error in errors)
    return exc.message


def request_list(request):
    return render(
        request,
        "catalog/request_list.html",
        my_requests(user=request.user, params=request.GET),
    )


def _detail_page(request, request_id: int, *, note_form, status=200):
    service_request = request_detail(user=request.user, request_id=request_id)
    for item in service_request.lines:
        if item.progress.can_rate:
            # One rating form per delivered item: ids of their own.
            item.rating_form = RatingForm(auto_id=f"id_item{item.pk}_%s")
    return render(
        request,
        "catalog/request_detail.html",
        {"service_request": service_request, "note_form": note_form},
        status=status,
    )


def request_view(request, request_id: int):
    return _detail_page(request, request_id, note_form=NoteForm())


@require_POST
def request_comment(request, request_id: int):
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            request_comment_add(
                request_id=request_id,
                actor=request.user,
                text=form.cleaned_data["text"],
            )
        except CatalogError as exc:
            form.add_error("text", exc.message)
        else:
            messages.success(request, "Your comment was added.")
            return redirect("catalog:request_detail", request_id=request_id)
    return _detail_page(request, request_id, note_form=form, status=400)


@require_POST
def item_cancel_view(request, item_id: int):
    try:
        item = item_cancel(
            item_id=item_id, actor=request.user, note=request.POST.get("note", "")
        )
    except CatalogError as exc:
        # Shown on the request page: what was wrong, in the field's own words.
        messages.error(request, _refusal_text(exc))
        request_id = parse_id(request.POST.get("request_id"))
        if request_id:
            return redirect("catalog:request_detail", request_id=request_id)
        return redirect("catalog:request_list")
    messages.success(request, f"{item.number} {item.service_name} was cancelled.")
    return redirect("catalog:request_detail", request_id=item.request_id)


def my_services(request):
    return render(
        request,
        "catalog/my_services.html",
        {
            "page_obj": held_services_page(
                user=request.user, page=request.GET.get("page")
            )
        },
    )


def my_service_remove(request, item_id: int):
    """Ask for a held service to be taken away: a page of its own, so the list
    of what a person holds stays a list (one link a row, not a form a row)."""
    item = held_service(user=request.user, item_id=item_id)
    status = 200
    if request.method == "POST":
        form = RemovalForm(request.POST)
        if form.is_valid():
            try:
                removal = held_service_removal_request(
                    item_id=item.pk,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except InvalidInput as exc:
                add_service_errors(form, exc)
            except CatalogError as exc:
                # Asked already (another tab), or no longer held.
                messages.error(request, _refusal_text(exc))
                return redirect("catalog:my_services")
            else:
                messages.success(
                    request,
                    f"We've received your request {removal.number} to remove it.",
                )
                return redirect("catalog:request_detail", request_id=removal.pk)
        status = 400
    else:
        form = RemovalForm()
    return render(
        request,
        "catalog/my_service_remove.html",
        {"item": item, "form": form},
        status=status,
    )


def item_rate_view(request, item_id: int):
    """Rate a delivered item: the form on the request page posts here, and the
    delivery e-mail links here."""
    item = item_to_rate(user=request.user, item_id=item_id)
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid():
            try:
                item_rate(
                    item_id=item.pk,
                    actor=request.user,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except InvalidInput as exc:
                add_service_errors(form, exc)
            except CatalogError as exc:
                # Rated already (a second tab, the e-mail link), or not delivered.
                messages.info(request, exc.message)
                return redirect("catalog:request_detail", request_id=item.request_id)
            else:
                messages.success(request, "Thank you for your rating.")
                return redirect("catalog:request_detail", request_id=item.request_id)
        status = 400
    else:
        form = RatingForm()
        status = 200
    return render(
        request,
        "catalog/item_rate.html",
        {"item": item, "form": form, "can_rate": item.status == ItemStatus.FULFILLED},
        status=status,
    )
