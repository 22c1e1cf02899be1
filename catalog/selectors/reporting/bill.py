"""The monthly IT bill of one cost centre: its statement, the items behind each
line, and the adjustments for months already closed.

A month's charges are the one-off prices of items delivered in it and the
monthly prices of services held during it, pro rata by the day in the months a
holding starts and stops (``catalog.services.reporting.part_month``, the same
rule the rollups use, so a bill's charges equal the dashboard's spend). The
statement is added up in the database (grouped by department, service and
price); items are only read a page at a time or streamed for an export.

A closed month is shown from its frozen statement (``BillClosing``). What changed
in it since appears as adjustment lines on the next open month's bill: the month
worked out again now, less its frozen statement, less the adjustments for it that
later closed bills already carried. The rules are written for finance readers in
docs/reporting.md.

Who sees what: ``bill_cost_centres`` and ``bill_cost_centre`` decide which cost
centres a person may open, and every line is kept to the departments of their
``Scope``.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, DateField, F, Q, Sum, Value, When
from django.utils import timezone

from catalog.exceptions import NotFoundForUser
from catalog.models import (
    BillClosing,
    ChargeKind,
    ChargeRollup,
    CostCentre,
    Department,
    HoldingRollup,
    ItemFact,
    MonthlyRollup,
    RecurringRollup,
    UserProfile,
)
from catalog.selectors.reporting.scope import Scope, reporting_scope
from catalog.services.reporting import (
    CENT,
    days_in,
    month_of,
    next_month,
    part_month,
    unit_price,
)

ONE_OFF = ChargeKind.ONE_OFF.value
MONTHLY = "monthly"  # held for the whole month
PART_MONTH = ChargeKind.PART_MONTH.value  # started or stopped in the month: by the day
ADJUSTMENT = "adjustment"
ITEM_KINDS = (ONE_OFF, MONTHLY, PART_MONTH)
# What an adjustment corrects: a closed month's one-off or recurring charges.
ADJUSTS = {ONE_OFF: "one-off charges", "recurring": "monthly charges"}
# Bills before this month are not offered: no portal data is older.
EARLIEST_MONTH = date(2000, 1, 1)
STATEMENT_VERSION = 1
ZERO = Decimal("0.00")
ITEMS_PER_PAGE = 50


# --- What a bill is made of ---------------------------------------------------------


@dataclass(frozen=True)
class BillLine:
    """One line of a statement. ``department_id`` is set on the lines a closing
    freezes (so a department executive sees their part of a closed bill) and
    dropped when lines are merged for the screen."""

    kind: str
    service_name: str
    amount: Decimal
    unit_price: Decimal | None = None  # per item, or per month for monthly services
    quantity: int = 0  # items, item-months or item-days (see ``quantity_unit``)
    department_id: int | None = None
    for_month: date | None = None  # adjustments: the closed month they correct
    adjusts: str = ""  # adjustments: ONE_OFF or "recurring"

    @property
    def is_adjustment(self) -> bool:
        return self.kind == ADJUSTMENT

    @property
    def description(self) -> str:
        if self.kind == MONTHLY:
            return f"{self.service_name}, the whole month"
        if self.kind == PART_MONTH:
            return f"{self.service_name}, part of the month (by the day)"
        if self.kind == ADJUSTMENT:
            return (
                f"{self.service_name}: {ADJUSTS[self.adjusts]} for "
                f"{self.for_month:%B %Y}"
            )
        return self.service_name

    @property
    def quantity_unit(self) -> str:
        plural = self.quantity != 1
        if self.kind == MONTHLY:
            return "months" if plural else "month"
        if self.kind == PART_MONTH:
            return "days" if plural else "day"
        if self.kind == ONE_OFF:
            return "items" if plural else "item"
        return ""

    @property
    def unit_price_per(self) -> str:
        return "a month" if self.kind in (MONTHLY, PART_MONTH) else "each"

    @property
    def items_query(self) -> dict:
        """The item list's filters for the items behind this line."""
        if self.kind not in ITEM_KINDS:
            return {}
        return {
            "kind": self.kind,
            "service": self.service_name,
            "price": f"{self.unit_price:.2f}",
        }

    def as_json(self, department_names: dict) -> dict:
        row = {
            "kind": self.kind,
            "department_id": self.department_id,
            "department": department_names.get(self.department_id, ""),
            "service": self.service_name,
            "amount": f"{self.amount:.2f}",
        }
        if self.kind == ADJUSTMENT:
            row |= {"for_month": f"{self.for_month:%Y-%m}", "adjusts": self.adjusts}
        else:
            row |= {"unit_price": f"{self.unit_price:.2f}", "quantity": self.quantity}
        return row

    @classmethod
    def from_json(cls, row: dict) -> "BillLine":
        if row["kind"] == ADJUSTMENT:
            return cls(
                kind=ADJUSTMENT,
                service_name=row["service"],
                amount=Decimal(row["amount"]),
                department_id=row["department_id"],
                for_month=_parse_month(row["for_month"]),
                adjusts=row["adjusts"],
            )
        return cls(
            kind=row["kind"],
            service_name=row["service"],
            amount=Decimal(row["amount"]),
            unit_price=Decimal(row["unit_price"]),
            quantity=row["quantity"],
            department_id=row["department_id"],
        )


