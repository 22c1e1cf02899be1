"""Business calendars: when the clock of a service level runs.

A calendar is opening hours per weekday in a named time zone, the public holidays
of a country (from the ``holidays`` package) and closures added by hand, or "around
the clock" (24x7). Items are measured against an immutable *version* of their
calendar, so a figure can always be re-derived: saving a changed calendar records a
new version, and open items move to it with a log entry
(``catalog.services.service_levels``).
"""

import zoneinfo
from datetime import date, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    InlinePanel,
    MultiFieldPanel,
)
from wagtail.models import Orderable

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
MIDNIGHT = time(0, 0)


def _minutes(value: time, *, closing: bool = False) -> int:
    minutes = value.hour * 60 + value.minute
    # A window that closes at 00:00 runs until midnight at the end of the day.
    return 1440 if closing and minutes == 0 else minutes


def default_time_zone() -> str:
    return settings.TIME_ZONE


class BusinessCalendar(ClusterableModel):
    name = models.CharField(max_length=80, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        help_text='Where the team works, as a time-zone name, e.g. "Europe/London" '
        'or "America/New_York". Opening hours are local times there.',
    )
    always_open = models.BooleanField(
        "around the clock (24x7)",
        default=False,
        help_text="Every hour of every day counts; hours, holidays and closures "
        "below are ignored.",
    )
    holiday_country = models.CharField(
        max_length=8,
        blank=True,
        help_text="Public holidays of this country are closed days: a two-letter "
        'code, e.g. "GB", "DE", "US". Leave empty for none.',
    )
    holiday_subdivision = models.CharField(
        max_length=16,
        blank=True,
        help_text='Optional region, e.g. "ENG" or "SCT" for GB, "BE" for DE, '
        '"NY" for US.',
    )
    # The hours in words, for customers ("Monday to Friday, 8:00 to 18:00 …"):
    # written on save, so a service page shows it without reading the hours.
    opening_hours_text = models.CharField(max_length=255, blank=True, editable=False)
    # The open hours of a usual working day (24 around the clock): what turns a
    # target in hours into working days for customers. Written on save.
    working_day_hours = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("0"), editable=False
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("time_zone"),
        FieldPanel("always_open"),
        MultiFieldPanel(
            [
                HelpPanel(
                    "Add a row per opening period. A day with no rows is closed; "
                    "two rows on one day make a split shift (they must not "
                    "overlap). Closing at 00:00 means open until midnight."
                ),
                InlinePanel("hours", label="Opening hours"),
            ],
            heading="Opening hours",
        ),
        FieldRowPanel(
            [FieldPanel("holiday_country"), FieldPanel("holiday_subdivision")],
            heading="Public holidays",
        ),
        InlinePanel(
            "closures",
            label="Closure",
            heading="Other closed days",
            help_text="Office closures, e.g. between Christmas and New Year.",
        ),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def spec_from(self, hours, closures):
        """The calendar's rules from the given hour and closure rows (saved or
        not yet saved), as the arithmetic in ``catalog.business_time`` takes them."""
        from catalog.business_time import CalendarSpec

        days: set[date] = set()
        for closure in closures:
            last = closure.last_day or closure.first_day
            day = closure.first_day
            while day is not None and day <= last and len(days) < 3660:
                days.add(day)
                day += timedelta(days=1)
        return CalendarSpec(
            time_zone=self.time_zone,
            always_open=self.always_open,
            hours=tuple(
                sorted(
                    (
                        row.weekday,
                        _minutes(row.opens),
                        _minutes(row.closes, closing=True),
                    )
                    for row in hours
                )
            ),
            holiday_country=self.holiday_country.strip().upper(),
            holiday_subdivision=self.holiday_subdivision.strip().upper(),
            closures=tuple(sorted(days)),
        )

    def spec(self):
        return self.spec_from(self.hours.all(), self.closures.all())

    def save(self, *args, **kwargs):
        # The hours as the admin form left them (saved with us, not yet in the DB).
        hours = [
            (row.weekday, row.opens, row.closes)
            for row in self.hours.all()
            if row.opens is not None and row.closes is not None
        ]
        self.opening_hours_text = opening_hours_text(
            always_open=self.always_open,
            hours=hours,
            time_zone=self.time_zone,
            holidays=bool(self.holiday_country.strip()),
        )
        self.working_day_hours = working_day_hours(
            always_open=self.always_open, hours=hours
        )
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError(
                {
                    "time_zone": 'Use a time-zone name such as "Europe/London" '
                    'or "America/New_York".'
                }
            )


