"""Ordering through the browser's eyes: basket, checkout, my requests and my
services, including bad input and query budgets."""

import re

import pytest

from catalog.models import Basket, BasketLine, ItemStatus, RequestItem, ServiceRequest
from catalog.services.basket import basket_line_add
from tests.conftest import LAPTOP_ANSWERS, order

pytestmark = pytest.mark.django_db


def add_url(service):
    return f"/basket/add/{service.pk}/"


def checkout_form(client):
    html = client.get("/checkout/").content.decode()
    return {
        "basket": re.search(r'name="basket" value="(\d+)"', html).group(1),
        "fingerprint": re.search(r'name="fingerprint" value="(\w+)"', html).group(1),
    }


def test_service_page_offers_the_request_form(employee_client, catalog):
    html = employee_client.get(catalog["laptop"].url).content.decode()
    assert "Which model?" in html and 'name="q_model"' in html
    assert 'name="quantity"' in html and "Add to basket" in html


def test_add_to_basket_and_see_the_count(employee_client, catalog):
    response = employee_client.post(
        add_url(catalog["laptop"]), {**LAPTOP_ANSWERS, "quantity": "2"}
    )
    assert response.status_code == 302 and response.url == "/basket/"
    html = employee_client.get("/basket/").content.decode()
    assert "New laptop" in html and "Performance" in html
    assert "€2,400" in html and "€30" in html
    assert 'class="basket-count" aria-label="1 in basket">1<' in html


