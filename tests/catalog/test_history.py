"""The demo history generator (catalog.demo.history, manage.py generate_history).

One history is generated for the whole module (loading the demo catalog takes a few
seconds) inside a transaction that is rolled back at the end; each test runs in a
savepoint within it.
"""

from collections import defaultdict
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from catalog.demo.history import history_generate
from catalog.models import (
    ALLOWED_TRANSITIONS,
    Department,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceLevel,
    ServicePage,
    ServiceRequest,
    UserProfile,
)
from catalog.models.requests import OPEN_STATES
from catalog.selectors.catalog import visible_services
from catalog.services.request_log import request_log_verify

pytestmark = pytest.mark.django_db

REQUESTS = 400
ANSWER_KEYS = {"key", "label", "type", "value", "display"}


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out, err = StringIO(), StringIO()
        call_command(
            "generate_history",
            requests=REQUESTS,
            seed=20240601,
            force=True,
            stdout=out,
            stderr=err,
        )
        yield {"output": out.getvalue(), "progress": err.getvalue()}
        transaction.set_rollback(True)


@pytest.fixture
def items(history):
    return list(RequestItem.objects.select_related("request"))


def _status_events():
    by_item = defaultdict(list)
    events = RequestEvent.objects.filter(name="item.status_changed").order_by(
        "request_id", "sequence"
    )
    for event in events:
        by_item[event.item_id].append(event)
    return by_item


def test_command_loads_the_demo_catalog_and_adds_the_requests(history):
    assert ServicePage.objects.count() >= 30
    assert ServiceRequest.objects.count() == REQUESTS
    assert f"Added {REQUESTS} requests" in history["output"]
    assert f"{REQUESTS}/{REQUESTS} requests" in history["progress"]


def test_requests_have_one_to_four_items_and_one_and_a_half_or_more_on_average(
    history,
):
    sizes = [r.items.count() for r in ServiceRequest.objects.all()]
    assert min(sizes) >= 1
    assert max(sizes) <= 4
    assert 1.4 <= sum(sizes) / len(sizes) <= 2.0


def test_demo_people_are_spread_over_departments_and_cannot_sign_in(history):
    people = get_user_model().objects.filter(username__startswith="demo.person")
    assert people.count() == 200
    assert not any(person.has_usable_password() for person in people)
    profiles = UserProfile.objects.filter(user__in=people)
    assert (
        profiles.values("department").distinct().count() == Department.objects.count()
    )
    assert profiles.values("location").distinct().count() >= 4


def test_history_covers_departments_and_services(items):
    departments = {item.request.department_id for item in items}
    services = {item.service_id for item in items}
    assert len(departments) >= 6
    assert len(services) >= 25


def test_history_spans_at_least_twelve_months(history):
    first = ServiceRequest.objects.order_by("submitted_at").first().submitted_at
    last = ServiceRequest.objects.order_by("submitted_at").last().submitted_at
    assert last - first >= timedelta(days=365)


def test_items_end_delivered_cancelled_rejected_or_still_open(items):
    statuses = {item.status for item in items}
    assert ItemStatus.CLOSED in statuses
    assert ItemStatus.FULFILLED in statuses
    assert statuses & {ItemStatus.CANCELLED, ItemStatus.REJECTED}
    assert statuses & OPEN_STATES


def test_requests_are_billed_to_the_department_of_the_person_they_are_for(history):
    departments = dict(UserProfile.objects.values_list("user_id", "department_id"))
    cost_centres = dict(Department.objects.values_list("pk", "cost_centre_id"))
    requests = list(ServiceRequest.objects.all())
    for request in requests:
        assert request.department_id == departments[request.requested_for_id]
        assert request.cost_centre_id == cost_centres[request.department_id]
    on_behalf = [r for r in requests if r.requested_by_id != r.requested_for_id]
    assert 0 < len(on_behalf) < len(requests) / 4


def test_every_item_copies_its_service_as_checkout_does(items):
    services = {
        page.pk: page
        for page in ServicePage.objects.select_related(
            "service_level", "fulfilment_group"
        )
    }
    for item in items:
        service = services[item.service_id]
        level, group = service.service_level, service.fulfilment_group
        assert item.service_name == service.title
        assert item.category_name == service.get_parent().title
        assert item.one_off_price == service.one_off_price
        assert item.monthly_price == service.monthly_price
        assert item.currency == item.request.currency
        assert item.requires_approval == service.requires_approval
        assert 1 <= item.quantity <= service.max_quantity
        assert item.service_level_name == level.name
        assert item.response_target_hours == level.response_target_hours
        assert item.resolution_target_hours == level.resolution_target_hours
        assert (
            item.internal_resolution_target_hours
            == level.internal_resolution_target_hours
        )
        assert item.fulfilment_group_id == group.pk
        assert item.fulfilment_group_name == group.name
        assert item.created_at == item.request.submitted_at


def test_answers_are_stored_as_checkout_stores_them(items):
    questions = {
        page.pk: {child.id: child for child in page.request_form}
        for page in ServicePage.objects.all()
    }
    answered = 0
    for item in items:
        assert [a["key"] for a in item.answers] == list(questions[item.service_id])
        for answer in item.answers:
            assert set(answer) == ANSWER_KEYS
            question = questions[item.service_id][answer["key"]]
            assert answer["label"] == question.value["label"]
            assert answer["type"] == question.block_type
            if answer["value"] is None:
                assert answer["display"] == "—"
            answered += 1
    assert answered > 50


