"""Service-level clocks as a pure function of an item's log and its calendar.

Every expected time below was worked out by hand on a calendar and is written
literally. The office calendar is Monday to Friday 08:00–18:00 in London with
England's public holidays, as migration 0006 creates it.
"""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from catalog.business_time import BusinessClock, CalendarSpec
from catalog.clock import Targets, item_figures

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_8_TO_18 = tuple((day, 8 * 60, 18 * 60) for day in range(5))
CLOCKS = {
    1: BusinessClock(
        CalendarSpec(
            time_zone="Europe/London",
            hours=WEEKDAYS_8_TO_18,
            holiday_country="GB",
            holiday_subdivision="ENG",
        )
    ),
    2: BusinessClock(CalendarSpec(time_zone="Europe/London", always_open=True)),
    3: BusinessClock(
        CalendarSpec(
            time_zone="America/New_York",
            hours=tuple((day, 9 * 60, 17 * 60) for day in range(5)),
            holiday_country="US",
        )
    ),
    # The office calendar after someone changed it to 09:00–17:00.
    4: BusinessClock(
        CalendarSpec(
            time_zone="Europe/London",
            hours=tuple((day, 9 * 60, 17 * 60) for day in range(5)),
            holiday_country="GB",
            holiday_subdivision="ENG",
        )
    ),
}
ITEM = 10
REQUESTER = 1
STAFF = 2
TARGETS = Targets(
    response=Decimal("1"),
    resolution=Decimal("8"),
    internal_response=Decimal("0.5"),
    internal_resolution=Decimal("6"),
)
WAITING_FOR_YOU = {"pauses_customer": True, "pauses_internal": True}
SUPPLIER = {"pauses_customer": True, "pauses_internal": False}
OTHER_TEAM = {"pauses_customer": False, "pauses_internal": False}


def local(tz, *args):
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def london(*args):
    return local(LONDON, *args)


def event(name, at, *, to="", frm="", actor=STAFF, data=None, item=ITEM):
    return SimpleNamespace(
        name=name,
        created_at=at,
        from_state=frm,
        to_state=to,
        actor_id=actor,
        data=data or {},
        item_id=item,
    )


def created(at, state="submitted"):
    return event("item.created", at, to=state, actor=REQUESTER)


def move(at, frm, to, *, actor=STAFF, data=None):
    return event("item.status_changed", at, frm=frm, to=to, actor=actor, data=data)


def figures(events, *, targets=TARGETS, version=1):
    return item_figures(
        events=events,
        item_id=ITEM,
        requester_ids={REQUESTER},
        targets=targets,
        default_version_id=version,
        clock_for=CLOCKS.get,
    )


def only(hours, **extra):
    """Targets with the given customer resolution hours and nothing else."""
    return Targets(
        response=extra.get("response"),
        resolution=Decimal(hours),
        internal_response=None,
        internal_resolution=extra.get("internal"),
    )


