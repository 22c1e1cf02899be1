"""Keeping the reporting facts and rollups equal to the items.

Every change to an item ends in ``catalog.services.service_levels.
items_clock_refresh``, which calls ``item_facts_refresh`` here: each item's facts
are recomputed from its row, and where they changed, the difference between what
the old facts contributed to the rollups and what the new ones contribute is
added, in the same transaction. ``reporting_rebuild`` throws the facts and
rollups away and builds them again from the items; the tests show both ways give
the same rows.

Recurring charges follow one written rule (docs/reporting.md): a service with a
monthly price is charged from the day it is delivered until the day its removal is
delivered, pro rata by calendar day in the months it starts and stops, rounded to
the cent per item and month.
"""

import calendar
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import (
    ChargeKind,
    ChargeRollup,
    DailyRollup,
    HoldingRollup,
    ItemFact,
    ItemStatus,
    MonthlyRollup,
    RecurringRollup,
    RequestItem,
)
from catalog.models.reporting import time_band, time_band_field

DELIVERED = (ItemStatus.FULFILLED, ItemStatus.CLOSED)
# A rollup row's key starts with its kind, which names its model and date field.
DAY, SUMS_BY_MONTH, RECURRING = "day", "sums by month", "recurring"
WHOLE_MONTHS = "whole months held"
CHARGES = "charges by price"
ROLLUPS = {
    DAY: (DailyRollup, "day"),
    SUMS_BY_MONTH: (MonthlyRollup, "month"),
    RECURRING: (RecurringRollup, "month"),
    WHOLE_MONTHS: (HoldingRollup, "month"),
    CHARGES: (ChargeRollup, "month"),
}
# Dimensions some rollups' keys have after the common ones.
EXTRA_KEY = {WHOLE_MONTHS: ("unit_price",), CHARGES: ("kind", "unit_price")}
CENT = Decimal("0.01")
FACT_FIELDS = [
    "department_id",
    "cost_centre_id",
    "service_id",
    "service_name",
    "category_name",
    "submitted_on",
    "delivered_on",
    "approved_on",
    "held_from",
    "held_until",
    "units",
    "one_off_amount",
    "monthly_amount",
    "approval_seconds",
    "response_measured",
    "response_met",
    "internal_response_measured",
    "internal_response_met",
    "resolution_measured",
    "resolution_met",
    "internal_resolution_measured",
    "internal_resolution_met",
    "resolution_seconds",
    "rating",
]
DELIVERY_METRICS = [
    "response_measured",
    "response_met",
    "internal_response_measured",
    "internal_response_met",
    "resolution_measured",
    "resolution_met",
    "internal_resolution_measured",
    "internal_resolution_met",
]


