"""The executive dashboard, and the items behind each of its figures.

Every figure starts from ``reporting_scope`` (which departments the viewer may
see) and ``ReportFilter`` (period, department, cost centre, category, service);
both are applied here, so no view can forget them.

Where the figures come from:

- Spend, volume, service levels, ratings and approvals of a period: its whole
  months' monthly sums and its other days' daily sums (``sums.PeriodRows``),
  added up in the database by day (folded into months here), by service and by
  cost centre: one aggregate query each, whatever the amount of data.
- Recurring spend: the recurring rollup (``RecurringRollup``). A month's recurring
  spend is the running total of ``level_change`` up to that month plus that
  month's ``part_months``; a period's is the sum over the months it touches,
  which is a weighted sum (a change in an early month counts in every later
  month of the period), so it too is one aggregate query.
- Time to deliver (median, 90th percentile), exact: the daily rollup counts the
  deliveries by band of time, which says where each percentile lies; then only
  those bands' item facts are read (``percentiles``).
- What is open and at risk now: the request items themselves (live).

The drill-down (``report_items``) lists the facts (or, for live figures, the
request items) behind one figure, with the same scope and filters. Its totals
equal the figure: for a figure the daily rollup keeps (delivered, requested,
approved, the targets, ratings) they are read from the same rollup rows; the
others (spend, recurring, open now) are added up again from the listed rows.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from urllib.parse import urlencode

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from catalog import permissions
from catalog.exceptions import NotAllowed
from catalog.filters import (
    BACKLOG_AGES,
    REPORT_METRICS,
    ReportFilter,
    ReportItemsFilter,
)
from catalog.models import (
    OPEN_STATES,
    QUEUE_STATES,
    ItemFact,
    RecurringRollup,
    RequestItem,
)
from catalog.models.reporting import TIME_BAND_FIELDS
from catalog.pagination import CappedPages
from catalog.selectors.reporting.percentiles import (
    ALL,
    band_counts,
    delivery_time_percentiles,
)
from catalog.selectors.reporting.period import (
    CUSTOM,
    MONTH,
    QUARTER,
    YEAR,
    Period,
    add_months,
    month_end,
    resolve_period,
)
from catalog.selectors.reporting.scope import Scope, reporting_scope
from catalog.selectors.reporting.sums import period_rows
from catalog.services.reporting import recurring_charges

ITEMS_PER_PAGE = 50
# The pages of a figure's items reach this many items. A year of a large
# company is hundreds of thousands, and a page far in makes the database step
# over every row before it; past this, a narrower filter (a month, a service)
# lists the rest. The count and totals above the list still cover them all.
LISTED_AT_MOST = 10_000
MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
# Green figures, unhappy customers: delivered on time at least this often...
FLAG_ATTAINMENT = Fraction(9, 10)
# ... but rated below this on average, by at least this many people.
FLAG_RATING = 3
FLAG_MIN_RATINGS = 5
TARGETS = ("response", "internal_response", "resolution", "internal_resolution")
DAILY_SUMS = [
    "submitted",
    "delivered",
    "units",
    "one_off_amount",
    *[f"{target}_{count}" for target in TARGETS for count in ("measured", "met")],
    "rated",
    "rating_sum",
    "approved",
    "approval_seconds_sum",
]


# --- Small arithmetic, shared by the dashboard and the drill-down ---------------------


def percent(part, whole) -> Decimal | None:
    """``part`` of ``whole`` in per cent, to one decimal (None of nothing)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def change_percent(current, previous) -> Decimal | None:
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(
        TENTH, ROUND_HALF_UP
    )


def per_unit(amount, units) -> Decimal | None:
    if not units:
        return None
    return (Decimal(amount) / Decimal(units)).quantize(CENT, ROUND_HALF_UP)


def hours(seconds, count=1) -> Decimal | None:
    """Seconds (summed over ``count`` items) as average hours, to one decimal."""
    if seconds is None or not count:
        return None
    return (Decimal(seconds) / Decimal(count) / 3600).quantize(TENTH, ROUND_HALF_UP)


def rating_average(rating_sum, rated) -> Decimal | None:
    if not rated:
        return None
    return (Decimal(rating_sum) / Decimal(rated)).quantize(TENTH, ROUND_HALF_UP)


def _held_q(months: list[date]) -> Q:
    """Facts of services held (and charged) in any of ``months``."""
    first, last = months[0], months[-1]
    return (
        Q(held_from__isnull=False, held_from__lte=month_end(last))
        & (Q(held_until__isnull=True) | Q(held_until__gt=first))
        & (Q(held_until__isnull=True) | Q(held_until__gt=F("held_from")))
    )


def recurring_in(months: list[date], monthly, held_from, held_until) -> Decimal:
    """What one holding is charged over ``months`` (consecutive), by the rule
    the rollups use (``recurring_charges``): each month, the running level plus
    its part month."""
    if not months or held_from is None:
        return ZERO
    charges = recurring_charges(monthly, held_from, held_until)
    level = sum(
        (change for start, (change, _) in charges.items() if start < months[0]), ZERO
    )
    total = ZERO
    for month in months:
        change, part = charges.get(month, (ZERO, ZERO))
        level += change
        total += level + part
    return total


# --- What the dashboard shows ---------------------------------------------------------


@dataclass
class Attainment:
    """How often a target was met: ``met`` of the ``measured`` delivered items."""

    measured: int = 0
    met: int = 0

    @property
    def missed(self) -> int:
        return self.measured - self.met

    @property
    def percent(self) -> Decimal | None:
        return percent(self.met, self.measured)


