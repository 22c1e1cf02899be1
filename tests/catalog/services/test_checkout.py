"""Checkout: the happy path, on behalf of someone, idempotency, and failures that
leave everything as it was."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog.exceptions import BasketChanged, BasketEmpty, InvalidCheckout
from catalog.models import (
    Basket,
    BasketLine,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceRequest,
)
from catalog.selectors.basket import basket_review
from catalog.services import checkout
from catalog.services.basket import basket_get_or_create, basket_line_add
from catalog.services.checkout import request_submit
from catalog.services.request_log import request_log_verify
from tests.concurrency import at_once
from tests.conftest import LAPTOP_ANSWERS
from tests.factories import CostCentreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled_basket(employee, catalog):
    basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "2"},
    )
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    return basket_review(user=employee)


def submit(user, review, **overrides):
    arguments = {
        "user": user,
        "basket_id": review.basket.pk,
        "expected_fingerprint": review.fingerprint,
        "business_reason": "My laptop died.",
        **overrides,
    }
    return request_submit(**arguments)


def nothing_was_submitted(basket):
    basket.refresh_from_db()
    return (
        basket.status == Basket.Status.OPEN
        and not ServiceRequest.objects.exists()
        and not RequestItem.objects.exists()
        and not RequestEvent.objects.exists()
    )


def test_checkout_creates_request_items_and_first_events(employee, filled_basket):
    result = submit(employee, filled_basket)
    service_request = result.service_request
    assert result.created
    assert service_request.number == f"REQ-{service_request.pk:06d}"
    assert service_request.requested_by == employee == service_request.requested_for
    assert service_request.cost_centre == employee.profile.department.cost_centre
    assert service_request.department == employee.profile.department
    laptop, password = service_request.items.order_by("line_number")
    assert laptop.number == f"{service_request.number}-1"
    assert (laptop.service_name, laptop.quantity) == ("New laptop", 2)
    assert laptop.one_off_price == Decimal("1200")
    assert laptop.service_level_name == "Standard"
    assert laptop.resolution_target_hours == Decimal("16")
    assert laptop.status == ItemStatus.AWAITING_APPROVAL
    assert password.status == ItemStatus.SUBMITTED
    assert laptop.answers[0]["label"] == "Which model?"
    names = list(
        service_request.events.order_by("sequence").values_list("name", flat=True)
    )
    assert names == [
        "request.submitted",
        "item.created",
        "item.created",
        "approval.requested",
    ]
    assert list(request_log_verify()) == []
    filled_basket.basket.refresh_from_db()
    assert filled_basket.basket.status == Basket.Status.SUBMITTED


def test_item_survives_the_service_being_deleted(employee, filled_basket, catalog):
    service_request = submit(employee, filled_basket).service_request
    catalog["password"].delete()
    item = service_request.items.get(line_number=2)
    assert item.service is None
    assert item.service_name == "Reset a forgotten password"


def test_checkout_twice_creates_one_request(employee, filled_basket):
    first = submit(employee, filled_basket)
    second = submit(employee, filled_basket)
    assert not second.created
    assert second.service_request.pk == first.service_request.pk
    assert ServiceRequest.objects.count() == 1
    assert RequestItem.objects.count() == 2


def test_manager_orders_on_behalf_of_someone(
    a_manager, employee, catalog, order_on_behalf, reports_to_manager
):
    basket_line_add(user=a_manager, service_id=catalog["starter"].pk, data={})
    review = basket_review(user=a_manager)
    service_request = submit(a_manager, review, requested_for=employee).service_request
    assert service_request.requested_by == a_manager
    assert service_request.requested_for == employee
    assert service_request.cost_centre == employee.profile.department.cost_centre
    assert (
        service_request.events.get(name="request.submitted").data["on_behalf"] is True
    )


def test_ordering_for_someone_else_needs_permission(employee, filled_basket, a_manager):
    with pytest.raises(InvalidCheckout) as exc:
        submit(employee, filled_basket, requested_for=a_manager)
    assert "requested_for" in exc.value.errors
    assert nothing_was_submitted(filled_basket.basket)


def test_chosen_cost_centre_is_used(employee, filled_basket):
    other = CostCentreFactory(code="CC-7777")
    service_request = submit(employee, filled_basket, cost_centre=other).service_request
    assert service_request.cost_centre == other


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"business_reason": "   "}, "business_reason"),
        ({"business_reason": "x" * 2001}, "business_reason"),
    ],
)
def test_invalid_details_change_nothing(employee, filled_basket, overrides, field):
    with pytest.raises(InvalidCheckout) as exc:
        submit(employee, filled_basket, **overrides)
    assert field in exc.value.errors
    assert nothing_was_submitted(filled_basket.basket)


def test_closed_cost_centre_is_refused(employee, filled_basket):
    closed = CostCentreFactory(code="CC-0000", active=False)
    with pytest.raises(InvalidCheckout):
        submit(employee, filled_basket, cost_centre=closed)
    assert nothing_was_submitted(filled_basket.basket)


def test_price_change_since_review_is_refused(employee, filled_basket, catalog):
    page = catalog["laptop"]
    page.one_off_price = Decimal("999")
    page.save_revision().publish()
    with pytest.raises(BasketChanged):
        submit(employee, filled_basket)
    assert nothing_was_submitted(filled_basket.basket)
    # Confirming the new figures goes through, at the new price.
    service_request = submit(employee, basket_review(user=employee)).service_request
    assert service_request.items.get(line_number=1).one_off_price == Decimal("999")


def test_suspended_service_blocks_checkout(employee, filled_basket, catalog):
    page = catalog["password"]
    page.orderable = False
    page.not_orderable_reason = "Maintenance."
    page.save_revision().publish()
    with pytest.raises(BasketChanged):
        submit(employee, basket_review(user=employee))
    assert nothing_was_submitted(filled_basket.basket)


def test_lost_entitlement_blocks_checkout(employee, filled_basket, catalog, finance):
    page = catalog["password"]
    page.restricted_to_departments.set([finance])
    page.save_revision().publish()
    with pytest.raises(BasketChanged):
        submit(employee, basket_review(user=employee))
    assert nothing_was_submitted(filled_basket.basket)


def test_empty_basket_is_refused(employee):
    basket = basket_get_or_create(user=employee)
    with pytest.raises(BasketEmpty):
        request_submit(
            user=employee,
            basket_id=basket.pk,
            expected_fingerprint="",
            business_reason="x",
        )
    assert nothing_was_submitted(basket)


def test_someone_elses_basket_is_refused(employee, finance_londoner, filled_basket):
    with pytest.raises(BasketEmpty):
        submit(finance_londoner, filled_basket)
    assert nothing_was_submitted(filled_basket.basket)


def test_failure_half_way_leaves_nothing(employee, filled_basket, monkeypatch):
    real_append = checkout.events_append

    def fail_after_the_first_events(**kwargs):
        real_append(**kwargs)  # the request, its items and first events are in
        raise RuntimeError("disk full")

    monkeypatch.setattr(checkout, "events_append", fail_after_the_first_events)
    with pytest.raises(RuntimeError):
        submit(employee, filled_basket)
    assert nothing_was_submitted(filled_basket.basket)
    assert BasketLine.objects.filter(basket=filled_basket.basket).count() == 2


def test_confirmation_email_is_sent_after_commit(
    employee, filled_basket, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        service_request = submit(employee, filled_basket).service_request
        assert mailoutbox == []  # nothing before commit
    assert len(callbacks) == 1
    for callback in callbacks:
        callback()
    (mail,) = mailoutbox
    assert service_request.number in mail.subject
    assert mail.to == [employee.email]
    assert "New laptop" in mail.body


def test_no_email_when_checkout_fails(employee, filled_basket, mailoutbox):
    with pytest.raises(InvalidCheckout):
        submit(employee, filled_basket, business_reason="")
    assert mailoutbox == []


def test_a_broken_mail_server_does_not_lose_the_request(
    employee, filled_basket, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.broken_mail.Backend"
    with django_capture_on_commit_callbacks(execute=True):
        result = submit(employee, filled_basket)
    assert ServiceRequest.objects.filter(pk=result.service_request.pk).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    "sqlite" in connection.settings_dict["ENGINE"],
    reason="row locks across threads need PostgreSQL",
)
def test_concurrent_submits_create_one_request(employee, catalog):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    review = basket_review(user=employee)
    results, errors = at_once(lambda: submit(employee, review), 6)
    assert errors == []
    assert ServiceRequest.objects.count() == 1
    assert sum(r.created for r in results) == 1
    assert {r.service_request.pk for r in results} == {ServiceRequest.objects.get().pk}


def test_on_behalf_the_recipient_must_be_allowed_the_service(
    finance_londoner, employee, catalog, order_on_behalf, managers
):
    finance_londoner.groups.add(managers)
    employee.profile.manager = finance_londoner
    employee.profile.save()
    basket_line_add(
        user=finance_londoner, service_id=catalog["finance_system"].pk, data={}
    )
    review = basket_review(user=finance_londoner)
    with pytest.raises(InvalidCheckout) as exc:
        submit(finance_londoner, review, requested_for=employee)
    assert "Access to the finance system" in exc.value.errors["requested_for"][0]
    assert nothing_was_submitted(review.basket)


def test_group_restrictions_apply_to_the_orderer_not_the_recipient(
    a_manager, employee, catalog, order_on_behalf, reports_to_manager
):
    # Only managers may order a new starter bundle; the starter is not a manager.
    basket_line_add(user=a_manager, service_id=catalog["starter"].pk, data={})
    result = submit(a_manager, basket_review(user=a_manager), requested_for=employee)
    assert result.created


def test_checkout_queries_do_not_grow_with_the_lines(
    employee, catalog, django_assert_max_num_queries
):
    def basket_of(n):
        for _ in range(n):
            basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
        return basket_review(user=employee)

    submit(employee, basket_of(1))  # warm caches that live for the process
    single = basket_of(1)
    with django_assert_max_num_queries(40) as one:
        submit(employee, single)
    several = basket_of(3)
    with django_assert_max_num_queries(44) as three:
        submit(employee, several)
    # The first log events of all lines go in one insert; a line adds at most
    # a few queries elsewhere.
    assert len(three.captured_queries) - len(one.captured_queries) <= 4
