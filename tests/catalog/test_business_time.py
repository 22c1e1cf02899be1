"""Business-hours arithmetic: due times, open seconds and opening hours.

Every expected value is worked out by hand from the calendar and written literally.
Moments in the tables are local times of the row's calendar (unless they carry an
offset); expected moments are UTC. Holiday dates and names are the ones the
``holidays`` package gives for GB, checked against it when the cases were written.
"""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from catalog.business_time import BusinessClock, CalendarNeverOpen, CalendarSpec

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def every(days, opens, closes):
    """The same window on several weekdays (0 is Monday), minutes after midnight."""
    return tuple((day, opens, closes) for day in days)


MON_FRI = range(5)
ALL_WEEK = range(7)

# The office: London, Monday to Friday 08:00-18:00, bank holidays of England.
OFFICE = CalendarSpec(
    "Europe/London",
    hours=every(MON_FRI, 480, 1080),
    holiday_country="GB",
    holiday_subdivision="ENG",
)
CALENDARS = {
    "office": OFFICE,
    "scotland": replace(OFFICE, holiday_subdivision="SCT"),
    "office-move": replace(OFFICE, closures=(date(2026, 1, 14),)),
    "xmas-shutdown": replace(
        OFFICE, closures=(date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31))
    ),
    # 09:00-12:00 and 13:00-17:00 on weekdays, Saturday 09:00-12:00, Sunday closed.
    "split": CalendarSpec(
        "Europe/London",
        hours=every(MON_FRI, 540, 720) + every(MON_FRI, 780, 1020) + ((5, 540, 720),),
    ),
    "no-wednesdays": CalendarSpec(
        "Europe/London", hours=every((0, 1, 3, 4), 540, 1020)
    ),
    "london": CalendarSpec("Europe/London", hours=every(MON_FRI, 540, 1020)),
    "london-daily": CalendarSpec("Europe/London", hours=every(ALL_WEEK, 540, 1020)),
    "london-24x7": CalendarSpec("Europe/London", always_open=True),
    "london-0-24": CalendarSpec("Europe/London", hours=every(ALL_WEEK, 0, 1440)),
    "ny": CalendarSpec("America/New_York", hours=every(MON_FRI, 540, 1020)),
    "ny-daily": CalendarSpec("America/New_York", hours=every(ALL_WEEK, 540, 1020)),
    "ny-24x7": CalendarSpec("America/New_York", always_open=True),
    "ny-0-24": CalendarSpec("America/New_York", hours=every(ALL_WEEK, 0, 1440)),
    "ny-holidays": CalendarSpec(
        "America/New_York",
        hours=every(MON_FRI, 540, 1020),
        holiday_country="US",
        holiday_subdivision="NY",
    ),
    # Sundays 01:30-03:00 and 01:30-02:30 in London, 02:30-03:30 in New York:
    # window edges in the hour that clocks skip or repeat.
    "ldn-sun-gap": CalendarSpec("Europe/London", hours=((6, 90, 180),)),
    "ldn-sun-repeat": CalendarSpec("Europe/London", hours=((6, 90, 150),)),
    "ny-sun-gap": CalendarSpec("America/New_York", hours=((6, 150, 210),)),
}
_clocks: dict[str, BusinessClock] = {}


def clock(calendar: str) -> BusinessClock:
    # One clock per calendar, kept as callers keep them: its day cache is exercised.
    if calendar not in _clocks:
        _clocks[calendar] = BusinessClock(CALENDARS[calendar])
    return _clocks[calendar]


def at(calendar: str, text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(CALENDARS[calendar].time_zone))
    return moment


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# add() ----------------------------------------------------------------------------