@dataclass
class Figures:
    """One service's figures for the period (or every service's, in the total
    row). ``links`` maps each figure to the list of items behind it."""

    name: str
    one_off: Decimal = ZERO
    recurring: Decimal = ZERO
    submitted: int = 0
    delivered: int = 0
    units: int = 0
    response: Attainment = field(default_factory=Attainment)
    internal_response: Attainment = field(default_factory=Attainment)
    resolution: Attainment = field(default_factory=Attainment)
    internal_resolution: Attainment = field(default_factory=Attainment)
    rated: int = 0
    rating_sum: int = 0
    approved: int = 0
    approval_seconds_sum: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    open_now: int = 0
    at_risk: int = 0
    links: dict = field(default_factory=dict)

    def add_daily(self, row: dict) -> None:
        self.one_off += _money(row["one_off_amount"])
        self.submitted += row["submitted"] or 0
        self.delivered += row["delivered"] or 0
        self.units += row["units"] or 0
        for target in TARGETS:
            attainment = getattr(self, target)
            attainment.measured += row[f"{target}_measured"] or 0
            attainment.met += row[f"{target}_met"] or 0
        self.rated += row["rated"] or 0
        self.rating_sum += row["rating_sum"] or 0
        self.approved += row["approved"] or 0
        self.approval_seconds_sum += row["approval_seconds_sum"] or 0

    @property
    def total(self) -> Decimal:
        return self.one_off + self.recurring

    @property
    def attainments(self) -> list[tuple[Attainment, str]]:
        """First response (SLA, OLA) then delivery (SLA, OLA), with links."""
        return [(getattr(self, t), self.links.get(t, "")) for t in TARGETS]

    @property
    def unit_cost(self) -> Decimal | None:
        return per_unit(self.one_off, self.units)

    @property
    def breached(self) -> int:
        """Delivered after the customer's resolution due time."""
        return self.resolution.missed

    @property
    def rating(self) -> Decimal | None:
        return rating_average(self.rating_sum, self.rated)

    @property
    def response_rate(self) -> Decimal | None:
        return percent(self.rated, self.delivered)

    @property
    def approval_hours(self) -> Decimal | None:
        return hours(self.approval_seconds_sum, self.approved)

    @property
    def median_hours(self) -> Decimal | None:
        return hours(self.median_seconds)

    @property
    def p90_hours(self) -> Decimal | None:
        return hours(self.p90_seconds)

    @property
    def flagged(self) -> bool:
        """On time, but people aren't happy: the customer resolution target met
        at least 90% of the time, yet rated below 3 on average by 5 or more."""
        measured, met = self.resolution.measured, self.resolution.met
        return (
            measured > 0
            and Fraction(met, measured) >= FLAG_ATTAINMENT
            and self.rated >= FLAG_MIN_RATINGS
            and self.rating_sum < FLAG_RATING * self.rated
        )


@dataclass
class MonthFigures:
    month: date
    start: date
    end: date
    one_off: Decimal = ZERO
    recurring: Decimal = ZERO
    submitted: int = 0
    delivered: int = 0
    links: dict = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.one_off + self.recurring

    @property
    def label(self) -> str:
        return f"{self.month:%b %Y}"


@dataclass
class CostCentreFigures:
    pk: int
    code: str
    name: str
    one_off: Decimal = ZERO
    recurring: Decimal = ZERO
    delivered: int = 0
    units: int = 0
    links: dict = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.one_off + self.recurring


@dataclass
class Comparison:
    """A total for the period against the same days a year earlier."""

    label: str
    kind: str  # "money" or "count"
    current: Decimal | int | None
    previous: Decimal | int | None
    link: str = ""
    previous_link: str = ""

    @property
    def change(self):
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def change_percent(self) -> Decimal | None:
        if self.current is None:
            return None
        return change_percent(self.current, self.previous)

    @property
    def change_size(self):
        """The change without its sign (``sign`` says which way)."""
        change = self.change
        return None if change is None else abs(change)

    @property
    def change_percent_size(self) -> Decimal | None:
        change = self.change_percent
        return None if change is None else abs(change)

    @property
    def sign(self) -> str:
        change = self.change
        if not change:
            return ""
        return "+" if change > 0 else "−"


@dataclass
class AgeBucket:
    key: str
    label: str
    count: int = 0
    link: str = ""


@dataclass
class Backlog:
    """What is open now, by how long it has been open (calendar days since it
    was requested)."""

    total: int = 0
    at_risk: int = 0
    ages: list[AgeBucket] = field(default_factory=list)
    link: str = ""
    at_risk_link: str = ""


@dataclass
class Dashboard:
    scope_label: str
    period: Period
    previous_period: Period
    totals: Figures
    services: list[Figures]
    months: list[MonthFigures]
    cost_centres: list[CostCentreFigures]
    previous: Figures
    backlog: Backlog
    now: datetime

    @property
    def comparisons(self) -> list[Comparison]:
        current, previous = self.totals, self.previous
        links, before = current.links, previous.links
        return [
            Comparison(
                "One-off spend",
                "money",
                current.one_off,
                previous.one_off,
                links["delivered"],
                before["delivered"],
            ),
            Comparison(
                "Recurring spend",
                "money",
                current.recurring,
                previous.recurring,
                links["recurring"],
                before["recurring"],
            ),
            Comparison(
                "Total spend",
                "money",
                current.total,
                previous.total,
                links["spend"],
                before["spend"],
            ),
            Comparison(
                "Items requested",
                "count",
                current.submitted,
                previous.submitted,
                links["submitted"],
                before["submitted"],
            ),
            Comparison(
                "Items delivered",
                "count",
                current.delivered,
                previous.delivered,
                links["delivered"],
                before["delivered"],
            ),
            Comparison(
                "Unit cost (one-off spend per unit delivered)",
                "money",
                current.unit_cost,
                previous.unit_cost,
                links["delivered"],
                before["delivered"],
            ),
        ]

    @property
    def total_comparison(self) -> Comparison:
        return self.comparisons[2]

    @property
    def flagged(self) -> list[Figures]:
        return [service for service in self.services if service.flagged]

    @property
    def services_delivering(self) -> list[Figures]:
        """Services with something delivered or approved in the period, or open
        now: the rows of the service-level table (the others show nothing)."""
        return [s for s in self.services if s.delivered or s.approved or s.open_now]

    @property
    def services_delivered(self) -> list[Figures]:
        return [s for s in self.services if s.delivered]

    def chart_data(self) -> dict:
        """The figures the charts draw, from the same rows as the tables."""
        measured = [s for s in self.services if s.resolution.measured]
        return {
            "months": [month.label for month in self.months],
            "oneOff": [str(month.one_off) for month in self.months],
            "recurring": [str(month.recurring) for month in self.months],
            "submitted": [month.submitted for month in self.months],
            "delivered": [month.delivered for month in self.months],
            "services": [service.name for service in measured],
            "resolutionSla": [
                _number(service.resolution.percent) for service in measured
            ],
            "resolutionOla": [
                _number(service.internal_resolution.percent) for service in measured
            ],
        }


