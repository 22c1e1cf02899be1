"""A period's sums from whole months (monthly rows) and the other days (daily
rows): which rows a period reads, and how a key found in both is added up.

The rollup rows are written here by hand, with sums chosen so that each row
read shows in the total: a monthly row that was also counted by its days, or a
day outside the period, would change the figures below."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db.models import Q, Sum

from catalog.models import DailyRollup, MonthlyRollup
from catalog.selectors.reporting.dashboard import report_items
from catalog.selectors.reporting.period import CUSTOM, Period
from catalog.selectors.reporting.sums import period_rows
from tests.factories import CostCentreFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rollups():
    """January and February 2026 as monthly rows and as daily rows, as the
    rollups keep them (the days of January on the 15th and 31st; of February
    on the 1st, 10th and 28th); three services in two cost centres. Each
    day's ``submitted`` is a different power of ten (and each month's the sum
    of its days'), so a total says which rows it added."""
    department = DepartmentFactory(name="Sales")
    north, south = CostCentreFactory(code="CC-1"), CostCentreFactory(code="CC-2")
    # (rollup, its date field, the date, service, cost centre, submitted,
    # one-off amount)
    rows = [
        (MonthlyRollup, "month", date(2026, 1, 1), "Laptop", north, 1, "1000.00"),
        (MonthlyRollup, "month", date(2026, 1, 1), "Phone", south, 10, "300.00"),
        # January's days, which its monthly rows already add up: a whole
        # January must not read them.
        (DailyRollup, "day", date(2026, 1, 15), "Laptop", north, 1, "1000.00"),
        (DailyRollup, "day", date(2026, 1, 31), "Phone", south, 10, "300.00"),
        # February's monthly rows, the sums of its days below.
        (MonthlyRollup, "month", date(2026, 2, 1), "Laptop", north, 101100, "2507.50"),
        (MonthlyRollup, "month", date(2026, 2, 1), "Monitor", south, 10000, "0.00"),
        (DailyRollup, "day", date(2026, 2, 1), "Laptop", north, 100, "2000.00"),
        (DailyRollup, "day", date(2026, 2, 10), "Laptop", north, 1000, "500.00"),
        (DailyRollup, "day", date(2026, 2, 10), "Monitor", south, 10000, "0.00"),
        (DailyRollup, "day", date(2026, 2, 28), "Laptop", north, 100000, "7.50"),
    ]
    for model, field, when, service, centre, submitted, amount in rows:
        model.objects.create(
            department=department,
            category_name="Devices",
            cost_centre=centre,
            service_name=service,
            submitted=submitted,
            one_off_amount=Decimal(amount),
            **{field: when},
        )
    return {"north": north, "south": south}


def period(start: date, end: date) -> Period:
    return Period(CUSTOM, start, end, "a period")


def every_row(queryset):
    return queryset


SUMS = {"submitted": Sum("submitted"), "one_off_amount": Sum("one_off_amount")}


def by_service(rows) -> dict:
    return {
        row["service_name"]: (row["submitted"], row["one_off_amount"]) for row in rows
    }


def test_a_whole_month_and_some_days_reads_the_month_once_and_only_those_days(
    rollups,
):
    # 1 January to 10 February: January's monthly rows (1 and 10), not its
    # days; 1 and 10 February (100, 1,000 and 10,000), not the 28th.
    rows = period_rows(period(date(2026, 1, 1), date(2026, 2, 10)), every_row)

    assert by_service(rows.sums(("service_name",), **SUMS)) == {
        "Laptop": (1 + 100 + 1000, Decimal("3500.00")),
        "Phone": (10, Decimal("300.00")),
        "Monitor": (10000, Decimal("0.00")),
    }
    assert rows.total(**SUMS) == {
        "submitted": 11111,
        "one_off_amount": Decimal("3800.00"),
    }


def test_days_only_when_no_month_is_whole(rollups):
    # 2 to 31 January is not the whole month: its days (15th and 31st), not
    # the monthly rows.
    rows = period_rows(period(date(2026, 1, 2), date(2026, 1, 31)), every_row)

    assert rows.months.count() == 0
    assert rows.total(**SUMS) == {
        "submitted": 11,
        "one_off_amount": Decimal("1300.00"),
    }


def test_whole_months_only_read_no_daily_row(rollups):
    # January and February whole (2026 is not a leap year): the four monthly
    # rows, 1 + 10 + 101,100 + 10,000.
    rows = period_rows(period(date(2026, 1, 1), date(2026, 2, 28)), every_row)

    assert rows.days.count() == 0
    assert rows.total(**SUMS) == {
        "submitted": 111111,
        "one_off_amount": Decimal("3807.50"),
    }


