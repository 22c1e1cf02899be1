"""Business-hours arithmetic: when a service level's clock runs, and for how long.

This module owns the rules of a business calendar (``CalendarSpec``: opening hours per
weekday in a named time zone, a country's public holidays, closures added by hand, or
24x7) and the arithmetic on them (``BusinessClock``): is it open now, how many open
seconds lie between two moments, and when a number of open seconds after a moment
runs out. Due times and paused time of service levels are computed here and nowhere
else.

It is plain Python on ``zoneinfo`` and the ``holidays`` package: the business-hours
packages on PyPI are unmaintained or can loop forever. Time is real elapsed time, so a
local 00:00-24:00 window lasts 23 hours on the day clocks go forward.
"""

from __future__ import annotations

import functools
import math
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays

__all__ = ["BusinessClock", "CalendarNeverOpen", "CalendarSpec"]

DAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
MINUTES_PER_DAY = 1440
NO_HOURS = "The calendar has no opening hours."

# A calendar with no open time at all must fail rather than spin; three years is longer
# than any real run of closed days (holidays, closures and weekends together).
SEARCH_LIMIT_DAYS = 3 * 366

# Arithmetic runs on integer microseconds since the epoch: exact (no float drift
# however many days are summed), and far cheaper to compare than aware datetimes.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_PER_SECOND = 1_000_000

# Building a ``holidays`` calendar is slow (milliseconds), and history generation
# asks about the same few years millions of times.
_HOLIDAYS_BY_YEAR: dict[tuple[str, str, int], dict[date, str]] = {}


class CalendarNeverOpen(ValueError):
    """Raised when a calendar has no open time within the search limit, instead of
    looking for it forever."""


@dataclass(frozen=True)
class CalendarSpec:
    """A business calendar's rules, as stored on a calendar version.

    ``hours`` holds ``(weekday, opens_minute, closes_minute)`` windows: weekday 0 is
    Monday, minutes count from local midnight, and 1440 is the next midnight. Hours and
    closures are kept sorted (closures without repeats), so two specs with the same
    rules compare equal and serialise identically.
    """

    time_zone: str
    always_open: bool = False
    hours: tuple[tuple[int, int, int], ...] = ()
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closures: tuple[date, ...] = ()

    def __post_init__(self):
        # Frozen, so normalising has to go behind the dataclass's back.
        hours = tuple(sorted((int(d), int(o), int(c)) for d, o, c in self.hours))
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "closures", tuple(sorted(set(self.closures))))

    def to_json(self) -> dict:
        return {
            "always_open": self.always_open,
            "closures": [day.isoformat() for day in self.closures],
            "holiday_country": self.holiday_country,
            "holiday_subdivision": self.holiday_subdivision,
            "hours": [list(window) for window in self.hours],
            "time_zone": self.time_zone,
        }

    @classmethod
    def from_json(cls, data: dict) -> CalendarSpec:
        return cls(
            time_zone=data["time_zone"],
            always_open=bool(data.get("always_open", False)),
            hours=tuple(tuple(window) for window in data.get("hours", ())),
            holiday_country=data.get("holiday_country", ""),
            holiday_subdivision=data.get("holiday_subdivision", ""),
            closures=tuple(date.fromisoformat(day) for day in data.get("closures", ())),
        )

    def problems(self) -> list[str]:
        """What is wrong with these rules, in words for the person who edits them;
        empty when the calendar can be used."""
        found = []
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            found.append(f'"{self.time_zone}" is not a known time zone.')
        region = _holiday_region_problem(self.holiday_country, self.holiday_subdivision)
        if region:
            found.append(region)

        usable: dict[int, list[tuple[int, int]]] = {}
        for weekday, opens, closes in self.hours:
            if not 0 <= weekday <= 6:
                found.append(
                    f"Weekday {weekday} is not a day of the week "
                    "(0 is Monday, 6 is Sunday)."
                )
                continue
            label = _window_label(weekday, opens, closes)
            if not (0 <= opens <= MINUTES_PER_DAY and 0 <= closes <= MINUTES_PER_DAY):
                found.append(f"{label} is outside 00:00–24:00.")
            elif opens >= closes:
                found.append(f"{label} must close after it opens.")
            else:
                usable.setdefault(weekday, []).append((opens, closes))
        for weekday, windows in sorted(usable.items()):
            for i, (opens, closes) in enumerate(windows):
                for other_opens, other_closes in windows[i + 1 :]:
                    if opens < other_closes and other_opens < closes:
                        found.append(
                            f"{_window_label(weekday, opens, closes)} overlaps "
                            f"{_window_label(weekday, other_opens, other_closes)}."
                        )
        if not self.always_open and not self.hours:
            found.append(NO_HOURS)
        return found