@dataclass(frozen=True)
class ClosedBy:
    closed_at: datetime
    name: str


@dataclass
class Bill:
    """A cost centre's bill for a month as one person may see it."""

    cost_centre: CostCentre
    month: date
    scope: Scope
    one_off: list[BillLine]
    recurring: list[BillLine]
    adjustments: list[BillLine]
    issued_on: date
    closed: ClosedBy | None = None
    # Added up from the lines above.
    one_off_total: Decimal = field(init=False, default=ZERO)
    recurring_total: Decimal = field(init=False, default=ZERO)
    charges_total: Decimal = field(init=False, default=ZERO)
    adjustments_total: Decimal = field(init=False, default=ZERO)
    total: Decimal = field(init=False, default=ZERO)
    lines: list[BillLine] = field(init=False, default_factory=list)

    def __post_init__(self):
        self.one_off_total = _sum(self.one_off)
        self.recurring_total = _sum(self.recurring)
        self.charges_total = self.one_off_total + self.recurring_total
        self.adjustments_total = _sum(self.adjustments)
        self.total = self.charges_total + self.adjustments_total
        self.lines = [*self.one_off, *self.recurring, *self.adjustments]

    @property
    def covers(self) -> str:
        """Whose requests the bill counts, in words."""
        if self.scope.whole_company:
            return "Requests for everyone, in every department"
        return f"Requests for people in {self.scope.label}"

    @property
    def currency(self) -> str:
        return settings.CATALOG_CURRENCY

    @property
    def in_progress(self) -> bool:
        """The current month: charges so far."""
        return self.closed is None and self.month == month_of(self.issued_on)

    @property
    def days_in_month(self) -> int:
        return days_in(self.month)

    @property
    def is_empty(self) -> bool:
        return not self.lines


def _sum(lines) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


def _parse_month(value: str) -> date:
    year, month = value.split("-")[:2]
    return date(int(year), int(month), 1)


# --- Which cost centres a person may open -------------------------------------------


def _own_cost_centre_ids(scope: Scope):
    return Department.objects.filter(pk__in=scope.department_ids).values(
        "cost_centre_id"
    )


def bill_cost_centres(*, scope: Scope) -> list[CostCentre]:
    """The cost centres whose bills ``scope`` may open: every one for the whole
    company; for a department, its own cost centre and every cost centre its
    requests were charged to (each submitted item has a monthly rollup row)."""
    centres = CostCentre.objects.order_by("code")
    if scope.whole_company:
        return list(centres)
    charged = MonthlyRollup.objects.filter(scope.q()).values("cost_centre_id")
    return list(
        centres.filter(Q(pk__in=charged) | Q(pk__in=_own_cost_centre_ids(scope)))
    )