ADD_CASES = [
    # (calendar, start, hours to add, expected)
    # Within a day, across a night, across a weekend, winter (GMT) and summer (BST).
    ("office", "2026-01-13 09:00", 2, "2026-01-13 11:00"),
    ("office", "2026-07-14 09:00", 2, "2026-07-14 10:00"),
    ("office", "2026-01-13 16:00", 4, "2026-01-14 10:00"),
    ("office", "2026-07-14 16:00", 4, "2026-07-15 09:00"),
    ("office", "2026-01-16 17:00", 3, "2026-01-19 10:00"),
    ("office", "2026-01-12 08:00", 50, "2026-01-16 18:00"),
    # Starting before opening, on a Saturday, or given in another zone.
    ("office", "2026-01-14 06:30", 1, "2026-01-14 09:00"),
    ("office", "2026-01-17 12:00", 1.5, "2026-01-19 09:30"),
    ("office", "2026-01-13 11:00-05:00", 4, "2026-01-14 10:00"),
    # Running out exactly at closing time gives the closing time.
    ("office", "2026-01-16 08:00", 10, "2026-01-16 18:00"),
    # Nothing to add: the start itself, open or not.
    ("office", "2026-01-16 18:00", 0, "2026-01-16 18:00"),
    ("office", "2026-01-17 12:00", 0, "2026-01-17 12:00"),
    # Christmas 2026: Fri 25, Sat 26 and Mon 28 (Boxing Day substitute) closed.
    ("office", "2026-12-24 17:00", 2, "2026-12-29 09:00"),
    # New Year's Day 2027 is a Friday.
    ("office", "2026-12-31 17:00", 2, "2027-01-04 09:00"),
    # Easter 2027: Good Friday 26 March, Easter Monday 29 March; clocks go forward
    # on the Sunday between, so Tuesday 08:00 BST is 07:00 UTC.
    ("office", "2027-03-25 17:00", 2, "2027-03-30 08:00"),
    # Early May bank holiday, Monday 4 May 2026.
    ("office", "2026-05-01 17:00", 2, "2026-05-05 08:00"),
    # England and Scotland: 2 January and St Andrew's Day are Scottish holidays,
    # Easter Monday is not.
    ("office", "2025-12-31 17:00", 2, "2026-01-02 09:00"),
    ("scotland", "2025-12-31 17:00", 2, "2026-01-05 09:00"),
    ("office", "2026-11-27 17:00", 2, "2026-11-30 09:00"),
    ("scotland", "2026-11-27 17:00", 2, "2026-12-01 09:00"),
    ("scotland", "2027-03-25 17:00", 2, "2027-03-29 08:00"),
    # Closures added by hand.
    ("office-move", "2026-01-13 17:00", 2, "2026-01-15 09:00"),
    ("xmas-shutdown", "2026-12-24 17:00", 2, "2027-01-04 09:00"),
    # Split shift: closed for lunch, Saturday mornings only, Sunday closed.
    ("split", "2026-01-12 11:00", 2, "2026-01-12 14:00"),
    ("split", "2026-01-12 11:00", 1, "2026-01-12 12:00"),
    ("split", "2026-01-12 12:30", 0.5, "2026-01-12 13:30"),
    ("split", "2026-01-16 16:00", 2, "2026-01-17 10:00"),
    ("split", "2026-01-16 16:00", 5, "2026-01-19 10:00"),
    ("split", "2026-01-17 12:00", 1, "2026-01-19 10:00"),
]


@pytest.mark.parametrize(("calendar", "start", "hours", "expected"), ADD_CASES)
def test_add(calendar, start, hours, expected):
    result = clock(calendar).add(at(calendar, start), hours * HOUR)
    assert result == utc(expected)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        ("2026-01-16 18:00:00", 1, "2026-01-19 08:00:01"),
        ("2026-01-13 17:59:30", 45, "2026-01-14 08:00:15"),
        ("2026-01-13 17:59:59.750000", 0.5, "2026-01-14 08:00:00.250000"),
    ],
)
def test_add_counts_seconds(start, seconds, expected):
    assert clock("office").add(london(start), seconds) == utc(expected)


