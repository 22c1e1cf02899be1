"""The service review: rarely and often requested services, and asking for a
rarely requested one to be suspended."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.exceptions import CatalogError, InvalidInput
from catalog.forms import PlainTextMixin
from catalog.selectors.reporting import services as figures
from catalog.services.catalog_changes import REASON_MAX_LENGTH, service_suspend_request


class SuspendForm(PlainTextMixin, forms.Form):
    reason = forms.CharField(
        label="Why can't it be ordered?",
        help_text="Customers see this on the service page.",
        max_length=REASON_MAX_LENGTH,
        error_messages={
            "required": "Say why it can't be ordered: customers will read this.",
            "max_length": f"Keep the reason to {REASON_MAX_LENGTH} characters.",
        },
    )


def _form_for(service_id: int, data=None) -> SuspendForm:
    # One form per service on the page: ids of their own.
    return SuspendForm(data, auto_id=f"id_suspend{service_id}_%s")


def service_review(request):
    """Who sees what is ``review_access``'s rule: executives see the services
    their department may order with their department's figures (the whole
    company's with that permission); a service owner without reporting rights
    sees only their own services, with the whole company's figures; anyone else
    gets 403."""
    return _review_page(request)


def _review_page(request, *, bound: tuple[int, SuspendForm] | None = None):
    review = figures.service_review(user=request.user)
    placed = bound is None
    for row in review.rarely:
        if bound is not None and bound[0] == row.service.pk:
            row.form, placed = bound[1], True
        else:
            row.form = _form_for(row.service.pk)
    if not placed:
        # Asked for a service not among the rarely requested (an old page):
        # its form isn't on the page, so say it at the top.
        for errors in bound[1].errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("catalog:service_review")
    return render(
        request,
        "catalog/executive/review.html",
        {"review": review, "bound": bound[1] if bound else None},
        status=400 if bound else 200,
    )


@require_POST
def service_suspend(request, service_id: int):
    """Ask for ``service_id`` to be suspended: 403 without the right, 404 for an
    unknown service, checked before the form; a missing reason comes back on
    the review page under that service."""
    figures.reviewed_service(user=request.user, service_id=service_id)
    form = _form_for(service_id, request.POST)
    if form.is_valid():
        try:
            outcome = service_suspend_request(
                service_id=service_id,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except InvalidInput as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name, error)
        except CatalogError as exc:
            messages.error(request, exc.message)
            return redirect("catalog:service_review")
        else:
            title = outcome.service.title
            if outcome.published:
                messages.success(request, f"{title} can no longer be ordered.")
            else:
                messages.success(
                    request,
                    f"Suspending {title} is waiting for approval; "
                    "it can still be ordered until then.",
                )
            return redirect("catalog:service_review")
    return _review_page(request, bound=(service_id, form))
