"""The basket and checkout."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from catalog.exceptions import (
    BasketChanged,
    BasketEmpty,
    BasketSubmitted,
    InvalidAnswers,
    InvalidCheckout,
    ServiceNotOrderable,
)
from catalog.forms import RequestForm, initial_from_answers
from catalog.ids import parse_id
from catalog.permissions import can_order_on_behalf
from catalog.selectors.approvals import approvers_planned, submitted_items_outlook
from catalog.selectors.basket import basket_line_for, basket_review
from catalog.selectors.entitlements import visible_services
from catalog.selectors.requests import (
    default_cost_centre,
    people_to_order_for,
    request_detail,
)
from catalog.services.basket import (
    basket_line_add,
    basket_line_remove,
    basket_line_update,
)
from catalog.services.checkout import request_submit
from catalog.views.forms import CheckoutForm, person_search


def _quantity_context(exc: InvalidAnswers, data) -> dict:
    return {
        "quantity_errors": exc.errors.get("quantity", []),
        "quantity_value": data.get("quantity", ""),
    }


@require_POST
def basket_add(request, service_id: int):
    try:
        line = basket_line_add(
            user=request.user, service_id=service_id, data=request.POST
        )
    except (ServiceNotOrderable, BasketSubmitted) as exc:
        messages.error(request, exc.message)
        return redirect(visible_services(user=request.user).get(pk=service_id).url)
    except InvalidAnswers as exc:
        service = visible_services(user=request.user).get(pk=service_id)
        context = service.get_context(request)
        context.update(
            request_form=exc.form,
            form_has_errors=True,
            **_quantity_context(exc, request.POST),
        )
        return TemplateResponse(
            request, service.get_template(request), context, status=400
        )
    messages.success(request, f"{line.service_name} is in your basket.")
    return redirect("catalog:basket")


def basket(request):
    return render(
        request, "catalog/basket.html", {"review": basket_review(user=request.user)}
    )


def basket_line_edit(request, line_id: int):
    line = basket_line_for(user=request.user, line_id=line_id)
    questions = line.service.request_questions
    context = {"line": line, "service": line.service, "quantity_value": line.quantity}
    if request.method == "POST":
        try:
            basket_line_update(user=request.user, line_id=line.pk, data=request.POST)
        except (ServiceNotOrderable, BasketSubmitted) as exc:
            messages.error(request, exc.message)
            return redirect("catalog:basket")
        except InvalidAnswers as exc:
            context.update(
                request_form=exc.form, **_quantity_context(exc, request.POST)
            )
            return render(request, "catalog/basket_line_edit.html", context, status=400)
        messages.success(request, f"Your answers for {line.service_name} are saved.")
        return redirect("catalog:basket")
    context["request_form"] = RequestForm(
        questions=questions, initial=initial_from_answers(line.answers)
    )
    return render(request, "catalog/basket_line_edit.html", context)


@require_POST
def basket_line_delete(request, line_id: int):
    line = basket_line_for(user=request.user, line_id=line_id)
    try:
        basket_line_remove(user=request.user, line_id=line.pk)
    except BasketSubmitted as exc:
        messages.error(request, exc.message)
        return redirect("catalog:basket")
    messages.success(request, f"{line.service_name} was removed from your basket.")
    return redirect("catalog:basket")


def checkout(request):
    source = request.POST if request.method == "POST" else request.GET
    query = person_search(request, source.get("for_q", ""))
    people = people_to_order_for(
        user=request.user,
        query=query,
        chosen_id=parse_id(source.get("requested_for")),
    )
    form_options = {
        "people": people,
        "viewer": request.user,
        "may_choose": can_order_on_behalf(request.user),
    }
    if request.method == "POST":
        form = CheckoutForm(request.POST, **form_options)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = request_submit(
                    user=request.user,
                    basket_id=data["basket"],
                    expected_fingerprint=data["fingerprint"],
                    requested_for=data["requested_for"],
                    cost_centre=data["cost_centre"],
                    business_reason=data["business_reason"],
                )
            except BasketEmpty as exc:
                messages.error(request, exc.message)
                return redirect("catalog:basket")
            except BasketChanged as exc:
                messages.warning(request, exc.message)
                return _checkout_page(request, form, query=query, status=409)
            except InvalidCheckout as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field, error)
            else:
                if not result.created:
                    messages.info(
                        request,
                        f"{result.service_request.number} was already submitted.",
                    )
                return redirect(
                    "catalog:request_submitted", request_id=result.service_request.pk
                )
        return _checkout_page(request, form, query=query, status=400)
    return _checkout_page(request, None, query=query, form_options=form_options)


def _checkout_page(request, form, *, query, form_options=None, status=200):
    review = basket_review(user=request.user)
    if review.is_empty:
        messages.info(request, "Your basket is empty: add a service first.")
        return redirect("catalog:basket")
    if form is None:
        form = CheckoutForm(
            **form_options,
            initial={
                "basket": review.basket.pk,
                "fingerprint": review.fingerprint,
                "requested_for": request.user.pk,
                "for_q": query,
            },
        )
        recipient = request.user
        stale = False
    else:
        stale = form.hidden_errors_as_stale()
        # Always confirm against what is on screen now.
        form.data = form.data.copy()
        form.data["fingerprint"] = review.fingerprint
        form.data["basket"] = review.basket.pk
        form.data["for_q"] = query
        recipient = form.cleaned_data.get("requested_for") or request.user
    recipient_cost_centre = default_cost_centre(recipient)
    form.name_default_cost_centre(
        recipient_cost_centre, for_themselves=recipient.pk == request.user.pk
    )
    charged = (
        form.cleaned_data.get("cost_centre") if form.is_bound else None
    ) or recipient_cost_centre
    approvers = (
        approvers_planned(
            user=request.user,
            recipient=recipient,
            cost_centre=charged,
            rows=review.lines,
        )
        if charged is not None
        else [None] * len(review.lines)
    )
    return render(
        request,
        "catalog/checkout.html",
        {
            "review": review,
            "lines": list(zip(review.lines, approvers, strict=True)),
            "form": form,
            "may_choose": can_order_on_behalf(request.user),
            "stale": stale,
            "for_q": query,
            "recipient": recipient,
            "recipient_cost_centre": recipient_cost_centre,
            "charged": charged,
        },
        status=status,
    )


def request_submitted(request, request_id: int):
    service_request = request_detail(user=request.user, request_id=request_id)
    return render(
        request,
        "catalog/request_submitted.html",
        {
            "service_request": service_request,
            "items": submitted_items_outlook(service_request),
        },
    )