# Daylight saving: business hours keep their local times (so in UTC they move);
# 24x7 and 00:00-24:00 calendars count real elapsed time, so a day lasts 23 or 25
# hours. London: forward 29 March, back 25 October 2026. New York: forward 8 March,
# back 1 November 2026.
DST_ADD_CASES = [
    # (calendar, start, hours to add, expected UTC, expected local)
    ("london", "2026-03-27 16:00", 2, "2026-03-30 09:00", "2026-03-30 10:00 BST"),
    ("london", "2026-10-23 16:00", 2, "2026-10-26 10:00", "2026-10-26 10:00 GMT"),
    ("london-daily", "2026-03-28 16:00", 2, "2026-03-29 09:00", "2026-03-29 10:00 BST"),
    ("london-daily", "2026-10-24 16:00", 2, "2026-10-25 10:00", "2026-10-25 10:00 GMT"),
    ("ny", "2026-03-06 16:00", 2, "2026-03-09 14:00", "2026-03-09 10:00 EDT"),
    ("ny", "2026-10-30 16:00", 2, "2026-11-02 15:00", "2026-11-02 10:00 EST"),
    ("ny-daily", "2026-03-07 16:00", 2, "2026-03-08 14:00", "2026-03-08 10:00 EDT"),
    ("ny-daily", "2026-10-31 16:00", 2, "2026-11-01 15:00", "2026-11-01 10:00 EST"),
    ("london-24x7", "2026-03-28 23:00", 3, "2026-03-29 02:00", "2026-03-29 03:00 BST"),
    ("london-24x7", "2026-10-24 23:00", 3, "2026-10-25 01:00", "2026-10-25 01:00 GMT"),
    ("ny-24x7", "2026-03-07 23:00", 4, "2026-03-08 08:00", "2026-03-08 04:00 EDT"),
    ("ny-24x7", "2026-10-31 23:00", 4, "2026-11-01 07:00", "2026-11-01 02:00 EST"),
    ("london-0-24", "2026-03-28 23:00", 3, "2026-03-29 02:00", "2026-03-29 03:00 BST"),
    ("london-0-24", "2026-10-24 23:00", 3, "2026-10-25 01:00", "2026-10-25 01:00 GMT"),
    ("london-0-24", "2026-03-29 00:00", 23, "2026-03-29 23:00", "2026-03-30 00:00 BST"),
    ("london-0-24", "2026-10-25 00:00", 25, "2026-10-26 00:00", "2026-10-26 00:00 GMT"),
    ("ny-0-24", "2026-03-07 23:00", 4, "2026-03-08 08:00", "2026-03-08 04:00 EDT"),
    ("ny-0-24", "2026-10-31 23:00", 4, "2026-11-01 07:00", "2026-11-01 02:00 EST"),
    ("ny-0-24", "2026-03-08 00:00", 23, "2026-03-09 04:00", "2026-03-09 00:00 EDT"),
    ("ny-0-24", "2026-11-01 00:00", 25, "2026-11-02 05:00", "2026-11-02 00:00 EST"),
    # 02:30 does not exist on 8 March; read with the old offset it is 07:30 UTC,
    # the same instant as 03:30 EDT, so that Sunday's window vanishes.
    ("ny-sun-gap", "2026-03-08 00:00", 0.5, "2026-03-15 07:00", "2026-03-15 03:00 EDT"),
]


@pytest.mark.parametrize(
    ("calendar", "start", "hours", "expected", "local"), DST_ADD_CASES
)
def test_add_across_daylight_saving_changes(calendar, start, hours, expected, local):
    result = clock(calendar).add(at(calendar, start), hours * HOUR)
    assert result == utc(expected)
    zone = ZoneInfo(CALENDARS[calendar].time_zone)
    assert result.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") == local


# seconds_between() ----------------------------------------------------------------

