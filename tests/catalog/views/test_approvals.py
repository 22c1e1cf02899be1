"""The approvals pages: what waits for whom, deciding item by item or a whole
request, bad and stale decisions, substitutes, the header count and query budgets."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission

from catalog.models import (
    ApprovalDelegation,
    ApprovalStep,
    ItemStatus,
    RequestEvent,
    UserProfile,
)
from catalog.selectors.basket import basket_review
from catalog.services.basket import basket_line_add
from catalog.services.checkout import request_submit
from tests.conftest import LAPTOP_ANSWERS, order
from tests.factories import GroupFactory, UserFactory, service_page

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Wednesday; the substitutes' dates below are around it.
NOW = datetime.datetime(2027, 3, 10, 10, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


@pytest.fixture
def emma(employee):
    return named(employee, "Emma", "Evans")


@pytest.fixture
def marcus(a_manager, emma):
    """Emma's manager: approves what she needs."""
    UserProfile.objects.filter(user=emma).update(
        manager=a_manager, job_title="Sales rep"
    )
    return named(a_manager, "Marcus", "Meyer")


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", first_name="Sam", last_name="Stand-in")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger", first_name="Stan", last_name="Ranger")


@pytest.fixture
def monitor(catalog):
    return service_page(
        catalog["computers"],
        "Second monitor",
        one_off_price=Decimal("220"),
        requires_approval=True,
    )


def order_for(user, person, catalog, *keys):
    for key in keys:
        data = {**LAPTOP_ANSWERS, "quantity": "1"} if key == "laptop" else {}
        basket_line_add(user=user, service_id=catalog[key].pk, data=data)
    review = basket_review(user=user)
    return request_submit(
        user=user,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        requested_for=person,
        business_reason="New joiner.",
    ).service_request


def step_of(service_request):
    return ApprovalStep.objects.get(request=service_request, status="pending")


def decide_url(step):
    return f"/approvals/steps/{step.pk}/decide/"


def decide(client, step, decision, note=""):
    prefix = f"step-{step.pk}"
    return client.post(
        decide_url(step), {f"{prefix}-decision": decision, f"{prefix}-note": note}
    )


def page(client, url="/approvals/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response):
    """The messages this response added (earlier ones may still be queued)."""
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


# --- Who sees what --------------------------------------------------------------------


@pytest.fixture
def world(emma, marcus, sam, stranger, finance_londoner, catalog):
    """Requests a, b, d and the people around them."""
    assistant = UserFactory(username="assistant")
    assistant.user_permissions.add(Permission.objects.get(codename="order_for_anyone"))
    late = UserFactory(username="late")
    it_approver = UserFactory(username="itapprover")
    it_approver.user_permissions.add(
        Permission.objects.get(codename="approve_any_request")
    )
    # Sam stands in for Marcus this week; Late only next month.
    ApprovalDelegation.objects.create(
        approver=marcus,
        substitute=sam,
        starts_on=datetime.date(2027, 3, 8),
        ends_on=datetime.date(2027, 3, 12),
    )
    ApprovalDelegation.objects.create(
        approver=marcus,
        substitute=late,
        starts_on=datetime.date(2027, 4, 1),
        ends_on=datetime.date(2027, 4, 9),
    )
    requests = {
        # Emma for herself: Marcus decides.
        "a": order(emma, catalog, "laptop"),
        # Nobody above the finance person: IT's approvers decide.
        "b": order(finance_londoner, catalog, "laptop"),
        # The assistant for Emma: Marcus decides.
        "d": order_for(assistant, emma, catalog, "laptop"),
    }
    people = {
        "marcus": marcus,
        "sam": sam,
        "late": late,
        "assistant": assistant,
        "emma": emma,
        "stranger": stranger,
        "it_approver": it_approver,
    }
    return requests, people


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("marcus", {"a", "d"}),  # the approver
        ("sam", {"a", "d"}),  # his substitute, during the dates
        ("late", set()),  # a substitute outside the dates
        ("assistant", set()),  # ordered d
        ("emma", set()),  # a and d are for her
        ("stranger", set()),  # nothing to do with any of it
        ("it_approver", {"b"}),  # approve_any: only steps nobody else could take
    ],
)
def test_the_list_shows_only_what_waits_for_the_viewer(client, world, viewer, expected):
    requests, people = world
    client.force_login(people[viewer])
    html = page(client)
    shown = {key for key, r in requests.items() if r.number in html}
    assert shown == expected
    if not expected:
        assert "Nothing is waiting for your approval." in html