# (what it shows, calendar version, submitted at, resolution hours, due at)
DUE_TIMES = [
    (
        "across a night",
        1,
        london(2026, 11, 24, 16, 0),  # Tuesday
        "4",
        london(2026, 11, 25, 10, 0),
    ),
    (
        "across a weekend",
        1,
        london(2026, 11, 27, 17, 0),  # Friday
        "4",
        london(2026, 11, 30, 11, 0),
    ),
    (
        "submitted on a Saturday",
        1,
        london(2026, 11, 28, 12, 0),
        "3",
        london(2026, 11, 30, 11, 0),
    ),
    (
        "submitted before opening",
        1,
        london(2026, 11, 24, 6, 30),
        "2",
        london(2026, 11, 24, 10, 0),
    ),
    (
        "ends exactly at closing time",
        1,
        london(2026, 11, 24, 8, 0),
        "10",
        london(2026, 11, 24, 18, 0),
    ),
    (
        # Christmas Day (Friday), the weekend, and Boxing Day moved to Monday 28th.
        "across Christmas",
        1,
        london(2026, 12, 24, 16, 0),
        "8",
        london(2026, 12, 29, 14, 0),
    ),
    (
        # Good Friday 26 March and Easter Monday 29 March 2027.
        "across Easter",
        1,
        london(2027, 3, 25, 17, 0),
        "2",
        london(2027, 3, 30, 9, 0),
    ),
    (
        # Clocks go forward on Sunday 29 March 2026: Monday opens at 08:00 BST.
        "London spring forward",
        1,
        london(2026, 3, 27, 17, 0),
        "4",
        datetime(2026, 3, 30, 10, 0, tzinfo=UTC),
    ),
    (
        # Clocks go back on Sunday 25 October 2026: Monday opens at 08:00 GMT.
        "London fall back",
        1,
        london(2026, 10, 23, 17, 0),
        "4",
        datetime(2026, 10, 26, 11, 0, tzinfo=UTC),
    ),
    (
        # New York 09:00–17:00; clocks go forward on Sunday 8 March 2026.
        "New York spring forward",
        3,
        local(NEW_YORK, 2026, 3, 6, 15, 0),
        "4",
        datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
    ),
    (
        # ... and back on Sunday 1 November 2026.
        "New York fall back",
        3,
        local(NEW_YORK, 2026, 10, 30, 16, 0),
        "3",
        datetime(2026, 11, 2, 16, 0, tzinfo=UTC),
    ),
    (
        "24x7 across a weekend night",
        2,
        datetime(2026, 11, 28, 23, 0, tzinfo=UTC),
        "4",
        datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
    ),
    (
        # Around the clock is elapsed time: the lost hour is not counted twice.
        "24x7 across London spring forward",
        2,
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
        "4",
        datetime(2026, 3, 29, 3, 30, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("version", "submitted", "hours", "due"),
    [case[1:] for case in DUE_TIMES],
    ids=[case[0] for case in DUE_TIMES],
)
def test_due_time_on_the_calendar(version, submitted, hours, due):
    result = figures([created(submitted)], targets=only(hours), version=version)
    assert result.clock_started_at == submitted
    assert result.resolution_due_at == due


def test_the_clock_starts_at_the_last_approval_when_approval_is_needed():
    submitted = london(2026, 11, 23, 9, 0)  # Monday
    approved = london(2026, 11, 23, 14, 0)
    result = figures(
        [
            created(submitted, "awaiting_approval"),
            move(approved, "awaiting_approval", "approved", actor=99),
        ]
    )
    assert result.clock_started_at == approved
    assert result.response_due_at == london(2026, 11, 23, 15, 0)
    assert result.resolution_due_at == london(2026, 11, 24, 12, 0)
    assert result.first_response_at is None  # an approval is not a response


def test_a_rejected_item_has_no_clock():
    result = figures(
        [
            created(london(2026, 11, 23, 9, 0), "awaiting_approval"),
            move(london(2026, 11, 23, 10, 0), "awaiting_approval", "rejected"),
        ]
    )
    assert result.clock_started_at is None
    assert result.resolution_due_at is None


def life_with_hold(policy):
    """Tuesday 24 November 2026: submitted 09:00, started 09:30, on hold 11:00,
    resumed Wednesday 10:00."""
    return [
        created(london(2026, 11, 24, 9, 0)),
        move(london(2026, 11, 24, 9, 30), "submitted", "in_progress"),
        move(london(2026, 11, 24, 11, 0), "in_progress", "on_hold", data=policy),
        move(london(2026, 11, 25, 10, 0), "on_hold", "in_progress"),
    ]


def test_waiting_for_the_requester_pauses_both_clocks():
    result = figures(life_with_hold(WAITING_FOR_YOU))
    # 2 h ran before the hold; the hold took 9 working hours (Tue 11–18, Wed 8–10).
    assert result.resolution_due_at == london(2026, 11, 25, 16, 0)
    assert result.internal_resolution_due_at == london(2026, 11, 25, 14, 0)
    assert result.at_risk_from == london(2026, 11, 25, 14, 0)  # 6 of 8 hours
    assert result.internal_at_risk_from == london(2026, 11, 25, 12, 30)  # 4.5 of 6
    assert result.customer_paused_seconds == 9 * 3600
    assert result.internal_paused_seconds == 9 * 3600
    assert result.first_response_at == london(2026, 11, 24, 9, 30)
    assert result.resolution_breached_at is None
    assert result.internal_resolution_breached_at is None
    assert result.paused_since is None


def test_waiting_for_a_supplier_pauses_the_customer_clock_only():
    result = figures(life_with_hold(SUPPLIER))
    assert result.resolution_due_at == london(2026, 11, 25, 16, 0)
    assert result.internal_resolution_due_at == london(2026, 11, 24, 15, 0)
    # The log shows the item still going after 15:00 (resumed Wednesday).
    assert result.internal_resolution_breached_at == london(2026, 11, 24, 15, 0)
    assert result.customer_paused_seconds == 9 * 3600
    assert result.internal_paused_seconds == 0


def test_a_hold_for_another_team_pauses_nothing():
    result = figures(life_with_hold(OTHER_TEAM))
    assert result.resolution_due_at == london(2026, 11, 24, 17, 0)
    assert result.internal_resolution_due_at == london(2026, 11, 24, 15, 0)
    assert result.resolution_breached_at == london(2026, 11, 24, 17, 0)
    assert result.customer_paused_seconds == 0


def test_while_paused_the_due_time_is_unknown_and_the_pause_is_shown():
    events = life_with_hold(WAITING_FOR_YOU)[:3]
    result = figures(events)
    assert result.resolution_due_at is None
    assert result.internal_resolution_due_at is None
    assert result.paused_since == london(2026, 11, 24, 11, 0)
    # Response was on time and stays known.
    assert result.response_due_at == london(2026, 11, 24, 10, 0)
    assert result.response_breached_at is None


def test_a_due_time_passed_before_the_hold_stays_breached():
    events = [
        created(london(2026, 11, 24, 9, 0)),
        move(london(2026, 11, 24, 9, 10), "submitted", "in_progress"),
        move(london(2026, 11, 24, 17, 30), "in_progress", "on_hold", data=SUPPLIER),
    ]
    result = figures(events)
    assert result.resolution_due_at == london(2026, 11, 24, 17, 0)
    assert result.resolution_breached_at == london(2026, 11, 24, 17, 0)
    assert result.paused_since == london(2026, 11, 24, 17, 30)


def test_delivery_stops_the_clock_and_late_delivery_is_a_breach():
    events = [
        created(london(2026, 11, 24, 9, 0)),
        move(london(2026, 11, 24, 9, 45), "submitted", "in_progress"),
        move(london(2026, 11, 25, 9, 0), "in_progress", "fulfilled"),
        # Events after delivery (closing, rating) don't move anything.
        move(london(2026, 11, 30, 9, 0), "fulfilled", "closed", actor=None),
    ]
    result = figures(events)
    assert result.resolution_due_at == london(2026, 11, 24, 17, 0)
    assert result.resolution_breached_at == london(2026, 11, 24, 17, 0)
    assert result.internal_resolution_breached_at == london(2026, 11, 24, 15, 0)
    assert result.at_risk_at == london(2026, 11, 24, 15, 0)
    # Tue 09:00–18:00 and Wed 08:00–09:00.
    assert result.resolution_seconds == 10 * 3600
    assert result.response_breached_at is None
    assert result.internal_response_breached_at == london(2026, 11, 24, 9, 30)


def test_on_time_delivery_is_not_a_breach_even_exactly_at_the_due_time():
    events = [
        created(london(2026, 11, 24, 9, 0)),
        move(london(2026, 11, 24, 9, 20), "submitted", "in_progress"),
        move(london(2026, 11, 24, 17, 0), "in_progress", "fulfilled"),
    ]
    result = figures(events)
    assert result.resolution_breached_at is None
    assert result.at_risk_at == london(2026, 11, 24, 15, 0)
    assert result.resolution_seconds == 8 * 3600


def test_a_reopened_item_does_not_count_the_time_it_was_delivered():
    events = [
        created(london(2026, 11, 24, 9, 0)),
        move(london(2026, 11, 24, 9, 5), "submitted", "in_progress"),
        move(london(2026, 11, 24, 12, 0), "in_progress", "fulfilled"),
        move(london(2026, 11, 24, 15, 0), "fulfilled", "in_progress"),
        move(london(2026, 11, 24, 16, 0), "in_progress", "fulfilled"),
    ]
    result = figures(events)
    assert result.resolution_seconds == 4 * 3600
    assert result.customer_paused_seconds == 3 * 3600
    # 3 hours before delivery, 5 after the reopening: Tue 15–18 and Wed 08–10.
    assert result.resolution_due_at == london(2026, 11, 25, 10, 0)


def test_an_open_item_is_breached_only_once_the_log_shows_time_passed():
    submitted = london(2026, 11, 24, 9, 0)
    started = london(2026, 11, 24, 9, 15)
    base = [created(submitted), move(started, "submitted", "in_progress")]
    early = figures(base)
    assert early.resolution_due_at == london(2026, 11, 24, 17, 0)
    assert early.resolution_breached_at is None
    assert early.at_risk_at is None
    # The scheduled check writes an event when a due time passes.
    marked = figures(
        [*base, event("item.breached", london(2026, 11, 24, 17, 5), actor=None)]
    )
    assert marked.resolution_breached_at == london(2026, 11, 24, 17, 0)
    assert marked.at_risk_at == london(2026, 11, 24, 15, 0)


def test_first_response_is_the_first_visible_action_by_staff():
    submitted = london(2026, 11, 24, 9, 0)
    events = [
        created(submitted),
        # The requester's own comment, a work note and an assignment don't count.
        event(
            "request.commented", london(2026, 11, 24, 9, 5), actor=REQUESTER, item=None
        ),
        event("item.work_note", london(2026, 11, 24, 9, 10)),
        event("item.assigned", london(2026, 11, 24, 9, 20)),
        # A comment from IT on the request does.
        event("request.commented", london(2026, 11, 24, 10, 30), item=None),
        move(london(2026, 11, 24, 11, 0), "submitted", "in_progress"),
    ]
    result = figures(events)
    assert result.first_response_at == london(2026, 11, 24, 10, 30)
    assert result.response_due_at == london(2026, 11, 24, 10, 0)
    assert result.response_breached_at == london(2026, 11, 24, 10, 0)


def test_other_items_events_are_ignored():
    events = [
        created(london(2026, 11, 24, 9, 0)),
        move(london(2026, 11, 24, 9, 30), "submitted", "in_progress"),
        event(
            "item.status_changed", london(2026, 11, 26, 9, 0), to="fulfilled", item=11
        ),
    ]
    result = figures(events)
    assert result.resolution_breached_at is None
    assert result.first_response_at == london(2026, 11, 24, 9, 30)


def test_a_calendar_change_recomputes_the_due_time_over_the_whole_life():
    events = [created(london(2026, 11, 24, 9, 0))]
    before = figures(events, targets=only("10"))
    assert before.resolution_due_at == london(2026, 11, 25, 9, 0)
    changed = figures(
        [
            *events,
            event(
                "item.calendar_changed",
                london(2026, 11, 24, 12, 0),
                data={"from_version": 1, "to_version": 4},
            ),
        ],
        targets=only("10"),
    )
    # 09:00–17:00: 8 hours on Tuesday, 2 on Wednesday.
    assert changed.calendar_version_id == 4
    assert changed.resolution_due_at == london(2026, 11, 25, 11, 0)


def test_an_item_without_a_service_level_has_no_due_times():
    result = figures(
        [created(london(2026, 11, 24, 9, 0))],
        targets=Targets(None, None, None, None),
    )
    assert result.resolution_due_at is None
    assert result.clock_started_at == london(2026, 11, 24, 9, 0)


def test_the_same_log_always_gives_the_same_figures():
    events = life_with_hold(SUPPLIER)
    assert figures(events) == figures(list(events))


STANDARD = Targets(
    response=Decimal("4"),
    resolution=Decimal("30"),
    internal_response=Decimal("2"),
    internal_resolution=Decimal("24"),
)


def test_the_worked_example_in_docs_service_levels():
    submitted = london(2026, 12, 24, 15, 30)
    started = london(2026, 12, 29, 9, 0)
    before = figures(
        [created(submitted), move(started, "submitted", "in_progress")],
        targets=STANDARD,
    )
    assert before.response_due_at == london(2026, 12, 29, 9, 30)
    assert before.internal_resolution_due_at == london(2026, 12, 31, 9, 30)
    assert before.at_risk_from == london(2026, 12, 30, 18, 0)
    assert before.resolution_due_at == london(2026, 12, 31, 15, 30)
    held = [
        created(submitted),
        move(started, "submitted", "in_progress"),
        move(
            london(2026, 12, 29, 11, 0), "in_progress", "on_hold", data=WAITING_FOR_YOU
        ),
        move(london(2026, 12, 30, 10, 0), "on_hold", "in_progress"),
    ]
    after = figures(held, targets=STANDARD)
    assert after.customer_paused_seconds == 9 * 3600
    assert after.resolution_due_at == london(2027, 1, 4, 14, 30)
    held[2] = move(london(2026, 12, 29, 11, 0), "in_progress", "on_hold", data=SUPPLIER)
    supplier = figures(held, targets=STANDARD)
    assert supplier.resolution_due_at == london(2027, 1, 4, 14, 30)
    assert supplier.internal_resolution_due_at == london(2026, 12, 31, 9, 30)