def bill_cost_centre(*, scope: Scope, cost_centre) -> CostCentre:
    """The cost centre ``cost_centre`` (an id, as typed in a URL, or a
    ``CostCentre``) if ``scope`` may open its bill; otherwise 404, so other
    departments' cost centres stay invisible."""
    if isinstance(cost_centre, CostCentre):
        centre = cost_centre
    else:
        text = str(cost_centre).strip()
        if not text.isdigit() or len(text) > 18:
            raise NotFoundForUser("No such cost centre.")
        centre = CostCentre.objects.filter(pk=int(text)).first()
        if centre is None:
            raise NotFoundForUser("No such cost centre.")
    if scope.whole_company:
        return centre
    own = _own_cost_centre_ids(scope).filter(cost_centre_id=centre.pk)
    charged = MonthlyRollup.objects.filter(scope.q(), cost_centre_id=centre.pk)
    if own.exists() or charged.exists():
        return centre
    raise NotFoundForUser("No such cost centre.")


def bill_default_cost_centre(*, user, scope: Scope, choices) -> CostCentre | None:
    """The viewer's department's cost centre if they may open it, else the first
    one they may."""
    own = (
        UserProfile.objects.filter(user=user, department__isnull=False)
        .values_list("department__cost_centre_id", flat=True)
        .first()
    )
    for centre in choices:
        if centre.pk == own:
            return centre
    return choices[0] if choices else None


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def bill_default_month(today: date | None = None) -> date:
    """The last complete month."""
    return previous_month(month_of(today or timezone.localdate()))


# --- Charges for a month, worked out from the items' facts ---------------------------


def _held_in(month: date) -> Q:
    return Q(held_from__lt=next_month(month)) & (
        Q(held_until__isnull=True) | Q(held_until__gt=month)
    )


def _clamped(month: date) -> dict:
    """The first day held and the first day not held, within ``month``."""
    start, end = month, next_month(month)
    return {
        "held_start": Case(
            When(held_from__lt=start, then=Value(start)),
            default=F("held_from"),
            output_field=DateField(),
        ),
        "held_end": Case(
            When(Q(held_until__isnull=True) | Q(held_until__gt=end), then=Value(end)),
            default=F("held_until"),
            output_field=DateField(),
        ),
    }


def month_lines(*, cost_centre_id: int, month: date, where: Q) -> list[BillLine]:
    """A month's charges to a cost centre by department, service and price,
    counted in the database from two rollups, a row per key and month rather
    than per item, each read from a covering index on PostgreSQL: one-off
    charges and part months from ``ChargeRollup``; whole months from the
    running totals of ``HoldingRollup`` up to the month."""
    lines: dict[tuple, list] = defaultdict(lambda: [0, ZERO])
    charges = (
        ChargeRollup.objects.filter(where, cost_centre_id=cost_centre_id, month=month)
        .values("kind", "department_id", "service_name", "unit_price")
        .annotate(quantities=Sum("quantity"), amounts=Sum("amount"))
    )
    for row in charges:
        if row["quantities"]:
            key = (row["kind"], row["department_id"], row["service_name"])
            line = lines[(*key, row["unit_price"])]
            line[0] += row["quantities"]
            line[1] += row["amounts"]

    whole = (
        HoldingRollup.objects.filter(
            where, cost_centre_id=cost_centre_id, month__lte=month
        )
        .values("department_id", "service_name", "unit_price")
        .annotate(units=Sum("units_change"), amount=Sum("amount_change"))
    )
    for row in whole:
        if row["units"]:
            key = (MONTHLY, row["department_id"], row["service_name"])
            line = lines[(*key, row["unit_price"])]
            line[0] += row["units"]
            line[1] += row["amount"]

    return [
        BillLine(
            kind=kind,
            department_id=department_id,
            service_name=service,
            unit_price=price,
            quantity=quantity,
            # SQLite adds decimals as floats: back to cents.
            amount=amount.quantize(CENT),
        )
        for (kind, department_id, service, price), (quantity, amount) in lines.items()
    ]