def test_the_list_says_what_was_asked_for_whom_and_at_what_cost(
    client, emma, marcus, catalog
):
    service_request = order(emma, catalog, "laptop")
    client.force_login(marcus)
    html = page(client)
    assert "Emma Evans" in html and "Sales rep" in html and "Sales" in html
    assert "Needed for work." in html
    assert service_request.cost_centre.code in html
    assert "Which model?" in html and "Performance" in html
    # One-off €1,200; €15 a month is €180 a year.
    assert "€1,200" in html and "€180" in html
    assert "The service needs the manager&#x27;s approval" in html
    assert 'name="step-' in html and 'value="decline"' in html


def test_a_substitute_sees_on_whose_behalf(client, world):
    _, people = world
    client.force_login(people["sam"])
    assert "On behalf of Marcus Meyer" in page(client)


# --- Deciding -------------------------------------------------------------------------


def test_approve_one_item(client, emma, marcus, catalog):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    response = decide(client, step, "approve")
    assert response.status_code == 302 and response.url == "/approvals/"
    assert messages_of(response) == ["Approved New laptop for Emma Evans."]
    step.refresh_from_db()
    step.item.refresh_from_db()
    assert step.status == "approved" and step.decided_by == marcus
    assert step.item.status == ItemStatus.APPROVED
    html = page(client)
    assert "Nothing is waiting for your approval." in html
    assert "Recently decided by you" in html and "New laptop" in html


def test_decline_with_a_reason(client, emma, marcus, catalog):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    response = decide(client, step, "decline", "Use the pool laptop.")
    assert messages_of(response) == ["Declined New laptop for Emma Evans."]
    step.refresh_from_db()
    step.item.refresh_from_db()
    assert step.status == "rejected" and step.note == "Use the pool laptop."
    assert step.item.status == ItemStatus.REJECTED


def test_decline_without_a_reason_is_refused_next_to_the_field(
    client, emma, marcus, catalog
):
    step = step_of(order(emma, catalog, "laptop"))
    events = RequestEvent.objects.count()
    client.force_login(marcus)
    response = decide(client, step, "decline", "   ")
    assert response.status_code == 400
    html = response.content.decode()
    message = "Say why you are not approving it, so they know what to do."
    assert f'<a href="#id_step-{step.pk}-note">{message}</a>' in html
    assert (
        f'<p class="field__error" id="id_step-{step.pk}-note_error">'
        f'<span class="visually-hidden">Error:</span> {message}</p>'
    ) in html
    assert f'aria-describedby="id_step-{step.pk}-note_error"' in html
    step.refresh_from_db()
    assert step.status == "pending"
    assert RequestEvent.objects.count() == events


def order_two(emma, catalog, monitor):
    """One request with two items that need Marcus: the laptop and a monitor."""
    basket_line_add(
        user=emma,
        service_id=catalog["laptop"].pk,
        data={**LAPTOP_ANSWERS, "quantity": "1"},
    )
    basket_line_add(user=emma, service_id=monitor.pk, data={})
    review = basket_review(user=emma)
    return request_submit(
        user=emma,
        basket_id=review.basket.pk,
        expected_fingerprint=review.fingerprint,
        business_reason="Desk setup.",
    ).service_request


def test_approve_all_items_of_a_request(client, emma, marcus, catalog, monitor):
    other = order(emma, catalog, "laptop")
    two = order_two(emma, catalog, monitor)
    client.force_login(marcus)
    html = page(client)
    # Per item and for the request: €1,200 + €220 one-off, €180 a year.
    assert "Approve all" in html and "€1,420" in html
    response = client.post(
        f"/approvals/requests/{two.pk}/decide/",
        {f"request-{two.pk}-decision": "approve"},
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        "Approved New laptop and Second monitor for Emma Evans."
    ]
    assert sorted(two.items.values_list("status", flat=True)) == [
        "approved",
        "approved",
    ]
    # The other request was not touched.
    assert step_of(other).status == "pending"


