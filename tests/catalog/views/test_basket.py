"""Basket pages when checkout sends the basket in the middle of a change: the
person is told what happened and nothing is lost."""

import pytest
from django.contrib.messages import get_messages

from catalog.models import Basket, BasketLine, ServiceRequest
from catalog.selectors.basket import basket_review
from catalog.services import basket as basket_service
from catalog.services.basket import basket_get_or_create, basket_line_add
from catalog.services.checkout import request_submit
from catalog.views import basket as basket_views
from tests.conftest import LAPTOP_ANSWERS

pytestmark = pytest.mark.django_db


def send_basket(user):
    review = basket_review(user=user)
    return request_submit(
        user=user,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="My laptop died.",
    ).service_request


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def laptop_line(employee, catalog):
    return basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )


@pytest.fixture
def sent_after_the_page_read(employee, monkeypatch):
    """Checkout sends the basket between the view's read of the line and the
    service's write: the view is the same, only the service call comes later."""
    sent = []

    def sending_first(service):
        def call(**kwargs):
            sent.append(send_basket(employee))
            return service(**kwargs)

        return call

    for name in ("basket_line_update", "basket_line_remove"):
        monkeypatch.setattr(
            basket_views, name, sending_first(getattr(basket_service, name))
        )
    return sent


def test_an_edit_to_a_just_sent_basket_says_so(
    employee_client, laptop_line, sent_after_the_page_read
):
    response = employee_client.post(
        f"/basket/lines/{laptop_line.pk}/edit/",
        {**LAPTOP_ANSWERS, "quantity": "3"},
    )
    (sent,) = sent_after_the_page_read
    assert response.status_code == 302
    assert response["Location"] == "/basket/"
    assert messages_of(response) == [
        f"That basket was just sent as request {sent.number}; your change was not "
        "applied."
    ]
    laptop_line.refresh_from_db()
    assert laptop_line.quantity == 1
    assert list(sent.items.values_list("quantity", flat=True)) == [1]


def test_a_removal_from_a_just_sent_basket_says_so(
    employee_client, laptop_line, sent_after_the_page_read
):
    response = employee_client.post(f"/basket/lines/{laptop_line.pk}/remove/")
    (sent,) = sent_after_the_page_read
    assert response.status_code == 302
    assert messages_of(response) == [
        f"That basket was just sent as request {sent.number}; your change was not "
        "applied."
    ]
    assert BasketLine.objects.filter(pk=laptop_line.pk).exists()


def test_an_add_racing_checkout_is_in_the_new_basket(
    employee, employee_client, catalog, laptop_line, monkeypatch
):
    seen = basket_get_or_create(user=employee)
    sent = send_basket(employee)
    real_get_or_create = basket_service.basket_get_or_create
    reads = iter([seen])  # the add read the basket before checkout sent it
    monkeypatch.setattr(
        basket_service,
        "basket_get_or_create",
        lambda *, user: next(reads, None) or real_get_or_create(user=user),
    )

    response = employee_client.post(f"/basket/add/{catalog['password'].pk}/")

    assert messages_of(response) == ["Reset a forgotten password is in your basket."]
    basket = Basket.objects.get(owner=employee, status=Basket.Status.OPEN)
    assert list(basket.lines.values_list("service_name", flat=True)) == [
        "Reset a forgotten password"
    ]
    assert ServiceRequest.objects.get() == sent
    assert list(sent.items.values_list("service_name", flat=True)) == ["New laptop"]
