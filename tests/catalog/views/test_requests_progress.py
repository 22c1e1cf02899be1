"""The requester's view of an item's progress: who has it, when it is due, why it
is paused and what we need, delivery and rating; the timeline without IT's
internal events; the short line on "My requests"; and the rating page."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from catalog.models import (
    ApprovalStep,
    HoldReason,
    ItemStatus,
    RequestEvent,
    RequestItem,
    UserProfile,
)
from catalog.services.approvals import approval_decide
from catalog.services.fulfilment import (
    item_comment_add,
    item_hold,
    item_rate,
    item_resolve,
    item_resume,
    item_start,
    item_work_note_add,
    request_comment_add,
)
from tests.conftest import order
from tests.factories import FulfilmentGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def at(day, hour, minute=0):
    """A moment in January 2027, London time (GMT then)."""
    return datetime.datetime(2027, 1, day, hour, minute, tzinfo=LONDON)


# Monday 11 January 2027. The fixtures' standard level gives 16 working hours on
# office hours (Mon-Fri 08:00-18:00): approved Monday 10:00, due Tuesday 16:00.
ORDERED = at(11, 9)
APPROVED = at(11, 10)
STARTED = at(11, 11)
HELD = at(11, 14, 5)
RESUMED = at(11, 15)
DELIVERED = at(12, 9, 30)
RATED = at(12, 10)


@pytest.fixture
def clock():
    with time_machine.travel(ORDERED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(employee, a_manager, fulfiller):
    employee.first_name, employee.last_name = "Emma", "Evans"
    employee.save()
    a_manager.first_name, a_manager.last_name = "Marcus", "Meyer"
    a_manager.save()
    fulfiller.first_name, fulfiller.last_name = "Femi", "Adeyemi"
    fulfiller.save()
    UserProfile.objects.filter(user=employee).update(manager=a_manager)
    return {"emma": employee, "marcus": a_manager, "femi": fulfiller}


@pytest.fixture
def hardware(catalog, people):
    """The laptop is delivered by the Workplace hardware team, Femi's."""
    team = FulfilmentGroupFactory(name="Workplace hardware")
    team.members.add(people["femi"])
    page = catalog["laptop"]
    page.fulfilment_group = team
    page.save_revision().publish()
    return team


@pytest.fixture
def laptop(clock, people, catalog, hardware):
    """Emma's laptop request, waiting for Marcus."""
    service_request = order(people["emma"], catalog, "laptop")
    return service_request.items.get()


def approve(item, people, clock):
    clock.move_to(APPROVED)
    step = ApprovalStep.objects.get(item=item, status="pending")
    approval_decide(step_id=step.pk, actor=people["marcus"], approve=True)


def start(item, people, clock):
    approve(item, people, clock)
    clock.move_to(STARTED)
    item_start(item_id=item.pk, actor=people["femi"])
    item_work_note_add(
        item_id=item.pk, actor=people["femi"], text="Private: stock is low."
    )


def hold(
    item,
    people,
    clock,
    reason="Waiting for the requester",
    note="Which keyboard layout do you need?",
):
    start(item, people, clock)
    clock.move_to(HELD)
    item_hold(
        item_id=item.pk,
        actor=people["femi"],
        reason_id=HoldReason.objects.get(name=reason).pk,
        note=note,
    )


def deliver(item, people, clock):
    hold(item, people, clock)
    clock.move_to(RESUMED)
    item_resume(item_id=item.pk, actor=people["femi"])
    clock.move_to(DELIVERED)
    item_resolve(
        item_id=item.pk,
        actor=people["femi"],
        note="Your laptop is at the front desk.",
    )


def detail(client, item):
    response = client.get(f"/requests/{item.request_id}/")
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages._queued_messages]


# --- Each state, in the requester's words ---------------------------------------------