def test_decline_all_needs_a_reason_then_declines_every_item(
    client, emma, marcus, catalog, monitor
):
    two = order_two(emma, catalog, monitor)
    client.force_login(marcus)
    url = f"/approvals/requests/{two.pk}/decide/"
    prefix = f"request-{two.pk}"
    response = client.post(url, {f"{prefix}-decision": "decline"})
    assert response.status_code == 400
    assert f'<a href="#id_{prefix}-note">' in response.content.decode()
    assert sorted(two.items.values_list("status", flat=True)) == [
        "awaiting_approval",
        "awaiting_approval",
    ]
    response = client.post(
        url, {f"{prefix}-decision": "decline", f"{prefix}-note": "Not this year."}
    )
    assert messages_of(response) == [
        "Declined New laptop and Second monitor for Emma Evans."
    ]
    assert sorted(two.items.values_list("status", flat=True)) == [
        "rejected",
        "rejected",
    ]


def test_a_double_click_is_answered_and_changes_nothing(client, emma, marcus, catalog):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    decide(client, step, "approve")
    events = RequestEvent.objects.count()
    response = decide(client, step, "approve")
    assert response.status_code == 302
    assert messages_of(response) == [
        "This was already approved by Marcus Meyer on 10 March at 10:00."
    ]
    # A late decline of the same step (a stale second tab) changes nothing either.
    response = decide(client, step, "decline", "Changed my mind.")
    assert "already approved" in messages_of(response)[0]
    step.refresh_from_db()
    assert step.status == "approved"
    assert RequestEvent.objects.count() == events


def test_someone_who_is_not_the_approver_is_told_so(client, emma, marcus, catalog):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(emma)  # she may see her request, but not decide it
    response = decide(client, step, "approve")
    assert response.status_code == 302
    assert messages_of(response) == [
        "You can't approve a request you ordered or that is for you."
    ]
    step.refresh_from_db()
    assert step.status == "pending"


def test_an_approver_who_was_replaced_is_told_so(client, emma, marcus, catalog):
    step = step_of(order(emma, catalog, "laptop"))
    other = UserFactory(username="other")
    ApprovalStep.objects.filter(pk=step.pk).update(
        approver=other, escalated_from=marcus
    )
    client.force_login(marcus)
    response = decide(client, step, "approve")
    assert messages_of(response) == ["You're not (or no longer) the approver for this."]
    step.refresh_from_db()
    assert step.status == "pending" and step.decided_by is None


def test_a_stranger_posting_to_a_step_gets_a_404(
    client, emma, marcus, stranger, catalog
):
    service_request = order(emma, catalog, "laptop")
    step = step_of(service_request)
    client.force_login(stranger)
    assert decide(client, step, "approve").status_code == 404
    assert decide(client, step, "decline").status_code == 404
    response = client.post(
        f"/approvals/requests/{service_request.pk}/decide/",
        {f"request-{service_request.pk}-decision": "decline"},
    )
    assert response.status_code == 404
    assert client.post("/approvals/steps/999999/decide/").status_code == 404
    step.refresh_from_db()
    assert step.status == "pending"


@pytest.mark.parametrize("decision", ["", "maybe"])
def test_a_tampered_decision_changes_nothing(client, emma, marcus, catalog, decision):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    response = decide(client, step, decision)
    assert response.status_code == 400
    assert "Choose Approve or Decline." in response.content.decode()
    step.refresh_from_db()
    assert step.status == "pending"


def test_deciding_needs_post(client, emma, marcus, catalog):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    assert client.get(decide_url(step)).status_code == 405


# --- Substitutes ----------------------------------------------------------------------


def add_substitute(client, person_id, starts_on, ends_on):
    return client.post(
        "/approvals/substitutes/",
        {"substitute": person_id, "starts_on": starts_on, "ends_on": ends_on},
    )


def test_find_a_substitute_by_name_without_javascript(client, marcus, sam, stranger):
    client.force_login(marcus)
    html = page(client, "/approvals/substitutes/?q=sam")
    assert re.search(rf'type="radio" name="substitute" value="{sam.pk}"', html)
    assert f'value="{stranger.pk}"' not in html
    html = page(client, "/approvals/substitutes/?q=nobody-like-this")
    assert "Nobody matches “nobody-like-this”." in html