SECONDS_BETWEEN_CASES = [
    # (calendar, start, end, open seconds)
    ("office", "2026-01-13 09:00", "2026-01-13 11:00", 7200.0),
    ("office", "2026-01-13 09:00", "2026-01-13 09:00", 0.0),
    ("office", "2026-01-13 11:00", "2026-01-13 09:00", 0.0),
    ("office", "2026-01-16 17:00", "2026-01-19 10:00", 10800.0),
    ("office", "2026-01-17 00:00", "2026-01-18 23:59", 0.0),
    ("office", "2026-01-13 17:30", "2026-01-14 08:30", 3600.0),
    ("office", "2026-01-13 09:00:00.250000", "2026-01-13 09:00:01", 0.75),
    ("office", "2026-07-14 00:00+00:00", "2026-07-15 00:00+00:00", 36000.0),
    # Thu 24 Dec open; 25, 26 (Saturday) and 28 (Boxing Day substitute) closed.
    ("office", "2026-12-24 00:00", "2026-12-31 00:00", 108000.0),
    # Thu 25 Mar from 12:00 (6h); Good Friday, the weekend, Easter Monday; Tue (4h).
    ("office", "2027-03-25 12:00", "2027-03-30 12:00", 36000.0),
    # January 2026: 22 weekdays, New Year's Day closed: 21 x 10h.
    ("office", "2026-01-01 00:00", "2026-02-01 00:00", 756000.0),
    # Scotland also closes on Friday 2 January: 20 x 10h.
    ("scotland", "2026-01-01 00:00", "2026-02-01 00:00", 720000.0),
    # 2026: 261 weekdays, 8 of them bank holidays in England: 253 x 10h.
    ("office", "2026-01-01 00:00", "2027-01-01 00:00", 9108000.0),
    ("office-move", "2026-01-12 00:00", "2026-01-17 00:00", 144000.0),
    ("office-move", "2026-01-14 00:00", "2026-01-15 00:00", 0.0),
    # Five days of 3h + 4h, and Saturday's 3h.
    ("split", "2026-01-12 00:00", "2026-01-19 00:00", 136800.0),
    # The days clocks change last 23 and 25 hours.
    ("london-0-24", "2026-03-29 00:00", "2026-03-30 00:00", 82800.0),
    ("london-0-24", "2026-10-25 00:00", "2026-10-26 00:00", 90000.0),
    ("london-24x7", "2026-03-29 00:00", "2026-03-30 00:00", 82800.0),
    ("london-24x7", "2026-10-25 00:00", "2026-10-26 00:00", 90000.0),
    ("london-24x7", "2026-10-26 00:00", "2026-10-25 00:00", 0.0),
    ("ny-0-24", "2026-03-08 00:00", "2026-03-09 00:00", 82800.0),
    ("ny-0-24", "2026-11-01 00:00", "2026-11-02 00:00", 90000.0),
    ("ny-24x7", "2026-03-08 00:00", "2026-03-09 00:00", 82800.0),
    ("ny-24x7", "2026-11-01 00:00", "2026-11-02 00:00", 90000.0),
    # ...but 09:00-17:00 on those days is still 8 hours.
    ("london-daily", "2026-03-29 00:00", "2026-03-30 00:00", 28800.0),
    ("ny-daily", "2026-11-01 00:00", "2026-11-02 00:00", 28800.0),
    # 01:30 is skipped on 29 March and read as 01:30 GMT (01:30 UTC); 03:00 BST is
    # 02:00 UTC: half an hour. The Sunday before gives the full 1h30.
    ("ldn-sun-gap", "2026-03-29 00:00", "2026-03-30 00:00", 1800.0),
    ("ldn-sun-gap", "2026-03-22 00:00", "2026-03-23 00:00", 5400.0),
    # 01:30 happens twice on 25 October and the first (00:30 UTC) opens; 02:30 GMT
    # is 02:30 UTC: two hours.
    ("ldn-sun-repeat", "2026-10-25 00:00", "2026-10-26 00:00", 7200.0),
    ("ny-sun-gap", "2026-03-08 00:00", "2026-03-09 00:00", 0.0),
]


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"), SECONDS_BETWEEN_CASES
)
def test_seconds_between(calendar, start, end, expected):
    seconds = clock(calendar).seconds_between(at(calendar, start), at(calendar, end))
    assert seconds == expected


# open_intervals(), is_open(), next_open(), closed_reason() ------------------------