def local_day(moment) -> date | None:
    return timezone.localtime(moment).date() if moment is not None else None


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def days_in(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def part_month(monthly: Decimal, days: int, month: date) -> Decimal:
    """``days`` of ``month`` at ``monthly`` a month, rounded to the cent."""
    return (monthly * days / days_in(month)).quantize(CENT, rounding=ROUND_HALF_UP)


def recurring_charges(monthly: Decimal, held_from: date, held_until: date | None):
    """How a holding adds to the monthly rollup: {month: (level change, part
    months)}. Whole months are a running level; the first and last months are
    charged by the day (``held_until`` is the first day no longer held)."""
    start = month_of(held_from)
    result: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    if held_until is not None and held_until <= held_from:
        return {}
    if held_until is not None and month_of(held_until) == start:
        result[start][1] += part_month(monthly, (held_until - held_from).days, start)
        return {k: tuple(v) for k, v in result.items()}
    following = next_month(start)
    result[start][1] += part_month(monthly, (following - held_from).days, start)
    result[following][0] += monthly
    if held_until is not None:
        end = month_of(held_until)
        result[end][0] -= monthly
        result[end][1] += part_month(monthly, (held_until - end).days, end)
    return {k: tuple(v) for k, v in result.items()}


def whole_months(held_from: date, held_until: date | None):
    """The first month a holding covers from its first day to its last, and the
    first month after it no longer does (None while held): ``(first, end)``,
    or None if it covers no whole month."""
    first = held_from if held_from.day == 1 else next_month(month_of(held_from))
    end = month_of(held_until) if held_until is not None else None
    if end is not None and end <= first:
        return None
    return first, end


def part_months_charged(held_from: date, held_until: date | None):
    """The months a holding is charged by the day, with the days it is held in
    each: ``[(month, days)]``. The month it starts, unless it starts on the
    first (then it is a whole month); the month its removal is delivered, if
    it started before that month and the removal is not on the first."""
    charged = []
    if held_from.day != 1:
        start = month_of(held_from)
        end = next_month(start)
        if held_until is not None and held_until < end:
            end = held_until
        if end > held_from:
            charged.append((start, (end - held_from).days))
    if held_until is not None and held_until.day != 1:
        last = month_of(held_until)
        if held_from <= last:
            charged.append((last, (held_until - last).days))
    return charged


def unit_price(amount: Decimal, units: int) -> Decimal:
    """A price per unit, to the cent, as bills show it."""
    return (amount / units).quantize(CENT)


# --- Facts ------------------------------------------------------------------------


def fact_values(item: RequestItem, *, held_until: date | None) -> dict:
    """The facts of one item (with ``request`` loaded), as ``ItemFact`` fields."""
    service_request = item.request
    delivered = item.status in DELIVERED and item.fulfilled_at is not None
    started, created = item.clock_started_at, item.created_at
    approved = started is not None and started > created
    monthly = item.monthly_price * item.quantity
    held = delivered and monthly > 0 and item.removes_item_id is None
    values = {
        "department_id": service_request.department_id,
        "cost_centre_id": service_request.cost_centre_id,
        "service_id": item.service_id,
        "service_name": item.service_name,
        "category_name": item.category_name,
        "submitted_on": local_day(created),
        "delivered_on": local_day(item.fulfilled_at) if delivered else None,
        "approved_on": local_day(started) if approved else None,
        "held_from": local_day(item.fulfilled_at) if held else None,
        "held_until": held_until if held else None,
        "units": item.quantity,
        "one_off_amount": (item.one_off_price * item.quantity).quantize(CENT),
        "monthly_amount": monthly.quantize(CENT),
        "approval_seconds": int((started - created).total_seconds())
        if approved
        else None,
        "resolution_seconds": item.resolution_seconds if delivered else None,
        "rating": item.rating if delivered else None,
    }
    targets = {
        "response": item.response_target_hours,
        "internal_response": item.internal_response_target_hours,
        "resolution": item.resolution_target_hours,
        "internal_resolution": item.internal_resolution_target_hours,
    }
    for name, target in targets.items():
        measured = delivered and target is not None and started is not None
        breached = getattr(item, f"{name}_breached_at") is not None
        values[f"{name}_measured"] = int(measured)
        values[f"{name}_met"] = int(measured and not breached)
    return values


def contributions(values: dict | None) -> dict[tuple, dict]:
    """What one item's facts add to the rollups: {row key: {field: amount}}."""
    if values is None:
        return {}
    dims = (
        values["department_id"],
        values["cost_centre_id"],
        values["service_name"],
        values["category_name"],
    )
    rows: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    rows[(DAY, values["submitted_on"], *dims)]["submitted"] += 1
    if values["delivered_on"] is not None:
        row = rows[(DAY, values["delivered_on"], *dims)]
        row["delivered"] += 1
        row["units"] += values["units"]
        row["one_off_amount"] += values["one_off_amount"]
        for metric in DELIVERY_METRICS:
            row[metric] += values[metric]
        if values["resolution_seconds"] is not None:
            row["resolution_seconds_sum"] += values["resolution_seconds"]
            row["resolution_seconds_count"] += 1
            row[time_band_field(time_band(values["resolution_seconds"]))] += 1
        if values["rating"] is not None:
            row["rated"] += 1
            row["rating_sum"] += values["rating"]
    if values["approved_on"] is not None:
        row = rows[(DAY, values["approved_on"], *dims)]
        row["approved"] += 1
        row["approval_seconds_sum"] += values["approval_seconds"]
    # The same sums per calendar month (every row so far is a day's).
    for (_kind, day, *key), sums in list(rows.items()):
        month = rows[(SUMS_BY_MONTH, day.replace(day=1), *key)]
        for field, amount in sums.items():
            month[field] += amount
    if values["delivered_on"] is not None and values["one_off_amount"]:
        month = month_of(values["delivered_on"])
        price = unit_price(values["one_off_amount"], values["units"])
        row = rows[(CHARGES, month, *dims, ChargeKind.ONE_OFF.value, price)]
        row["quantity"] += values["units"]
        row["amount"] += values["one_off_amount"]
    if values["held_from"] is not None:
        charges = recurring_charges(
            values["monthly_amount"], values["held_from"], values["held_until"]
        )
        for month, (level, part) in charges.items():
            row = rows[(RECURRING, month, *dims)]
            row["level_change"] += level
            row["part_months"] += part
        price = unit_price(values["monthly_amount"], values["units"])
        held = whole_months(values["held_from"], values["held_until"])
        if held is not None:
            for month, sign in zip(held, (1, -1), strict=True):
                if month is not None:
                    row = rows[(WHOLE_MONTHS, month, *dims, price)]
                    row["units_change"] += sign * values["units"]
                    row["amount_change"] += sign * values["monthly_amount"]
        parts = part_months_charged(values["held_from"], values["held_until"])
        for month, days in parts:
            row = rows[(CHARGES, month, *dims, ChargeKind.PART_MONTH.value, price)]
            row["quantity"] += values["units"] * days
            row["amount"] += part_month(values["monthly_amount"], days, month)
    return rows


def _difference(old: dict, new: dict) -> dict[tuple, dict]:
    result: dict[tuple, dict] = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key, {}), new.get(key, {})
        change = {
            field: after.get(field, 0) - before.get(field, 0)
            for field in before.keys() | after.keys()
        }
        change = {field: amount for field, amount in change.items() if amount}
        if change:
            result[key] = change
    return result


