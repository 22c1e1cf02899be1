"""One promise per service: the usual delivery time on its card never exceeds
its service level's resolution target, counted in the same working days; the
model refuses either side of a contradiction. Figures worked out by hand."""

from datetime import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog.models import BusinessCalendar, ServiceLevel
from catalog.models.calendars import working_day_hours
from tests.factories import ServiceLevelFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("always_open", "hours", "expected"),
    [
        (True, [], Decimal("24")),
        # Monday to Friday 08:00-18:00.
        (False, [(d, time(8), time(18)) for d in range(5)], Decimal("10.00")),
        # Four long days and a short Friday: the usual day is the long one.
        (
            False,
            [(d, time(8), time(18)) for d in range(4)] + [(4, time(8), time(12))],
            Decimal("10.00"),
        ),
        # A split shift counts both parts: 09:00-12:30 and 13:30-17:00 is 7 h.
        (
            False,
            [(d, time(9), time(12, 30)) for d in range(5)]
            + [(d, time(13, 30), time(17)) for d in range(5)],
            Decimal("7.00"),
        ),
        # Closing at midnight: 16:00-00:00 is 8 h.
        (False, [(0, time(16), time(0))], Decimal("8.00")),
        (False, [], Decimal("0")),
    ],
)
def test_the_usual_working_day(always_open, hours, expected):
    assert working_day_hours(always_open=always_open, hours=hours) == expected


def test_the_office_calendar_day_is_stored_on_migration():
    # Created by migration 0006 (Monday to Friday 08:00-18:00), filled by 0019.
    assert BusinessCalendar.objects.get(name="Office hours").working_day_hours == 10


@pytest.mark.parametrize(
    ("resolution_hours", "days", "text"),
    [
        (Decimal("4"), 1, "4 working hours"),
        (Decimal("10"), 1, "1 working day"),
        (Decimal("16"), 2, "2 working days"),
        (Decimal("50"), 5, "5 working days"),
        (Decimal("51"), 6, "6 working days"),
    ],
)
def test_the_promise_in_working_days(resolution_hours, days, text):
    level = ServiceLevelFactory(
        resolution_target_hours=resolution_hours,
        internal_resolution_target_hours=resolution_hours / 2,
    )
    assert level.resolution_working_days() == days
    assert level.resolution_promise_text == text


def test_around_the_clock_hours_are_plain_hours():
    level = ServiceLevelFactory(
        calendar=BusinessCalendar.objects.get(name="Around the clock"),
        response_target_hours=Decimal("0.5"),
        internal_response_target_hours=Decimal("0.25"),
        resolution_target_hours=Decimal("4"),
        internal_resolution_target_hours=Decimal("3"),
    )
    assert level.resolution_promise_text == "4 hours"
    assert level.resolution_working_days() == 1


def test_a_service_cant_usually_take_longer_than_its_promise(catalog):
    laptop = catalog["laptop"]  # on "Standard": 16 working hours, 2 working days
    laptop.delivery_days = 3
    with pytest.raises(ValidationError) as refused:
        laptop.full_clean()
    assert refused.value.message_dict["delivery_days"] == [
        "“Standard” promises delivery within 2 working days, so it can't usually "
        "take longer. Enter at most that, or choose a service level with a longer "
        "target."
    ]
    laptop.delivery_days = 2
    laptop.full_clean()  # at the promise is fine


def test_a_service_level_cant_be_shortened_under_a_services_usual_time(catalog):
    level = ServiceLevel.objects.get(name="Standard")
    level.resolution_target_hours = Decimal("12")  # 2 working days still
    level.internal_resolution_target_hours = Decimal("10")
    level.full_clean()
    level.resolution_target_hours = Decimal("9")  # 1 working day: the laptop is 2
    level.internal_resolution_target_hours = Decimal("8")
    with pytest.raises(ValidationError) as refused:
        level.full_clean()
    assert refused.value.message_dict["resolution_target_hours"] == [
        "That is 1 working day, shorter than the usual delivery time of New "
        "laptop. Shorten theirs first, or keep a longer target."
    ]