OPEN_INTERVALS_CASES = [
    # (calendar, start, end, open periods in UTC)
    (
        "office",
        "2026-01-16 10:00",
        "2026-01-20 12:00",
        [
            ("2026-01-16 10:00", "2026-01-16 18:00"),
            ("2026-01-19 08:00", "2026-01-19 18:00"),
            ("2026-01-20 08:00", "2026-01-20 12:00"),
        ],
    ),
    (
        "office",
        "2026-07-13 07:00",
        "2026-07-13 09:00",
        [("2026-07-13 07:00", "2026-07-13 08:00")],
    ),
    (
        "office",
        "2026-12-24 12:00",
        "2026-12-29 12:00",
        [
            ("2026-12-24 12:00", "2026-12-24 18:00"),
            ("2026-12-29 08:00", "2026-12-29 12:00"),
        ],
    ),
    ("office", "2026-01-17 00:00", "2026-01-18 00:00", []),
    ("office", "2026-01-14 00:00", "2026-01-13 00:00", []),
    (
        "split",
        "2026-01-12 10:00",
        "2026-01-12 14:00",
        [
            ("2026-01-12 10:00", "2026-01-12 12:00"),
            ("2026-01-12 13:00", "2026-01-12 14:00"),
        ],
    ),
    (
        "london",
        "2026-03-27 00:00",
        "2026-03-31 00:00",
        [
            ("2026-03-27 09:00", "2026-03-27 17:00"),
            ("2026-03-30 08:00", "2026-03-30 16:00"),
        ],
    ),
    (
        "ny",
        "2026-10-30 00:00",
        "2026-11-03 00:00",
        [
            ("2026-10-30 13:00", "2026-10-30 21:00"),
            ("2026-11-02 14:00", "2026-11-02 22:00"),
        ],
    ),
    (
        "london-0-24",
        "2026-03-29 00:00",
        "2026-03-30 00:00",
        [("2026-03-29 00:00", "2026-03-29 23:00")],
    ),
    (
        "london-0-24",
        "2026-10-25 00:00",
        "2026-10-26 00:00",
        [("2026-10-24 23:00", "2026-10-26 00:00")],
    ),
    # Days that meet at midnight come out as one period.
    (
        "london-0-24",
        "2026-03-28 12:00",
        "2026-03-30 12:00",
        [("2026-03-28 12:00", "2026-03-30 11:00")],
    ),
    (
        "london-24x7",
        "2026-10-24 12:00",
        "2026-10-26 12:00",
        [("2026-10-24 11:00", "2026-10-26 12:00")],
    ),
    (
        "ldn-sun-gap",
        "2026-03-29 00:00",
        "2026-03-30 00:00",
        [("2026-03-29 01:30", "2026-03-29 02:00")],
    ),
]


@pytest.mark.parametrize(("calendar", "start", "end", "expected"), OPEN_INTERVALS_CASES)
def test_open_intervals(calendar, start, end, expected):
    found = list(clock(calendar).open_intervals(at(calendar, start), at(calendar, end)))
    assert found == [(utc(a), utc(b)) for a, b in expected]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in found)


IS_OPEN_CASES = [
    # (calendar, moment, open?)
    ("office", "2026-01-13 08:00", True),
    ("office", "2026-01-13 07:59:59", False),
    ("office", "2026-01-13 17:59:59", True),
    ("office", "2026-01-13 18:00", False),
    ("office", "2026-01-17 12:00", False),
    ("office", "2026-12-25 12:00", False),
    ("office", "2026-12-28 12:00", False),
    ("office", "2026-07-14 07:30+00:00", True),
    ("office", "2026-07-14 17:30+00:00", False),
    ("split", "2026-01-12 12:30", False),
    ("split", "2026-01-12 13:00", True),
    ("split", "2026-01-17 11:59", True),
    ("split", "2026-01-17 12:00", False),
    ("split", "2026-01-18 10:00", False),
    ("london-24x7", "2026-12-25 03:00", True),
    # Both passes through the repeated hour of 25 October.
    ("london-0-24", "2026-10-25 00:30+00:00", True),
    ("london-0-24", "2026-10-25 01:30+00:00", True),
]


@pytest.mark.parametrize(("calendar", "moment", "expected"), IS_OPEN_CASES)
def test_is_open(calendar, moment, expected):
    assert clock(calendar).is_open(at(calendar, moment)) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-01-17 12:00", "2026-01-19 08:00"),
        ("2026-01-13 10:00", "2026-01-13 10:00"),
        ("2026-01-13 07:59", "2026-01-13 08:00"),
        ("2026-01-16 18:00", "2026-01-19 08:00"),
        ("2026-12-24 18:00", "2026-12-29 08:00"),
        ("2026-07-17 18:30", "2026-07-20 07:00"),
    ],
)
def test_next_open(moment, expected):
    result = clock("office").next_open(london(moment))
    assert result == utc(expected)
    assert result.tzinfo is UTC