def _add(totals: dict, more: dict) -> None:
    for key, change in more.items():
        row = totals.setdefault(key, defaultdict(int))
        for field, amount in change.items():
            row[field] += amount


def _rollup_filter(key) -> tuple:
    kind, day, department_id, cost_centre_id, service_name, category_name = key[:6]
    model, date_field = ROLLUPS[kind]
    lookup = {
        date_field: day,
        "department_id": department_id,
        "cost_centre_id": cost_centre_id,
        "service_name": service_name,
        "category_name": category_name,
        **dict(zip(EXTRA_KEY.get(kind, ()), key[6:], strict=True)),
    }
    return model, lookup


def _sort_key(key):
    kind, day, department_id, *rest = key
    return (kind, day, department_id or 0, *rest)


def rollups_add(changes: dict[tuple, dict]) -> None:
    """Add ``changes`` to the rollup rows, in a fixed order (so two writers
    never wait for each other crosswise), creating rows that don't exist yet."""
    for key in sorted(changes, key=_sort_key):
        model, lookup = _rollup_filter(key)
        change = changes[key]
        if model.objects.filter(**lookup).update(
            **{field: F(field) + amount for field, amount in change.items()}
        ):
            continue
        try:
            with transaction.atomic():
                model.objects.create(**lookup, **change)
        except IntegrityError:
            # Someone created the row meanwhile: add to theirs.
            model.objects.filter(**lookup).update(
                **{field: F(field) + amount for field, amount in change.items()}
            )


def _held_until(items) -> dict[int, date]:
    """When each held item's removal was delivered (the first, if several)."""
    held_ids = [
        item.pk
        for item in items
        if item.monthly_price > 0
        and item.removes_item_id is None
        and item.status in DELIVERED
    ]
    if not held_ids:
        return {}
    until: dict[int, date] = {}
    for held_id, delivered_at in RequestItem.objects.filter(
        removes_item_id__in=held_ids, status__in=DELIVERED, fulfilled_at__isnull=False
    ).values_list("removes_item_id", "fulfilled_at"):
        day = local_day(delivered_at)
        if held_id not in until or day < until[held_id]:
            until[held_id] = day
    return until


def item_facts_refresh(*, items: list[RequestItem]) -> None:
    """Bring the facts of ``items`` (with ``request`` loaded, figures current) and
    the rollups up to date. Call in the transaction that changed them."""
    items = list(items)
    # A removal's delivery ends what the person holds: refresh the held item too.
    held_ids = {i.removes_item_id for i in items if i.removes_item_id} - {
        i.pk for i in items
    }
    if held_ids:
        items += list(
            RequestItem.objects.select_related("request").filter(pk__in=held_ids)
        )
    until = _held_until(items)
    existing = {f.pk: f for f in ItemFact.objects.filter(item__in=items)}
    changes: dict[tuple, dict] = {}
    create, update = [], []
    for item in items:
        values = fact_values(item, held_until=until.get(item.pk))
        fact = existing.get(item.pk)
        old = {field: getattr(fact, field) for field in FACT_FIELDS} if fact else None
        if old == values:
            continue
        _add(changes, _difference(contributions(old), contributions(values)))
        if fact is None:
            create.append(ItemFact(item_id=item.pk, **values))
        else:
            for field, value in values.items():
                setattr(fact, field, value)
            update.append(fact)
    if create:
        ItemFact.objects.bulk_create(create)
    if update:
        ItemFact.objects.bulk_update(update, FACT_FIELDS)
    if changes:
        rollups_add(changes)


def reporting_rebuild(*, chunk_size: int = 5000, progress=None) -> int:
    """Build every fact and rollup again from the items. Returns the number of
    items; ``progress(done)`` is called after each chunk."""
    totals: dict[tuple, dict] = {}
    done = 0
    with transaction.atomic():
        for model, _ in ROLLUPS.values():
            model.objects.all().delete()
        ItemFact.objects.all().delete()
        last_pk = 0
        while True:
            items = list(
                RequestItem.objects.select_related("request")
                .filter(pk__gt=last_pk)
                .order_by("pk")[:chunk_size]
            )
            if not items:
                break
            last_pk = items[-1].pk
            until = _held_until(items)
            facts = []
            for item in items:
                values = fact_values(item, held_until=until.get(item.pk))
                facts.append(ItemFact(item_id=item.pk, **values))
                _add(totals, contributions(values))
            ItemFact.objects.bulk_create(facts)
            done += len(items)
            if progress is not None:
                progress(done)
        rows = defaultdict(list)
        for key, row in totals.items():
            model, lookup = _rollup_filter(key)
            rows[model].append(model(**lookup, **row))
        for model, created in rows.items():
            model.objects.bulk_create(created, batch_size=5000)
    return done