def test_waiting_for_approval(client, people, laptop):
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert "Waiting for approval from Marcus Meyer" in html
    assert "We asked Marcus Meyer to approve New laptop." in html
    assert "11 Jan 2027, 09:00" in html
    assert "Expected by" not in html
    submitted = client.get(f"/requests/{laptop.request_id}/submitted/")
    assert "New laptop — Waiting for approval from Marcus Meyer" in (
        submitted.content.decode()
    )


def test_in_progress_with_the_team_and_the_due_time(client, people, laptop, clock):
    start(laptop, people, clock)
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert "With our Workplace hardware team" in html
    assert "Expected by Tuesday 12 January 2027, 16:00" in html
    # The top of the page says where the whole request stands.
    assert '<h2 id="summary-heading">Being worked on</h2>' in html
    assert "Everything is expected by Tuesday 12 January 2027." in html
    assert "Marcus Meyer approved New laptop." in html
    assert "We started work on New laptop." in html
    assert "11 Jan 2027, 11:00" in html
    # Internal events stay internal: the work note, the assignment.
    assert "Private: stock is low." not in html
    assert "Femi" not in html
    assert "assigned" not in html


def test_paused_waiting_for_you_with_what_we_need(client, people, laptop, clock):
    hold(laptop, people, clock)
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert "Paused while we wait for you since Monday 11 January 2027, 14:05" in html
    assert (
        "<strong>What we need from you:</strong> Which keyboard layout do you need?"
        in html
    )
    assert 'href="#id_text"' in html and 'id="id_text"' in html
    assert "We paused New laptop while we wait for you." in html
    # The customer clock stands still: no due time while paused.
    assert "Expected by" not in html
    # The top of the page says it first.
    assert '<h2 id="summary-heading">We need something from you</h2>' in html


def test_paused_for_a_supplier_needs_nothing_from_you(client, people, laptop, clock):
    hold(laptop, people, clock, "Waiting for a supplier", "Ordered from the supplier.")
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert (
        "Paused while we wait for a delivery from our supplier since Monday 11 "
        "January 2027, 14:05" in html
    )
    assert "What we need from you" not in html


def test_delivered_with_the_rating_form(client, people, laptop, clock):
    deliver(laptop, people, clock)
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert "Delivered on Tuesday 12 January 2027" in html
    assert "Your laptop is at the front desk." in html
    assert "We delivered New laptop." in html
    assert f'action="/requests/items/{laptop.pk}/rate/"' in html
    assert "<legend>How did we do?</legend>" in html
    for label in ["1 – Poor", "2 – Fair", "3 – Good", "4 – Very good", "5 – Excellent"]:
        assert label in html
    assert f'id="id_item{laptop.pk}_rating_0"' in html
    assert "Send rating" in html
    assert "With our Workplace hardware team" not in html


def test_rated(client, people, laptop, clock):
    deliver(laptop, people, clock)
    clock.move_to(RATED)
    item_rate(item_id=laptop.pk, actor=people["emma"], rating=4, comment="Quick!")
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert "You rated this 4 out of 5" in html
    assert "Emma Evans rated New laptop 4 out of 5." in html
    assert "Quick!" in html
    assert "Send rating" not in html


def test_not_approved(client, people, laptop, clock):
    clock.move_to(APPROVED)
    step = ApprovalStep.objects.get(item=laptop)
    approval_decide(
        step_id=step.pk,
        actor=people["marcus"],
        approve=False,
        note="Use the pool laptop.",
    )
    client.force_login(people["emma"])
    html = detail(client, laptop)
    assert "Not approved by Marcus Meyer: Use the pool laptop." in html
    assert "Marcus Meyer did not approve New laptop." in html
    # The reason once in the timeline (with the decision), not again with the status.
    assert html.count("<blockquote>Use the pool laptop.</blockquote>") == 1


def test_the_team_sees_no_rating_form_on_the_portal_page(client, people, laptop, clock):
    deliver(laptop, people, clock)
    client.force_login(people["femi"])
    assert "Send rating" not in detail(client, laptop)


# --- My requests ----------------------------------------------------------------------