# --- Adjustments for closed months ----------------------------------------------------


def _rollup_charges(cost_centre_id: int, months: list[date]) -> dict[tuple, Decimal]:
    """What ``months`` (consecutive) cost the cost centre by the rollups now:
    {(month, department, service, ONE_OFF or "recurring"): amount}."""
    first, end = months[0], next_month(months[-1])
    charges: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    one_off = (
        MonthlyRollup.objects.filter(
            cost_centre_id=cost_centre_id, month__gte=first, month__lt=end
        )
        .values("month", "department_id", "service_name")
        .annotate(amount=Sum("one_off_amount"))
    )
    for row in one_off:
        key = (row["month"], row["department_id"], row["service_name"], ONE_OFF)
        charges[key] += row["amount"]
    # A month's recurring charges: the level running since the first rollup
    # month, plus the month's part months.
    level: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    before = (
        RecurringRollup.objects.filter(cost_centre_id=cost_centre_id, month__lt=first)
        .values("department_id", "service_name")
        .annotate(level=Sum("level_change"))
    )
    for row in before:
        level[(row["department_id"], row["service_name"])] += row["level"]
    during = (
        RecurringRollup.objects.filter(
            cost_centre_id=cost_centre_id, month__gte=first, month__lt=end
        )
        .values("month", "department_id", "service_name")
        .annotate(level=Sum("level_change"), part=Sum("part_months"))
    )
    by_month: dict[date, list] = defaultdict(list)
    for row in during:
        by_month[row["month"]].append(row)
    for month in months:
        parts: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
        for row in by_month[month]:
            key = (row["department_id"], row["service_name"])
            level[key] += row["level"]
            parts[key] += row["part"]
        for key in level.keys() | parts.keys():
            amount = level[key] + parts[key]
            if amount:
                charges[(month, *key, "recurring")] += amount
    return charges


def _closed_run(closed_months: set[date], month: date) -> list[date]:
    """The closed months whose next open month is ``month``: the unbroken run
    of closed months just before it, oldest first."""
    run = []
    previous = previous_month(month)
    while previous in closed_months:
        run.append(previous)
        previous = previous_month(previous)
    return run[::-1]


def _adjustments(
    cost_centre_id: int, month: date, run: list[date], statements: dict[date, dict]
) -> list[BillLine]:
    """Adjustment lines for the closed months in ``run`` (by department,
    service and kind of charge): each month now, less what was billed for it
    (its frozen lines and the adjustments later closed bills carried)."""
    if not run:
        return []
    difference = _rollup_charges(cost_centre_id, run)
    for statement in statements.values():
        for row in statement["lines"]:
            line = BillLine.from_json(row)
            if line.kind == ADJUSTMENT:
                key = (line.for_month, line.department_id, line.service_name)
                difference[(*key, line.adjusts)] -= line.amount
            else:
                month_closed = _parse_month(statement["month"])
                adjusts = ONE_OFF if line.kind == ONE_OFF else "recurring"
                key = (month_closed, line.department_id, line.service_name, adjusts)
                difference[key] -= line.amount
    return [
        BillLine(
            kind=ADJUSTMENT,
            service_name=service,
            amount=amount,
            department_id=department_id,
            for_month=for_month,
            adjusts=adjusts,
        )
        for (for_month, department_id, service, adjusts), amount in difference.items()
        if amount and for_month in run
    ]


# --- The statement as frozen, and the bill as shown -----------------------------------