def test_add_a_substitute(client, marcus, sam):
    client.force_login(marcus)
    response = add_substitute(client, sam.pk, "2027-03-15", "2027-03-19")
    assert response.status_code == 302
    assert messages_of(response) == [
        "Sam Stand-in will decide your approvals from 15 March 2027 to 19 March 2027."
    ]
    delegation = ApprovalDelegation.objects.get()
    assert (delegation.approver, delegation.substitute) == (marcus, sam)
    assert (delegation.starts_on, delegation.ends_on) == (
        datetime.date(2027, 3, 15),
        datetime.date(2027, 3, 19),
    )
    html = page(client, "/approvals/substitutes/")
    assert "Sam Stand-in" in html and "15 March 2027 to 19 March 2027" in html
    client.force_login(sam)
    html = page(client, "/approvals/substitutes/")
    assert "You stand in for <strong>Marcus Meyer</strong> from 15 March 2027" in html


@pytest.mark.parametrize(
    ("person", "starts_on", "ends_on", "field", "message"),
    [
        (
            "sam",
            "2027-03-18",
            "2027-03-25",
            "starts_on",
            "Sam Stand-in already stands in for you from 15 March 2027 to 19 March "
            "2027; choose other dates or remove that first.",
        ),
        (
            "stranger",
            "2027-03-30",
            "2027-03-29",
            "ends_on",
            "The last day must be on or after the first day.",
        ),
        (
            "marcus",
            "2027-04-01",
            "2027-04-02",
            "substitute",
            "Choose someone other than yourself.",
        ),
        (
            "",
            "2027-04-01",
            "2027-04-02",
            "substitute",
            "Choose who decides for you while you&#x27;re away.",
        ),
        (
            "stranger",
            "next week",
            "2027-04-02",
            "starts_on",
            "Enter the first day as a date, e.g. 2027-08-01.",
        ),
    ],
)
def test_bad_substitutes_are_refused_next_to_their_field(
    client, marcus, sam, stranger, person, starts_on, ends_on, field, message
):
    ApprovalDelegation.objects.create(
        approver=marcus,
        substitute=sam,
        starts_on=datetime.date(2027, 3, 15),
        ends_on=datetime.date(2027, 3, 19),
    )
    people = {"sam": sam, "stranger": stranger, "marcus": marcus}
    client.force_login(marcus)
    chosen = people[person].pk if person else ""
    response = add_substitute(client, chosen, starts_on, ends_on)
    assert response.status_code == 400
    html = response.content.decode()
    # Nobody is offered until searched for: the summary links to the box
    # around the question.
    anchor = "id_substitute_field" if field == "substitute" else f"id_{field}"
    assert f'<a href="#{anchor}">{message}</a>' in html
    assert f'id="{anchor}"' in html
    assert (
        f'<p class="field__error" id="id_{field}_error">'
        f'<span class="visually-hidden">Error:</span> {message}</p>'
    ) in html
    assert ApprovalDelegation.objects.count() == 1


def test_remove_a_substitute(client, marcus, sam, stranger):
    mine = ApprovalDelegation.objects.create(
        approver=marcus,
        substitute=sam,
        starts_on=datetime.date(2027, 3, 15),
        ends_on=datetime.date(2027, 3, 19),
    )
    client.force_login(stranger)
    assert client.post(f"/approvals/substitutes/{mine.pk}/remove/").status_code == 404
    client.force_login(marcus)
    response = client.post(f"/approvals/substitutes/{mine.pk}/remove/")
    assert response.status_code == 302
    assert messages_of(response) == [
        "Sam Stand-in no longer decides for you from 15 March 2027 to 19 March 2027."
    ]
    assert not ApprovalDelegation.objects.exists()


def test_the_substitute_sees_and_decides_in_the_approvers_name(
    client, emma, marcus, sam, catalog
):
    step = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    add_substitute(client, sam.pk, "2027-03-10", "2027-03-12")
    client.force_login(sam)
    assert "On behalf of Marcus Meyer" in page(client)
    response = decide(client, step, "approve")
    assert messages_of(response) == ["Approved New laptop for Emma Evans."]
    event = RequestEvent.objects.get(name="approval.approved")
    assert event.actor == sam
    assert event.data["on_behalf_of"] == marcus.pk
    assert event.data["on_behalf_of_name"] == "Marcus Meyer"
    step.refresh_from_db()
    assert (step.decided_by, step.on_behalf_of) == (sam, marcus)
    # Emma reads it on her request.
    client.force_login(emma)
    html = page(client, f"/requests/{step.request_id}/")
    assert "Sam Stand-in approved New laptop on behalf of Marcus Meyer." in html


