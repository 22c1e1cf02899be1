"""What the executive figures are computed from.

``ItemFact`` is one narrow row per request item: the few things reports count,
keyed by the dates they are counted on (submitted, delivered, approved, held).
``DailyRollup``, ``MonthlyRollup``, ``RecurringRollup``, ``HoldingRollup`` and
``ChargeRollup`` add the facts up per day (or month) × department × cost centre ×
service, so a figure reads a row per key and day (or month) rather than a row per
item. All six are kept by ``catalog.services.reporting`` in the transaction that changes
an item, and can be rebuilt from the items with ``manage.py rebuild_reporting``.
"""

import bisect

from django.conf import settings
from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2, "default": 0}
# What an executive narrows figures by, besides the service and the period.
FILTERED_BY = ["department", "cost_centre", "category_name"]


class ReportingKey(models.Model):
    """The dimensions every rollup row is keyed by (a service by the names the
    item copied when ordered, so renamed or deleted pages keep their history).
    Requests for people without a department have none; the code that adds to a
    row finds it by its key rather than relying on the unique constraint, which
    doesn't cover an empty department."""

    department = models.ForeignKey(
        "catalog.Department", null=True, on_delete=models.PROTECT, related_name="+"
    )
    cost_centre = models.ForeignKey(
        "catalog.CostCentre", on_delete=models.PROTECT, related_name="+"
    )
    service_name = models.CharField(max_length=255)
    category_name = models.CharField(max_length=255, blank=True)

    class Meta:
        abstract = True


class ItemFact(ReportingKey):
    wagtail_reference_index_ignore = True

    item = models.OneToOneField(
        "catalog.RequestItem",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="fact",
    )
    service = models.ForeignKey(
        "catalog.ServicePage",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # Local dates (the portal's time zone) on which the item counts.
    submitted_on = models.DateField()
    delivered_on = models.DateField(null=True)
    approved_on = models.DateField(null=True)
    held_from = models.DateField(null=True)
    held_until = models.DateField(null=True)  # exclusive: removed on this day
    units = models.PositiveIntegerField(default=1)
    one_off_amount = models.DecimalField(**MONEY)
    monthly_amount = models.DecimalField(**MONEY)
    approval_seconds = models.PositiveIntegerField(null=True)
    # 1 if the target applied / was met, for delivered items; 0 otherwise.
    response_measured = models.PositiveSmallIntegerField(default=0)
    response_met = models.PositiveSmallIntegerField(default=0)
    internal_response_measured = models.PositiveSmallIntegerField(default=0)
    internal_response_met = models.PositiveSmallIntegerField(default=0)
    resolution_measured = models.PositiveSmallIntegerField(default=0)
    resolution_met = models.PositiveSmallIntegerField(default=0)
    internal_resolution_measured = models.PositiveSmallIntegerField(default=0)
    internal_resolution_met = models.PositiveSmallIntegerField(default=0)
    resolution_seconds = models.PositiveIntegerField(null=True)
    rating = models.PositiveSmallIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["department", "delivered_on"]),
            models.Index(fields=["delivered_on"]),
            models.Index(fields=["department", "submitted_on"]),
            models.Index(fields=["cost_centre", "delivered_on"]),
            models.Index(fields=["cost_centre", "held_from"]),
            models.Index(fields=["service_name", "delivered_on"]),
            # The items behind a figure, newest delivery first, a page at a time.
            models.Index(fields=["delivered_on", "item"], name="fact_delivered_newest"),
            # The deliveries of one band of time, in order: a service's, and
            # everyone's (the percentiles of the time to deliver).
            models.Index(
                fields=["service_name", "resolution_seconds"],
                include=["delivered_on", *FILTERED_BY],
                name="fact_time_by_service",
            ),
            models.Index(
                fields=["resolution_seconds"],
                include=["delivered_on", "service_name", *FILTERED_BY],
                name="fact_time",
            ),
        ]

    def __str__(self):
        return f"facts of item {self.item_id}"