def _open_lines(cost_centre_id: int, month: date, where: Q, closed: set[date]):
    lines = month_lines(cost_centre_id=cost_centre_id, month=month, where=where)
    run = _closed_run(closed, month)
    statements = {}
    if run:
        statements = dict(
            BillClosing.objects.filter(
                cost_centre_id=cost_centre_id, month__in=run
            ).values_list("month", "statement")
        )
    return lines + _adjustments(cost_centre_id, month, run, statements)


def bill_statement(*, cost_centre: CostCentre, month: date) -> dict:
    """A month's whole bill for a cost centre (every department), as a closing
    freezes it: lines by department, adjustments and totals, in plain JSON."""
    month = month_of(month)
    closed = set(
        BillClosing.objects.filter(
            cost_centre_id=cost_centre.pk, month__lt=month
        ).values_list("month", flat=True)
    )
    lines = _open_lines(cost_centre.pk, month, Q(), closed)
    lines.sort(key=_line_order)
    names = dict(
        Department.objects.filter(
            pk__in={line.department_id for line in lines}
        ).values_list("pk", "name")
    )
    one_off = _sum(line for line in lines if line.kind == ONE_OFF)
    recurring = _sum(line for line in lines if line.kind in (MONTHLY, PART_MONTH))
    adjustments = _sum(line for line in lines if line.kind == ADJUSTMENT)
    return {
        "version": STATEMENT_VERSION,
        "cost_centre": {
            "id": cost_centre.pk,
            "code": cost_centre.code,
            "name": cost_centre.name,
        },
        "month": f"{month:%Y-%m}",
        "lines": [line.as_json(names) for line in lines],
        "totals": {
            "one_off": f"{one_off:.2f}",
            "recurring": f"{recurring:.2f}",
            "charges": f"{one_off + recurring:.2f}",
            "adjustments": f"{adjustments:.2f}",
            "total": f"{one_off + recurring + adjustments:.2f}",
        },
    }


def _line_order(line: BillLine):
    section = {ONE_OFF: 0, MONTHLY: 1, PART_MONTH: 1}.get(line.kind, 2)
    return (
        section,
        line.for_month or EARLIEST_MONTH,
        line.service_name.casefold(),
        line.kind,
        line.unit_price or ZERO,
        line.adjusts,
        line.department_id or 0,
    )


def _merged(lines) -> list[BillLine]:
    """Lines as the screen shows them: departments added together."""
    merged: dict[tuple, list] = {}
    for line in lines:
        key = (line.kind, line.service_name, line.unit_price, line.for_month)
        key += (line.adjusts,)
        if key in merged:
            merged[key][0] += line.quantity
            merged[key][1] += line.amount
        else:
            merged[key] = [line.quantity, line.amount]
    result = [
        BillLine(
            kind=kind,
            service_name=service,
            unit_price=price,
            for_month=for_month,
            adjusts=adjusts,
            quantity=quantity,
            amount=amount,
        )
        for (kind, service, price, for_month, adjusts), (quantity, amount) in (
            merged.items()
        )
        if kind != ADJUSTMENT or amount
    ]
    return sorted(result, key=_line_order)


def bill_for(
    *, scope: Scope, cost_centre, month: date, today: date | None = None
) -> Bill:
    """The bill of ``cost_centre`` (a ``CostCentre`` or an id) for ``month`` as
    ``scope`` may see it: a closed month from its frozen statement, an open one
    worked out now with the adjustments for the closed months before it.
    ``month`` must not be after the current month (see ``bill_month``)."""
    centre = bill_cost_centre(scope=scope, cost_centre=cost_centre)
    month = month_of(month)
    today = today or timezone.localdate()
    closings = dict(
        BillClosing.objects.filter(
            cost_centre_id=centre.pk, month__lte=month
        ).values_list("month", "pk")
    )
    closed_by = None
    if month in closings:
        closing = BillClosing.objects.select_related("closed_by").get(
            pk=closings[month]
        )
        lines = [BillLine.from_json(row) for row in closing.statement["lines"]]
        lines = [line for line in lines if scope.allows(line.department_id)]
        who = closing.closed_by
        closed_by = ClosedBy(
            closed_at=closing.closed_at,
            name=(who.get_full_name() or who.get_username()) if who else "the system",
        )
    else:
        lines = _open_lines(centre.pk, month, scope.q(), set(closings))
        lines = [line for line in lines if scope.allows(line.department_id)]
    lines = _merged(lines)
    return Bill(
        cost_centre=centre,
        month=month,
        scope=scope,
        one_off=[line for line in lines if line.kind == ONE_OFF],
        recurring=[line for line in lines if line.kind in (MONTHLY, PART_MONTH)],
        adjustments=[line for line in lines if line.kind == ADJUSTMENT],
        issued_on=today
        if closed_by is None
        else timezone.localdate(closed_by.closed_at),
        closed=closed_by,
    )


