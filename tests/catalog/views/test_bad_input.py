"""Bad input on the portal's pages: a message saying what to do, or a 4xx page
with words on it, never a 500, and nothing changed.

The NUL byte cases fail on PostgreSQL without their fixes, the oversized numbers
on SQLite; both databases run them."""

import re

import pytest
from django.contrib.auth.models import Group

from catalog.forms import PlainTextMixin
from catalog.models import Basket, BasketLine, FulfilmentGroup, RequestItem
from catalog.services.text import NUL_MESSAGE
from catalog.views.forms import STALE_CHECKOUT
from tests.conftest import order
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BIG = "9" * 30
NUL = "a\x00b"


def text_of(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", body.replace("&#x27;", "'").replace("&quot;", '"'))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- NUL bytes ---------------------------------------------------------------------


def test_a_nul_byte_in_a_comment_is_refused_with_what_to_do(
    employee_client, employee, catalog
):
    service_request = order(employee, catalog, "password")
    response = employee_client.post(
        f"/requests/{service_request.pk}/comment/", {"text": NUL}
    )
    assert response.status_code == 400
    assert NUL_MESSAGE in text_of(response)
    assert "Null characters are not allowed" not in text_of(response)
    assert service_request.events.filter(name="request.commented").count() == 0


def test_a_nul_byte_in_a_cancel_note_says_what_to_do(
    employee_client, employee, catalog
):
    item = order(employee, catalog, "password").items.get()
    response = employee_client.post(
        f"/requests/items/{item.pk}/cancel/",
        {"note": NUL, "request_id": str(item.request_id)},
        follow=True,
    )
    assert messages_of(response) == [NUL_MESSAGE]
    item.refresh_from_db()
    assert item.status == "submitted"


def test_a_removal_reason_with_a_nul_byte_says_what_to_do(
    employee_client, employee, catalog
):
    item = order(employee, catalog, "laptop").items.get()
    RequestItem.objects.filter(pk=item.pk).update(status="fulfilled")
    response = employee_client.post(f"/my-services/{item.pk}/remove/", {"reason": NUL})
    assert response.status_code == 400
    assert NUL_MESSAGE in text_of(response)
    assert not RequestItem.objects.filter(removes_item=item).exists()


def test_searching_for_a_person_with_a_nul_byte_is_refused(
    manager_client, a_manager, catalog, order_on_behalf
):
    from catalog.services.basket import basket_line_add

    basket_line_add(user=a_manager, service_id=catalog["password"].pk, data={})
    response = manager_client.get("/checkout/", {"for_q": NUL})
    assert response.status_code == 200
    assert messages_of(response) == [f"We couldn't search for that name. {NUL_MESSAGE}"]
    response = manager_client.get("/approvals/substitutes/", {"q": NUL})
    assert response.status_code == 200
    assert messages_of(response) == [f"We couldn't search for that name. {NUL_MESSAGE}"]


def test_finding_people_by_a_name_with_a_nul_byte_finds_nobody(employee):
    from django.contrib.auth import get_user_model

    from catalog.selectors.people import people_matching

    assert list(people_matching(get_user_model().objects.all(), "Pat\x00")) == []


def test_every_text_field_of_a_plain_text_form_gets_the_message():
    from django import forms

    class Sample(PlainTextMixin, forms.Form):
        name = forms.CharField()

    form = Sample({"name": NUL})
    assert not form.is_valid()
    assert form.errors["name"] == [NUL_MESSAGE]


def test_an_executive_filter_with_a_nul_byte_is_a_field_error(client, finance):
    chief = UserFactory(groups=[Group.objects.get(name="Administrator")])
    client.force_login(chief)
    response = client.get("/executive/", {"service": NUL})
    assert response.status_code == 400
    assert "Choose a service from the list." in text_of(response)


# --- Numbers too large for the database -----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/requests/{BIG}/",
        f"/requests/{'9' * 19}/",
        f"/basket/lines/{BIG}/edit/",
        f"/requests/items/{BIG}/rate/",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(employee_client, url):
    assert employee_client.get(url).status_code == 404


def test_adding_a_service_with_an_id_too_large_is_not_found(employee_client, catalog):
    response = employee_client.post(f"/basket/add/{BIG}/", {})
    assert response.status_code == 404
    assert BasketLine.objects.count() == 0


def test_a_category_filter_too_large_is_a_field_error(employee_client, catalog):
    response = employee_client.get("/services/", {"category": BIG})
    assert response.status_code == 200


def test_a_bill_month_too_large_is_a_field_error(client, finance):
    chief = UserFactory(groups=[Group.objects.get(name="Administrator")])
    client.force_login(chief)
    response = client.get("/executive/bill/", {"month": f"2025-{BIG}"})
    assert response.status_code == 400
    assert "Enter the month as year and month" in text_of(response)


@pytest.fixture
def queue_item(employee, catalog):
    team = FulfilmentGroup.objects.create(name="Hardware")
    fixer = UserFactory(username="fixer", groups=[Group.objects.get(name="Fulfiller")])
    team.members.add(fixer)
    catalog["password"].__class__.objects.filter(pk=catalog["password"].pk).update(
        fulfilment_group=team
    )
    item = order(employee, catalog, "password").items.get()
    return item, fixer


def test_assigning_items_with_ids_too_large_changes_nothing(client, queue_item):
    item, fixer = queue_item
    client.force_login(fixer)
    response = client.post(
        "/queue/assign/", {"items": [str(item.pk), BIG], "assignee": "me"}
    )
    assert response.status_code == 302
    assert messages_of(client.get(response["Location"])) == [
        "Tick the items to assign from the list."
    ]
    response = client.post("/queue/assign/", {"items": [str(item.pk)], "assignee": BIG})
    assert response.status_code == 302
    assert RequestItem.objects.get(pk=item.pk).assigned_to_id is None


def test_a_queue_search_too_long_for_sqlite_is_a_field_error(client, queue_item):
    item, fixer = queue_item
    client.force_login(fixer)
    response = client.get("/queue/", {"service": "x" * 100_000})
    assert response.status_code == 200
    assert "Type at most 255 characters of its name." in text_of(response)


# --- A checkout page that was out of date or altered ----------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"basket": "junk"},
        {"basket": BIG},
        {"basket": ""},
        {"fingerprint": ""},
        {"fingerprint": "x" * 200},
        {"requested_for": BIG},
    ],
)
def test_a_wrong_hidden_checkout_field_says_what_happened_and_keeps_the_basket(
    employee_client, employee, catalog, changes
):
    from catalog.selectors.basket import basket_review
    from catalog.services.basket import basket_line_add

    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    review = basket_review(user=employee)
    data = {
        "basket": str(review.basket.pk),
        "fingerprint": review.fingerprint,
        "business_reason": "For work.",
        **changes,
    }
    response = employee_client.post("/checkout/", data)
    assert response.status_code == 400
    page = text_of(response)
    assert STALE_CHECKOUT in page
    assert 'href="/basket/">Back to your basket</a>' in response.content.decode()
    assert "Enter a whole number" not in page
    assert "This field is required" not in page
    basket = Basket.objects.get(owner=employee)
    assert basket.status == Basket.Status.OPEN
    assert list(basket.lines.values_list("service_id", flat=True)) == [
        catalog["password"].pk
    ]
    # The page offers the current basket again: submitting it now works.
    form = response.context["form"]
    assert form.data["basket"] == review.basket.pk
    assert form.data["fingerprint"] == review.fingerprint