def test_missing_answer_is_shown_next_to_the_field(employee_client, catalog):
    response = employee_client.post(
        add_url(catalog["laptop"]), {"q_model": "", "quantity": "9"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose which model" in html
    assert "Choose Yes or No for “Move your files?”" in html
    assert "This field is required." not in html
    assert "You can order at most 3 at once." in html
    assert not BasketLine.objects.exists()


@pytest.mark.parametrize("key", ["finance_system", "london_kit"])
def test_adding_a_service_not_entitled_is_404(employee_client, catalog, key):
    response = employee_client.post(add_url(catalog[key]), {})
    assert response.status_code == 404
    assert not BasketLine.objects.exists()


def test_adding_unknown_service_is_404(employee_client, catalog):
    assert employee_client.post("/basket/add/999999/", {}).status_code == 404


def test_adding_needs_post(employee_client, catalog):
    assert employee_client.get(add_url(catalog["password"])).status_code == 405


def test_oversized_answer_is_refused(employee_client, catalog):
    page = catalog["password"]
    page.request_form = [
        {
            "type": "short_text",
            "id": "who",
            "value": {
                "label": "Account",
                "help_text": "",
                "required": True,
                "max_length": 50,
            },
        }
    ]
    page.save_revision().publish()
    response = employee_client.post(add_url(page), {"q_who": "x" * 100_000})
    assert response.status_code == 400
    assert (
        "Keep your answer to 50 characters or fewer (you wrote 100000)"
        in response.content.decode()
    )
    assert not BasketLine.objects.exists()


def test_suspended_service_add_shows_a_message(employee_client, catalog):
    page = catalog["password"]
    page.orderable = False
    page.not_orderable_reason = "Tool upgrade."
    page.save_revision().publish()
    response = employee_client.post(add_url(page), {}, follow=True)
    assert "Tool upgrade." in response.content.decode()
    assert not BasketLine.objects.exists()


def test_messages_are_announced_errors_as_alerts(employee_client, catalog):
    added = employee_client.post(
        add_url(catalog["laptop"]), {**LAPTOP_ANSWERS, "quantity": "1"}, follow=True
    )
    assert (
        '<p class="message message--success" role="status">'
        "New laptop is in your basket.</p>" in added.content.decode()
    )
    page = catalog["password"]
    page.orderable = False
    page.not_orderable_reason = "Tool upgrade."
    page.save_revision().publish()
    refused = employee_client.post(add_url(page), {}, follow=True).content.decode()
    assert re.search(
        r'<p class="message message--error" role="alert">[^<]*Tool upgrade', refused
    )


def test_edit_a_line(employee_client, employee, catalog):
    line = basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    url = f"/basket/lines/{line.pk}/edit/"
    html = employee_client.get(url).content.decode()
    assert 'value="Performance" selected' in html
    response = employee_client.post(
        url, {"q_model": "Standard", "q_move-files": "no", "quantity": "2"}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.quantity == 2 and line.answers[0]["value"] == "Standard"


def test_bad_edit_changes_nothing(employee_client, employee, catalog):
    line = basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    response = employee_client.post(
        f"/basket/lines/{line.pk}/edit/", {"q_model": "Nope", "quantity": "0"}
    )
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == 1 and line.answers[0]["value"] == "Performance"


def test_someone_elses_line_is_404(employee_client, finance_londoner, catalog):
    line = basket_line_add(
        user=finance_londoner, service_id=catalog["password"].pk, data={}
    )
    assert employee_client.get(f"/basket/lines/{line.pk}/edit/").status_code == 404
    assert employee_client.post(f"/basket/lines/{line.pk}/remove/").status_code == 404
    assert BasketLine.objects.filter(pk=line.pk).exists()


def test_remove_a_line(employee_client, employee, catalog):
    line = basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    response = employee_client.post(f"/basket/lines/{line.pk}/remove/", follow=True)
    assert "was removed from your basket" in response.content.decode()
    assert not BasketLine.objects.exists()


def test_checkout_with_an_empty_basket_goes_back_to_the_basket(employee_client):
    response = employee_client.get("/checkout/")
    assert response.status_code == 302 and response.url == "/basket/"


def test_checkout_submits_and_confirms(
    employee_client, employee, catalog, mailoutbox, django_capture_on_commit_callbacks
):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    form = checkout_form(employee_client)
    with django_capture_on_commit_callbacks(execute=True):
        response = employee_client.post(
            "/checkout/",
            {**form, "requested_for": employee.pk, "business_reason": "Locked out"},
        )
    request = ServiceRequest.objects.get()
    assert response.url == f"/requests/{request.pk}/submitted/"
    html = employee_client.get(response.url).content.decode()
    assert request.number in html
    assert len(mailoutbox) == 1
    # The same form again (double click, second tab): no second request.
    again = employee_client.post(
        "/checkout/",
        {**form, "requested_for": employee.pk, "business_reason": "Locked out"},
    )
    assert again.url == f"/requests/{request.pk}/submitted/"
    assert ServiceRequest.objects.count() == 1


def test_checkout_missing_reason_keeps_the_basket(employee_client, employee, catalog):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    response = employee_client.post(
        "/checkout/",
        {
            **checkout_form(employee_client),
            "requested_for": employee.pk,
            "business_reason": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    message = "Enter why this is needed"
    assert f'<a href="#id_business_reason">{message}</a>' in html
    assert (
        '<p class="field__error" id="id_business_reason_error">'
        f'<span class="visually-hidden">Error:</span> {message}</p>'
    ) in html
    textarea = re.search(r'<textarea name="business_reason"[^>]*>', html).group()
    assert 'aria-invalid="true"' in textarea
    assert (
        'aria-describedby="id_business_reason_helptext id_business_reason_error"'
        in textarea
    )
    assert 'id="id_business_reason_helptext"' in html
    assert "<title>Error: Check out · IT Services</title>" in html
    assert not ServiceRequest.objects.exists()
    assert Basket.objects.get().status == Basket.Status.OPEN


def test_checkout_tampered_basket_id_submits_nothing(
    employee_client, employee, finance_londoner, catalog
):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    form = checkout_form(employee_client)
    basket_line_add(user=finance_londoner, service_id=catalog["password"].pk, data={})
    other = Basket.objects.get(owner=finance_londoner)
    response = employee_client.post(
        "/checkout/",
        {
            **form,
            "basket": other.pk,
            "requested_for": employee.pk,
            "business_reason": "x",
        },
    )
    assert response.status_code == 302 and response.url == "/basket/"
    assert not ServiceRequest.objects.exists()


def test_checkout_on_behalf_needs_permission(
    employee_client, employee, a_manager, catalog
):
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    response = employee_client.post(
        "/checkout/",
        {
            **checkout_form(employee_client),
            "requested_for": a_manager.pk,
            "business_reason": "x",
        },
    )
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()


def test_manager_checkout_for_employee(
    manager_client, a_manager, employee, catalog, order_on_behalf, reports_to_manager
):
    basket_line_add(user=a_manager, service_id=catalog["starter"].pk, data={})
    html = manager_client.get("/checkout/?for_q=" + employee.last_name).content.decode()
    assert "Who is it for?" in html and "Find a person" in html
    assert f'type="radio" name="requested_for" value="{employee.pk}"' in html
    response = manager_client.post(
        "/checkout/",
        {
            **checkout_form(manager_client),
            "requested_for": employee.pk,
            "business_reason": "New joiner",
        },
    )
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.requested_for == employee and request.requested_by == a_manager


def test_price_change_is_shown_before_anything_is_submitted(
    employee_client, employee, catalog
):
    basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    form = checkout_form(employee_client)
    page = catalog["laptop"]
    page.one_off_price = 1500
    page.save_revision().publish()
    response = employee_client.post(
        "/checkout/", {**form, "requested_for": employee.pk, "business_reason": "x"}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Prices have changed" in html and "€1,500" in html and "Was €1,200" in html
    assert not ServiceRequest.objects.exists()


def test_my_requests_lists_only_mine(
    employee_client, employee, finance_londoner, catalog
):
    mine = order(employee, catalog, "password")
    theirs = order(finance_londoner, catalog, "password")
    html = employee_client.get("/requests/").content.decode()
    assert mine.number in html and theirs.number not in html


def test_my_requests_says_no_charge_not_zero(employee_client, employee, catalog):
    order(employee, catalog, "password")
    order(employee, catalog, "laptop")
    html = employee_client.get("/requests/").content.decode()
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', html)
    # Newest first: the laptop (€1,200 and €15 a month), then the password reset.
    assert cells == ["€1,200", "€15", "No charge", "No charge"]
    assert "€0" not in html


def test_change_answers_only_where_there_is_something_to_change(
    employee_client, employee, catalog
):
    basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    password = basket_line_add(
        user=employee, service_id=catalog["password"].pk, data={}
    )
    html = employee_client.get("/basket/").content.decode()
    assert html.count(">Change answers</a>") == 1
    assert f"/basket/lines/{password.pk}/edit/" not in html
    assert "<dt>One-off</dt><dd>€1,200</dd>" in html


def test_a_quantity_without_questions_offers_change_how_many(
    employee_client, employee, catalog
):
    monitor = catalog["password"]
    monitor.max_quantity = 4
    monitor.save_revision().publish()
    line = basket_line_add(user=employee, service_id=monitor.pk, data={"quantity": "2"})
    html = employee_client.get("/basket/").content.decode()
    assert f'href="/basket/lines/{line.pk}/edit/">Change how many</a>' in html
    assert "Change answers" not in html
    assert "<dt>One-off</dt><dd>No charge</dd>" in html


def test_someone_elses_request_is_404(employee_client, finance_londoner, catalog):
    theirs = order(finance_londoner, catalog, "password")
    assert employee_client.get(f"/requests/{theirs.pk}/").status_code == 404
    assert employee_client.get(f"/requests/{theirs.pk}/submitted/").status_code == 404
    response = employee_client.post(f"/requests/{theirs.pk}/comment/", {"text": "hi"})
    assert response.status_code == 404
    item = theirs.items.get()
    employee_client.post(f"/requests/items/{item.pk}/cancel/")
    item.refresh_from_db()
    assert item.status == ItemStatus.SUBMITTED


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"status": "submitted"}, 1),
        ({"status": "fulfilled"}, 0),
        ({"status": "nonsense"}, 1),
        ({"submitted_from": "2000-01-01"}, 1),
        ({"submitted_from": "2999-01-01"}, 0),
        ({"submitted_from": "yesterday-ish"}, 1),
        ({"page": "abc"}, 1),
    ],
)
def test_my_requests_filters(employee_client, employee, catalog, params, count):
    order(employee, catalog, "password")
    response = employee_client.get("/requests/", params)
    assert response.status_code == 200
    assert len(response.context["requests"]) == count


def test_request_detail_shows_the_timeline_and_takes_comments(
    employee_client, employee, catalog
):
    request = order(employee, catalog, "laptop", "password")
    html = employee_client.get(f"/requests/{request.pk}/").content.decode()
    assert "submitted the request" in html
    assert "New laptop needs approval before we can start." in html
    assert "We received your order for Reset a forgotten password." in html
    # The overall state comes first, and the comment box before the timeline.
    assert html.index('id="summary-heading"') < html.index("request__items")
    assert html.index('id="comment"') < html.index("What has happened")
    response = employee_client.post(
        f"/requests/{request.pk}/comment/", {"text": "Silver, please."}, follow=True
    )
    assert "Silver, please." in response.content.decode()
    response = employee_client.post(f"/requests/{request.pk}/comment/", {"text": ""})
    assert response.status_code == 400
    assert request.events.filter(name="request.commented").count() == 1


def test_cancel_an_item_that_has_not_started(employee_client, employee, catalog):
    request = order(employee, catalog, "password")
    item = request.items.get()
    response = employee_client.post(f"/requests/items/{item.pk}/cancel/", follow=True)
    assert "was cancelled" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ItemStatus.CANCELLED


def test_cancel_after_work_started_is_refused(employee_client, employee, catalog):
    request = order(employee, catalog, "password")
    item = request.items.get()
    RequestItem.objects.filter(pk=item.pk).update(status=ItemStatus.IN_PROGRESS)
    response = employee_client.post(
        f"/requests/items/{item.pk}/cancel/", {"request_id": request.pk}, follow=True
    )
    assert "be cancelled any more: work on it has started" in (
        response.content.decode()
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_PROGRESS


def test_my_services_and_removal(employee_client, employee, catalog):
    request = order(employee, catalog, "laptop")
    item = request.items.get()
    RequestItem.objects.filter(pk=item.pk).update(status=ItemStatus.FULFILLED)
    html = employee_client.get("/my-services/").content.decode()
    assert "New laptop" in html and "€15" in html
    response = employee_client.post(
        f"/my-services/{item.pk}/remove/", {"reason": "Leaving"}, follow=True
    )
    assert "to remove it" in response.content.decode()
    assert RequestItem.objects.filter(removes_item=item).count() == 1
    assert "Removal requested" in employee_client.get("/my-services/").content.decode()


def test_removing_someone_elses_service_is_refused(
    employee_client, finance_londoner, catalog
):
    request = order(finance_londoner, catalog, "finance_system")
    item = request.items.get()
    RequestItem.objects.filter(pk=item.pk).update(status=ItemStatus.FULFILLED)
    response = employee_client.post(f"/my-services/{item.pk}/remove/")
    assert response.status_code == 404
    assert not RequestItem.objects.filter(removes_item=item).exists()


def _grow(user, catalog, n):
    for _ in range(n):
        order(user, catalog, "laptop", "password")


@pytest.mark.parametrize(
    ("url", "budget"),
    [("/basket/", 6), ("/requests/", 6), ("/my-services/", 4)],
)
def test_query_budgets_do_not_grow(
    employee_client, employee, catalog, django_assert_max_num_queries, url, budget
):
    _grow(employee, catalog, 2)
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    with django_assert_max_num_queries(budget) as small:
        assert employee_client.get(url).status_code == 200
    _grow(employee, catalog, 6)
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    basket_line_add(
        user=employee,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    RequestItem.objects.update(status=ItemStatus.FULFILLED)
    with django_assert_max_num_queries(budget) as large:
        assert employee_client.get(url).status_code == 200
    assert len(large.captured_queries) <= len(small.captured_queries)


def test_my_requests_by_status_query_budget(
    employee_client, employee, catalog, django_assert_max_num_queries
):
    _grow(employee, catalog, 2)
    RequestItem.objects.update(status=ItemStatus.FULFILLED)
    employee_client.get("/requests/")  # the site's routes, read once
    with django_assert_max_num_queries(6) as small:
        response = employee_client.get("/requests/?status=fulfilled")
    assert response.status_code == 200
    assert len(response.context["requests"]) == 2
    _grow(employee, catalog, 6)
    RequestItem.objects.update(status=ItemStatus.FULFILLED)
    with django_assert_max_num_queries(6) as large:
        response = employee_client.get("/requests/?status=fulfilled")
    assert len(response.context["requests"]) == 8
    assert len(large.captured_queries) == len(small.captured_queries)


def captured_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    return CaptureQueriesContext(connection)


def test_request_detail_query_budget(
    employee_client, employee, catalog, django_assert_max_num_queries
):
    # Both need approval (the laptop does): the page reads their steps.
    small = order(employee, catalog, "laptop")
    large = order(employee, catalog, "laptop", "password", "laptop")
    for _ in range(5):
        employee_client.post(f"/requests/{large.pk}/comment/", {"text": "ping"})
    # Warm the cache of the site's root paths (the header's link to the catalog
    # reads it once), so both counts are of the same, warm, page.
    employee_client.get(f"/requests/{small.pk}/")
    # The session, the request with its items, its log, its approval steps
    # and the header.
    with django_assert_max_num_queries(5) as few:
        employee_client.get(f"/requests/{small.pk}/")
    with django_assert_max_num_queries(5) as many:
        employee_client.get(f"/requests/{large.pk}/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_request_without_approvals_skips_reading_them(
    employee_client, employee, catalog
):
    no_approval = order(employee, catalog, "password")
    with_approval = order(employee, catalog, "laptop")
    employee_client.get(f"/requests/{no_approval.pk}/")  # warm, as above
    with captured_queries() as without:
        employee_client.get(f"/requests/{no_approval.pk}/")
    with captured_queries() as with_steps:
        html = employee_client.get(f"/requests/{with_approval.pk}/").content.decode()
    assert len(with_steps.captured_queries) == len(without.captured_queries) + 1
    assert 'SELECT "catalog_approvalstep"."id"' not in " ".join(
        q["sql"] for q in without.captured_queries
    )
    assert "Waiting for approval" in html


def test_a_tampered_price_in_the_form_is_ignored(employee_client, catalog):
    employee_client.post(
        add_url(catalog["laptop"]),
        {
            **LAPTOP_ANSWERS,
            "quantity": "1",
            "one_off_price": "0.01",
            "monthly_price": "0",
        },
    )
    line = BasketLine.objects.get()
    assert line.one_off_price == catalog["laptop"].one_off_price
    assert line.monthly_price == catalog["laptop"].monthly_price


# --- Checkout: who is it for? ---------------------------------------------------------


@pytest.fixture
def org(employee, a_manager, finance_londoner, order_on_behalf, reports_to_manager):
    """The manager's team: the employee, and a junior who reports to the employee
    (so to the manager, further down). The finance person is not in it."""
    from catalog.models import UserProfile
    from tests.factories import UserFactory

    def name(user, first, last):
        user.first_name, user.last_name = first, last
        user.save()
        return user

    junior = UserFactory(username="junior", first_name="Jack", last_name="Evans")
    UserProfile.objects.filter(user=junior).update(manager=employee)
    profile = UserProfile.objects.select_related("department__cost_centre").get(
        user=employee
    )
    cost_centre = profile.department.cost_centre
    cost_centre.code, cost_centre.name = "CC-2100", "Sales"
    cost_centre.save()
    return {
        "manager": name(a_manager, "Marcus", "Meyer"),
        "employee": name(employee, "Emma", "Evans"),
        "junior": junior,
        "outsider": name(finance_londoner, "Erin", "Evans"),
    }


def radios(html):
    """(value, checked) of each "who is it for" radio button, in order."""
    return [
        (int(value), bool(checked))
        for value, checked in re.findall(
            r'<input type="radio" name="requested_for" value="(\d+)"[^>]*?( checked)?>',
            html,
        )
    ]


def test_a_manager_finds_their_reports_direct_and_indirect_only(client, org, catalog):
    basket_line_add(user=org["manager"], service_id=catalog["password"].pk, data={})
    client.force_login(org["manager"])
    html = client.get("/checkout/", {"for_q": "evans"}).content.decode()
    # Myself first and chosen; then the matches among their reports, by name.
    assert radios(html) == [
        (org["manager"].pk, True),
        (org["employee"].pk, False),
        (org["junior"].pk, False),
    ]
    assert "Myself (Marcus Meyer)" in html
    assert "Erin" not in html


def test_with_order_for_anyone_the_search_finds_anyone(client, org, catalog):
    from django.contrib.auth.models import Permission

    assistant = org["manager"]
    assistant.user_permissions.add(Permission.objects.get(codename="order_for_anyone"))
    basket_line_add(user=assistant, service_id=catalog["password"].pk, data={})
    client.force_login(assistant)
    html = client.get("/checkout/", {"for_q": "evans"}).content.decode()
    assert radios(html) == [
        (assistant.pk, True),
        (org["employee"].pk, False),
        (org["outsider"].pk, False),
        (org["junior"].pk, False),
    ]


def test_someone_who_orders_only_for_themselves_has_no_picker(client, org, catalog):
    employee = org["employee"]
    basket_line_add(user=employee, service_id=catalog["password"].pk, data={})
    client.force_login(employee)
    html = client.get("/checkout/", {"for_q": "evans"}).content.decode()
    assert radios(html) == []
    assert "Find a person" not in html
    assert f'<input type="hidden" name="requested_for" value="{employee.pk}"' in html
    # Ordering for themselves: "your", and the cost centre by code and name.
    assert (
        "Charged to <strong>CC-2100 Sales</strong>, your department's cost centre."
        in html
    )
    assert "needs its owner's approval" in html


def test_ordering_for_someone_outside_the_team_is_refused_at_the_field(
    client, org, catalog
):
    manager = org["manager"]
    basket_line_add(user=manager, service_id=catalog["password"].pk, data={})
    client.force_login(manager)
    response = client.post(
        "/checkout/",
        {
            **checkout_form(client),
            "requested_for": org["outsider"].pk,
            "business_reason": "Cover",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    message = (
        "You can order for the people who report to you. Choose one of them, or "
        "yourself."
    )
    assert f'<a href="#id_requested_for_0">{message}</a>' in html
    assert 'id="id_requested_for_0"' in html
    assert re.search(
        r'<fieldset class="choice-group" aria-describedby="'
        r'id_requested_for_helptext id_requested_for_error">',
        html,
    )
    assert (
        '<p class="field__error" id="id_requested_for_error">'
        f'<span class="visually-hidden">Error:</span> {message}</p>'
    ) in html
    assert not ServiceRequest.objects.exists()


def test_the_chosen_person_stays_chosen_after_an_error(client, org, catalog):
    manager = org["manager"]
    basket_line_add(user=manager, service_id=catalog["password"].pk, data={})
    client.force_login(manager)
    response = client.post(
        "/checkout/",
        {
            **checkout_form(client),
            "for_q": "jack",
            "requested_for": org["employee"].pk,
            "business_reason": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert radios(html) == [
        (manager.pk, False),
        (org["employee"].pk, True),
        (org["junior"].pk, False),
    ]
    # The charge follows the chosen person.
    assert "Emma Evans's department's cost centre." in html
    assert "Their department&#x27;s cost centre: CC-2100 Sales</option>" in html
    assert not ServiceRequest.objects.exists()


def _hold_many(employee, catalog, how_many: int) -> dict[str, int]:
    """``employee`` holds ``how_many`` delivered monthly services: the laptop
    ordered once, then copies of it named "Service 02" and on. Their ids by name."""
    item = order(employee, catalog, "laptop").items.get()
    RequestItem.objects.filter(pk=item.pk).update(status=ItemStatus.FULFILLED)
    item.refresh_from_db()
    copies = []
    for number in range(2, how_many + 1):
        item.pk = None
        item.line_number = number
        item.service_name = f"Service {number:02d}"
        copies.append(
            RequestItem(
                **{
                    f.attname: getattr(item, f.attname)
                    for f in RequestItem._meta.concrete_fields
                }
            )
        )
    RequestItem.objects.bulk_create(copies)
    return dict(
        RequestItem.objects.filter(request=item.request).values_list(
            "service_name", "pk"
        )
    )


def test_my_services_comes_in_pages_of_25(employee_client, employee, catalog):
    _hold_many(employee, catalog, 27)
    first = employee_client.get("/my-services/").content.decode()
    # By name: "New laptop", then "Service 02" to "Service 25" on the first page.
    assert "New laptop" in first and "Service 25" in first
    assert "Service 26" not in first
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = employee_client.get("/my-services/?page=2").content.decode()
    assert "Service 26" in second and "Service 27" in second
    assert "Service 25" not in second and "New laptop" not in second
    assert "Page 2 of 2" in second


def test_the_removal_page_shows_what_is_given_up_and_asks_once(
    employee_client, employee, catalog, django_assert_max_num_queries
):
    ids = _hold_many(employee, catalog, 27)
    item_id = ids["Service 27"]
    html = employee_client.get("/my-services/?page=2").content.decode()
    assert f'href="/my-services/{item_id}/remove/"' in html
    with django_assert_max_num_queries(6):
        page = employee_client.get(f"/my-services/{item_id}/remove/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Remove Service 27</h1>" in html
    assert "Ask to remove it" in html and 'href="/my-services/">Keep it</a>' in html
    response = employee_client.post(
        f"/my-services/{item_id}/remove/", {"reason": "Moved teams"}, follow=True
    )
    removal = RequestItem.objects.get(removes_item_id=item_id)
    assert response.redirect_chain[-1][0] == f"/requests/{removal.request_id}/"
    # Asked already: the page says so and offers no form; a second post
    # (another tab) is refused with a message and changes nothing.
    html = employee_client.get(f"/my-services/{item_id}/remove/").content.decode()
    assert "You've already asked for this to be removed." in html
    assert "Ask to remove it" not in html
    response = employee_client.post(
        f"/my-services/{item_id}/remove/", {"reason": "Again"}, follow=True
    )
    assert "You&#x27;ve already asked for this to be removed." in (
        response.content.decode()
    )
    assert RequestItem.objects.filter(removes_item_id=item_id).count() == 1


def test_the_removal_page_of_someone_elses_service_is_not_found(
    employee_client, finance_londoner, catalog
):
    item = order(finance_londoner, catalog, "finance_system").items.get()
    RequestItem.objects.filter(pk=item.pk).update(status=ItemStatus.FULFILLED)
    assert employee_client.get(f"/my-services/{item.pk}/remove/").status_code == 404


def test_my_services_costs_the_same_queries_for_2_or_27_held(
    employee_client, employee, catalog
):
    _hold_many(employee, catalog, 2)
    employee_client.get("/my-services/")  # the site's routes, read once
    with captured_queries() as few:
        assert employee_client.get("/my-services/").status_code == 200
    _hold_many(employee, catalog, 25)
    with captured_queries() as many:
        assert employee_client.get("/my-services/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_my_requests_merges_for_me_and_by_me_newest_first(
    employee, finance_londoner, catalog
):
    """Requests for the person and those they ordered for someone else, read as
    two parts and merged: each once, newest first, across pages."""
    import datetime

    from django.http import QueryDict
    from django.utils import timezone

    from catalog.selectors.requests import my_requests

    start = timezone.now() - datetime.timedelta(days=30)
    expected = []
    for day in range(23):
        service_request = order(employee, catalog, "password")
        if day % 3 == 1:  # ordered by the employee for someone else
            ServiceRequest.objects.filter(pk=service_request.pk).update(
                requested_for=finance_londoner
            )
        elif day % 3 == 2:  # ordered by someone else for the employee
            ServiceRequest.objects.filter(pk=service_request.pk).update(
                requested_by=finance_londoner
            )
        ServiceRequest.objects.filter(pk=service_request.pk).update(
            submitted_at=start + datetime.timedelta(days=day)
        )
        expected.append(service_request.number)
    # Neither by nor for the employee.
    order(finance_londoner, catalog, "password")
    expected.reverse()  # newest first

    def numbers(page):
        found = my_requests(user=employee, params=QueryDict(f"page={page}"))
        return [r.number for r in found["requests"]], found["page_obj"]

    first, page_obj = numbers(1)
    second, _ = numbers(2)
    assert (page_obj.paginator.count, page_obj.paginator.num_pages) == (23, 2)
    assert first == expected[:20]
    assert second == expected[20:]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Submitted at 23:30 and 00:30 London summer time on 1 and 2 July 2026
        # (22:30 and 23:30 UTC on 1 July): days are the portal's, not UTC's.
        ({"submitted_to": "2026-07-01"}, ["late"]),
        ({"submitted_from": "2026-07-02"}, ["early"]),
        ({"submitted_from": "2026-07-01", "submitted_to": "2026-07-01"}, ["late"]),
        (
            {"submitted_from": "2026-07-01", "submitted_to": "2026-07-02"},
            ["early", "late"],
        ),
        ({"submitted_from": "2026-07-03"}, []),
    ],
)
def test_my_requests_dates_are_the_portals_days(employee, catalog, params, expected):
    import datetime

    from django.http import QueryDict

    from catalog.selectors.requests import my_requests

    utc = datetime.UTC
    names = {}
    for name, moment in (
        ("late", datetime.datetime(2026, 7, 1, 22, 30, tzinfo=utc)),
        ("early", datetime.datetime(2026, 7, 1, 23, 30, tzinfo=utc)),
    ):
        service_request = order(employee, catalog, "password")
        ServiceRequest.objects.filter(pk=service_request.pk).update(submitted_at=moment)
        names[service_request.number] = name
    query = QueryDict(mutable=True)
    query.update(params)
    found = my_requests(user=employee, params=query)["requests"]
    assert [names[r.number] for r in found] == expected
