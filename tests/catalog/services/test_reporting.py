"""The reporting facts and rollups: the recurring-charge rule worked out by hand,
and the rollups kept by the services equal to a rebuild from the items (and to
sums taken straight from the items) after random activity."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import F, Sum

from catalog.exceptions import CatalogError
from catalog.models import (
    ApprovalStep,
    ChargeRollup,
    DailyRollup,
    HoldingRollup,
    ItemFact,
    ItemStatus,
    MonthlyRollup,
    RecurringRollup,
    RequestItem,
)
from catalog.models.reporting import TIME_BAND_FIELDS
from catalog.services import fulfilment
from catalog.services.approvals import approval_decide
from catalog.services.reporting import (
    part_months_charged,
    recurring_charges,
    reporting_rebuild,
    whole_months,
)
from tests.conftest import order

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = Decimal


@pytest.mark.parametrize(
    ("held_from", "held_until", "expected"),
    [
        # Delivered on 10 January: 22 of January's 31 days, then whole months.
        (
            date(2026, 1, 10),
            None,
            {
                date(2026, 1, 1): (D("0"), D("21.29")),
                date(2026, 2, 1): (D("30"), D("0")),
            },
        ),
        # ... and removed on 15 March: 14 of March's 31 days.
        (
            date(2026, 1, 10),
            date(2026, 3, 15),
            {
                date(2026, 1, 1): (D("0"), D("21.29")),
                date(2026, 2, 1): (D("30"), D("0")),
                date(2026, 3, 1): (D("-30"), D("13.55")),
            },
        ),
        # Started and stopped in February: 14 of 28 days.
        (
            date(2026, 2, 3),
            date(2026, 2, 17),
            {date(2026, 2, 1): (D("0"), D("15.00"))},
        ),
        # Delivered on the 1st: the whole first month by the day.
        (
            date(2026, 4, 1),
            None,
            {
                date(2026, 4, 1): (D("0"), D("30.00")),
                date(2026, 5, 1): (D("30"), D("0")),
            },
        ),
        # Removed on the 1st of a month: nothing that month.
        (
            date(2026, 4, 1),
            date(2026, 6, 1),
            {
                date(2026, 4, 1): (D("0"), D("30.00")),
                date(2026, 5, 1): (D("30"), D("0")),
                date(2026, 6, 1): (D("-30"), D("0.00")),
            },
        ),
        # Removed the day it was delivered: nothing at all.
        (date(2026, 4, 7), date(2026, 4, 7), {}),
    ],
)
def test_recurring_charges_by_the_written_rule(held_from, held_until, expected):
    assert recurring_charges(D("30"), held_from, held_until) == expected


def test_a_month_is_the_running_level_plus_its_part_months():
    # 30 a month from 10 January to 15 March: 21.29 + 30 + 13.55.
    charges = recurring_charges(D("30"), date(2026, 1, 10), date(2026, 3, 15))
    level, months = D(0), {}
    for month in sorted(charges):
        level += charges[month][0]
        months[month] = level + charges[month][1]
    assert months == {
        date(2026, 1, 1): D("21.29"),
        date(2026, 2, 1): D("30"),
        date(2026, 3, 1): D("13.55"),
    }


@pytest.mark.parametrize(
    ("held_from", "held_until", "expected"),
    [
        # Delivered on 10 January: whole months from February, still held.
        (date(2026, 1, 10), None, (date(2026, 2, 1), None)),
        # ... removed on 15 March: February only (March is a part month).
        (date(2026, 1, 10), date(2026, 3, 15), (date(2026, 2, 1), date(2026, 3, 1))),
        # Delivered on the 1st: its first month is whole.
        (date(2026, 4, 1), None, (date(2026, 4, 1), None)),
        # ... and removed on the 1st of June: April and May.
        (date(2026, 4, 1), date(2026, 6, 1), (date(2026, 4, 1), date(2026, 6, 1))),
        # Delivered 31 December, removed 1 February: January.
        (date(2025, 12, 31), date(2026, 2, 1), (date(2026, 1, 1), date(2026, 2, 1))),
        # Started and stopped within February, or across one month's end only.
        (date(2026, 2, 3), date(2026, 2, 17), None),
        (date(2026, 1, 20), date(2026, 2, 27), None),
        # Removed the day it was delivered.
        (date(2026, 4, 7), date(2026, 4, 7), None),
        (date(2026, 4, 1), date(2026, 4, 1), None),
    ],
)
def test_whole_months_held(held_from, held_until, expected):
    assert whole_months(held_from, held_until) == expected


@pytest.mark.parametrize(
    ("held_from", "held_until", "expected"),
    [
        # Delivered on 10 January: 22 of its days (10th to 31st), still held.
        (date(2026, 1, 10), None, [(date(2026, 1, 1), 22)]),
        # ... removed on 15 March: and 14 days of March (1st to 14th).
        (
            date(2026, 1, 10),
            date(2026, 3, 15),
            [(date(2026, 1, 1), 22), (date(2026, 3, 1), 14)],
        ),
        # Delivered on the 1st: no part month; removed on the 1st: none either.
        (date(2026, 4, 1), None, []),
        (date(2026, 4, 1), date(2026, 6, 1), []),
        # ... removed on 20 June: 19 days of June.
        (date(2026, 4, 1), date(2026, 6, 20), [(date(2026, 6, 1), 19)]),
        # Started and stopped within February: 3rd to 16th, 14 days, once.
        (date(2026, 2, 3), date(2026, 2, 17), [(date(2026, 2, 1), 14)]),
        # Across one month's end: 12 of January's days, 26 of February's.
        (
            date(2026, 1, 20),
            date(2026, 2, 27),
            [(date(2026, 1, 1), 12), (date(2026, 2, 1), 26)],
        ),
        # 31 December, removed 1 February: one day of December.
        (date(2025, 12, 31), date(2026, 2, 1), [(date(2025, 12, 1), 1)]),
        # Removed the day it was delivered: nothing.
        (date(2026, 4, 7), date(2026, 4, 7), []),
        (date(2026, 4, 1), date(2026, 4, 1), []),
        # A leap February: delivered on the 15th, 15 of its 29 days.
        (date(2028, 2, 15), None, [(date(2028, 2, 1), 15)]),
    ],
)
def test_part_months_charged_by_the_day(held_from, held_until, expected):
    assert part_months_charged(held_from, held_until) == expected


SUMS = [
    "submitted",
    "delivered",
    "units",
    "one_off_amount",
    "response_met",
    "resolution_measured",
    "resolution_met",
    "internal_resolution_met",
    "resolution_seconds_sum",
    "rated",
    "rating_sum",
    "approved",
    "approval_seconds_sum",
    *TIME_BAND_FIELDS,
]


def sums_rows(model, date_field):
    return sorted(
        tuple(row)
        for row in model.objects.values_list(
            date_field, "department_id", "cost_centre_id", "service_name", *SUMS
        )
        if any(row[4:])
    )


def test_a_months_sums_are_kept_as_items_are_ordered(employee, catalog):
    for when in ("2026-01-30 10:00", "2026-02-02 10:00", "2026-02-27 16:00"):
        moment = datetime.fromisoformat(when).replace(tzinfo=LONDON)
        with time_machine.travel(moment, tick=False):
            order(employee, catalog, "password")
    submitted = dict(
        MonthlyRollup.objects.filter(service_name="Reset a forgotten password")
        .values_list("month")
        .annotate(n=Sum("submitted"))
    )
    assert submitted == {date(2026, 1, 1): 1, date(2026, 2, 1): 2}


def rollup_rows():
    by_month = sums_rows(MonthlyRollup, "month")
    daily = sums_rows(DailyRollup, "day")
    monthly = sorted(
        tuple(row)
        for row in RecurringRollup.objects.values_list(
            "month", "department_id", "service_name", "level_change", "part_months"
        )
        if row[3] or row[4]
    )
    held = sorted(
        tuple(row)
        for row in HoldingRollup.objects.values_list(
            "month",
            "department_id",
            "service_name",
            "unit_price",
            "units_change",
            "amount_change",
        )
        if row[4] or row[5]
    )
    charges = sorted(
        tuple(row)
        for row in ChargeRollup.objects.values_list(
            "month",
            "department_id",
            "service_name",
            "kind",
            "unit_price",
            "quantity",
            "amount",
        )
        if row[5] or row[6]
    )
    return daily, by_month, monthly, held, charges


@pytest.fixture
def monthly_service(catalog, standard_level):
    from tests.factories import service_page

    catalog["storage"] = service_page(
        catalog["access"],
        "Extra storage",
        monthly_price=Decimal("12.50"),
        service_level=standard_level,
    )
    for key in ("password", "laptop"):
        page = catalog[key]
        page.service_level = standard_level
        page.save_revision().publish()
    return catalog


def test_rollups_kept_by_the_services_equal_a_rebuild_after_random_activity(
    employee, a_manager, monthly_service, fulfiller, reports_to_manager
):
    rng = random.Random(11)
    catalog = monthly_service
    items = []
    with time_machine.travel(
        datetime(2026, 1, 26, 9, 0, tzinfo=LONDON), tick=False
    ) as clock:
        for _ in range(12):
            which = rng.choice(["password", "laptop", "storage", "storage"])
            items += list(order(employee, catalog, which).items.all())
            clock.shift(timedelta(hours=rng.randint(1, 30)))
        for _ in range(150):
            clock.shift(timedelta(hours=rng.randint(1, 40)))
            item = RequestItem.objects.get(pk=rng.choice(items).pk)
            removal = _act(rng, item, a_manager, employee, fulfiller)
            if removal is not None:
                items.append(removal)
    assert ItemFact.objects.count() == RequestItem.objects.count()
    assert RecurringRollup.objects.exists()
    assert RequestItem.objects.filter(removes_item__isnull=False).exists()
    # A removal was delivered, which ends a holding within the rollups.
    assert ItemFact.objects.filter(held_until__isnull=False).exists()
    kept = rollup_rows()
    # Every delivery with a time to deliver is counted in one band.
    timed = ItemFact.objects.filter(resolution_seconds__isnull=False).count()
    assert timed > 0
    banded = DailyRollup.objects.aggregate(**{n: Sum(n) for n in TIME_BAND_FIELDS})
    assert sum(banded.values()) == timed
    # Some storage was held for whole months, and some for part of a month.
    assert any(row[4] > 0 for row in kept[3])
    assert {row[3] for row in kept[4]} == {"one_off", "part_month"}
    reporting_rebuild()
    assert rollup_rows() == kept
    # The migration that brought in the whole-months rollup fills it the same.
    HoldingRollup.objects.all().delete()
    fill = import_module("catalog.migrations.0031_whole_months_held_rollup")
    fill.fill_from_facts(django_apps, SimpleNamespace(connection=connection))
    assert rollup_rows() == kept
    # And the one that brought in the month's charges by price.
    ChargeRollup.objects.all().delete()
    fill = import_module("catalog.migrations.0032_month_charges_rollup")
    fill.fill_from_facts(django_apps, SimpleNamespace(connection=connection))
    assert rollup_rows() == kept
    # Each month's sums are its days' sums.
    folded = {}
    for day, *key_and_sums in sums_rows(DailyRollup, "day"):
        key, sums = (day.replace(day=1), *key_and_sums[:3]), key_and_sums[3:]
        before = folded.get(key, [0] * len(sums))
        folded[key] = [a + b for a, b in zip(before, sums, strict=True)]
    assert len(kept[1]) >= 2  # the activity spans more than one month
    assert sorted((*key, *sums) for key, sums in folded.items()) == kept[1]
    # And the same totals straight from the items, without the facts.
    delivered = RequestItem.objects.filter(
        status__in=[ItemStatus.FULFILLED, ItemStatus.CLOSED],
        fulfilled_at__isnull=False,
    )
    totals = DailyRollup.objects.aggregate(
        submitted=Sum("submitted"),
        delivered=Sum("delivered"),
        one_off=Sum("one_off_amount"),
        rated=Sum("rated"),
        rating=Sum("rating_sum"),
    )
    assert totals == {
        "submitted": RequestItem.objects.count(),
        "delivered": delivered.count(),
        "one_off": delivered.aggregate(s=Sum(F("one_off_price") * F("quantity")))["s"],
        "rated": delivered.filter(rating__isnull=False).count(),
        "rating": delivered.aggregate(s=Sum("rating"))["s"],
    }


def _act(rng, item, approver, requester, fulfiller):
    try:
        if item.status == ItemStatus.AWAITING_APPROVAL:
            step = ApprovalStep.objects.filter(item=item, status="pending").first()
            approval_decide(
                step_id=step.pk,
                actor=approver,
                approve=rng.random() < 0.85,
                note="Not now.",
            )
        elif item.status in (ItemStatus.SUBMITTED, ItemStatus.APPROVED):
            fulfilment.item_start(item_id=item.pk, actor=fulfiller)
        elif item.status == ItemStatus.IN_PROGRESS:
            fulfilment.item_resolve(item_id=item.pk, actor=fulfiller, note="Done")
        elif item.status == ItemStatus.FULFILLED:
            roll = rng.random()
            if roll < 0.15:
                fulfilment.item_transition(
                    item_id=item.pk, to_state=ItemStatus.IN_PROGRESS, actor=fulfiller
                )
            elif roll < 0.6:
                fulfilment.item_rate(
                    item_id=item.pk, actor=requester, rating=rng.randint(1, 5)
                )
            elif item.monthly_price and item.removes_item_id is None:
                removal = fulfilment.held_service_removal_request(
                    item_id=item.pk, actor=requester, reason="Not needed."
                )
                return removal.items.get()
    except CatalogError:
        pass
    return None