def _number(value):
    return None if value is None else str(value)


# --- Links to the items behind a figure -----------------------------------------------


class Links:
    """URLs of the drill-down for each figure: the dashboard's own filters (as
    resolved, so a clamped year or swapped dates aren't repeated) plus which
    figure, and the row's service, cost centre or month."""

    def __init__(self, *, period: Period, filters: dict):
        self.base = {**_period_params(period), **filters}
        self.url = reverse("catalog:executive_items")

    def __call__(self, metric: str | None = None, **changes) -> str:
        params = {**self.base, **changes}
        if metric:
            params["metric"] = metric
        return f"{self.url}?{urlencode({k: v for k, v in params.items() if v})}"

    def with_period(self, period: Period) -> "Links":
        other = Links.__new__(Links)
        other.url = self.url
        other.base = {
            **{k: v for k, v in self.base.items() if k not in PERIOD_KEYS},
            **_period_params(period),
        }
        return other

    def row(self, **changes) -> dict:
        """Every figure of one row (a service, a month or a cost centre). The
        row's filters are encoded once; only the figure differs."""
        query = self(**changes)
        joiner = "&" if not query.endswith("?") else ""
        return {metric: f"{query}{joiner}metric={metric}" for metric in REPORT_METRICS}


PERIOD_KEYS = ("period", "year", "month", "quarter", "date_from", "date_to")


def _period_params(period: Period) -> dict:
    if period.kind == MONTH:
        return {"period": MONTH, "year": period.start.year, "month": period.start.month}
    if period.kind == QUARTER:
        quarter = (period.start.month - 1) // 3 + 1
        return {"period": QUARTER, "year": period.start.year, "quarter": quarter}
    if period.kind == YEAR:
        return {"period": YEAR, "year": period.start.year}
    return {
        "period": CUSTOM,
        "date_from": period.start.isoformat(),
        "date_to": period.end.isoformat(),
    }


def _month_period(month: MonthFigures) -> dict:
    return {
        "period": CUSTOM,
        "year": None,
        "month": None,
        "quarter": None,
        "date_from": month.start.isoformat(),
        "date_to": month.end.isoformat(),
    }


# --- Reading the filters --------------------------------------------------------------


@dataclass
class ReportRequest:
    """What a page asked for, checked: the scope, the filters (with any field
    errors) and the period they resolve to."""

    scope: Scope
    filters: ReportFilter
    period: Period | None
    whole_company_viewer: bool

    @property
    def valid(self) -> bool:
        return self.period is not None

    def filter_labels(self) -> list[str]:
        """The narrowing filters in words, for the page's heading."""
        if not self.valid:
            return []
        data = self.filters.form.cleaned_data
        labels = []
        if data.get("cost_centre"):
            centre = data["cost_centre"]
            labels.append(f"Cost centre {centre.code} {centre.name}")
        if data.get("category"):
            labels.append(f"Category: {data['category']}")
        if data.get("service"):
            labels.append(f"Service: {data['service']}")
        return labels

    def filter_params(self) -> dict:
        """The non-period filters, as the URL carries them."""
        data = self.filters.form.cleaned_data
        cost_centre = data.get("cost_centre")
        return {
            "department": data.get("department") or "",
            "cost_centre": cost_centre.pk if cost_centre else "",
            "category": data.get("category") or "",
            "service": data.get("service") or "",
        }


