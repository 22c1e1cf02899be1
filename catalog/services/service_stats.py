"""Working out the delivery figures every employee sees on service pages and
cards, once a day, into ``ServiceDeliveryStats`` (one row per service page).

The figures, exactly:

- **Typical time** (``median_days``): the median of ``resolution_seconds`` (the
  business seconds from the clock's start to delivery, less the customer's
  pauses) over the service's items delivered in the 90 days before the day of
  the refresh (``today - 90 days`` up to and including yesterday), divided by
  the length of a working day of the service level's calendar: the calendar's
  weekly opening time divided by the number of weekdays it opens (Monday to
  Friday 8:00 to 18:00 is a 10-hour day), or 24 hours for a 24x7 calendar. The
  median of an even number of items is the mean of the middle two. The result
  is rounded *up* to a tenth of a day, so "within N days" is never flattering.
- **On time** (``on_time_share``): items delivered within their customer
  resolution target ÷ items delivered with such a target, over the last complete
  calendar quarter before the refresh day (on 10 May: 1 January to 31 March),
  truncated (never rounded up) to three decimals.

Removal requests ("Remove: …") are not deliveries of the service and don't
count. With fewer than ``MIN_ITEMS`` items behind a figure it is left empty (a
figure from three requests would mislead more than it tells), and the page says
so instead.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from catalog.models import (
    BusinessCalendar,
    ItemFact,
    ServiceDeliveryStats,
    ServicePage,
)

RECENT_DAYS = 90
MIN_ITEMS = 10
DAY_SECONDS_24X7 = 24 * 3600
STATS_FIELDS = [
    "median_days",
    "delivered_90_days",
    "on_time_share",
    "delivered_last_quarter",
    "computed_on",
]


def recent_window(today: date) -> tuple[date, date]:
    """The 90 whole days before ``today``: (first day, ``today``), end exclusive."""
    return today - timedelta(days=RECENT_DAYS), today


def last_quarter(today: date) -> tuple[date, date]:
    """The last complete calendar quarter: (its first day, the next quarter's
    first day)."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    this_quarter = date(today.year, first_month, 1)
    if first_month == 1:
        return date(today.year - 1, 10, 1), this_quarter
    return date(today.year, first_month - 3, 1), this_quarter


def working_day_seconds(calendar: BusinessCalendar) -> int | None:
    """How long a working day of ``calendar`` is: its weekly opening time over the
    weekdays it opens, or 24 hours around the clock; None if it never opens."""
    if calendar.always_open:
        return DAY_SECONDS_24X7
    spec = calendar.spec_from(calendar.hours.all(), [])
    minutes: dict[int, int] = defaultdict(int)
    for weekday, opens, closes in spec.hours:
        minutes[weekday] += closes - opens
    if not minutes:
        return None
    return round(sum(minutes.values()) * 60 / len(minutes))


def median(values: list[int]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return (Decimal(ordered[middle - 1]) + Decimal(ordered[middle])) / 2


def _median_days(seconds: list[int], day_seconds: int | None) -> Decimal | None:
    if len(seconds) < MIN_ITEMS or not day_seconds:
        return None
    days = median(seconds) / day_seconds
    return days.quantize(Decimal("0.1"), rounding=ROUND_CEILING)


def _share(met: int, measured: int) -> Decimal | None:
    if measured < MIN_ITEMS:
        return None
    return (Decimal(met) / measured).quantize(Decimal("0.001"), rounding=ROUND_DOWN)


def _deliveries():
    """Facts of items that delivered the service (not removals of it)."""
    return ItemFact.objects.filter(
        service__isnull=False,
        delivered_on__isnull=False,
        item__removes_item__isnull=True,
    ).order_by()


def service_stats_refresh(*, today: date | None = None) -> int:
    """Work the figures out again for every service page; returns how many.

    Safe to run twice at once: each row is written with an upsert.
    """
    today = today or timezone.localdate()
    recent_start, recent_end = recent_window(today)
    quarter_start, quarter_end = last_quarter(today)
    day_seconds = {
        calendar.pk: working_day_seconds(calendar)
        for calendar in BusinessCalendar.objects.prefetch_related("hours")
    }
    services = dict(ServicePage.objects.values_list("pk", "service_level__calendar_id"))
    recent: dict[int, list[int]] = defaultdict(list)
    delivered_recent: dict[int, int] = defaultdict(int)
    for service_id, seconds in (
        _deliveries()
        .filter(delivered_on__gte=recent_start, delivered_on__lt=recent_end)
        .values_list("service_id", "resolution_seconds")
    ):
        delivered_recent[service_id] += 1
        if seconds is not None:
            recent[service_id].append(seconds)
    quarter = {
        row["service_id"]: row
        for row in _deliveries()
        .filter(delivered_on__gte=quarter_start, delivered_on__lt=quarter_end)
        .values("service_id")
        .annotate(
            delivered=Count("pk"),
            measured=Sum("resolution_measured"),
            met=Sum("resolution_met"),
        )
    }
    rows = []
    for service_id, calendar_id in services.items():
        figures = quarter.get(service_id, {})
        rows.append(
            ServiceDeliveryStats(
                service_id=service_id,
                median_days=_median_days(
                    recent.get(service_id, []), day_seconds.get(calendar_id)
                ),
                delivered_90_days=delivered_recent.get(service_id, 0),
                on_time_share=_share(
                    figures.get("met") or 0, figures.get("measured") or 0
                ),
                delivered_last_quarter=figures.get("delivered", 0),
                computed_on=today,
            )
        )
    with transaction.atomic():
        ServiceDeliveryStats.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["service"],
            update_fields=STATS_FIELDS,
        )
    return len(rows)


def service_stats_refresh_if_due(*, today: date | None = None) -> int:
    """Refresh unless it was done already ``today`` (the scheduled check runs
    every few minutes; the figures change once a day). Returns rows written."""
    today = today or timezone.localdate()
    if ServiceDeliveryStats.objects.filter(computed_on=today).exists():
        return 0
    return service_stats_refresh(today=today)