def test_my_requests_shows_a_short_progress_line(
    client, people, catalog, hardware, clock
):
    waiting = order(people["emma"], catalog, "laptop").items.get()
    working = order(people["emma"], catalog, "laptop").items.get()
    paused = order(people["emma"], catalog, "laptop").items.get()
    start(working, people, clock)
    clock.move_to(ORDERED)
    hold(paused, people, clock)
    client.force_login(people["emma"])
    html = client.get("/requests/").content.decode()
    assert waiting.status == ItemStatus.AWAITING_APPROVAL
    # The badge says it; no second line repeats it.
    assert '<span class="status status--warning">Waiting for approval</span>' in html
    assert '<span class="small muted">Waiting for approval</span>' not in html
    assert "Expected by Tue 12 Jan" in html
    assert "Paused: waiting for you" in html


def test_my_requests_reads_every_line_s_words_in_its_own_queries(
    client, people, catalog, hardware, clock, django_assert_max_num_queries
):
    """The list reads only the columns it shows: a line that needed another (a
    hold reason's words, a delivery's day, a rating, the name of whom it is
    for) would cost a query more than a page of one plain request."""
    for_marcus = order(people["emma"], catalog, "laptop")
    client.force_login(people["emma"])
    client.get("/requests/")  # the site's routes, read once
    with django_assert_max_num_queries(6) as plain:
        client.get("/requests/")
    # Now ordered by Emma for Marcus (as a manager's order for their team is).
    RequestItem.objects.filter(request=for_marcus).update(
        requested_for=people["marcus"]
    )
    for_marcus.requested_for = people["marcus"]
    for_marcus.save(update_fields=["requested_for"])
    supplier = order(people["emma"], catalog, "laptop").items.get()
    delivered = order(people["emma"], catalog, "laptop").items.get()
    rated = order(people["emma"], catalog, "laptop").items.get()
    hold(supplier, people, clock, "Waiting for a supplier", "Ordered.")
    for item in (delivered, rated):
        clock.move_to(ORDERED)
        deliver(item, people, clock)
    clock.move_to(RATED)
    item_rate(item_id=rated.pk, actor=people["emma"], rating=5)
    client.get("/requests/")  # a day on: the site's routes, read again
    with django_assert_max_num_queries(6) as page:
        html = client.get("/requests/").content.decode()
    assert len(page.captured_queries) == len(plain.captured_queries)
    # Newest first; rating a delivery closes it.
    assert re.findall(r"<li>New laptop (.*?)</li>", html) == [
        '<span class="status status--muted">Closed</span>',
        '<span class="status status--ok">Delivered</span><br>'
        '<span class="small muted">Delivered on Tue 12 Jan: rate it</span>',
        '<span class="status status--warning">On hold</span><br>'
        '<span class="small muted">'
        "Paused while we wait for a delivery from our supplier</span>",
        '<span class="status status--warning">Waiting for approval</span>',
    ]
    assert '<td data-label="For">Marcus Meyer</td>' in html


# --- Rating ---------------------------------------------------------------------------


def rate(client, item, data):
    return client.post(f"/requests/items/{item.pk}/rate/", data)


def test_the_rating_page_from_the_email_link(client, people, laptop, clock):
    deliver(laptop, people, clock)
    client.force_login(people["emma"])
    html = client.get(f"/requests/items/{laptop.pk}/rate/").content.decode()
    assert "<legend>How did we do?</legend>" in html
    assert 'id="id_rating_4"' in html and "5 – Excellent" in html


def test_rate_a_delivered_item(client, people, laptop, clock):
    deliver(laptop, people, clock)
    client.force_login(people["emma"])
    response = rate(client, laptop, {"rating": "4", "comment": "Quick!"})
    assert response.status_code == 302
    assert response.url == f"/requests/{laptop.request_id}/"
    assert messages_of(response) == ["Thank you for your rating."]
    laptop.refresh_from_db()
    assert (laptop.rating, laptop.rating_comment) == (4, "Quick!")
    assert laptop.status == ItemStatus.CLOSED