def report_request(
    *, user, params, filterset_class=ReportFilter, today: date | None = None
) -> ReportRequest:
    """Check who asks and what for. No reporting permission: 403. Another
    department, or a department or cost centre that doesn't exist: 404. Other
    bad input (junk in a field): field errors, and no period."""
    if not permissions.can_view_reports(user):
        raise NotAllowed("Only executives see IT costs and service levels.")
    whole_company_viewer = permissions.can_view_all_departments(user)
    department = str(params.get("department") or "").strip()
    if whole_company_viewer and not department.isdigit():
        # Junk is the form's to point out; the whole company is shown meanwhile.
        department = None
    scope = reporting_scope(user=user, department_id=department or None)
    today = today or timezone.localdate()
    # The form shows the period being shown: this year unless asked otherwise,
    # and this month or quarter for a month or quarter without one.
    data = {key: params.get(key) for key in params}
    defaults = {
        "period": YEAR,
        "year": today.year,
        "month": today.month,
        "quarter": (today.month - 1) // 3 + 1,
    }
    for key, value in defaults.items():
        if not data.get(key):
            data[key] = str(value)
    filters = filterset_class(
        data, scope=scope, whole_company_viewer=whole_company_viewer
    )
    if not filters.form.is_valid():
        return ReportRequest(scope, filters, None, whole_company_viewer)
    data = filters.form.cleaned_data
    period = resolve_period(
        today=today,
        kind=data.get("period") or None,
        year=data.get("year"),
        month=int(data["month"]) if data.get("month") else None,
        quarter=int(data["quarter"]) if data.get("quarter") else None,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    return ReportRequest(scope, filters, period, whole_company_viewer)


# --- The dashboard --------------------------------------------------------------------


def _scoped(queryset, scope: Scope, filters, department="department"):
    """``queryset`` limited to the scope, then narrowed by the filters (none:
    everything in the scope)."""
    queryset = queryset.filter(scope.q(department))
    return filters.filter_queryset(queryset) if filters is not None else queryset


def _daily_sums() -> dict:
    return {f"sum_{name}": Sum(name) for name in DAILY_SUMS}


def _unprefixed(row: dict) -> dict:
    return {key.removeprefix("sum_"): value for key, value in row.items()}


def _monthly_spend(changes: dict, months: list[date]) -> dict[date, Decimal]:
    """{month: recurring spend} from {month: (level change, part months)}."""
    if not months:
        return {}
    level = sum(
        (change for month, (change, _) in changes.items() if month < months[0]), ZERO
    )
    spend = {}
    for month in months:
        change, part = changes.get(month, (ZERO, ZERO))
        level += change
        spend[month] = level + part
    return spend


def _recurring_weight(months: list[date]) -> Case:
    """How many of ``months`` a change of level in a row's month counts in:
    a change before or in the first month counts in all of them, one in the
    last month only in that month."""
    count = len(months)
    whens = [When(month__lte=months[0], then=Value(count))]
    whens += [
        When(month=month, then=Value(count - index))
        for index, month in enumerate(months[1:], start=1)
    ]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _recurring_total(months: list[date]):
    """A period's recurring spend over a set of recurring rollup rows."""
    if not months:
        return Value(ZERO, output_field=MONEY)
    return Coalesce(
        Sum(
            F("level_change") * _recurring_weight(months)
            + Case(
                When(month__gte=months[0], then=F("part_months")),
                default=Value(ZERO),
                output_field=MONEY,
            ),
            output_field=MONEY,
            filter=Q(month__lte=months[-1]),
        ),
        Value(ZERO, output_field=MONEY),
    )


def dashboard_figures(
    *,
    scope: Scope,
    period: Period,
    filters: ReportFilter | None = None,
    links: Links | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """Every figure of the dashboard for ``scope`` and ``period``, narrowed by
    ``filters`` (a validated ``ReportFilter``; none for everything in the
    scope): ten aggregate queries (eleven on PostgreSQL), whatever the amount
    of data. ``links`` makes each figure's link to its items.

    For example, the whole company's figures for 2025::

        scope = reporting_scope(user=coo)
        period = resolve_period(today=date.today(), kind="year", year=2025)
        dashboard_figures(scope=scope, period=period)
    """
    now = now or timezone.now()
    if links is None:
        links = Links(period=period, filters={})
    previous_period = period.previous_year()

    def scoped(queryset):
        return _scoped(queryset, scope, filters)

    recurring = scoped(RecurringRollup.objects.all())
    facts = _scoped(ItemFact.objects.all(), scope, filters)
    live = _scoped(RequestItem.objects.all(), scope, filters, "request__department")

    services: dict[str, Figures] = {}

    def service(name: str) -> Figures:
        if name not in services:
            services[name] = Figures(name=name)
        return services[name]

    months = {
        month: MonthFigures(month, *period.month_part(month)) for month in period.months
    }
    cost_centres: dict[int, CostCentreFigures] = {}

    def cost_centre(row: dict) -> CostCentreFigures:
        pk = row["cost_centre_id"]
        if pk not in cost_centres:
            cost_centres[pk] = CostCentreFigures(
                pk, row["cost_centre__code"], row["cost_centre__name"]
            )
        return cost_centres[pk]

    previous = Figures(name="Same days a year earlier")
    if not period.empty:
        in_period = period_rows(period, scoped, today=timezone.localdate(now))
        # 1. By month: spend and volume. Grouped by day (the partial months'
        # days, and the whole months' first days) and added into months here:
        # SQLite has no native month truncation, and this is as fast on
        # PostgreSQL.
        for row in in_period.sums(
            day=True,
            one_off=Sum("one_off_amount"),
            requested=Sum("submitted"),
            done=Sum("delivered"),
        ):
            month = months[_as_date(row["day"]).replace(day=1)]
            month.one_off += _money(row["one_off"])
            month.submitted += row["requested"] or 0
            month.delivered += row["done"] or 0
        # 2. By service: everything the rollup counts, with the deliveries
        # counted by band of time, for the percentiles (8).
        counts = {ALL: [0] * len(TIME_BAND_FIELDS)}
        for row in in_period.sums(
            ("service_name",),
            **_daily_sums(),
            **{name: Sum(name) for name in TIME_BAND_FIELDS},
        ):
            service(row["service_name"]).add_daily(_unprefixed(row))
            bands = counts[row["service_name"]] = band_counts(row)
            counts[ALL] = [a + b for a, b in zip(counts[ALL], bands, strict=True)]
        # 3. By cost centre.
        for row in in_period.sums(
            ("cost_centre_id", "cost_centre__code", "cost_centre__name"),
            one_off=Sum("one_off_amount"),
            done=Sum("delivered"),
            count=Sum("units"),
        ):
            centre = cost_centre(row)
            centre.one_off = _money(row["one_off"])
            centre.delivered = row["done"] or 0
            centre.units = row["count"] or 0
        # 4. The same days a year earlier (the totals only).
        before = period_rows(previous_period, scoped).total(
            one_off=Sum("one_off_amount"),
            requested=Sum("submitted"),
            done=Sum("delivered"),
            count=Sum("units"),
        )
        previous.one_off = _money(before["one_off"])
        previous.submitted = before["requested"] or 0
        previous.delivered = before["done"] or 0
        previous.units = before["count"] or 0
        # 5. Recurring spend by month, and a year earlier: the recurring rollup
        # added up by month (one row a month, since the first), then each
        # month's running level plus its part months.
        changes = {
            _as_date(row["month"]): (_money(row["level"]), _money(row["part"]))
            for row in recurring.filter(month__lte=period.months[-1])
            .order_by()
            .values("month")
            .annotate(level=Sum("level_change"), part=Sum("part_months"))
        }
        for month, spend in _monthly_spend(changes, period.months).items():
            months[month].recurring = spend
        previous.recurring = sum(
            _monthly_spend(changes, previous_period.months).values(), ZERO
        )
        # 6. Recurring spend by service, and 7. by cost centre.
        held = recurring.filter(month__lte=period.months[-1]).order_by()
        for row in held.values("service_name").annotate(
            spend=_recurring_total(period.months)
        ):
            if row["spend"]:
                service(row["service_name"]).recurring = _money(row["spend"])
        for row in held.values(
            "cost_centre_id", "cost_centre__code", "cost_centre__name"
        ).annotate(spend=_recurring_total(period.months)):
            if row["spend"]:
                cost_centre(row).recurring = _money(row["spend"])
        # 8. Time to deliver, by service and for all.
        delivered = facts.filter(
            delivered_on__gte=period.start, delivered_on__lte=period.end
        )
        times = delivery_time_percentiles(delivered, counts)
        for name, (median, p90) in times.items():
            if name is not ALL:
                service(name).median_seconds = median
                service(name).p90_seconds = p90
    else:
        times = {}
    # 9. Open now, by service, by age, and at risk (live).
    backlog = Backlog(
        ages=[AgeBucket(key, label) for key, (label, _, _) in BACKLOG_AGES.items()]
    )
    ages = {}
    for key, (_, newer_than, older_than) in BACKLOG_AGES.items():
        condition = Q(created_at__lte=now - timedelta(days=newer_than))
        if older_than is not None:
            condition &= Q(created_at__gt=now - timedelta(days=older_than))
        ages[f"age_{key}"] = Count("pk", filter=condition)
    for row in (
        live.filter(status__in=OPEN_STATES)
        .order_by()
        .values("service_name")
        .annotate(
            open_now=Count("pk"),
            at_risk=Count("pk", filter=_at_risk_q()),
            **ages,
        )
    ):
        figures = service(row["service_name"])
        figures.open_now = row["open_now"]
        figures.at_risk = row["at_risk"]
        for bucket in backlog.ages:
            bucket.count += row[f"age_{bucket.key}"]

    totals = Figures(name="All services")
    for figures in services.values():
        totals.one_off += figures.one_off
        totals.recurring += figures.recurring
        for name in ("submitted", "delivered", "units", "rated", "rating_sum"):
            setattr(totals, name, getattr(totals, name) + getattr(figures, name))
        totals.approved += figures.approved
        totals.approval_seconds_sum += figures.approval_seconds_sum
        totals.open_now += figures.open_now
        totals.at_risk += figures.at_risk
        for target in TARGETS:
            mine, all_ = getattr(figures, target), getattr(totals, target)
            all_.measured += mine.measured
            all_.met += mine.met
    totals.median_seconds, totals.p90_seconds = times.get(ALL, (None, None))
    backlog.total, backlog.at_risk = totals.open_now, totals.at_risk

    # Links: each figure to the items behind it.
    totals.links = links.row()
    previous.links = links.with_period(previous_period).row()
    for figures in services.values():
        figures.links = links.row(service=figures.name)
    for month in months.values():
        month.links = links.row(**_month_period(month))
    for centre in cost_centres.values():
        centre.links = links.row(cost_centre=centre.pk)
    backlog.link = links("backlog")
    backlog.at_risk_link = links("at_risk")
    for bucket in backlog.ages:
        bucket.link = links("backlog", age=bucket.key)

    return Dashboard(
        scope_label=scope.label,
        period=period,
        previous_period=previous_period,
        totals=totals,
        services=sorted(services.values(), key=lambda s: (-s.total, s.name)),
        months=list(months.values()),
        cost_centres=sorted(cost_centres.values(), key=lambda c: (-c.total, c.code)),
        previous=previous,
        backlog=backlog,
        now=now,
    )


def _at_risk_q() -> Q:
    """Past its customer at-risk moment, not (yet) breached, and in the queue."""
    return Q(
        status__in=QUEUE_STATES,
        at_risk_at__isnull=False,
        resolution_breached_at__isnull=True,
    )


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _money(value) -> Decimal:
    if value is None:
        return ZERO
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


class _AskedFor:
    """What both pages say about the request: its filters, period and notes,
    and the filters as a query string for links."""

    @property
    def filters(self):
        return self.request.filters

    @property
    def period(self):
        return self.request.period

    @property
    def notes(self) -> tuple[str, ...]:
        return self.request.period.notes if self.request.period else ()

    def _query(self) -> str:
        if not self.request.valid:
            return ""
        params = {**_period_params(self.period), **self.request.filter_params()}
        return urlencode({k: v for k, v in params.items() if v})


@dataclass
class DashboardPage(_AskedFor):
    request: ReportRequest
    dashboard: Dashboard | None
    today: date

    def query_string(self) -> str:
        """The dashboard's filters as resolved, for the export links."""
        return self._query()

    def quick_periods(self) -> list[tuple[str, str, bool]]:
        """(label, URL, is it the one shown) for the usual periods, keeping the
        other filters."""
        if not self.request.valid:
            return []
        today = self.today
        this_quarter = (today.month - 1) // 3 + 1
        last_month = add_months(today.replace(day=1), -1)
        last_quarter = add_months(date(today.year, 3 * this_quarter - 2, 1), -3)
        choices = [
            ("This month", {"period": MONTH, "year": today.year, "month": today.month}),
            (
                "Last month",
                {"period": MONTH, "year": last_month.year, "month": last_month.month},
            ),
            (
                "This quarter",
                {"period": QUARTER, "year": today.year, "quarter": this_quarter},
            ),
            (
                "Last quarter",
                {
                    "period": QUARTER,
                    "year": last_quarter.year,
                    "quarter": (last_quarter.month - 1) // 3 + 1,
                },
            ),
            ("This year", {"period": YEAR, "year": today.year}),
            ("Last year", {"period": YEAR, "year": today.year - 1}),
        ]
        shown = _period_params(self.period)
        url = reverse("catalog:executive")
        result = []
        for label, params in choices:
            query = {**params, **self.request.filter_params()}
            query = urlencode({k: v for k, v in query.items() if v})
            result.append((label, f"{url}?{query}", params == shown))
        return result


def dashboard_page(*, user, params, now: datetime | None = None) -> DashboardPage:
    """The dashboard as ``user`` may see it, for what ``params`` ask."""
    now = now or timezone.now()
    asked = report_request(user=user, params=params, today=timezone.localdate(now))
    today = timezone.localdate(now)
    if not asked.valid:
        return DashboardPage(asked, None, today)
    links = Links(period=asked.period, filters=asked.filter_params())
    figures = dashboard_figures(
        scope=asked.scope,
        filters=asked.filters,
        period=asked.period,
        links=links,
        now=now,
    )
    return DashboardPage(asked, figures, today)


# --- The items behind a figure --------------------------------------------------------


@dataclass
class ItemRow:
    number: str
    service: str
    for_whom: str
    department: str
    cost_centre: str
    submitted: date | None
    delivered: date | None
    one_off: Decimal | None
    status: str
    target: str  # "met", "missed", "at risk", "breached", "on track" or ""
    detail: str = ""  # the figure's own value for this item, if any


@dataclass
class Summary:
    """The listed items added up: what the figure said. ``lines`` are
    (label, value, kind) with kind "money", "count", "percent", "hours",
    "rating" or "text"."""

    count: int
    lines: list[tuple[str, object, str]] = field(default_factory=list)


@dataclass
class ItemsPage(_AskedFor):
    request: ReportRequest
    metric: str = ""
    metric_label: str = ""
    detail_label: str = ""
    target_label: str = "Delivered on time (SLA)"
    age_label: str = ""
    summary: Summary | None = None
    page_obj: object = None
    rows: list[ItemRow] = field(default_factory=list)
    live: bool = False

    def dashboard_query(self) -> str:
        return self._query()


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _target_word(measured: int, met: int) -> str:
    if not measured:
        return ""
    return "met" if met else "missed"


def report_items(*, user, params, now: datetime | None = None) -> ItemsPage:
    """The items behind one dashboard figure, 50 to a page, with their total."""
    now = now or timezone.now()
    asked = report_request(
        user=user,
        params=params,
        filterset_class=ReportItemsFilter,
        today=timezone.localdate(now),
    )
    page = ItemsPage(asked)
    if not asked.valid:
        return page
    data = asked.filters.form.cleaned_data
    metric = data.get("metric") or "delivered"
    page.metric, page.metric_label = metric, REPORT_METRICS[metric]
    if metric in ("backlog", "at_risk"):
        return _live_items(page, metric, data.get("age") or "", now, params)
    return _fact_items(page, metric, params, today=timezone.localdate(now))


def _fact_items(page: ItemsPage, metric: str, params, *, today: date) -> ItemsPage:
    asked, period = page.request, page.request.period
    facts = _scoped(ItemFact.objects.all(), asked.scope, asked.filters)
    if period.empty:
        facts = facts.none()
    delivered = facts.filter(
        delivered_on__gte=period.start, delivered_on__lte=period.end
    )
    months = period.months
    order = ["-delivered_on", "-item_id"]
    if metric == "delivered":
        chosen = delivered
    elif metric == "submitted":
        chosen = facts.filter(
            submitted_on__gte=period.start, submitted_on__lte=period.end
        )
        order = ["-submitted_on", "-item_id"]
    elif metric == "approved":
        chosen = facts.filter(
            approved_on__gte=period.start, approved_on__lte=period.end
        )
        order = ["-approved_on", "-item_id"]
    elif metric in TARGETS:
        chosen = delivered.filter(**{f"{metric}_measured": 1})
        page.target_label = REPORT_METRICS[metric]
    elif metric == "breached":
        chosen = delivered.filter(resolution_measured=1, resolution_met=0)
    elif metric == "delivery_time":
        chosen = delivered.filter(resolution_seconds__isnull=False)
    elif metric == "rated":
        chosen = delivered.filter(rating__isnull=False)
    elif metric == "recurring":
        chosen = facts.filter(_held_q(months)) if months else facts.none()
        order = ["-held_from", "-item_id"]
    else:  # spend: delivered in the period, or held during it
        in_period = Q(delivered_on__gte=period.start, delivered_on__lte=period.end)
        chosen = facts.filter(in_period | _held_q(months)) if months else facts.none()
        order = ["-item_id"]

    sums = {
        "count": Count("pk"),
        "units_sum": Sum("units"),
        "one_off_sum": Sum("one_off_amount"),
        "approval_sum": Sum("approval_seconds"),
        "rating_total": Sum("rating"),
    }
    for target in TARGETS:
        sums[f"{target}_met_sum"] = Sum(f"{target}_met")
    if metric == "spend":
        sums["one_off_sum"] = Sum(
            "one_off_amount",
            filter=Q(delivered_on__gte=period.start, delivered_on__lte=period.end),
        )
    if metric in ROLLUP_SUMS:
        totals = _rollup_totals(asked, metric, today=today)
    else:
        totals = chosen.order_by().aggregate(**sums)
    count = totals["count"]
    summary = Summary(count=count)
    lines = summary.lines
    one_off_sum = _money(totals["one_off_sum"])
    if metric == "delivered":
        lines += [
            ("Items delivered", count, "count"),
            ("Units delivered", totals["units_sum"] or 0, "count"),
            ("One-off spend", one_off_sum, "money"),
            (
                "Unit cost (one-off spend per unit delivered)",
                per_unit(one_off_sum, totals["units_sum"]),
                "money",
            ),
        ]
    elif metric == "submitted":
        lines.append(("Items requested", count, "count"))
    elif metric == "approved":
        lines += [
            ("Items approved", count, "count"),
            (
                "Approval lead time (average)",
                hours(totals["approval_sum"], count),
                "hours",
            ),
        ]
        page.detail_label = "Waited for approval"
    elif metric in TARGETS:
        met = totals[f"{metric}_met_sum"] or 0
        lines += [
            ("Items measured", count, "count"),
            ("Target met", met, "count"),
            ("Target missed", count - met, "count"),
            ("Attainment", percent(met, count), "percent"),
        ]
    elif metric == "breached":
        lines.append(("Delivered after the customer's due time", count, "count"))
    elif metric == "delivery_time":
        times = delivery_time_percentiles(chosen, {ALL: totals["bands"]}).get(
            ALL, (None, None)
        )
        lines += [
            ("Items delivered with a measured time", count, "count"),
            ("Median time to deliver", hours(times[0]), "hours"),
            ("90th percentile", hours(times[1]), "hours"),
        ]
        page.detail_label = "Time to deliver"
    elif metric == "rated":
        delivered_count = totals["delivered"]
        lines += [
            ("Items rated", count, "count"),
            (
                "Average rating (of 5)",
                rating_average(totals["rating_total"] or 0, count),
                "rating",
            ),
            ("Items delivered", delivered_count, "count"),
            ("Response rate", percent(count, delivered_count), "percent"),
        ]
        page.detail_label = "Rating"
    if metric in ("recurring", "spend"):
        # Each holding's charge depends only on its price and dates: add them
        # up by those (many items share them), one item's charge × how many.
        recurring_total = ZERO
        for monthly, held_from, held_until, number in (
            chosen.filter(held_from__isnull=False)
            .order_by()
            .values_list("monthly_amount", "held_from", "held_until")
            .annotate(number=Count("pk"))
        ):
            amount = recurring_in(months, monthly, held_from, held_until)
            recurring_total += amount * number
        page.detail_label = "Recurring in the period"
        if metric == "recurring":
            lines += [
                ("Services held", count, "count"),
                ("Recurring spend", recurring_total, "money"),
            ]
        else:
            lines += [
                ("Items", count, "count"),
                ("One-off spend", one_off_sum, "money"),
                ("Recurring spend", recurring_total, "money"),
                ("Total spend", one_off_sum + recurring_total, "money"),
            ]
    page.summary = summary

    paginator = CappedPages(
        chosen.select_related(
            "item__request__requested_for", "department", "cost_centre"
        ).order_by(*order),
        ITEMS_PER_PAGE,
        cap=LISTED_AT_MOST,
    )
    paginator.count = count  # already counted with the totals
    page.page_obj = paginator.get_page(params.get("page"))
    for fact in page.page_obj.object_list:
        item = fact.item
        detail = ""
        if metric == "approved":
            detail = hours(fact.approval_seconds)
        elif metric == "delivery_time":
            detail = hours(fact.resolution_seconds)
        elif metric == "rated":
            detail = fact.rating
        elif metric in ("recurring", "spend"):
            detail = recurring_in(
                months, fact.monthly_amount, fact.held_from, fact.held_until
            )
        target = metric if metric in TARGETS else "resolution"
        one_off = fact.one_off_amount
        if metric == "spend" and not (
            fact.delivered_on and period.start <= fact.delivered_on <= period.end
        ):
            one_off = ZERO  # delivered outside the period: only its charges count
        page.rows.append(
            ItemRow(
                number=item.number,
                service=fact.service_name,
                for_whom=_person(item.request.requested_for),
                department=fact.department.name if fact.department else "",
                cost_centre=fact.cost_centre.code,
                submitted=fact.submitted_on,
                delivered=fact.delivered_on,
                one_off=one_off,
                status=item.get_status_display(),
                target=_target_word(
                    getattr(fact, f"{target}_measured"), getattr(fact, f"{target}_met")
                ),
                detail=detail,
            )
        )
    return page


# Figures the daily rollup keeps, and the sums their lists' totals need (the
# first counts the items): read from the rollup rows the dashboard added up,
# a small aggregate instead of adding up every listed item again.
ROLLUP_SUMS = {
    "delivered": ("delivered", "units", "one_off_amount"),
    "submitted": ("submitted",),
    "approved": ("approved", "approval_seconds_sum"),
    "delivery_time": ("resolution_seconds_count", *TIME_BAND_FIELDS),
    "rated": ("rated", "rating_sum", "delivered"),
    # Measured against the customer's due time, but missed.
    "breached": ("resolution_measured", "resolution_met"),
    **{target: (f"{target}_measured", f"{target}_met") for target in TARGETS},
}


def _rollup_totals(asked: ReportRequest, metric: str, *, today: date) -> dict:
    """The totals of ``_fact_items`` for a figure the rollups keep; this month,
    in a period that runs to ``today``, from its monthly rows."""
    names = ROLLUP_SUMS[metric]
    rows = period_rows(
        asked.period,
        lambda rollup: _scoped(rollup, asked.scope, asked.filters),
        today=today,
    )
    row = rows.total(**{name: Sum(name) for name in names})
    row = {name: row[name] or 0 for name in names}
    count = row[names[0]]
    if metric == "breached":
        count -= row["resolution_met"]
    return {
        "count": count,
        "units_sum": row.get("units", 0),
        "one_off_sum": row.get("one_off_amount", 0),
        "approval_sum": row.get("approval_seconds_sum", 0),
        "rating_total": row.get("rating_sum", 0),
        "delivered": row.get("delivered", 0),
        "bands": band_counts(row) if metric == "delivery_time" else [],
        **{f"{target}_met_sum": row.get(f"{target}_met", 0) for target in TARGETS},
    }


def _live_items(page: ItemsPage, metric: str, age: str, now, params) -> ItemsPage:
    asked = page.request
    page.live = True
    page.target_label = "Customer target (SLA)"
    items = _scoped(
        RequestItem.objects.all(), asked.scope, asked.filters, "request__department"
    ).filter(status__in=OPEN_STATES)
    if metric == "at_risk":
        items = items.filter(_at_risk_q())
    elif age:
        label, newer_than, older_than = BACKLOG_AGES[age]
        page.age_label = label
        items = items.filter(created_at__lte=now - timedelta(days=newer_than))
        if older_than is not None:
            items = items.filter(created_at__gt=now - timedelta(days=older_than))
    count = items.order_by().count()
    label = "Items at risk now" if metric == "at_risk" else "Items open now"
    page.summary = Summary(count=count, lines=[(label, count, "count")])
    paginator = CappedPages(
        items.select_related(
            "request__requested_for", "request__department", "request__cost_centre"
        ).order_by("created_at", "pk"),
        ITEMS_PER_PAGE,
        cap=LISTED_AT_MOST,
    )
    paginator.count = count
    page.page_obj = paginator.get_page(params.get("page"))
    for item in page.page_obj.object_list:
        service_request = item.request
        if item.resolution_breached_at is not None:
            target = "breached"
        elif item.at_risk_at is not None:
            target = "at risk"
        elif item.resolution_target_hours is not None:
            target = "on track"
        else:
            target = ""
        page.rows.append(
            ItemRow(
                number=item.number,
                service=item.service_name,
                for_whom=_person(service_request.requested_for),
                department=service_request.department.name
                if service_request.department
                else "",
                cost_centre=service_request.cost_centre.code,
                submitted=timezone.localdate(item.created_at),
                delivered=None,
                one_off=item.one_off_total,
                status=item.get_status_display(),
                target=target,
            )
        )
    return page


# --- Exports --------------------------------------------------------------------------


def dashboard_sheets(dashboard: Dashboard):
    """The dashboard's tables, figure for figure, for the CSV and XLSX exports."""
    from catalog.exports import Sheet

    period = dashboard.period
    about = Sheet(
        "About",
        ["", ""],
        [
            ["Whose figures", dashboard.scope_label],
            ["Period", period.label],
            ["From", period.start],
            ["To", period.end],
            ["Compared with", dashboard.previous_period.label],
            ["Open items counted at", timezone.localtime(dashboard.now)],
            *[["Note", note] for note in period.notes],
            [
                "Unit cost",
                "One-off spend divided by the number of units delivered.",
            ],
            ["SLA", "What we promise the customer (customer target)."],
            ["OLA", "Our stricter internal target."],
        ],
    )
    comparisons = Sheet(
        "Against last year",
        ["Figure", "This period", "A year earlier", "Change", "Change (%)"],
        [
            [c.label, c.current, c.previous, c.change, c.change_percent]
            for c in dashboard.comparisons
        ],
        formats=[None, "auto", "auto", "auto", "percent"],
    )
    months = Sheet(
        "By month",
        ["Month", "One-off", "Recurring", "Total", "Requested", "Delivered"],
        [
            [m.month, m.one_off, m.recurring, m.total, m.submitted, m.delivered]
            for m in dashboard.months
        ],
        formats=["month", "money", "money", "money", "count", "count"],
    )
    totals = dashboard.totals
    rows = [*dashboard.services, totals]
    spend = Sheet(
        "Spend by service",
        [
            "Service",
            "One-off",
            "Recurring",
            "Total",
            "Delivered",
            "Units",
            "Unit cost",
        ],
        [
            [s.name, s.one_off, s.recurring, s.total, s.delivered, s.units, s.unit_cost]
            for s in rows
        ],
        formats=[None, "money", "money", "money", "count", "count", "money"],
    )
    centres = Sheet(
        "Spend by cost centre",
        ["Cost centre", "Name", "One-off", "Recurring", "Total", "Delivered"],
        [
            [c.code, c.name, c.one_off, c.recurring, c.total, c.delivered]
            for c in dashboard.cost_centres
        ],
        formats=[None, None, "money", "money", "money", "count"],
    )
    header = ["Service"]
    formats = [None]
    for words in (
        "First response SLA",
        "First response OLA",
        "Delivery SLA",
        "Delivery OLA",
    ):
        header += [f"{words} met (%)", f"{words} measured", f"{words} met"]
        formats += ["percent", "count", "count"]
    header += [
        "Delivered late (SLA breaches)",
        "At risk now",
        "Median time to deliver (business hours)",
        "90th percentile (business hours)",
        "Approval lead time (hours)",
    ]
    formats += ["count", "count", "hours", "hours", "hours"]
    levels_rows = []
    for s in rows:
        row = [s.name]
        for target in TARGETS:
            a = getattr(s, target)
            row += [a.percent, a.measured, a.met]
        row += [s.breached, s.at_risk, s.median_hours, s.p90_hours, s.approval_hours]
        levels_rows.append(row)
    levels = Sheet("Service levels", header, levels_rows, formats=formats)
    demand = Sheet(
        "Demand",
        ["Service", "Requested", "Open now", "At risk now"],
        [[s.name, s.submitted, s.open_now, s.at_risk] for s in rows],
        formats=[None, "count", "count", "count"],
    )
    backlog = Sheet(
        "Open by age",
        ["Open for", "Items"],
        [
            *[[b.label, b.count] for b in dashboard.backlog.ages],
            ["All open items", dashboard.backlog.total],
        ],
        formats=[None, "count"],
    )
    satisfaction = Sheet(
        "Satisfaction",
        [
            "Service",
            "Average rating (of 5)",
            "Rated",
            "Delivered",
            "Response rate (%)",
            "Delivery SLA met (%)",
            "On time, but people aren't happy",
        ],
        [
            [
                s.name,
                s.rating,
                s.rated,
                s.delivered,
                s.response_rate,
                s.resolution.percent,
                "yes" if s.flagged else "",
            ]
            for s in rows
        ],
        formats=[None, "rating", "count", "count", "percent", "percent", None],
    )
    return [
        about,
        comparisons,
        months,
        spend,
        centres,
        levels,
        demand,
        backlog,
        satisfaction,
    ]


def export_filename(dashboard: Dashboard, extension: str) -> str:
    from django.utils.text import slugify

    period = dashboard.period
    return (
        f"it-costs-{slugify(dashboard.scope_label)}-"
        f"{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.{extension}"
    )