CLOSED_REASON_CASES = [
    # (calendar, local date, reason)
    ("office", "2026-12-25", "Christmas Day"),
    ("office", "2026-12-26", "Boxing Day"),
    ("office", "2026-12-27", "Weekend"),
    ("office", "2026-12-28", "Boxing Day (observed)"),
    ("office", "2026-12-29", ""),
    ("office", "2021-12-27", "Christmas Day (observed)"),
    ("office", "2027-03-26", "Good Friday"),
    ("office", "2027-03-29", "Easter Monday"),
    ("scotland", "2027-03-29", ""),
    ("office", "2026-05-04", "May Day"),
    ("office", "2026-01-02", ""),
    ("scotland", "2026-01-02", "New Year Holiday"),
    ("office", "2026-11-30", ""),
    ("scotland", "2026-11-30", "Saint Andrew's Day"),
    ("office-move", "2026-01-14", "Closure"),
    ("no-wednesdays", "2026-01-14", "Closed on Wednesdays"),
    ("split", "2026-01-17", ""),
    ("split", "2026-01-18", "Weekend"),
    ("london-24x7", "2026-12-25", ""),
]


@pytest.mark.parametrize(("calendar", "day", "expected"), CLOSED_REASON_CASES)
def test_closed_reason(calendar, day, expected):
    assert clock(calendar).closed_reason(date.fromisoformat(day)) == expected


def test_24x7_ignores_holidays_and_closures():
    spec = replace(OFFICE, always_open=True, closures=(date(2026, 1, 14),))
    clock_24x7 = BusinessClock(spec)
    assert clock_24x7.closed_reason(date(2026, 12, 25)) == ""
    assert clock_24x7.closed_reason(date(2026, 1, 14)) == ""
    assert clock_24x7.is_open(london("2026-12-25 03:00"))
    assert clock_24x7.add(london("2026-12-24 23:00"), 2 * HOUR) == utc(
        "2026-12-25 01:00"
    )


# problems() and errors ------------------------------------------------------------

PROBLEMS_CASES = [
    pytest.param(OFFICE, [], id="valid"),
    pytest.param(CALENDARS["split"], [], id="valid-split-shift"),
    pytest.param(CALENDARS["london-24x7"], [], id="valid-24x7-without-hours"),
    pytest.param(CALENDARS["london-0-24"], [], id="valid-midnight-to-midnight"),
    pytest.param(
        CalendarSpec("Europe/London", hours=((0, 540, 720), (0, 660, 780))),
        ["Monday 09:00–12:00 overlaps Monday 11:00–13:00."],
        id="overlapping-windows",
    ),
    pytest.param(
        CalendarSpec("Europe/London", hours=((2, 540, 1020), (2, 540, 1020))),
        ["Wednesday 09:00–17:00 overlaps Wednesday 09:00–17:00."],
        id="same-window-twice",
    ),
    pytest.param(
        CalendarSpec("Europe/London", hours=((0, 540, 720), (0, 720, 780))),
        [],
        id="windows-that-touch",
    ),
    pytest.param(
        CalendarSpec("Europe/London", hours=((0, 1080, 480),)),
        ["Monday 18:00–08:00 must close after it opens."],
        id="closes-before-opening",
    ),
    pytest.param(
        CalendarSpec("Europe/London", hours=((4, 540, 540),)),
        ["Friday 09:00–09:00 must close after it opens."],
        id="closes-when-opening",
    ),
    pytest.param(
        CalendarSpec("Europe/London", hours=((0, 480, 1500), (1, -30, 600))),
        [
            "Monday 08:00–25:00 is outside 00:00–24:00.",
            "Tuesday -00:30–10:00 is outside 00:00–24:00.",
        ],
        id="outside-the-day",
    ),
    pytest.param(
        CalendarSpec("Europe/London", hours=((7, 480, 1080),)),
        ["Weekday 7 is not a day of the week (0 is Monday, 6 is Sunday)."],
        id="bad-weekday",
    ),
    pytest.param(
        replace(OFFICE, time_zone="Europe/Londn"),
        ['"Europe/Londn" is not a known time zone.'],
        id="bad-time-zone",
    ),
    pytest.param(
        replace(OFFICE, time_zone=""),
        ['"" is not a known time zone.'],
        id="no-time-zone",
    ),
    pytest.param(
        replace(OFFICE, holiday_country="XX", holiday_subdivision=""),
        ['"XX" is not a country with known public holidays.'],
        id="unknown-country",
    ),
    pytest.param(
        replace(OFFICE, holiday_subdivision="ZZZ"),
        ['"ZZZ" is not a holiday region of GB (its regions: ENG, NIR, SCT, WLS).'],
        id="unknown-subdivision",
    ),
    pytest.param(
        replace(OFFICE, holiday_country=""),
        ['The holiday region "ENG" needs a country as well, e.g. "GB".'],
        id="subdivision-without-country",
    ),
    pytest.param(
        CalendarSpec("Europe/London"),
        ["The calendar has no opening hours."],
        id="no-hours",
    ),
    pytest.param(
        CalendarSpec("Mars/Olympus_Mons", holiday_country="XX"),
        [
            '"Mars/Olympus_Mons" is not a known time zone.',
            '"XX" is not a country with known public holidays.',
            "The calendar has no opening hours.",
        ],
        id="several-problems",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), PROBLEMS_CASES)