# --- Which month: what people type ------------------------------------------------


@dataclass(frozen=True)
class MonthChoice:
    month: date
    error: str = ""  # the input can't be read: say how to write it
    note: str = ""  # the input was read but moved into range: say so


def bill_month(value: str | None, *, today: date | None = None) -> MonthChoice:
    """The month asked for as YYYY-MM; the last complete month when none. A
    month after the current one is moved back to the current one (its bill so
    far); one that can't be read, or before 2000, is an error."""
    today = today or timezone.localdate()
    default = bill_default_month(today)
    text = (value or "").strip()
    if not text:
        return MonthChoice(default)
    try:
        year, number = text.split("-")
        if len(year) != 4 or not year.isdigit() or not number.isdigit():
            raise ValueError
        month = date(int(year), int(number), 1)
    except (ValueError, OverflowError):  # OverflowError: a 30-digit month
        return MonthChoice(
            default,
            error="Enter the month as year and month, for example "
            f"{default:%Y-%m} for {default:%B %Y}.",
        )
    if month < EARLIEST_MONTH:
        return MonthChoice(
            default,
            error=f"Bills start in {EARLIEST_MONTH:%B %Y}. Enter a later month, "
            f"for example {default:%Y-%m}.",
        )
    current = month_of(today)
    if month > current:
        return MonthChoice(
            current,
            note=f"There is no bill for {month:%B %Y} yet. Showing {current:%B %Y} "
            "so far.",
        )
    return MonthChoice(month)


# --- The items behind the lines ---------------------------------------------------


@dataclass(frozen=True)
class BillItem:
    number: str
    service_name: str
    for_whom: str
    kind: str
    units: int
    unit_price: Decimal
    amount: Decimal
    delivered_on: date | None = None
    held_from: date | None = None
    held_until: date | None = None  # the first day no longer held
    days: int | None = None  # days charged in the month

    @property
    def charge(self) -> str:
        return {
            ONE_OFF: "One-off",
            MONTHLY: "Monthly, whole month",
            PART_MONTH: "Monthly, by the day",
        }[self.kind]


ITEM_FIELDS = (
    "item__request_id",
    "item__line_number",
    "service_name",
    "item__request__requested_for__first_name",
    "item__request__requested_for__last_name",
    "item__request__requested_for__username",
    "units",
    "one_off_amount",
    "monthly_amount",
    "delivered_on",
    "held_start",
    "held_end",
    "held_from",
    "held_until",
)