@pytest.mark.parametrize("rating", ["0", "6", "abc", "", "4.5", "-1"])
def test_a_rating_out_of_range_is_refused_at_the_field(
    client, people, laptop, clock, rating
):
    deliver(laptop, people, clock)
    client.force_login(people["emma"])
    response = rate(client, laptop, {"rating": rating})
    assert response.status_code == 400
    html = response.content.decode()
    message = "Choose from 1 (poor) to 5 (excellent)."
    assert f'<a href="#id_rating_0">{message}</a>' in html
    assert 'id="id_rating_0"' in html
    assert (
        '<p class="field__error" id="id_rating_error">'
        f'<span class="visually-hidden">Error:</span> {message}</p>'
    ) in html
    laptop.refresh_from_db()
    assert laptop.rating is None and laptop.status == ItemStatus.FULFILLED


def test_a_replayed_rating_is_thanked_and_ignored(client, people, laptop, clock):
    deliver(laptop, people, clock)
    client.force_login(people["emma"])
    rate(client, laptop, {"rating": "4"})
    events = RequestEvent.objects.count()
    response = rate(client, laptop, {"rating": "1"})
    assert response.status_code == 302
    assert messages_of(response) == ["You've already rated this. Thank you!"]
    laptop.refresh_from_db()
    assert laptop.rating == 4
    assert RequestEvent.objects.count() == events
    html = client.get(f"/requests/items/{laptop.pk}/rate/").content.decode()
    assert "You rated this 4 out of 5. Thank you!" in html


def test_someone_elses_item_cannot_be_rated(client, people, laptop, clock):
    deliver(laptop, people, clock)
    stranger = UserFactory(username="stranger")
    # A stranger, and the team (who may see the request but did not order it).
    for person in [stranger, people["femi"]]:
        client.force_login(person)
        assert client.get(f"/requests/items/{laptop.pk}/rate/").status_code == 404
        assert rate(client, laptop, {"rating": "5"}).status_code == 404
        assert rate(client, laptop, {"rating": "9"}).status_code == 404
    assert client.get("/requests/items/999999/rate/").status_code == 404
    laptop.refresh_from_db()
    assert laptop.rating is None


def test_an_item_not_delivered_yet_cannot_be_rated(client, people, laptop, clock):
    start(laptop, people, clock)
    client.force_login(people["emma"])
    html = client.get(f"/requests/items/{laptop.pk}/rate/").content.decode()
    assert "You can rate this once we've delivered it." in html
    response = rate(client, laptop, {"rating": "5"})
    assert messages_of(response) == [
        "Only delivered items can be rated, and this one isn't delivered yet."
    ]
    laptop.refresh_from_db()
    assert laptop.rating is None


# --- Query budget ---------------------------------------------------------------------


def test_request_detail_queries_do_not_grow_with_items_and_events(
    client, people, catalog, hardware, clock, django_assert_max_num_queries
):
    # Both need approval (the laptop does): the page reads their steps.
    small = order(people["emma"], catalog, "laptop")
    large = order(people["emma"], catalog, "laptop", "laptop", "password")
    for item in large.items.filter(service_name="New laptop"):
        clock.move_to(ORDERED)
        deliver(item, people, clock)
        item_comment_add(item_id=item.pk, actor=people["femi"], text="On its way.")
    for _ in range(3):
        request_comment_add(request_id=large.pk, actor=people["emma"], text="Thanks")
    assert RequestItem.objects.filter(request=large).count() == 3
    client.force_login(people["emma"])
    # Warm the cache of the site's root paths (the header's link to the catalog
    # reads it once), so both counts are of the same, warm, page.
    client.get(f"/requests/{small.pk}/")
    with django_assert_max_num_queries(14) as few:
        client.get(f"/requests/{small.pk}/")
    with django_assert_max_num_queries(14) as many:
        html = client.get(f"/requests/{large.pk}/").content.decode()
    assert html.count("Send rating") == 2
    assert len(many.captured_queries) == len(few.captured_queries)