def test_problems(spec, expected):
    assert spec.problems() == expected


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(replace(OFFICE, time_zone="Europe/Londn"), id="time-zone"),
        pytest.param(replace(OFFICE, holiday_country="XX"), id="country"),
        pytest.param(
            CalendarSpec("Europe/London", hours=((0, 540, 720), (0, 660, 780))),
            id="overlap",
        ),
    ],
)
def test_a_clock_refuses_a_calendar_with_problems(spec):
    with pytest.raises(ValueError):
        BusinessClock(spec)


def test_a_calendar_without_hours_is_never_open():
    never = BusinessClock(CalendarSpec("Europe/London"))
    start = london("2026-01-13 12:00")
    assert not never.is_open(start)
    assert never.seconds_between(start, london("2027-01-13 12:00")) == 0.0
    assert list(never.open_intervals(start, london("2026-02-13 12:00"))) == []
    assert never.add(start, 0) == utc("2026-01-13 12:00")
    with pytest.raises(CalendarNeverOpen):
        never.add(start, 60)
    with pytest.raises(CalendarNeverOpen):
        never.next_open(start)


def test_a_calendar_closed_on_every_open_day_is_never_open():
    mondays = tuple(date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 4))
    spec = CalendarSpec("Europe/London", hours=((0, 540, 1020),), closures=mondays)
    never = BusinessClock(spec)
    with pytest.raises(CalendarNeverOpen):
        never.add(london("2026-01-01 00:00"), HOUR)
    with pytest.raises(CalendarNeverOpen):
        never.next_open(london("2026-01-01 00:00"))


def test_never_open_is_a_value_error():
    assert issubclass(CalendarNeverOpen, ValueError)


def test_open_time_two_years_ahead_is_still_found():
    closures = tuple(date(2026, 1, 1) + timedelta(days=n) for n in range(731))
    reopens = BusinessClock(replace(CALENDARS["london"], closures=closures))
    assert reopens.next_open(london("2026-01-01 00:00")) == utc("2028-01-03 09:00")
    assert reopens.add(london("2026-01-01 00:00"), HOUR) == utc("2028-01-03 10:00")


NAIVE = datetime(2026, 1, 13, 12)
AWARE = datetime(2026, 1, 13, 12, tzinfo=LONDON)


@pytest.mark.parametrize("calendar", ["office", "london-24x7"])
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.is_open(NAIVE), id="is_open"),
        pytest.param(lambda c: c.add(NAIVE, 60), id="add"),
        pytest.param(lambda c: c.next_open(NAIVE), id="next_open"),
        pytest.param(lambda c: c.seconds_between(NAIVE, AWARE), id="between-start"),
        pytest.param(lambda c: c.seconds_between(AWARE, NAIVE), id="between-end"),
        pytest.param(lambda c: c.open_intervals(NAIVE, AWARE), id="intervals-start"),
        pytest.param(lambda c: c.open_intervals(AWARE, NAIVE), id="intervals-end"),
        pytest.param(lambda c: c.closed_reason(NAIVE), id="closed_reason"),
    ],
)
def test_naive_datetimes_are_refused(calendar, call):
    with pytest.raises(ValueError):
        call(clock(calendar))


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_add_refuses_negative_or_endless_amounts(seconds):
    with pytest.raises(ValueError):
        clock("office").add(AWARE, seconds)