# --- The header -----------------------------------------------------------------------


def test_the_header_counts_what_waits(client, emma, marcus, catalog, monitor):
    order(emma, catalog, "laptop")
    order_two(emma, catalog, monitor)
    client.force_login(marcus)
    html = page(client, "/requests/")
    assert (
        'Approvals <span class="basket-count" aria-label="3 waiting">3</span>' in html
    )


def test_the_header_link_is_for_approvers_and_people_with_something_waiting(
    client, emma, stranger
):
    client.force_login(emma)
    assert 'href="/approvals/"' not in page(client, "/requests/")
    stranger.groups.add(GroupFactory(name="Approver"))
    client.force_login(stranger)
    html = page(client, "/requests/")
    assert '<a class="approvals-link" href="/approvals/">Approvals</a>' in html


def test_the_header_count_costs_one_query(client, emma, marcus, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order(emma, catalog, "laptop")
    client.force_login(marcus)
    with CaptureQueriesContext(connection) as queries:
        page(client, "/requests/")
    about_steps = [q for q in queries if "catalog_approvalstep" in q["sql"]]
    assert len(about_steps) == 1


# --- Query budget ---------------------------------------------------------------------


def test_the_approvals_list_does_not_grow_with_requests(
    client, emma, marcus, catalog, monitor, django_assert_max_num_queries
):
    order(emma, catalog, "laptop")
    client.force_login(marcus)
    decide(client, step_of(order(emma, catalog, "laptop")), "approve")
    with django_assert_max_num_queries(12) as few:
        page(client)
    for _ in range(4):
        order(emma, catalog, "laptop", "password")
        step = step_of(order(emma, catalog, "laptop"))
        decide(client, step, "decline", "No.")
    with django_assert_max_num_queries(12) as many:
        html = page(client)
    assert html.count('value="approve"') == 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_decline_all_of_a_one_item_request_without_a_reason_says_why(
    client, emma, marcus, catalog
):
    # The page offers "all at once" for two items or more; a hand-made post for
    # one item still gets its message, and nothing changes.
    service_request = order(emma, catalog, "laptop")
    client.force_login(marcus)
    prefix = f"request-{service_request.pk}"
    response = client.post(
        f"/approvals/requests/{service_request.pk}/decide/",
        {f"{prefix}-decision": "decline"},
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        "Say why you are not approving it, so they know what to do."
    ]
    assert step_of(service_request).status == "pending"


def test_ten_requests_to_a_page_oldest_first(client, emma, marcus, catalog):
    numbers = [order(emma, catalog, "laptop").number for _ in range(11)]
    client.force_login(marcus)
    first, second = page(client), page(client, "/approvals/?page=2")
    assert "Page 1 of 2 (11 requests waiting)" in first
    assert "Page 2 of 2 (11 requests waiting)" in second
    assert first.count('class="card approval"') == 10
    assert second.count('class="card approval"') == 1
    # Ordered one after another, so submitted in that order: the last is alone.
    assert all(number in first for number in numbers[:10])
    assert numbers[10] not in first
    assert numbers[10] in second


def test_a_refusal_on_a_later_page_comes_back_on_that_page(
    client, emma, marcus, catalog, monkeypatch
):
    monkeypatch.setattr("catalog.selectors.approvals.WAITING_PER_PAGE", 1)
    order(emma, catalog, "laptop")
    later = step_of(order(emma, catalog, "laptop"))
    client.force_login(marcus)
    html = page(client, "/approvals/?page=2")
    assert "Page 2 of 2 (2 requests waiting)" in html
    assert f'action="{decide_url(later)}?page=2"' in html
    prefix = f"step-{later.pk}"
    response = client.post(
        f"{decide_url(later)}?page=2",
        {f"{prefix}-decision": "decline", f"{prefix}-note": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Page 2 of 2" in html
    assert f'id="id_step-{later.pk}-note_error"' in html
    later.refresh_from_db()
    assert later.status == "pending"
