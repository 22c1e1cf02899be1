"""The demo history generator (catalog.demo.history, manage.py generate_history).

One history is generated for the whole module (loading the demo catalog takes a few
seconds) inside a transaction that is rolled back at the end; each test runs in a
savepoint within it. The clock is stopped at a fixed moment while it is generated,
so the history runs up to exactly then.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from io import StringIO
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Q

from catalog.business_time import BusinessClock, CalendarSpec
from catalog.demo.history import history_generate
from catalog.models import (
    ALLOWED_TRANSITIONS,
    ApprovalStep,
    CalendarVersion,
    Department,
    HoldReason,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServicePage,
    ServiceRequest,
    UserProfile,
)
from catalog.models.requests import OPEN_STATES, QUEUE_STATES
from catalog.selectors.entitlements import visible_services
from catalog.services.fulfilment import hold_event_data
from catalog.services.request_log import request_log_verify
from catalog.services.service_levels import service_levels_rebuild
from catalog.services.sweep import SweepResult, service_desk_sweep

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
REQUESTS = 400
# A Wednesday morning; the scheduled check last ran at 10:00.
NOW = datetime(2026, 3, 11, 10, 2, 30, tzinfo=LONDON)
LAST_CHECK = datetime(2026, 3, 11, 10, 0, tzinfo=LONDON)
ANSWER_KEYS = {"key", "label", "type", "value", "display"}
EVENT_NAMES = {
    "request.submitted",
    "request.commented",
    "item.created",
    "item.status_changed",
    "item.assigned",
    "item.commented",
    "item.work_note",
    "item.rated",
    "item.at_risk",
    "item.breached",
    "approval.requested",
    "approval.approved",
    "approval.rejected",
    "approval.reminded",
    "approval.escalated",
    "approval.escalation_failed",
    "approval.withdrawn",
}
HOLD_REASONS = {
    "Waiting for the requester",
    "Waiting for a supplier",
    "Scheduled with the requester",
    "Waiting for another IT team",
}
NAMED = ["employee", "manager", "executive", "fulfiller", "editor", "owner", "admin"]


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out, err = StringIO(), StringIO()
        with time_machine.travel(NOW, tick=False):
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


def _events_by_item(**filters):
    by_item = defaultdict(list)
    for event in RequestEvent.objects.filter(**filters).order_by(
        "request_id", "sequence"
    ):
        by_item[event.item_id].append(event)
    return by_item


def _status_events():
    return _events_by_item(name="item.status_changed")


def _user(username):
    return get_user_model().objects.get(username=username)


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


def test_sales_team_leads_report_to_the_head_of_sales(history):
    leads = UserProfile.objects.filter(
        user__username__startswith="demo.person",
        department__name="Sales",
        job_title="Team lead",
    )
    assert leads.exists()
    assert set(leads.values_list("manager__username", flat=True)) == {"manager"}
    assert all(lead.user.groups.filter(name="Approver").exists() for lead in leads)


def test_history_covers_departments_and_services(items):
    departments = {item.request.department_id for item in items}
    services = {item.service_id for item in items}
    assert len(departments) >= 6
    assert len(services) >= 25


def test_history_spans_at_least_twelve_months_up_to_now(history):
    first = ServiceRequest.objects.order_by("submitted_at").first().submitted_at
    last = ServiceRequest.objects.order_by("submitted_at").last().submitted_at
    assert last - first >= timedelta(days=365)
    latest_event = RequestEvent.objects.order_by("-created_at").first().created_at
    assert latest_event < NOW


def test_items_end_delivered_cancelled_rejected_or_still_open(items):
    statuses = {item.status for item in items}
    assert {
        ItemStatus.CLOSED,
        ItemStatus.FULFILLED,
        ItemStatus.CANCELLED,
        ItemStatus.REJECTED,
        ItemStatus.AWAITING_APPROVAL,
        ItemStatus.IN_PROGRESS,
        ItemStatus.ON_HOLD,
    } <= statuses


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
            "service_level__calendar", "fulfilment_group"
        ).prefetch_related("fulfilment_group__internal_targets")
    }
    current_versions = {}
    for version in CalendarVersion.objects.order_by("number"):
        current_versions[version.calendar_id] = version.pk
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
        assert item.calendar_name == level.calendar.name
        assert item.calendar_version_id == current_versions[level.calendar_id]
        assert item.response_target_hours == level.response_target_hours
        assert item.resolution_target_hours == level.resolution_target_hours
        assert item.at_risk_percent == level.at_risk_percent
        assert (
            item.internal_response_target_hours,
            item.internal_resolution_target_hours,
        ) == level.internal_targets_for(group)
        assert item.fulfilment_group_id == group.pk
        assert item.fulfilment_group_name == group.name
        assert item.created_at == item.request.submitted_at


def test_a_teams_own_internal_targets_are_copied(items):
    # Workplace hardware works to 3 and 36 hours on Hardware delivery (the level's
    # own default is 4 and 40).
    hardware = [
        item
        for item in items
        if item.fulfilment_group_name == "Workplace hardware"
        and item.service_level_name == "Hardware delivery"
    ]
    assert hardware
    for item in hardware:
        assert item.internal_response_target_hours == 3
        assert item.internal_resolution_target_hours == 36


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


def test_named_users_are_rarely_the_ones_asking(history):
    for username in NAMED:
        # Their own recent history comes on top of an occasional random request.
        assert (
            ServiceRequest.objects.filter(requested_for__username=username).count() < 25
        )


# --- The log ------------------------------------------------------------------------


def test_each_item_walks_allowed_moves_starting_where_checkout_leaves_it(items):
    moves = _status_events()
    created = {
        e.item_id: e.to_state for e in RequestEvent.objects.filter(name="item.created")
    }
    with_steps = set(ApprovalStep.objects.values_list("item_id", flat=True))
    for item in items:
        expected_start = (
            ItemStatus.AWAITING_APPROVAL
            if item.pk in with_steps
            else ItemStatus.SUBMITTED
        )
        assert created[item.pk] == expected_start
        state = expected_start
        for event in moves[item.pk]:
            assert event.from_state == state
            assert event.to_state in ALLOWED_TRANSITIONS[state]
            state = event.to_state
        assert item.status == state


def test_item_created_records_the_calendar_version_the_item_is_measured_on(items):
    created = {
        e.item_id: e.data for e in RequestEvent.objects.filter(name="item.created")
    }
    for item in items:
        assert created[item.pk]["calendar_version"] == item.calendar_version_id


def test_item_times_assignee_and_hold_reason_agree_with_the_log(items):
    moves = _status_events()
    assignments = _events_by_item(name="item.assigned")
    for item in items:
        events = moves[item.pk]
        last = events[-1].created_at if events else item.created_at
        assert item.status_changed_at == last
        delivered = [e.created_at for e in events if e.to_state == "fulfilled"]
        if item.status in (ItemStatus.FULFILLED, ItemStatus.CLOSED) and delivered:
            assert item.fulfilled_at == delivered[-1]
        else:
            assert item.fulfilled_at is None
        assigned = assignments[item.pk]
        expected = assigned[-1].data["assignee"] if assigned else None
        assert item.assigned_to_id == expected
        if item.status == ItemStatus.ON_HOLD:
            assert item.hold_reason_id == events[-1].data["hold_reason_id"]
        else:
            assert item.hold_reason_id is None


def test_work_starts_assigned_and_is_done_by_the_items_team(items):
    members = defaultdict(set)
    for item in items:
        if item.fulfilment_group_id not in members:
            members[item.fulfilment_group_id] = set(
                item.fulfilment_group.members.values_list("pk", flat=True)
            )
    moves = _status_events()
    assignments = _events_by_item(name="item.assigned")
    bulk = 0
    for item in items:
        team = members[item.fulfilment_group_id]
        parties = {item.request.requested_by_id, item.request.requested_for_id}
        for event in assignments[item.pk]:
            assert event.actor_id in team
            assert event.data["assignee"] in team
            assert event.data["assignee"] not in parties
            bulk += event.actor_id != event.data["assignee"]
        started = [e for e in moves[item.pk] if e.to_state == "in_progress"]
        if started:
            first_assigned = assignments[item.pk][0]
            assert first_assigned.created_at <= started[0].created_at
        for event in moves[item.pk]:
            if event.to_state in ("in_progress", "on_hold", "fulfilled"):
                assert event.actor_id in team
    assert bulk > 10  # sometimes a colleague hands items out before work starts


# Weekdays 8:00 to 18:00, without the public holidays the demo's "Office hours"
# calendar closes on: its items can only have fewer open hours than this.
WEEKDAYS_8_TO_18 = BusinessClock(
    CalendarSpec(
        "Europe/London", hours=tuple((day, 8 * 60, 18 * 60) for day in range(5))
    )
)


def test_most_delivered_items_meet_their_target(items):
    delivered = [item for item in items if item.fulfilled_at is not None]
    assert len(delivered) > REQUESTS
    on_time = [item for item in delivered if item.resolution_breached_at is None]
    assert 0.7 <= len(on_time) / len(delivered) <= 0.95


def test_a_delivery_after_its_due_time_is_recorded_as_breached(items):
    late = [
        item
        for item in items
        if item.fulfilled_at is not None
        and item.resolution_due_at is not None
        and item.fulfilled_at > item.resolution_due_at
    ]
    assert len(late) >= 20
    for item in late:
        assert item.resolution_breached_at == item.resolution_due_at


def test_on_time_items_took_less_than_their_target_on_office_hours(items):
    """Checked by hand for items without holds on the office-hours calendar."""
    held = set(
        RequestEvent.objects.filter(to_state="on_hold").values_list(
            "item_id", flat=True
        )
    )
    checked = 0
    for item in items:
        if (
            item.calendar_name != "Office hours"
            or item.fulfilled_at is None
            or item.pk in held
            or item.resolution_breached_at is not None
            or item.resolution_seconds is None
        ):
            continue
        # Christmas and bank holidays only make the office-hours count smaller
        # than this weekday count, never larger.
        worked = (
            WEEKDAYS_8_TO_18.seconds_between(item.clock_started_at, item.fulfilled_at)
            / 3600
        )
        assert item.resolution_seconds / 3600 <= worked + 0.01
        assert item.resolution_seconds / 3600 <= item.resolution_target_hours
        checked += 1
    assert checked > 100


def test_open_items_are_recent_or_waiting(items):
    open_items = [item for item in items if item.status in OPEN_STATES]
    recent = [i for i in open_items if NOW - i.created_at < timedelta(days=14)]
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
    assert names <= EVENT_NAMES
    assert EVENT_NAMES - names <= {"approval.escalation_failed"}


def test_the_request_log_verifies(history):
    assert list(request_log_verify()) == []


# --- Service levels -----------------------------------------------------------------


def test_stored_figures_equal_the_ones_rebuilt_from_the_log(history):
    assert service_levels_rebuild() == []


def test_each_items_figures_come_from_its_own_events_and_the_requests(history):
    # One item at a time, the rebuild reads only that item's events and the
    # request's own (comments), never its sibling items'.
    assert service_levels_rebuild(chunk_size=1) == []


def test_the_scheduled_check_has_nothing_left_to_do_at_its_last_run(history):
    # Everything it would have logged, reminded, escalated or closed by its run
    # at 10:00 is already in the history.
    assert service_desk_sweep(now=LAST_CHECK) == SweepResult()


def test_breaches_and_risks_are_logged_by_the_first_check_after_they_happen(history):
    marks = RequestEvent.objects.filter(name__in=["item.breached", "item.at_risk"])
    assert marks.filter(name="item.breached").count() > 20
    assert marks.filter(name="item.at_risk").count() > 20
    for event in marks:
        moment = datetime.fromisoformat(
            event.data["due"] if event.name == "item.breached" else event.data["at"]
        )
        assert event.actor_id is None
        assert event.data["clock"] in ("customer", "internal")
        assert moment < event.created_at <= moment + timedelta(minutes=5)
        assert event.created_at.second == 0
        assert event.created_at.minute % 5 == 0


def test_an_open_item_past_its_due_time_shows_the_breach(items):
    breached = [
        item
        for item in items
        if item.status in QUEUE_STATES and item.internal_resolution_breached_at
    ]
    assert breached
    for item in breached:
        assert item.internal_resolution_breached_at == item.internal_resolution_due_at
        assert RequestEvent.objects.filter(
            item=item, name="item.breached", data__target="resolution"
        ).exists()


# --- Approvals ----------------------------------------------------------------------


def test_approval_steps_are_decided_by_their_approver_never_by_the_requester(history):
    steps = list(
        ApprovalStep.objects.select_related("request", "item", "approver", "decided_by")
    )
    assert len(steps) > 50
    admins = set(
        get_user_model().objects.filter(is_superuser=True).values_list("pk", flat=True)
    )
    for step in steps:
        parties = {step.request.requested_by_id, step.request.requested_for_id}
        assert step.approver_id not in parties
        if step.status in (ApprovalStep.Status.APPROVED, ApprovalStep.Status.REJECTED):
            assert step.decided_by_id not in parties
            if step.approver_id is None:
                assert step.decided_by_id in admins
            else:
                assert step.decided_by_id == step.approver_id
            assert step.opened_at <= step.decided_at
        else:
            assert step.decided_by_id is None and step.decided_at is None
        if step.status == ApprovalStep.Status.REJECTED:
            assert step.note
            assert step.item.status in (ItemStatus.REJECTED, ItemStatus.CLOSED)
        if step.status == ApprovalStep.Status.PENDING:
            assert step.item.status == ItemStatus.AWAITING_APPROVAL
        if step.status == ApprovalStep.Status.QUEUED:
            assert step.item.status == ItemStatus.AWAITING_APPROVAL


def test_items_needing_the_manager_ask_the_recipients_manager(history):
    managers = dict(UserProfile.objects.values_list("user_id", "manager_id"))
    steps = ApprovalStep.objects.filter(
        kind="manager", escalated_from__isnull=True, approver__isnull=False
    ).select_related("request")
    assert steps.exists()
    for step in steps:
        # The recipient's manager, unless they ordered it: then theirs.
        expected = managers.get(step.request.requested_for_id)
        if expected == step.request.requested_by_id:
            expected = managers.get(expected)
        if expected is not None:  # else the department's head, if any
            assert step.approver_id == expected


def test_each_step_is_asked_for_by_whoever_moved_it_on(history):
    requested = _events_by_item(name="approval.requested")
    steps = {
        (s.item_id, s.position): s
        for s in ApprovalStep.objects.select_related("request")
    }
    for item_id, events in requested.items():
        for event in events:
            step = steps[(item_id, event.data["step"])]
            assert event.created_at == step.opened_at
            if step.position == 1:
                assert event.actor_id == step.request.requested_by_id
            else:
                previous = steps[(item_id, step.position - 1)]
                assert event.actor_id == previous.decided_by_id
                assert event.created_at == previous.decided_at


def test_the_item_moves_when_its_last_step_is_decided(history):
    moves = _status_events()
    decided = ApprovalStep.objects.filter(
        status__in=[ApprovalStep.Status.APPROVED, ApprovalStep.Status.REJECTED]
    )
    for step in decided:
        later = ApprovalStep.objects.filter(item=step.item, position__gt=step.position)
        if step.status == ApprovalStep.Status.APPROVED and later.exists():
            continue
        move = next(
            e for e in moves[step.item_id] if e.from_state == "awaiting_approval"
        )
        assert move.to_state == step.status
        assert move.actor_id == step.decided_by_id
        assert move.created_at == step.decided_at
        if step.status == ApprovalStep.Status.REJECTED:
            assert move.note == step.note
            assert not later.exclude(status=ApprovalStep.Status.WITHDRAWN).exists()


def test_the_clock_starts_at_the_last_approval(items):
    approvals = {
        e.item_id: e.created_at
        for e in RequestEvent.objects.filter(to_state="approved")
    }
    needing_approval = set(ApprovalStep.objects.values_list("item_id", flat=True))
    for item in items:
        if item.pk in approvals:
            assert item.clock_started_at == approvals[item.pk]
        elif item.pk in needing_approval:  # not approved (yet)
            assert item.clock_started_at is None
        else:
            assert item.clock_started_at == item.created_at


def test_waiting_approvals_are_reminded_then_escalated_to_the_approvers_manager(
    history,
):
    managers = dict(UserProfile.objects.values_list("user_id", "manager_id"))
    reminded = ApprovalStep.objects.filter(reminded_at__isnull=False)
    escalated = ApprovalStep.objects.filter(escalated_from__isnull=False)
    assert reminded.exists() and escalated.exists()
    for step in reminded:
        assert (
            step.remind_at <= step.reminded_at < step.remind_at + timedelta(minutes=5)
        )
        assert step.decided_at is None or step.reminded_at < step.decided_at
    for step in escalated:
        assert managers[step.escalated_from_id] == step.approver_id
        event = RequestEvent.objects.get(
            item=step.item, name="approval.escalated", data__step=step.position
        )
        assert event.created_at == step.escalated_at
        assert event.data["escalated_from"] == step.escalated_from_id
        assert event.data["approver"] == step.approver_id


def test_cancelling_while_waiting_withdraws_the_open_step(history):
    withdrawn = RequestEvent.objects.filter(name="approval.withdrawn")
    assert withdrawn.exists()
    for event in withdrawn:
        step = ApprovalStep.objects.get(item=event.item, position=event.data["step"])
        assert step.status == ApprovalStep.Status.WITHDRAWN
        assert event.item.status == ItemStatus.CANCELLED
        assert event.actor_id == event.item.request.requested_by_id


# --- Holds, delivery and ratings -----------------------------------------------------


def test_holds_use_real_hold_reasons_and_record_their_policy(history):
    holds = RequestEvent.objects.filter(to_state="on_hold")
    assert holds.count() >= 10
    reasons = HoldReason.objects.in_bulk()
    used = set()
    for event in holds:
        reason = reasons[event.data["hold_reason_id"]]
        assert reason.name in HOLD_REASONS
        assert event.data == hold_event_data(reason)
        if reason.requester_must_act:
            assert event.note
        used.add(reason.name)
    assert len(used) >= 3


def test_every_delivery_says_what_was_done(history):
    deliveries = RequestEvent.objects.filter(to_state="fulfilled")
    assert deliveries.exists()
    assert not deliveries.filter(note="").exists()


def test_ratings_close_the_item_with_a_rated_event(items):
    rated = [item for item in items if item.rating is not None]
    assert len(rated) > 100
    assert {item.rating for item in rated} <= {1, 2, 3, 4, 5}
    events = {e.item_id: e for e in RequestEvent.objects.filter(name="item.rated")}
    closes = {
        e.item_id: e
        for e in RequestEvent.objects.filter(
            name="item.status_changed", from_state="fulfilled", to_state="closed"
        )
    }
    assert set(events) == {item.pk for item in rated}
    for item in rated:
        assert item.status == ItemStatus.CLOSED
        rated_event, close = events[item.pk], closes[item.pk]
        assert rated_event.data == {"rating": item.rating}
        assert rated_event.note == item.rating_comment
        assert rated_event.actor_id == item.request.requested_for_id
        assert rated_event.created_at == item.rated_at == close.created_at
        assert close.note == "Closed after the requester rated it."
        assert item.fulfilled_at < item.rated_at < item.fulfilled_at + timedelta(days=5)


def test_unrated_deliveries_close_on_their_own_after_five_days(items):
    closes = {
        e.item_id: e
        for e in RequestEvent.objects.filter(
            name="item.status_changed", from_state="fulfilled", to_state="closed"
        )
    }
    auto = [c for c in closes.values() if c.actor_id is None]
    assert len(auto) > 100
    fulfilled = {item.pk: item.fulfilled_at for item in items}
    for close in auto:
        window_ends = fulfilled[close.item_id] + timedelta(days=5)
        assert window_ends <= close.created_at < window_ends + timedelta(minutes=5)
        assert close.note == "Closed automatically 5 days after delivery."
    for item in items:
        if item.status == ItemStatus.FULFILLED:
            assert NOW - item.fulfilled_at < timedelta(days=5, minutes=5)


def test_late_items_are_rated_lower_and_one_service_is_on_time_but_unloved(items):
    rated = [item for item in items if item.rating is not None]
    late = [i.rating for i in rated if i.resolution_breached_at is not None]
    on_time = [i.rating for i in rated if i.resolution_breached_at is None]
    assert mean(late) + 0.5 < mean(on_time)
    phones = [i for i in items if i.service_name == "Mobile phone" and i.fulfilled_at]
    assert sum(i.resolution_breached_at is None for i in phones) / len(phones) >= 0.85
    assert mean(i.rating for i in phones if i.rating) < 3.2


# --- The named demo users -------------------------------------------------------------


def _situations(requests):
    """What the named users find, among ``requests``."""
    fulfiller = _user("fulfiller")
    queue = RequestItem.objects.filter(
        request__in=requests,
        status__in=QUEUE_STATES,
        fulfilment_group__members=fulfiller,
    )
    employee_items = RequestItem.objects.filter(
        request__in=requests, request__requested_for__username="employee"
    )
    return {
        "manager_pending": ApprovalStep.objects.filter(
            request__in=requests,
            approver__username="manager",
            status=ApprovalStep.Status.PENDING,
        ).count(),
        "at_risk": queue.filter(
            internal_at_risk_at__isnull=False,
            internal_resolution_breached_at__isnull=True,
            resolution_breached_at__isnull=True,
        ).count(),
        "breached": queue.filter(
            Q(internal_resolution_breached_at__isnull=False)
            | Q(resolution_breached_at__isnull=False)
        ).count(),
        "mine_at_risk": queue.filter(
            assigned_to=fulfiller, internal_at_risk_at__isnull=False
        ).count(),
        "paused_for_employee": employee_items.filter(
            status=ItemStatus.ON_HOLD,
            hold_reason__name="Waiting for the requester",
            paused_since__isnull=False,
        ).count(),
        "employee_to_rate": employee_items.filter(
            status=ItemStatus.FULFILLED, rating__isnull=True
        ).count(),
        "employee_rated": employee_items.filter(
            status=ItemStatus.CLOSED, rating__isnull=False
        ).count(),
    }


MINIMUMS = {
    "manager_pending": 3,
    "at_risk": 2,
    "breached": 2,
    "mine_at_risk": 2,
    "paused_for_employee": 1,
    "employee_to_rate": 1,
    "employee_rated": 2,
}


def test_the_named_users_find_their_situations(history):
    found = _situations(ServiceRequest.objects.all())
    for name, minimum in MINIMUMS.items():
        assert found[name] >= minimum, name


def test_one_approval_waiting_for_the_manager_was_escalated_to_them(history):
    step = ApprovalStep.objects.get(
        approver__username="manager",
        status=ApprovalStep.Status.PENDING,
        escalated_from__isnull=False,
    )
    # Their team lead was reminded first; the manager hasn't been yet.
    reminded = RequestEvent.objects.get(
        item=step.item, name="approval.reminded", data__step=step.position
    )
    assert reminded.data["approver"] == step.escalated_from_id
    assert step.reminded_at is None
    managers = dict(UserProfile.objects.values_list("user_id", "manager__username"))
    assert managers[step.escalated_from_id] == "manager"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 15, 23, 40, tzinfo=LONDON),  # Sunday night
        datetime(2026, 4, 6, 9, 10, tzinfo=LONDON),  # Easter Monday
        datetime(2026, 12, 28, 8, 1, tzinfo=LONDON),  # between Christmas and New Year
        datetime(2026, 10, 25, 1, 30, tzinfo=LONDON),  # the clocks go back
    ],
)
def test_the_named_users_find_their_situations_whatever_the_day(history, moment):
    before = ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True)[0]
    with time_machine.travel(moment, tick=False):
        history_generate(requests=100, seed=3)
    found = _situations(ServiceRequest.objects.filter(pk__gt=before))
    for name, minimum in MINIMUMS.items():
        assert found[name] >= minimum, name


# --- Running it ---------------------------------------------------------------------


def test_running_again_adds_more_history_and_reuses_the_people(history):
    people = get_user_model().objects.count()
    summary = history_generate(requests=25, seed=1)
    assert summary.requests == 25
    assert summary.people_created == 0
    assert ServiceRequest.objects.count() == REQUESTS + 25
    assert get_user_model().objects.count() == people
    assert list(request_log_verify()) == []


def test_a_small_history_leaves_the_named_users_alone(history):
    before = ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True)[0]
    history_generate(requests=25, seed=1)
    new = ServiceRequest.objects.filter(pk__gt=before)
    # The scene in which the employee asks for admin rights is not played.
    assert not new.filter(business_reason__contains="meeting app").exists()
    assert ServiceRequest.objects.filter(
        business_reason__contains="meeting app"
    ).exists()


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