# to_json() / from_json() ----------------------------------------------------------


def test_to_json_is_plain_and_sorted():
    spec = CalendarSpec(
        "Europe/London",
        hours=((4, 540, 1020), (0, 780, 1020), (0, 540, 720)),
        holiday_country="GB",
        holiday_subdivision="SCT",
        closures=(date(2026, 12, 31), date(2026, 12, 29), date(2026, 12, 31)),
    )
    assert spec.to_json() == {
        "always_open": False,
        "closures": ["2026-12-29", "2026-12-31"],
        "holiday_country": "GB",
        "holiday_subdivision": "SCT",
        "hours": [[0, 540, 720], [0, 780, 1020], [4, 540, 1020]],
        "time_zone": "Europe/London",
    }
    assert list(spec.to_json()) == sorted(spec.to_json())


@pytest.mark.parametrize(
    "calendar", ["office", "scotland", "xmas-shutdown", "split", "london-24x7"]
)
def test_json_round_trip(calendar):
    spec = CALENDARS[calendar]
    stored = json.loads(json.dumps(spec.to_json()))
    assert CalendarSpec.from_json(stored) == spec
    assert CalendarSpec.from_json(stored).to_json() == spec.to_json()


def test_the_same_rules_in_another_order_are_the_same_calendar():
    a = CalendarSpec("Europe/London", hours=((1, 540, 1020), (0, 540, 1020)))
    b = CalendarSpec("Europe/London", hours=[[0, 540, 1020], [1, 540, 1020]])
    assert a == b
    assert hash(a) == hash(b)


# Properties ------------------------------------------------------------------------

PROPERTIES = settings(max_examples=300, deadline=None)
STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([UTC, LONDON, NEW_YORK]),
)
AMOUNTS = st.floats(min_value=0, max_value=200 * HOUR)
PROPERTY_CALENDARS = pytest.mark.parametrize(
    "calendar",
    ["office", "scotland", "split", "london-0-24", "ldn-sun-gap", "ny-holidays"],
)


@PROPERTY_CALENDARS
@PROPERTIES
@given(start=STARTS, amount=AMOUNTS)
def test_add_adds_exactly_that_much_open_time(calendar, start, amount):
    result = clock(calendar).add(start, amount)
    assert result >= start
    assert abs(clock(calendar).seconds_between(start, result) - amount) <= 1e-6


@PROPERTY_CALENDARS
@PROPERTIES
@given(start=STARTS, amounts=st.lists(AMOUNTS, min_size=2, max_size=2))
def test_add_is_monotonic(calendar, start, amounts):
    smaller, larger = sorted(amounts)
    assert clock(calendar).add(start, smaller) <= clock(calendar).add(start, larger)


@PROPERTY_CALENDARS
@PROPERTIES
@given(start=STARTS, amount=AMOUNTS)
def test_add_ends_in_open_time_or_at_a_closing(calendar, start, amount):
    assume(amount >= 1e-6)
    business = clock(calendar)
    result = business.add(start, amount)
    closings = {
        end for _, end in business.open_intervals(result - timedelta(days=2), result)
    }
    assert business.is_open(result) or result in closings
    # And the earliest such moment: the microsecond before it was open time.
    assert business.seconds_between(result - timedelta(microseconds=1), result) > 0


@PROPERTIES
@given(start=STARTS, amount=AMOUNTS)
def test_24x7_is_plain_elapsed_time(start, amount):
    # In UTC: adding to a local datetime would be wall-clock, not elapsed, time.
    end = start.astimezone(UTC) + timedelta(seconds=amount)
    assert clock("ny-24x7").add(start, amount) == end
    assert clock("ny-24x7").seconds_between(start, end) == (
        (end - start).total_seconds()
    )
    assert clock("ny-24x7").is_open(start)