def _item_rows(
    *,
    scope: Scope,
    cost_centre: CostCentre,
    month: date,
    kind: str,
    service: str | None = None,
    price: Decimal | None = None,
):
    """The facts behind ``kind`` lines (optionally of one service and price),
    as value rows in a fixed order."""
    start, end = month, next_month(month)
    facts = ItemFact.objects.filter(scope.q(), cost_centre_id=cost_centre.pk)
    if service is not None:
        facts = facts.filter(service_name=service)
    if kind == ONE_OFF:
        facts = facts.filter(delivered_on__gte=start, delivered_on__lt=end).exclude(
            one_off_amount=0
        )
        if price is not None:
            facts = facts.filter(item__one_off_price=price)
        facts = facts.annotate(held_start=Value(None, DateField()))
        facts = facts.annotate(held_end=Value(None, DateField()))
        order = ("delivered_on", "item_id")
    else:
        whole = Q(held_from__lte=start) & (
            Q(held_until__isnull=True) | Q(held_until__gte=end)
        )
        facts = facts.filter(_held_in(month)).filter(
            whole if kind == MONTHLY else ~whole
        )
        # Removed the day it was delivered: held for no day at all.
        facts = facts.exclude(held_until=F("held_from"))
        if price is not None:
            facts = facts.filter(item__monthly_price=price)
        facts = facts.annotate(**_clamped(month))
        order = ("held_from", "item_id")
    return facts.order_by(*order).values_list(*ITEM_FIELDS)


def _bill_item(row, kind: str, month: date) -> BillItem:
    (
        request_id,
        line_number,
        service,
        first,
        last,
        username,
        units,
        one_off,
        monthly,
        delivered_on,
        held_start,
        held_end,
        held_from,
        held_until,
    ) = row
    common = {
        "number": f"REQ-{request_id:06d}-{line_number}",
        "service_name": service,
        "for_whom": f"{first} {last}".strip() or username,
        "kind": kind,
        "units": units,
    }
    if kind == ONE_OFF:
        return BillItem(
            **common,
            unit_price=unit_price(one_off, units),
            amount=one_off,
            delivered_on=delivered_on,
        )
    days = (held_end - held_start).days
    return BillItem(
        **common,
        unit_price=unit_price(monthly, units),
        amount=part_month(monthly, days, month),
        held_from=held_from,
        held_until=held_until,
        days=days,
    )


@dataclass(frozen=True)
class ItemFilter:
    """Which line's items to list, as read from the query string."""

    kind: str
    service: str | None = None
    price: Decimal | None = None


def bill_item_filter(params) -> ItemFilter | None:
    """The item filter in ``params`` (``kind``, ``service``, ``price``); None
    when no line was picked or the values can't be read."""
    kind = params.get("kind", "")
    if kind not in ITEM_KINDS:
        return None
    service = params.get("service") or None
    price = params.get("price") or None
    if service is not None and len(service) > 255:
        return None
    if price is not None:
        try:
            price = Decimal(price)
        except InvalidOperation:
            return None
        if not price.is_finite() or abs(price) >= Decimal("1e8"):
            return None
        price = price.quantize(CENT)
    return ItemFilter(kind=kind, service=service, price=price)


def bill_item_page(
    *, bill: Bill, items: ItemFilter, page_number=1, per_page: int = ITEMS_PER_PAGE
) -> Page:
    """One page of the items behind a line of ``bill`` (as its viewer may see
    them), as ``BillItem``; a page number out of range gives the nearest page."""
    rows = _item_rows(
        scope=bill.scope,
        cost_centre=bill.cost_centre,
        month=bill.month,
        kind=items.kind,
        service=items.service,
        price=items.price,
    )
    page = Paginator(rows, per_page).get_page(page_number)
    page.object_list = [_bill_item(row, items.kind, bill.month) for row in page]
    return page


def bill_items(*, bill: Bill, chunk_size: int = 2000) -> Iterator[BillItem]:
    """Every item behind ``bill``'s charges, read in chunks (for exports):
    one-off charges, then whole months, then part months."""
    for kind in ITEM_KINDS:
        rows = _item_rows(
            scope=bill.scope, cost_centre=bill.cost_centre, month=bill.month, kind=kind
        )
        for row in rows.iterator(chunk_size=chunk_size):
            yield _bill_item(row, kind, bill.month)


# --- Closing a month ----------------------------------------------------------------