def test_a_period_with_nothing_in_it_totals_none(rollups):
    rows = period_rows(period(date(2025, 6, 1), date(2025, 7, 15)), every_row)

    assert rows.sums(("service_name",), **SUMS) == []
    assert rows.total(**SUMS) == {"submitted": None, "one_off_amount": None}


def test_an_empty_period_reads_nothing(rollups):
    # A period that hasn't started: its first day is after its last.
    rows = period_rows(period(date(2026, 3, 1), date(2026, 2, 28)), every_row)

    assert rows.total(**SUMS) == {"submitted": None, "one_off_amount": None}


def test_by_day_a_months_sums_fall_on_its_first_day(rollups):
    rows = period_rows(period(date(2026, 1, 1), date(2026, 2, 10)), every_row)

    found = {
        (row["day"], row["service_name"]): row["submitted"]
        for row in rows.sums(("service_name",), day=True, **SUMS)
    }

    assert found == {
        (date(2026, 1, 1), "Laptop"): 1,
        (date(2026, 1, 1), "Phone"): 10,
        (date(2026, 2, 1), "Laptop"): 100,
        (date(2026, 2, 10), "Laptop"): 1000,
        (date(2026, 2, 10), "Monitor"): 10000,
    }


def test_the_scope_narrows_both_halves(rollups):
    # The north cost centre only: January's Laptop row and February's Laptop
    # days to the 28th (Phone and Monitor are the south's).
    north = rollups["north"].pk

    def north_only(queryset):
        return queryset.filter(cost_centre_id=north)

    rows = period_rows(period(date(2026, 1, 1), date(2026, 2, 28)), north_only)

    assert by_service(rows.sums(("service_name",), **SUMS)) == {
        "Laptop": (1 + 100 + 1000 + 100000, Decimal("3507.50")),
    }


def test_a_sum_with_nothing_in_one_half_takes_the_other_halfs(rollups):
    # A filtered sum is None where no row matches. From small orders, only
    # January's monthly rows count (1,000 + 300); from large ones only
    # February's days (2,000 + 500 + 0). Neither half's None hides the other.
    rows = period_rows(period(date(2026, 1, 1), date(2026, 2, 10)), every_row)

    assert rows.total(
        small=Sum("one_off_amount", filter=Q(submitted__lt=100)),
        large=Sum("one_off_amount", filter=Q(submitted__gte=100)),
    ) == {"small": Decimal("1300.00"), "large": Decimal("2500.00")}


@pytest.mark.parametrize(
    ("start", "end", "today", "submitted", "months", "days"),
    [
        # Today is 10 February: 1 to 10 February is February so far, read
        # from its monthly rows (101,100 and 10,000; nothing is dated after
        # today, so the 28th's 100,000 in them shows which rows were read).
        (date(2026, 1, 1), date(2026, 2, 10), date(2026, 2, 10), 111111, 4, 0),
        # 2 to 10 February, today the 10th: the 1st is outside, so its days.
        (date(2026, 2, 2), date(2026, 2, 10), date(2026, 2, 10), 11000, 0, 2),
        # 1 to 10 February when today is the 11th: not the month so far.
        (date(2026, 1, 1), date(2026, 2, 10), date(2026, 2, 11), 11111, 2, 3),
    ],
)
def test_a_month_up_to_today_reads_its_monthly_rows(
    rollups, start, end, today, submitted, months, days
):
    rows = period_rows(period(start, end), every_row, today=today)

    assert (rows.months.count(), rows.days.count()) == (months, days)
    assert rows.total(**SUMS)["submitted"] == submitted


def test_the_items_pages_totals_read_this_month_from_its_monthly_rows(rollups):
    # Today is 10 February 2026. From 1 January to today, the items page
    # counts January's monthly rows (1 + 10) and February's (101,100 +
    # 10,000): the 28th's 100,000 in February's shows they were read. Read by
    # its days, February so far would have given 11,100, and the total 11,111.
    listing = report_items(
        user=UserFactory(is_superuser=True),
        params={
            "period": "custom",
            "date_from": "2026-01-01",
            "date_to": "2026-02-10",
            "metric": "submitted",
        },
        now=datetime(2026, 2, 10, 12, 0, tzinfo=UTC),
    )

    assert listing.summary is not None, listing.filters.form.errors
    assert listing.summary.count == 111111
