"""The period a person picks for the executive figures: a month, a quarter, a
year or dates of their own, turned into a first and a last day.

Whatever was asked, the answer is a period that makes sense: dates the wrong way
round are swapped, years before 2000 or after next year are brought into that
range, a custom period without an end runs to today, and one longer than five
years is shortened. Each change is said in words (``notes``) so the page can
tell the person what it shows instead of what they typed.

Figures stop at today: a period that runs into the future is shown "to date"
(and compared with the same days a year earlier), and one that hasn't started
has no figures.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

EARLIEST_YEAR = 2000
MAX_MONTHS = 60  # five years: longer custom periods are shortened

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
CUSTOM = "custom"
KINDS = [
    (MONTH, "A month"),
    (QUARTER, "A quarter"),
    (YEAR, "A year"),
    (CUSTOM, "Dates of my choice"),
]
QUARTER_MONTHS = {1: "January to March", 2: "April to June", 3: "July to September"}
QUARTER_MONTHS[4] = "October to December"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def year_earlier(day: date) -> date:
    """The same day a year earlier (29 February becomes the 28th)."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both included. ``empty`` when it hasn't
    started yet (then ``start`` is after ``end``)."""

    kind: str
    start: date
    end: date
    label: str
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def empty(self) -> bool:
        return self.start > self.end

    @property
    def months(self) -> list[date]:
        """The first days of the months the period touches, in order."""
        if self.empty:
            return []
        months, month = [], month_start(self.start)
        while month <= self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    def month_part(self, month: date) -> tuple[date, date]:
        """The days of ``month`` inside the period."""
        return max(month, self.start), min(month_end(month), self.end)

    def previous_year(self) -> "Period":
        """The same days a year earlier, for "against last year"."""
        if self.empty:
            start, end = year_earlier(self.start), year_earlier(self.start)
            end -= timedelta(days=1)
        else:
            start, end = year_earlier(self.start), year_earlier(self.end)
        return Period(CUSTOM, start, end, _range_label(start, end))


def _range_label(start: date, end: date) -> str:
    if start > end:
        return "no days"
    if start == month_start(start) and end == month_end(start):
        return f"{start:%B %Y}"
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return str(start.year)
    return f"{_long(start)} to {_long(end)}"


def _clamp_year(year: int, latest: int, notes: list[str]) -> int:
    if year < EARLIEST_YEAR:
        notes.append(
            f"Figures start in {EARLIEST_YEAR}, so this shows {EARLIEST_YEAR}."
        )
        return EARLIEST_YEAR
    if year > latest:
        notes.append(f"Figures go up to {latest}, so this shows {latest}.")
        return latest
    return year


def _clamp_day(day: date, latest: int, notes: list[str], which: str) -> date:
    earliest = date(EARLIEST_YEAR, 1, 1)
    last = date(latest, 12, 31)
    if day < earliest:
        notes.append(f"Figures start on {_long(earliest)}, so the {which} moved there.")
        return earliest
    if day > last:
        notes.append(f"Figures go up to {_long(last)}, so the {which} moved there.")
        return last
    return day


def resolve_period(
    *,
    today: date,
    kind: str | None = None,
    year: int | None = None,
    month: int | None = None,
    quarter: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Period:
    """The period to show for what was asked (this year when nothing was)."""
    notes: list[str] = []
    latest = today.year + 1
    kind = kind or YEAR
    if kind == CUSTOM:
        if date_from is None and date_to is None:
            date_from = date(today.year, 1, 1)
        if date_to is None:
            date_to = today
            notes.append(f"No end date given, so this runs to today, {_long(today)}.")
        if date_from is None:
            date_from = date(date_to.year, 1, 1)
            notes.append(f"No start date given, so this starts on {_long(date_from)}.")
        if date_from > date_to:
            date_from, date_to = date_to, date_from
            notes.append("The start date was after the end date, so they're swapped.")
        start = _clamp_day(date_from, latest, notes, "start")
        end = _clamp_day(date_to, latest, notes, "end")
        label = ""
    else:
        year = _clamp_year(year if year is not None else today.year, latest, notes)
        if kind == MONTH:
            month = month or today.month
            start = date(year, month, 1)
            end = month_end(start)
            label = f"{start:%B %Y}"
        elif kind == QUARTER:
            quarter = quarter or (today.month - 1) // 3 + 1
            start = date(year, 3 * quarter - 2, 1)
            end = month_end(add_months(start, 2))
            label = f"Q{quarter} {year} ({QUARTER_MONTHS[quarter]})"
        else:
            kind = YEAR
            start, end = date(year, 1, 1), date(year, 12, 31)
            label = str(year)
    if start > today:
        notes.append("That period hasn't started yet, so there are no figures for it.")
        return Period(
            kind, start, today, label or _range_label(start, end), tuple(notes)
        )
    if end > today:
        end = today
        if label:
            label = f"{label}, up to today ({_long(today)})"
    earliest_start = add_months(month_start(end), 1 - MAX_MONTHS)
    if start < earliest_start:
        start = earliest_start
        notes.append(
            f"A period can be at most {MAX_MONTHS // 12} years long, so this "
            f"shows the {MAX_MONTHS // 12} years to {_long(end)}."
        )
    return Period(kind, start, end, label or _range_label(start, end), tuple(notes))
