"""Checkout: turn a basket into a service request, once.

One atomic block locks the basket, re-checks every line against the live catalog,
creates the request and its items (copies of what was ordered), writes the first
log events and marks the basket submitted. A second submit of the same basket
returns the request the first one created. Any error leaves everything as it was.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import BasketChanged, BasketEmpty, InvalidCheckout
from catalog.models import (
    Basket,
    CalendarVersion,
    CategoryPage,
    CostCentre,
    ItemStatus,
    RequestItem,
    ServicePage,
    ServiceRequest,
    UserProfile,
)
from catalog.selectors.basket import BasketReview, review_lines
from catalog.selectors.entitlements import services_person_may_have
from catalog.selectors.requests import default_cost_centre
from catalog.services.notifications import notify_after_commit
from catalog.services.request_log import events_append, request_snapshot

MAX_REASON_LENGTH = 2000
# Said by the checkout form for an empty box and by request_submit for one of
# only spaces: the same words either way.
REASON_REQUIRED = "Enter why this is needed"


@dataclass(frozen=True)
class CheckoutResult:
    service_request: ServiceRequest
    created: bool


def _clean_details(*, user, requested_for, cost_centre, business_reason):
    errors: dict[str, list[str]] = {}
    if requested_for is None:
        requested_for = user
    elif requested_for.pk != user.pk:
        if not permissions.can_order_on_behalf(user):
            errors["requested_for"] = ["You can only order for yourself."]
        elif not requested_for.is_active:
            errors["requested_for"] = ["That person's account is not active."]
        elif not permissions.can_order_for(user, requested_for):
            errors["requested_for"] = [
                "You can order for the people who report to you. Choose one of "
                "them, or yourself."
            ]
    if cost_centre is None:
        cost_centre = default_cost_centre(requested_for)
        if cost_centre is None:
            errors["cost_centre"] = [
                "Choose a cost centre: the person has no department to bill."
            ]
    elif not cost_centre.active:
        errors["cost_centre"] = ["That cost centre is closed; choose another."]
    reason = (business_reason or "").strip()
    if not reason:
        errors["business_reason"] = [REASON_REQUIRED]
    elif len(reason) > MAX_REASON_LENGTH:
        errors["business_reason"] = [
            f"Keep it under {MAX_REASON_LENGTH} characters (you wrote {len(reason)})."
        ]
    if errors:
        raise InvalidCheckout(errors)
    return requested_for, cost_centre, reason


def request_submit(
    *,
    user,
    basket_id: int,
    expected_fingerprint: str,
    business_reason: str,
    requested_for=None,
    cost_centre: CostCentre | None = None,
) -> CheckoutResult:
    """Submit the person's basket as one service request.

    ``expected_fingerprint`` is the basket review the person confirmed; if prices or
    lines changed since, ``BasketChanged`` is raised and nothing is submitted.
    """
    with transaction.atomic():
        basket = (
            Basket.objects.select_for_update().filter(pk=basket_id, owner=user).first()
        )
        if basket is None:
            raise BasketEmpty("Your basket is empty.")
        if basket.status == Basket.Status.SUBMITTED:
            existing = ServiceRequest.objects.filter(basket=basket).first()
            if existing is not None:
                return CheckoutResult(service_request=existing, created=False)
        requested_for, cost_centre, reason = _clean_details(
            user=user,
            requested_for=requested_for,
            cost_centre=cost_centre,
            business_reason=business_reason,
        )
        lines = list(
            basket.lines.select_related(
                "service__service_level__calendar", "service__fulfilment_group"
            )
            .prefetch_related("service__fulfilment_group__internal_targets")
            .order_by("added_at", "pk")
        )
        if not lines:
            raise BasketEmpty("Your basket is empty.")
        review = BasketReview(basket=basket, lines=review_lines(user=user, lines=lines))
        if not review.can_check_out:
            raise BasketChanged(
                "Some services in your basket can't be ordered as they are. "
                "Nothing was submitted."
            )
        _check_recipient_may_have(user, requested_for, lines)
        if review.fingerprint != expected_fingerprint:
            raise BasketChanged(
                "Prices or your basket changed while you were checking out. "
                "Please check the new figures; nothing was submitted."
            )
        service_request = _create_request(
            user=user,
            basket=basket,
            review=review,
            requested_for=requested_for,
            cost_centre=cost_centre,
            reason=reason,
        )
    return CheckoutResult(service_request=service_request, created=True)


def _check_recipient_may_have(user, requested_for, lines) -> None:
    if requested_for.pk == user.pk:
        return
    allowed = set(
        services_person_may_have(person=requested_for)
        .filter(pk__in=[line.service_id for line in lines])
        .values_list("pk", flat=True)
    )
    refused = [line.service_name for line in lines if line.service_id not in allowed]
    if refused:
        name = requested_for.get_full_name() or requested_for.get_username()
        raise InvalidCheckout(
            {
                "requested_for": [
                    f"{name} can't have {', '.join(refused)}: it is only for "
                    "other departments or locations."
                ]
            }
        )


def request_open(
    *,
    requested_by,
    requested_for,
    cost_centre,
    department_id,
    reason: str,
    items: list[RequestItem],
    data: dict,
    at,
    basket=None,
) -> ServiceRequest:
    """Create a request with its items (numbered in order), their approval steps
    and first log events, start the clocks of items that need no approval, and
    queue the confirmation e-mail. Call inside the transaction that checked
    everything; checkout and removal requests both open requests here."""
    from catalog.services.approvals import approval_plans, approvals_open
    from catalog.services.service_levels import (
        calendar_current_version,
        items_clock_refresh,
    )

    plans = approval_plans(
        requested_by=requested_by,
        requested_for=requested_for,
        cost_centre=cost_centre,
        items=items,
        currency=settings.CATALOG_CURRENCY,
    )
    calendars = dict(
        CalendarVersion.objects.filter(
            pk__in={i.calendar_version_id for i in items if i.calendar_version_id}
        ).values_list("pk", "calendar_id")
    )
    current = {pk: calendar_current_version(pk).pk for pk in set(calendars.values())}
    for item, plan in zip(items, plans, strict=True):
        item.status = ItemStatus.AWAITING_APPROVAL if plan else ItemStatus.SUBMITTED
        if item.calendar_version_id:
            # Measured on the calendar as it is today, whatever a copied item had.
            item.calendar_version_id = current[calendars[item.calendar_version_id]]
    service_request = ServiceRequest.objects.create(
        requested_by=requested_by,
        requested_for=requested_for,
        cost_centre=cost_centre,
        department_id=department_id,
        business_reason=reason,
        currency=settings.CATALOG_CURRENCY,
        basket=basket,
        submitted_at=at,
    )
    for number, item in enumerate(items, start=1):
        item.request = service_request
        item.line_number = number
    items = RequestItem.objects.bulk_create(items)
    # One insert for the first events, however many lines: the log is new.
    events_append(
        service_request=service_request,
        entries=[
            dict(
                name="request.submitted",
                actor=requested_by,
                at=at,
                note=reason,
                data={
                    "items": len(items),
                    "currency": service_request.currency,
                    **data,
                    # What the rows must hold, before later events:
                    # verify_request_log replays the log over it.
                    "snapshot": request_snapshot(service_request, items),
                },
            ),
            *(
                dict(
                    item=item,
                    name="item.created",
                    actor=requested_by,
                    at=at,
                    to_state=item.status,
                    data=item_created_data(item),
                )
                for item in items
            ),
        ],
    )
    approvals_open(
        service_request=service_request,
        items=items,
        plans=plans,
        at=at,
        actor=requested_by,
    )
    items_clock_refresh(item_ids=[item.pk for item in items])
    notify_after_commit("request.submitted", request_id=service_request.pk)
    return service_request


def item_created_data(item: RequestItem) -> dict:
    """What the log keeps of a new item (the history generator writes the same)."""
    return {
        "line": item.line_number,
        "service": item.service_name,
        "quantity": item.quantity,
        "one_off_price": str(item.one_off_price),
        "monthly_price": str(item.monthly_price),
        "answers": item.answers,
        "service_level": item.service_level_name,
        "calendar_version": item.calendar_version_id,
        **({"removes": item.removes_item.number} if item.removes_item_id else {}),
    }


def _create_request(*, user, basket, review, requested_for, cost_centre, reason):
    now = timezone.now()
    department_id = (
        UserProfile.objects.filter(user=requested_for)
        .values_list("department_id", flat=True)
        .first()
    )
    categories = _category_titles(review.lines)
    versions = _calendar_versions(review.lines)
    service_request = request_open(
        requested_by=user,
        requested_for=requested_for,
        cost_centre=cost_centre,
        department_id=department_id,
        reason=reason,
        items=[_item_from_line(r, categories, versions, now=now) for r in review.lines],
        data={
            "requested_for": requested_for.get_username(),
            "cost_centre": cost_centre.code,
            "one_off_total": str(review.one_off_total),
            "monthly_total": str(review.monthly_total),
            "on_behalf": requested_for.pk != user.pk,
        },
        at=now,
        basket=basket,
    )
    Basket.objects.filter(pk=basket.pk).update(
        status=Basket.Status.SUBMITTED, submitted_at=now
    )
    return service_request


def _category_titles(line_reviews) -> dict[str, str]:
    """Titles of the lines' categories by tree path, in one query."""
    paths = {r.line.service.path[: -ServicePage.steplen] for r in line_reviews}
    return dict(
        CategoryPage.objects.filter(path__in=paths).values_list("path", "title")
    )


def _calendar_versions(line_reviews) -> dict:
    """The current version of each calendar the lines' service levels use."""
    from catalog.services.service_levels import calendar_versions

    return calendar_versions(
        r.line.service.service_level.calendar_id
        for r in line_reviews
        if r.line.service.service_level_id
    )


def _item_from_line(line_review, categories, versions, *, now) -> RequestItem:
    line = line_review.line
    service = line.service
    level = service.service_level
    group = service.fulfilment_group
    return RequestItem(
        service=service,
        service_name=service.title,
        category_name=categories.get(service.path[: -ServicePage.steplen], ""),
        quantity=line.quantity,
        one_off_price=line_review.one_off_price,
        monthly_price=line_review.monthly_price,
        currency=settings.CATALOG_CURRENCY,
        requires_approval=service.requires_approval,
        answers=line.answers,
        **RequestItem.service_level_snapshot(
            level, group, versions.get(level.calendar_id) if level else None
        ),
        fulfilment_group=group,
        fulfilment_group_name=group.name if group else "",
        status=ItemStatus.SUBMITTED,  # request_open applies the approval policy
        created_at=now,
        status_changed_at=now,
    )