def one_row_a_key(date_field: str, name: str, *extra: str) -> models.UniqueConstraint:
    """A rollup's rows are one per day (or month) and key (with ``extra``, the
    dimensions some rollups' keys have after the common ones)."""
    return models.UniqueConstraint(
        fields=[
            date_field,
            "department",
            "cost_centre",
            "service_name",
            "category_name",
            *extra,
        ],
        name=name,
    )


# Times to deliver are also counted in bands, so that a percentile over any
# number of deliveries reads a few rollup rows to find the band that holds it,
# then only that band's deliveries (``catalog.selectors.reporting.percentiles``).
# Band 0 is under a minute; each next band starts 1.3 times later than the one
# before, up to about 2,900 working hours: a band is a few per cent of a
# company's deliveries, whatever the shape of its times. Changing the bands
# changes the rollups' columns: it needs a migration that fills them again.
TIME_BAND_STARTS = (0, *(round(60 * 1.3**k) for k in range(47)))


def time_band(seconds: int) -> int:
    """The band a time to deliver of ``seconds`` falls in."""
    return bisect.bisect_right(TIME_BAND_STARTS, seconds) - 1


def time_band_field(band: int) -> str:
    return f"time_band_{band:02}"


class RollupSums(ReportingKey):
    """Items submitted, delivered (with what they cost and how they did against
    their targets, and their times to deliver counted by band) and approved,
    added up over a day or a month."""

    submitted = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    units = models.IntegerField(default=0)
    one_off_amount = models.DecimalField(**MONEY)
    response_measured = models.IntegerField(default=0)
    response_met = models.IntegerField(default=0)
    internal_response_measured = models.IntegerField(default=0)
    internal_response_met = models.IntegerField(default=0)
    resolution_measured = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    internal_resolution_measured = models.IntegerField(default=0)
    internal_resolution_met = models.IntegerField(default=0)
    resolution_seconds_sum = models.BigIntegerField(default=0)
    resolution_seconds_count = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    approved = models.IntegerField(default=0)
    approval_seconds_sum = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


TIME_BAND_FIELDS = [time_band_field(band) for band in range(len(TIME_BAND_STARTS))]
for _name in TIME_BAND_FIELDS:
    RollupSums.add_to_class(_name, models.IntegerField(default=0))


class DailyRollup(RollupSums):
    """Per day: items submitted that day, delivered that day and approved that
    day."""

    wagtail_reference_index_ignore = True

    day = models.DateField()

    class Meta:
        constraints = [one_row_a_key("day", "dailyrollup_unique_key")]
        indexes = [
            models.Index(fields=["department", "day"]),
            models.Index(fields=["cost_centre", "day"]),
        ]

    def __str__(self):
        return f"{self.day} {self.service_name}"