class BusinessClock:
    """Open-time arithmetic on one calendar.

    Each local date's open intervals are worked out once and kept on the instance
    (as UTC microseconds), so keep one clock per calendar for a batch of work rather
    than one per call.
    """

    def __init__(self, spec: CalendarSpec):
        # An empty calendar is allowed (it is well defined: never open, and the
        # arithmetic says so with CalendarNeverOpen); anything else wrong would give
        # wrong due times, so it is refused here.
        problems = [problem for problem in spec.problems() if problem != NO_HOURS]
        if problems:
            raise ValueError(" ".join(problems))
        self.spec = spec
        self._zone = zoneinfo.ZoneInfo(spec.time_zone)
        self._always_open = spec.always_open
        windows: list[list[tuple[int, int]]] = [[] for _ in DAY_NAMES]
        for weekday, opens, closes in spec.hours:
            windows[weekday].append((opens, closes))
        self._windows = tuple(tuple(day) for day in windows)
        self._closures = frozenset(spec.closures)
        # ordinal of the local date -> (day starts, next day starts, open intervals),
        # all in UTC microseconds; the intervals lie within the day, sorted, disjoint.
        self._days: dict[int, tuple[int, int, tuple[tuple[int, int], ...]]] = {}

    def __repr__(self):
        return f"<BusinessClock {self.spec!r}>"

    # Public arithmetic -------------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        at = _to_us(moment)
        if self._always_open:
            return True
        ordinal = self._ordinal_at(moment, at)
        return any(a <= at < b for a, b in self._day(ordinal)[2])

    def closed_reason(self, day: date) -> str:
        """Why the local ``day`` is closed all day: a holiday's name, "Closure",
        "Weekend" or the weekday it never opens on; "" when it has opening hours."""
        if isinstance(day, datetime):
            _to_us(day)
            day = day.astimezone(self._zone).date()
        if self._always_open:
            return ""
        return self._closed_reason(day)

    def open_intervals(
        self, start: datetime, end: datetime
    ) -> Iterator[tuple[datetime, datetime]]:
        """The open periods within [start, end), clipped to it, in time order.

        Periods that meet (a day open until 24:00 and the next from 00:00) come out
        as one.
        """
        # Validate now, not at the first next(): a generator would defer the error.
        first, last = _to_us(start), _to_us(end)
        return self._open_intervals(start, first, last)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        first, last = _to_us(start), _to_us(end)
        if last <= first:
            return 0.0
        if self._always_open:
            return (last - first) / _PER_SECOND
        total = 0
        ordinal = self._ordinal_at(start, first)
        days = self._days
        while True:
            entry = days.get(ordinal) or self._day(ordinal)
            if entry[0] >= last:
                return total / _PER_SECOND
            for a, b in entry[2]:
                if b <= first:
                    continue
                if a >= last:
                    break
                total += (b if b < last else last) - (a if a > first else first)
            ordinal += 1

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of open time after ``start``.

        If they run out exactly at a closing time, that closing time is the answer,
        not the next opening: a target met at 18:00 Friday was met on Friday.
        """
        at = _to_us(start)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"Cannot add {seconds!r} seconds of business time.")
        # timedelta's rounding, so that 24x7 addition is exactly ``start + seconds``.
        remaining = timedelta(seconds=seconds) // _MICROSECOND
        if self._always_open or remaining == 0:
            return _from_us(at + remaining)
        ordinal = self._ordinal_at(start, at)
        # The cache lookups below are inlined (``days.get`` before ``_day``): this loop
        # and the one in seconds_between are the hot path of history generation.
        days = self._days
        idle_days = 0
        while True:
            entry = days.get(ordinal) or self._day(ordinal)
            idle_days += 1
            for a, b in entry[2]:
                if b <= at:
                    continue
                if a < at:
                    a = at
                available = b - a
                if remaining <= available:
                    return _from_us(a + remaining)
                remaining -= available
                idle_days = 0
            if idle_days > SEARCH_LIMIT_DAYS:
                raise CalendarNeverOpen(self._never_open_message(start))
            ordinal += 1

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` if the calendar is open then, else its next opening."""
        at = _to_us(moment)
        if self._always_open:
            return _from_us(at)
        ordinal = self._ordinal_at(moment, at)
        days = self._days
        for _ in range(SEARCH_LIMIT_DAYS + 1):
            entry = days.get(ordinal) or self._day(ordinal)
            for a, b in entry[2]:
                if b > at:
                    return _from_us(a if a > at else at)
            ordinal += 1
        raise CalendarNeverOpen(self._never_open_message(moment))

    # The calendar, day by day ------------------------------------------------------

    def _open_intervals(
        self, start: datetime, first: int, last: int
    ) -> Iterator[tuple[datetime, datetime]]:
        if last <= first:
            return
        if self._always_open:
            yield _from_us(first), _from_us(last)
            return
        pending: tuple[int, int] | None = None
        ordinal = self._ordinal_at(start, first)
        while True:
            day_start, _, intervals = self._day(ordinal)
            if day_start >= last:
                break
            for a, b in intervals:
                if b <= first:
                    continue
                if a >= last:
                    break
                a, b = max(a, first), min(b, last)
                if pending and pending[1] == a:
                    pending = (pending[0], b)
                    continue
                if pending:
                    yield _from_us(pending[0]), _from_us(pending[1])
                pending = (a, b)
            ordinal += 1
        if pending:
            yield _from_us(pending[0]), _from_us(pending[1])

    def _ordinal_at(self, moment: datetime, at: int) -> int:
        """The local date (as an ordinal) whose day holds the instant ``at``."""
        ordinal = moment.astimezone(self._zone).toordinal()
        # The local date and the day's span agree except where a transition falls at
        # midnight (a day can then begin after 00:00 or run past it); step to the
        # day whose span holds the instant.
        day_start, day_end, _ = self._day(ordinal)
        while at < day_start:
            ordinal -= 1
            day_start = self._day(ordinal)[0]
        while at >= day_end:
            ordinal += 1
            day_end = self._day(ordinal)[1]
        return ordinal

    def _day(self, ordinal: int) -> tuple[int, int, tuple[tuple[int, int], ...]]:
        entry = self._days.get(ordinal)
        if entry is not None:
            return entry
        day = date.fromordinal(ordinal)
        day_start = self._local_us(day, 0)
        day_end = self._local_us(day, MINUTES_PER_DAY)
        intervals: list[tuple[int, int]] = []
        if not self._closed_reason(day):
            for opens, closes in self._windows[day.weekday()]:
                # Clipping to the day keeps days disjoint even where a window edge in
                # a DST gap would otherwise spill into a neighbouring day.
                a = max(self._local_us(day, opens), day_start)
                b = min(self._local_us(day, closes), day_end)
                if a < b:
                    intervals.append((a, b))
        entry = (day_start, day_end, _merged(intervals))
        self._days[ordinal] = entry
        return entry

    def _local_us(self, day: date, minute: int) -> int:
        """A local wall-clock time as UTC microseconds.

        ``datetime.combine`` leaves fold=0, so a time in a DST gap takes the offset
        from before the change and an ambiguous one means its first occurrence.
        """
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), self._zone)
        return (local - _EPOCH) // _MICROSECOND

    def _closed_reason(self, day: date) -> str:
        spec = self.spec
        if spec.holiday_country:
            name = _public_holidays(
                spec.holiday_country, spec.holiday_subdivision, day.year
            ).get(day)
            if name:
                return name
        if day in self._closures:
            return "Closure"
        weekday = day.weekday()
        if not self._windows[weekday]:
            return "Weekend" if weekday >= 5 else f"Closed on {DAY_NAMES[weekday]}s"
        return ""

    def _never_open_message(self, moment: datetime) -> str:
        return (
            f"The calendar is not open at all in the {SEARCH_LIMIT_DAYS} days after "
            f"{moment.isoformat()}: check its opening hours, holidays and closures."
        )