# --- Not allowed now ------------------------------------------------------------------


def test_cancelling_an_item_already_started_is_a_message_on_the_request_page(
    employee_client, employee, catalog
):
    item = order(employee, catalog, "password").items.get()
    RequestItem.objects.filter(pk=item.pk).update(status="in_progress")
    response = employee_client.post(
        f"/requests/items/{item.pk}/cancel/",
        {"request_id": str(item.request_id)},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{item.request_id}/"
    page = employee_client.get(response["Location"])
    assert messages_of(page) == [
        f"{item.number} can't be cancelled any more: work on it has started. "
        "Add a comment if you no longer need it."
    ]


def test_rating_before_delivery_is_a_message(employee_client, employee, catalog):
    item = order(employee, catalog, "password").items.get()
    response = employee_client.post(
        f"/requests/items/{item.pk}/rate/", {"rating": "5"}, follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == [
        "Only delivered items can be rated, and this one isn't delivered yet."
    ]


# --- Error pages ---------------------------------------------------------------------


def test_error_pages_speak_to_the_customer(employee_client, employee, rf):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = employee
    for template, words in [
        ("400.html", "Something was wrong with that request"),
        ("403.html", "You can't do that"),
        ("404.html", "We can't find that page"),
        ("403_csrf.html", "That page had expired"),
    ]:
        html = render_to_string(template, {}, request=request)
        assert words in html.replace("&#x27;", "'")
    assert employee_client.get("/no-such-page/").status_code == 404


def test_a_form_sent_without_its_security_token_explains_itself(employee):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(employee)
    response = client.post("/requests/1/comment/", {"text": "Hello"})
    assert response.status_code == 403
    assert "That page had expired" in response.content.decode()
