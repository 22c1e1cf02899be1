"""The cluster benchmark submits the checkout form as a browser would, reading
its fields from the page: if the form changes, these fail before the benchmark
quietly measures 400s."""

import pytest
from django.test import Client

from bench.cluster import ALREADY_SUBMITTED, FormFields
from catalog.models import ServiceRequest
from catalog.services.basket import basket_line_add

pytestmark = pytest.mark.django_db


def test_fields_read_from_the_checkout_page_submit_once_and_repeat(employee, catalog):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(employee)
    parser = FormFields("checkout-form")
    parser.feed(browser.get("/checkout/").content.decode())
    form = parser.fields
    assert {"csrfmiddlewaretoken", "basket", "fingerprint", "business_reason"} <= set(
        form
    )
    assert form["requested_for"] == str(employee.pk)
    assert form["cost_centre"] == ""  # the department's, as the page offers
    form["business_reason"] = "Locked out"

    first = browser.post("/checkout/", form)
    again = browser.post("/checkout/", form)

    request = ServiceRequest.objects.get()
    assert first.status_code == again.status_code == 302
    assert first.url == again.url == f"/requests/{request.pk}/submitted/"
    page = browser.get(again.url).content.decode()
    assert request.number in page and ALREADY_SUBMITTED in page


def test_form_fields_are_what_a_browser_sends():
    parser = FormFields("wanted")
    parser.feed(
        '<form class="other"><input name="elsewhere" value="x"></form>'
        '<form method="post" class="wanted">'
        '<input type="hidden" name="token" value="t">'
        '<input type="checkbox" name="ticked" value="on" checked>'
        '<input type="checkbox" name="unticked" value="on">'
        '<input type="radio" name="who" value="1"><input type="radio" name="who" '
        'value="2" checked>'
        '<select name="first"><option value="">Any</option><option value="3">3'
        "</option></select>"
        '<select name="chosen"><option value="a">A</option><option value="b" '
        "selected>B</option></select>"
        '<textarea name="reason">Because</textarea>'
        '<button type="submit" name="go" value="1">Go</button>'
        "</form>"
    )
    assert parser.fields == {
        "token": "t",
        "ticked": "on",
        "who": "2",
        "first": "",
        "chosen": "b",
        "reason": "Because",
    }