def test_items_are_for_services_the_person_may_see(items):
    users = get_user_model().objects.in_bulk(
        {item.request.requested_for_id for item in items}
    )
    visible = {
        pk: set(visible_services(user=user).values_list("pk", flat=True))
        for pk, user in users.items()
    }
    for item in items:
        assert item.service_id in visible[item.request.requested_for_id]


def test_each_item_walks_allowed_moves_starting_where_checkout_leaves_it(items):
    moves = _status_events()
    created = {
        e.item_id: e.to_state for e in RequestEvent.objects.filter(name="item.created")
    }
    for item in items:
        expected_start = (
            ItemStatus.AWAITING_APPROVAL
            if item.requires_approval
            else ItemStatus.SUBMITTED
        )
        assert created[item.pk] == expected_start
        state = expected_start
        for event in moves[item.pk]:
            assert event.from_state == state
            assert event.to_state in ALLOWED_TRANSITIONS[state]
            state = event.to_state
        assert item.status == state


def test_item_times_and_assignee_agree_with_the_log(items):
    moves = _status_events()
    for item in items:
        events = moves[item.pk]
        last = events[-1].created_at if events else item.created_at
        assert item.status_changed_at == last
        delivered = [e.created_at for e in events if e.to_state == "fulfilled"]
        reopened_after = delivered and any(
            e.from_state == "fulfilled" and e.to_state == "in_progress"
            for e in events
            if e.created_at >= delivered[-1]
        )
        if item.status in (ItemStatus.FULFILLED, ItemStatus.CLOSED) and delivered:
            assert item.fulfilled_at == delivered[-1]
        else:
            assert item.fulfilled_at is None
        if item.status == ItemStatus.FULFILLED:
            assert not reopened_after
        started = [e for e in events if e.to_state == "in_progress"]
        if started:
            assert item.assigned_to_id == started[0].actor_id
        else:
            assert item.assigned_to_id is None


def _working_hours(start, end) -> float:
    """Hours between two moments that fall on weekdays, 8:00 to 18:00 local time."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if day.weekday() < 5:
            opens = start.replace(
                year=day.year, month=day.month, day=day.day, hour=8, minute=0
            )
            closes = opens.replace(hour=18)
            overlap = min(end, closes) - max(start, opens)
            total += max(overlap, timedelta())
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def test_most_delivered_items_meet_their_target_on_their_service_levels_clock(
    items,
):
    clocks = dict(ServiceLevel.objects.values_list("name", "support_hours"))
    delivered = [item for item in items if item.fulfilled_at is not None]
    assert len(delivered) > REQUESTS
    on_time = 0
    for item in delivered:
        if clocks[item.service_level_name] == "24x7":
            hours = (item.fulfilled_at - item.created_at).total_seconds() / 3600
        else:
            hours = _working_hours(item.created_at, item.fulfilled_at)
        on_time += hours <= item.resolution_target_hours
    assert 0.7 <= on_time / len(delivered) <= 0.95


def test_open_items_are_recent_or_waiting(items):
    last = max(item.created_at for item in items)
    open_items = [item for item in items if item.status in OPEN_STATES]
    recent = [i for i in open_items if last - i.created_at < timedelta(days=14)]
    assert len(recent) >= len(open_items) / 2


def test_event_sequences_start_at_one_and_are_contiguous(history):
    sequences = defaultdict(list)
    for request_id, sequence in RequestEvent.objects.order_by(
        "request_id", "sequence"
    ).values_list("request_id", "sequence"):
        sequences[request_id].append(sequence)
    assert len(sequences) == REQUESTS
    for numbers in sequences.values():
        assert numbers == list(range(1, len(numbers) + 1))


def test_each_request_log_is_in_time_order_and_starts_with_the_submission(history):
    logs = defaultdict(list)
    for event in RequestEvent.objects.order_by("request_id", "sequence"):
        logs[event.request_id].append(event)
    submitted = dict(ServiceRequest.objects.values_list("pk", "submitted_at"))
    for request_id, events in logs.items():
        assert events[0].name == "request.submitted"
        assert events[0].created_at == submitted[request_id]
        times = [e.created_at for e in events]
        assert times == sorted(times)
    names = {e.name for events in logs.values() for e in events}
    assert names == {
        "request.submitted",
        "item.created",
        "item.status_changed",
        "request.commented",
    }


def test_the_request_log_verifies(history):
    assert list(request_log_verify()) == []


def test_running_again_adds_more_history_and_reuses_the_people(history):
    people = get_user_model().objects.count()
    summary = history_generate(requests=25, seed=1)
    assert summary.requests == 25
    assert summary.people_created == 0
    assert ServiceRequest.objects.count() == REQUESTS + 25
    assert get_user_model().objects.count() == people
    assert list(request_log_verify()) == []


def test_items_option_adds_exactly_that_many_items(history):
    before = RequestItem.objects.count()
    summary = history_generate(items=37, seed=2)
    assert summary.items == 37
    assert RequestItem.objects.count() == before + 37


def test_command_refuses_with_debug_off_without_force(settings):
    settings.DEBUG = False
    before = (ServiceRequest.objects.count(), ServicePage.objects.count())
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("generate_history", requests=5)
    assert (ServiceRequest.objects.count(), ServicePage.objects.count()) == before