def cost_centres_with_charges(*, month: date) -> list[CostCentre]:
    """Cost centres with charges in ``month``, or closed the month before (so
    adjustments for it carry on), for closing them all at once."""
    month = month_of(month)
    end = next_month(month)
    delivered = ItemFact.objects.filter(
        delivered_on__gte=month, delivered_on__lt=end
    ).exclude(one_off_amount=0)
    held = ItemFact.objects.filter(_held_in(month))
    closed_before = BillClosing.objects.filter(month=previous_month(month))
    return list(
        CostCentre.objects.filter(
            Q(pk__in=delivered.values("cost_centre_id"))
            | Q(pk__in=held.values("cost_centre_id"))
            | Q(pk__in=closed_before.values("cost_centre_id"))
        ).order_by("code")
    )


# --- The page: what was asked for, and what to show --------------------------------


@dataclass(frozen=True)
class BillRow:
    line: BillLine
    items_query: str  # the query string of the items behind the line ("" if none)


@dataclass
class BillPage:
    """Everything the bill page and its downloads show. ``bill`` is None when
    the month typed can't be read (``month_error``) or there is no cost centre
    to show."""

    scope: Scope
    choices: list[CostCentre]
    cost_centre: CostCentre | None
    month: date
    typed_month: str
    month_error: str = ""
    month_note: str = ""
    bill: Bill | None = None
    items: ItemFilter | None = None
    item_page: Page | None = None
    item_line: BillLine | None = None

    @property
    def query(self) -> str:
        """The query string of this cost centre and month."""
        if self.cost_centre is None:
            return ""
        return urlencode({"cost_centre": self.cost_centre.pk, "month": self._month})

    @property
    def _month(self) -> str:
        return f"{self.month:%Y-%m}"

    def _rows(self, lines) -> list[BillRow]:
        rows = []
        for line in lines:
            query = ""
            if line.items_query:
                query = f"{self.query}&{urlencode(line.items_query)}"
            rows.append(BillRow(line, query))
        return rows

    @property
    def one_off_rows(self) -> list[BillRow]:
        return self._rows(self.bill.one_off) if self.bill else []

    @property
    def recurring_rows(self) -> list[BillRow]:
        return self._rows(self.bill.recurring) if self.bill else []

    @property
    def adjustment_rows(self) -> list[BillRow]:
        return self._rows(self.bill.adjustments) if self.bill else []


def bill_page(*, user, params, today: date | None = None) -> BillPage:
    """The bill page for ``params`` (``cost_centre``, ``month``, and optionally
    a line's ``kind``, ``service``, ``price`` and ``page`` for its items).

    No reporting permission: 403. A cost centre the viewer may not open, or
    that doesn't exist: 404. A month that can't be read: ``month_error`` and no
    bill; a month after the current one: the current one, with a note.
    """
    scope = reporting_scope(user=user)
    choices = bill_cost_centres(scope=scope)
    asked = (params.get("cost_centre") or "").strip()
    if asked:
        # One of the choices (no need to look it up again), or a 404.
        centre = next((c for c in choices if str(c.pk) == asked), None)
        if centre is None:
            centre = bill_cost_centre(scope=scope, cost_centre=asked)
    else:
        centre = bill_default_cost_centre(user=user, scope=scope, choices=choices)
    typed = (params.get("month") or "").strip()
    choice = bill_month(typed, today=today)
    page = BillPage(
        scope=scope,
        choices=choices,
        cost_centre=centre,
        month=choice.month,
        typed_month=typed,
        month_error=choice.error,
        month_note=choice.note,
    )
    if centre is None or choice.error:
        return page
    page.bill = bill_for(
        scope=scope, cost_centre=centre, month=choice.month, today=today
    )
    page.items = bill_item_filter(params)
    if page.items is not None:
        page.item_page = bill_item_page(
            bill=page.bill, items=page.items, page_number=params.get("page") or 1
        )
        page.item_line = next(
            (
                line
                for line in page.bill.lines
                if line.items_query
                and line.kind == page.items.kind
                and line.service_name == page.items.service
                and line.unit_price == page.items.price
            ),
            None,
        )
    return page
