"""The delivery figures on service pages, worked out from items built by hand.

The "Office hours" calendar (created by migration) opens Monday to Friday, 8:00
to 18:00: a working day is 10 hours, 36,000 seconds. Every figure below is
worked out on paper from the seconds chosen for the items.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from catalog.models import (
    BusinessCalendar,
    BusinessHours,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceDeliveryStats,
    ServiceLevel,
)
from catalog.selectors.reporting.services import delivery_line
from catalog.services.reporting import reporting_rebuild
from catalog.services.service_stats import (
    last_quarter,
    recent_window,
    service_stats_refresh,
    working_day_seconds,
)
from catalog.services.sweep import service_desk_sweep
from tests.factories import ServiceLevelFactory, ServiceRequestFactory, service_page

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 5, 10)  # the 90 days before: 9 February to 9 May 2026
HOUR = 3600
DAY = 10 * HOUR  # a working day of "Office hours"


def at(day: date, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def deliver(service, person, day: date, *, seconds=None, met=True, target=True):
    """One request with one item of ``service``, delivered on ``day`` (and
    closed, so the scheduled check leaves it alone), its clock having run
    ``seconds`` business seconds; late unless ``met``."""
    created = at(day, 9) - timedelta(days=3)
    request = ServiceRequestFactory(requested_by=person, submitted_at=created)
    return RequestItem.objects.create(
        request=request,
        line_number=1,
        service=service,
        service_name=service.title,
        one_off_price=Decimal("0"),
        monthly_price=Decimal("0"),
        currency="EUR",
        status=ItemStatus.CLOSED,
        created_at=created,
        status_changed_at=at(day),
        fulfilled_at=at(day),
        clock_started_at=created,
        resolution_target_hours=Decimal("16") if target else None,
        resolution_breached_at=None if met else at(day, 10),
        resolution_seconds=seconds,
    )


def refreshed(service, today=TODAY) -> ServiceDeliveryStats:
    reporting_rebuild()
    service_stats_refresh(today=today)
    return ServiceDeliveryStats.objects.get(service=service)


@pytest.fixture
def service(catalog, standard_level):
    return service_page(
        catalog["computers"], "Docking station", service_level=standard_level
    )


@pytest.fixture
def recent_days():
    """Eleven delivery days inside the window, a few days apart."""
    return [date(2026, 2, 9) + timedelta(days=8 * n) for n in range(11)]


def line_of(service) -> str:
    service = type(service).objects.get(pk=service.pk)
    return delivery_line(service=service).text


# --- The periods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 5, 10), (date(2026, 1, 1), date(2026, 4, 1))),
        (date(2026, 4, 1), (date(2026, 1, 1), date(2026, 4, 1))),
        (date(2026, 3, 31), (date(2025, 10, 1), date(2026, 1, 1))),
        (date(2026, 1, 1), (date(2025, 10, 1), date(2026, 1, 1))),
        (date(2026, 12, 31), (date(2026, 7, 1), date(2026, 10, 1))),
    ],
)
def test_last_complete_quarter(today, expected):
    assert last_quarter(today) == expected


def test_the_recent_window_is_the_90_days_before_today():
    assert recent_window(TODAY) == (date(2026, 2, 9), date(2026, 5, 10))


# --- The length of a working day --------------------------------------------------


def calendar_with(name, hours, *, always_open=False) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=name, always_open=always_open)
    for weekday, opens, closes in hours:
        BusinessHours.objects.create(
            calendar=calendar, weekday=weekday, opens=opens, closes=closes
        )
    return calendar


@pytest.mark.parametrize(
    ("hours", "always_open", "expected"),
    [
        # Monday to Friday 8:00-18:00: 50 hours over 5 days.
        ([(d, time(8), time(18)) for d in range(5)], False, 36000),
        # Monday to Thursday 9:00-17:00, Friday 9:00-13:00: 36 hours over 5 days.
        (
            [(d, time(9), time(17)) for d in range(4)] + [(4, time(9), time(13))],
            False,
            25920,
        ),
        # A split shift counts both halves: 8:00-12:00 and 13:00-17:00 = 8 hours.
        (
            [(d, time(8), time(12)) for d in range(5)]
            + [(d, time(13), time(17)) for d in range(5)],
            False,
            28800,
        ),
        # Open until midnight on Saturday only: one 16-hour day.
        ([(5, time(8), time(0))], False, 57600),
        # Around the clock: 24-hour days, whatever rows are left.
        ([(0, time(8), time(9))], True, 86400),
        # Never open: no day length, so no figure.
        ([], False, None),
    ],
)
def test_working_day_length(db, hours, always_open, expected):
    calendar = calendar_with("Test calendar", hours, always_open=always_open)
    assert working_day_seconds(calendar) == expected


# --- The typical time -------------------------------------------------------------


def test_median_of_an_odd_number_of_items(service, employee, recent_days):
    seconds = [
        1 * HOUR,
        2 * HOUR,
        3 * HOUR,
        5 * HOUR,
        10 * HOUR,
        25 * HOUR,  # the middle one of 11: 2.5 working days
        30 * HOUR,
        35 * HOUR,
        50 * HOUR,
        60 * HOUR,
        100 * HOUR,
    ]
    for day, value in zip(recent_days, reversed(seconds), strict=True):
        deliver(service, employee, day, seconds=value)
    stats = refreshed(service)
    assert stats.median_days == Decimal("2.5")
    assert stats.delivered_90_days == 11
    assert stats.computed_on == TODAY
    # 2.5 days, said as a whole number of days that is true: within 3.
    assert line_of(service) == "Recently: half delivered within 3 working days"


def test_median_of_an_even_number_of_items(service, employee, recent_days):
    seconds = [1, 2, 3, 5, 10, 20, 30, 35, 50, 60]  # hours
    for day, value in zip(recent_days, seconds, strict=False):
        deliver(service, employee, day, seconds=value * HOUR)
    stats = refreshed(service)
    # The middle two are 10 and 20 hours: 15 hours, 1.5 working days.
    assert stats.median_days == Decimal("1.5")
    assert stats.delivered_90_days == 10
    assert line_of(service) == "Recently: half delivered within 2 working days"


def test_median_is_rounded_up_to_a_tenth_of_a_day(service, employee, recent_days):
    seconds = [HOUR] * 4 + [40000, 41000] + [100 * HOUR] * 4
    for day, value in zip(recent_days, seconds, strict=False):
        deliver(service, employee, day, seconds=value)
    # (40,000 + 41,000) / 2 = 40,500 seconds = 1.125 days: 1.2, never 1.1.
    assert refreshed(service).median_days == Decimal("1.2")


def test_a_median_under_a_day_says_one_working_day(service, employee, recent_days):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=2 * HOUR)
    assert refreshed(service).median_days == Decimal("0.2")
    assert line_of(service) == "Recently: half delivered within 1 working day"


def test_only_the_90_days_before_today_count(service, employee, recent_days):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=10 * HOUR)
    # The day before the window, and today itself: not counted.
    deliver(service, employee, date(2026, 2, 8), seconds=900 * HOUR)
    deliver(service, employee, TODAY, seconds=900 * HOUR)
    stats = refreshed(service)
    assert stats.delivered_90_days == 10
    assert stats.median_days == Decimal("1.0")


def test_removals_are_not_deliveries(service, employee, recent_days):
    items = [
        deliver(service, employee, day, seconds=10 * HOUR) for day in recent_days[:10]
    ]
    removal = deliver(service, employee, recent_days[10], seconds=900 * HOUR)
    RequestItem.objects.filter(pk=removal.pk).update(
        removes_item=items[0], service_name=f"Remove: {service.title}"
    )
    stats = refreshed(service)
    assert stats.delivered_90_days == 10
    assert stats.median_days == Decimal("1.0")


def test_around_the_clock_days_are_24_hours(catalog, employee, recent_days):
    level = ServiceLevelFactory(
        name="Critical",
        calendar=calendar_with("Always", [], always_open=True),
    )
    # 16 hours around the clock is within a day: usually ready the same day.
    service = service_page(
        catalog["computers"], "Server restart", service_level=level, delivery_days=0
    )
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=36 * HOUR)
    # 36 hours on a 24-hour day: 1.5 days.
    assert refreshed(service).median_days == Decimal("1.5")


# --- Too little data ---------------------------------------------------------------


def test_nine_items_are_too_few(service, employee, recent_days):
    for day in recent_days[:9]:
        deliver(service, employee, day, seconds=10 * HOUR)
    stats = refreshed(service)
    assert (stats.median_days, stats.delivered_90_days) == (None, 9)
    assert line_of(service) == "Not enough recent requests to show delivery times"


def test_ten_items_are_enough(service, employee, recent_days):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=10 * HOUR)
    assert refreshed(service).median_days == Decimal("1.0")
    assert line_of(service) == "Recently: half delivered within 1 working day"


def test_a_service_nobody_ordered_has_too_little_data(service):
    stats = refreshed(service)
    assert (stats.median_days, stats.on_time_share) == (None, None)
    assert line_of(service) == "Not enough recent requests to show delivery times"


def test_a_service_without_figures_yet_says_so_too(service):
    # No row at all (a new service before the next daily refresh).
    assert not ServiceDeliveryStats.objects.filter(service=service).exists()
    assert line_of(service) == "Not enough recent requests to show delivery times"


def test_many_deliveries_without_a_promised_time(catalog, employee, recent_days):
    """Plenty delivered, but the service has no service level: nothing was
    measured, and the line says that rather than "not enough requests"."""
    service = service_page(catalog["computers"], "Cable")
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=None, target=False)
    stats = refreshed(service)
    assert (stats.median_days, stats.delivered_90_days) == (None, 10)
    assert line_of(service) == "Delivery times aren't measured for this service"


# --- On time last quarter ----------------------------------------------------------


@pytest.fixture
def first_quarter(service, employee):
    """Delivered January to March 2026: 18 with a target (17 on time) and 2
    without one; plus late ones just outside the quarter on both sides."""
    january = [date(2026, 1, 5) + timedelta(days=4 * n) for n in range(20)]
    for n, day in enumerate(january):
        deliver(service, employee, day, met=n != 0, target=n < 18)
    deliver(service, employee, date(2025, 12, 31), met=False)
    deliver(service, employee, date(2026, 4, 1), met=False)
    return service


def test_on_time_share_of_the_last_quarter(first_quarter):
    with time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=LONDON), tick=False):
        reporting_rebuild()
        service_stats_refresh()
    stats = ServiceDeliveryStats.objects.get(service=first_quarter)
    # 17 on time of the 18 with a target: 0.9444…, kept as 0.944.
    assert stats.on_time_share == Decimal("0.944")
    assert stats.delivered_last_quarter == 20
    assert stats.computed_on == date(2026, 5, 10)
    # Rounded down: 94%, never 95%.
    assert line_of(first_quarter) == "Recently: 94% on time last quarter"


def test_on_time_share_moves_with_the_quarter(first_quarter):
    # On 1 July the last quarter is April to June: one item, too few.
    with time_machine.travel(datetime(2026, 7, 1, 12, tzinfo=LONDON), tick=False):
        reporting_rebuild()
        service_stats_refresh()
    stats = ServiceDeliveryStats.objects.get(service=first_quarter)
    assert (stats.on_time_share, stats.delivered_last_quarter) == (None, 1)


def test_nine_measured_in_the_quarter_are_too_few(service, employee):
    for n in range(9):
        deliver(service, employee, date(2026, 1, 5) + timedelta(days=n))
    # A tenth delivered, but without a target: still only nine measured.
    deliver(service, employee, date(2026, 1, 20), target=False)
    stats = refreshed(service)
    assert (stats.on_time_share, stats.delivered_last_quarter) == (None, 10)


def test_both_figures_on_one_line(service, employee, recent_days):
    # Seven delivered from 9 February to 29 March (in the last quarter too,
    # one late), three in April.
    assert recent_days[6] == date(2026, 3, 29)
    for n, day in enumerate(recent_days[:7]):
        deliver(service, employee, day, seconds=20 * HOUR, met=n != 0)
    for day in recent_days[7:10]:
        deliver(service, employee, day, seconds=30 * HOUR)
    stats = refreshed(service)
    # Ten recent: the middle two are 20 hours, 2 working days. Seven measured
    # in the quarter: too few for a share.
    assert (stats.median_days, stats.on_time_share) == (Decimal("2.0"), None)
    assert line_of(service) == "Recently: half delivered within 2 working days"
    # Three more on time in January: not recent, but the quarter now holds ten
    # measured, nine on time.
    for n in range(3):
        deliver(service, employee, date(2026, 1, 5) + timedelta(days=n))
    stats = refreshed(service)
    assert (stats.median_days, stats.on_time_share) == (
        Decimal("2.0"),
        Decimal("0.900"),
    )
    assert line_of(service) == (
        "Recently: half delivered within 2 working days, 90% on time last quarter"
    )


# --- Refreshing --------------------------------------------------------------------


def test_refreshing_twice_writes_one_row_per_service(service, employee, recent_days):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=10 * HOUR)
    reporting_rebuild()
    assert service_stats_refresh(today=TODAY) == service_stats_refresh(today=TODAY)
    assert ServiceDeliveryStats.objects.filter(service=service).count() == 1
    assert ServiceDeliveryStats.objects.get(service=service).median_days == Decimal(
        "1.0"
    )


def test_the_scheduled_check_refreshes_once_a_day(service, employee, recent_days):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=10 * HOUR)
    reporting_rebuild()
    events = RequestEvent.objects.count()

    def check(*when):
        moment = datetime(*when, tzinfo=LONDON)
        with time_machine.travel(moment, tick=False):
            service_desk_sweep(now=moment)
        return ServiceDeliveryStats.objects.get(service=service)

    assert check(2026, 5, 10, 0, 5).median_days == Decimal("1.0")
    # More deliveries later that day: the figures stay as they were until the
    # first check of the next day.
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=50 * HOUR)
    reporting_rebuild()
    assert check(2026, 5, 10, 0, 10).median_days == Decimal("1.0")
    assert check(2026, 5, 10, 23, 55).computed_on == date(2026, 5, 10)
    later = check(2026, 5, 11, 0, 0)
    # 20 items: the middle two are 10 and 50 hours, 30 hours = 3 days.
    assert (later.median_days, later.computed_on) == (
        Decimal("3.0"),
        date(2026, 5, 11),
    )
    # Nothing about it in the request log.
    assert RequestEvent.objects.count() == events


def test_the_command_refreshes_now(service, employee, recent_days, capsys):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=10 * HOUR)
    reporting_rebuild()
    with time_machine.travel(datetime(2026, 5, 10, 12, tzinfo=LONDON), tick=False):
        call_command("refresh_service_stats")
    assert "Refreshed the delivery figures of" in capsys.readouterr().out
    stats = ServiceDeliveryStats.objects.get(service=service)
    assert (stats.median_days, stats.computed_on) == (Decimal("1.0"), TODAY)


def test_a_service_level_change_uses_the_new_calendar(service, employee, recent_days):
    for day in recent_days[:10]:
        deliver(service, employee, day, seconds=12 * HOUR)
    assert refreshed(service).median_days == Decimal("1.2")
    ServiceLevel.objects.filter(pk=service.service_level_id).update(
        calendar=calendar_with("Always open", [], always_open=True)
    )
    # 12 hours on a 24-hour day.
    assert refreshed(service).median_days == Decimal("0.5")