def _to_us(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{moment!r} has no time zone; business time needs aware datetimes."
        )
    return (moment - _EPOCH) // _MICROSECOND


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _merged(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, with overlaps joined. Valid windows never overlap in local time, but
    an edge inside a DST gap can map past a later window's start."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def _public_holidays(country: str, subdivision: str, year: int) -> dict[date, str]:
    key = (country, subdivision, year)
    found = _HOLIDAYS_BY_YEAR.get(key)
    if found is None:
        # A plain dict: the package's own lookups parse keys and can grow the
        # calendar to other years as a side effect.
        found = dict(
            holidays.country_holidays(country, subdiv=subdivision or None, years=year)
        )
        _HOLIDAYS_BY_YEAR[key] = found
    return found


@functools.cache
def _holiday_region_problem(country: str, subdivision: str) -> str:
    if not country:
        if subdivision:
            return (
                f'The holiday region "{subdivision}" needs a country as well, '
                'e.g. "GB".'
            )
        return ""
    supported = holidays.list_supported_countries()
    if country not in supported:
        return f'"{country}" is not a country with known public holidays.'
    if subdivision:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            regions = ", ".join(supported[country]) or "none"
            return (
                f'"{subdivision}" is not a holiday region of {country} '
                f"(its regions: {regions})."
            )
    return ""


def _window_label(weekday: int, opens: int, closes: int) -> str:
    return f"{DAY_NAMES[weekday]} {_clock(opens)}–{_clock(closes)}"


def _clock(minute: int) -> str:
    sign = "-" if minute < 0 else ""
    hours, minutes = divmod(abs(minute), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