class MonthlyRollup(RollupSums):
    """The same sums as ``DailyRollup``, per calendar month: a year is twelve
    rows a key instead of 365, for figures over whole months (the service
    review's last twelve months; the middle months of a long period)."""

    wagtail_reference_index_ignore = True

    month = models.DateField(help_text="The first day of the month.")

    class Meta:
        constraints = [one_row_a_key("month", "monthlyrollup_unique_key")]
        indexes = [models.Index(fields=["department", "month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.service_name}"


class RecurringRollup(ReportingKey):
    """Monthly charges of held services, per month. A month's recurring spend is
    the running total of ``level_change`` up to and including that month (the
    services held for the whole month) plus that month's ``part_months``
    (pro-rata charges for services that started or stopped during it)."""

    wagtail_reference_index_ignore = True

    month = models.DateField(help_text="The first day of the month.")
    level_change = models.DecimalField(**MONEY)
    part_months = models.DecimalField(**MONEY)

    class Meta:
        constraints = [one_row_a_key("month", "recurringrollup_unique_key")]
        indexes = [models.Index(fields=["department", "month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.service_name}"


def bill_index(name: str, *columns: str) -> models.Index:
    """A cost centre's month of a rollup that bills read, with the bill's
    ``columns``: read from the index alone on PostgreSQL."""
    return models.Index(
        fields=["cost_centre", "month"],
        include=["department", "service_name", *columns],
        name=name,
    )


class HoldingRollup(ReportingKey):
    """Services held for whole months, by monthly price per unit. The units and
    monthly amounts held for the whole of a month are the running totals of
    ``units_change`` and ``amount_change`` up to and including that month: a
    holding counts from its first whole month (the month it starts, if on its
    first day; otherwise the next) until the month its removal is delivered.
    A cost centre's bill reads its "whole month" lines from here, a row per
    key and month in which holdings began or ended, rather than a row per
    item held."""

    wagtail_reference_index_ignore = True

    month = models.DateField(help_text="The first day of the month.")
    unit_price = models.DecimalField(**MONEY)
    units_change = models.IntegerField(default=0)
    amount_change = models.DecimalField(**MONEY)

    class Meta:
        constraints = [one_row_a_key("month", "holdingrollup_unique_key", "unit_price")]
        indexes = [
            bill_index("holding_bill", "unit_price", "units_change", "amount_change")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.service_name} at {self.unit_price}"


class ChargeKind(models.TextChoices):
    """The kinds of a month's charges a bill counts item by item."""

    ONE_OFF = "one_off", "One-off"
    PART_MONTH = "part_month", "Part of the month"


class ChargeRollup(ReportingKey):
    """A month's one-off charges and part months, by price per unit: the
    quantity (units; for part months, units × days held) and the amount. A
    one-off charge falls in the month of its delivery. A holding is charged by
    the day in the month it starts, unless it starts on the first, and in the
    month its removal is delivered, if it started before that month and the
    removal is not on the first; every month between is a whole month
    (``HoldingRollup``). A cost centre's bill reads these lines from here, a row
    per key, kind and price rather than a row per item delivered or held."""

    wagtail_reference_index_ignore = True

    month = models.DateField(help_text="The first day of the month.")
    kind = models.CharField(max_length=12, choices=ChargeKind.choices)
    unit_price = models.DecimalField(**MONEY)
    quantity = models.IntegerField(default=0)
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            one_row_a_key("month", "chargerollup_unique_key", "kind", "unit_price")
        ]
        indexes = [
            bill_index("charge_bill", "kind", "unit_price", "quantity", "amount")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.service_name}, {self.kind}: {self.amount}"


class ServiceDeliveryStats(models.Model):
    """What the catalog tells everyone about a service's delivery, worked out
    once a day by the scheduled check (``catalog.services.service_stats``) so a
    service page or card reads one row instead of counting."""

    wagtail_reference_index_ignore = True

    service = models.OneToOneField(
        "catalog.ServicePage",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="delivery_stats",
    )
    # Median business days to deliver, over items delivered in the last 90 days.
    median_days = models.DecimalField(max_digits=6, decimal_places=1, null=True)
    delivered_90_days = models.PositiveIntegerField(default=0)
    # Share delivered within the customer target, last calendar quarter.
    on_time_share = models.DecimalField(max_digits=4, decimal_places=3, null=True)
    delivered_last_quarter = models.PositiveIntegerField(default=0)
    computed_on = models.DateField()

    def __str__(self):
        return f"delivery of {self.service_id}"


class BillClosing(models.Model):
    """A month's IT bill for one cost centre, frozen when the month was closed.

    Append-only and hash-chained like the request log: ``hash`` covers this
    closing's content and the previous closing's hash (``sequence`` orders the
    chain), so a changed or removed closing is detected; on PostgreSQL a trigger
    refuses UPDATE and DELETE. Later changes to a closed month appear as
    adjustments on the next open bill, never here.
    """

    wagtail_reference_index_ignore = True

    cost_centre = models.ForeignKey(
        "catalog.CostCentre", on_delete=models.PROTECT, related_name="bill_closings"
    )
    month = models.DateField(help_text="The first day of the month.")
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The bill as it was shown when closed: lines, adjustments, totals.
    statement = models.JSONField()
    total = models.DecimalField(**MONEY)
    sequence = models.PositiveIntegerField(unique=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["cost_centre", "month"], name="billclosing_one_per_month"
            )
        ]

    def __str__(self):
        return f"{self.cost_centre_id} {self.month:%Y-%m}"