def working_day_hours(*, always_open: bool, hours) -> Decimal:
    """The open hours of a usual working day: 24 around the clock, else the
    most common day length among the open weekdays (the longer one on a tie);
    0 when the calendar is never open."""
    if always_open:
        return Decimal(24)
    minutes = [0] * 7
    for weekday, opens, closes in hours:
        minutes[weekday] += _minutes(closes, closing=True) - _minutes(opens)
    lengths = [m for m in minutes if m > 0]
    if not lengths:
        return Decimal(0)
    usual = max(set(lengths), key=lambda m: (lengths.count(m), m))
    return (Decimal(usual) / 60).quantize(Decimal("0.01"))


def _clock(value: time) -> str:
    return f"{value.hour}:{value.minute:02d}" if value != MIDNIGHT else "midnight"


def opening_hours_text(*, always_open, hours, time_zone, holidays) -> str:
    """Opening hours in words: consecutive days with the same hours are joined
    ("Monday to Friday, 8:00 to 18:00 (London time), except public holidays")."""
    if always_open:
        return "Around the clock, every day"
    names = dict(WEEKDAYS)
    by_day: dict[int, tuple] = {}
    for weekday, opens, closes in sorted(hours):
        by_day.setdefault(weekday, ())
        by_day[weekday] += (f"{_clock(opens)} to {_clock(closes)}",)
    if not by_day:
        return "Closed"
    runs: list[list] = []
    for day in sorted(by_day):
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == by_day[day]:
            runs[-1][1] = day
        else:
            runs.append([day, day, by_day[day]])
    parts = []
    for first, last, windows in runs:
        days = (
            names[first]
            if first == last
            else (
                f"{names[first]} and {names[last]}"
                if last == first + 1
                else f"{names[first]} to {names[last]}"
            )
        )
        parts.append(f"{days}, {' and '.join(windows)}")
    place = time_zone.rsplit("/", 1)[-1].replace("_", " ")
    text = "; ".join(parts) + f" ({place} time)"
    return text + (", except public holidays" if holidays else "")


class BusinessHours(Orderable):
    calendar = ParentalKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    panels = [
        FieldRowPanel(
            [FieldPanel("weekday"), FieldPanel("opens"), FieldPanel("closes")]
        )
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes=MIDNIGHT),
                name="businesshours_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(weekday__lte=6), name="businesshours_weekday_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        super().clean()
        if (
            self.opens is not None
            and self.closes is not None
            and self.closes != MIDNIGHT
            and self.closes <= self.opens
        ):
            raise ValidationError(
                {"closes": "Closing time must be after opening time."}
            )


class CalendarClosure(Orderable):
    calendar = ParentalKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    first_day = models.DateField()
    last_day = models.DateField(
        null=True, blank=True, help_text="Leave empty for a single day."
    )
    name = models.CharField(max_length=80, blank=True)

    panels = [
        FieldRowPanel(
            [FieldPanel("first_day"), FieldPanel("last_day"), FieldPanel("name")]
        )
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__isnull=True)
                | Q(last_day__gte=models.F("first_day")),
                name="calendarclosure_range_in_order",
            )
        ]

    def clean(self):
        super().clean()
        if self.first_day and self.last_day:
            if self.last_day < self.first_day:
                raise ValidationError(
                    {"last_day": "The last day must not be before the first."}
                )
            if (self.last_day - self.first_day).days > 366:
                raise ValidationError(
                    {"last_day": "A closure can last at most a year."}
                )


class CalendarVersion(models.Model):
    """An immutable snapshot of a calendar's rules. Items point at the version
    they are measured on; nothing updates or deletes a version."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["calendar_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "number"], name="calendarversion_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.calendar_id} v{self.number}"

    def calendar_spec(self):
        from catalog.business_time import CalendarSpec

        return CalendarSpec.from_json(self.spec)
