"""The executive dashboard's figures, checked against a small world built by hand.

Two departments (Sales, Finance), two services (Laptop at 1,000 one-off, Storage
at 50 one-off and 20 a month) and the removal of a held Storage, across January
and February 2026 and the same months of 2025. Every expected value below was
worked out on paper from the table of items in ``world``; the working is in the
comments next to each figure.

"Now" is Tuesday 10 March 2026, 10:00 in London (GMT).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission

from catalog.exceptions import NotAllowed, NotFoundForUser
from catalog.models import ItemStatus, RequestItem, ServiceRequest
from catalog.selectors.reporting.dashboard import (
    Attainment,
    Figures,
    dashboard_page,
    report_items,
)
from catalog.selectors.reporting.period import resolve_period
from catalog.services.reporting import reporting_rebuild
from tests.factories import CostCentreFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
D = Decimal
PERIOD = {"period": "custom", "date_from": "2026-01-01", "date_to": "2026-02-28"}
TARGETS = ("response", "internal_response", "resolution", "internal_resolution")
LAPTOP = ("Laptop", "Hardware", D("1000"), D("0"))
STORAGE = ("Storage", "Cloud", D("50"), D("20"))
REMOVAL = ("Remove: Storage", "Cloud", D("0"), D("0"))


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=LONDON)


@dataclass
class World:
    sales: object
    finance: object
    cc_sales: object
    cc_marketing: object
    cc_finance: object
    employee: object
    sales_head: object
    coo: object
    items: dict


def make_item(
    *,
    department,
    cost_centre,
    person,
    service,
    created,
    quantity=1,
    status=ItemStatus.CLOSED,
    delivered=None,
    started="created",
    breached=(),
    rating=None,
    seconds=None,
    targets=True,
    at_risk=None,
    removes=None,
):
    name, category, one_off, monthly = service
    request = ServiceRequest.objects.create(
        requested_by=person,
        requested_for=person,
        cost_centre=cost_centre,
        department=department,
        business_reason="Needed for work.",
        currency="EUR",
        submitted_at=created,
    )
    hours = {
        "response_target_hours": D("4"),
        "internal_response_target_hours": D("2"),
        "resolution_target_hours": D("16"),
        "internal_resolution_target_hours": D("12"),
    }
    breach_at = (delivered or NOW) - timedelta(hours=1)
    return RequestItem.objects.create(
        request=request,
        line_number=1,
        service_name=name,
        category_name=category,
        quantity=quantity,
        one_off_price=one_off,
        monthly_price=monthly,
        currency="EUR",
        status=status,
        created_at=created,
        status_changed_at=delivered or created,
        fulfilled_at=delivered,
        clock_started_at=created if started == "created" else started,
        rating=rating,
        resolution_seconds=seconds,
        at_risk_at=at_risk,
        removes_item=removes,
        **(hours if targets else {}),
        **{f"{target}_breached_at": breach_at for target in breached},
    )


def build_world() -> World:
    """The items, one line each (department, cost centre, service, quantity,
    requested, approved, delivered, targets missed, rating, time to deliver):

    S1 Sales  CC-SAL Laptop  ×1 5 Jan            8 Jan   none                5  10 h
    S2 Sales  CC-SAL Laptop  ×2 10 Jan  11 Jan   2 Feb   all but response    2  20 h
    S3 Sales  CC-SAL Storage ×1 20 Jan           20 Jan  none                4   1 h
    S4 Sales  CC-MKT Storage ×1 3 Feb            14 Feb  internal resolution -   2 h
    S5 Sales  CC-SAL Laptop  open (being worked on) since 1 Mar, at risk
    S6 Sales  CC-SAL Laptop  open (waiting for approval) since 9 Mar 12:00
    S7 Sales  CC-SAL Storage open since 20 Feb, at risk and then breached
    S8 Sales  CC-SAL Laptop  open (being worked on) since 7 Mar 10:00 (3 days)
    F1 Fin.   CC-FIN Laptop  ×1 12 Jan  12 Jan 15:00  15 Jan  none           3   5 h
    F2 Fin.   CC-FIN Storage ×3 1 Feb            2 Feb   none                1 1.5 h
    F3 Fin.   CC-FIN Laptop  open (on hold) since 2 Jan
    R  Fin.   CC-FIN Remove: Storage (of P2) 12 Feb, delivered 15 Feb, no targets
    P1 Sales  CC-SAL Laptop  ×1 6 Jan 2025, delivered 9 Jan 2025
    P2 Fin.   CC-FIN Storage ×1 10 Feb 2025, delivered 11 Feb 2025, held until R
    """
    cc_sales = CostCentreFactory(code="CC-SAL", name="Sales")
    cc_marketing = CostCentreFactory(code="CC-MKT", name="Marketing campaigns")
    cc_finance = CostCentreFactory(code="CC-FIN", name="Finance")
    sales = DepartmentFactory(name="Sales", cost_centre=cc_sales)
    finance = DepartmentFactory(name="Finance", cost_centre=cc_finance)
    office = DepartmentFactory(name="Executive Office")

    def person(username, department, *codenames, first="Pat", last="Person"):
        user = UserFactory(
            username=username,
            first_name=first,
            last_name=last,
            profile={"department": department},
        )
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user

    sam = person("sam", sales, first="Sam", last="Seller")
    fiona = person("fiona", finance, first="Fiona", last="Figures")
    employee = person("employee", sales)
    sales_head = person("saleshead", sales, "view_reports")
    coo = person("coo", office, "view_reports", "view_all_departments")

    def sales_item(**kwargs):
        kwargs.setdefault("cost_centre", cc_sales)
        return make_item(department=sales, person=sam, **kwargs)

    def finance_item(**kwargs):
        return make_item(
            department=finance, cost_centre=cc_finance, person=fiona, **kwargs
        )

    items = {}
    items["S1"] = sales_item(
        service=LAPTOP,
        created=at("2026-01-05"),
        delivered=at("2026-01-08", 16),
        rating=5,
        seconds=36000,
    )
    items["S2"] = sales_item(
        service=LAPTOP,
        quantity=2,
        created=at("2026-01-10"),
        started=at("2026-01-11"),
        delivered=at("2026-02-02", 16),
        breached=("internal_response", "resolution", "internal_resolution"),
        rating=2,
        seconds=72000,
    )
    items["S3"] = sales_item(
        service=STORAGE,
        created=at("2026-01-20"),
        delivered=at("2026-01-20", 16),
        rating=4,
        seconds=3600,
    )
    items["S4"] = sales_item(
        service=STORAGE,
        cost_centre=cc_marketing,
        created=at("2026-02-03"),
        delivered=at("2026-02-14", 16),
        breached=("internal_resolution",),
        seconds=7200,
    )
    items["S5"] = sales_item(
        service=LAPTOP,
        status=ItemStatus.IN_PROGRESS,
        created=at("2026-03-01", 10),
        at_risk=at("2026-03-03", 10),
    )
    items["S6"] = sales_item(
        service=LAPTOP,
        status=ItemStatus.AWAITING_APPROVAL,
        created=at("2026-03-09", 12),
        started=None,
    )
    items["S7"] = sales_item(
        service=STORAGE,
        status=ItemStatus.SUBMITTED,
        created=at("2026-02-20", 10),
        at_risk=at("2026-02-23", 10),
        breached=("resolution",),
    )
    items["S8"] = sales_item(
        service=LAPTOP, status=ItemStatus.IN_PROGRESS, created=at("2026-03-07", 10)
    )
    items["F1"] = finance_item(
        service=LAPTOP,
        created=at("2026-01-12"),
        started=at("2026-01-12", 15),
        delivered=at("2026-01-15", 16),
        rating=3,
        seconds=18000,
    )
    items["F2"] = finance_item(
        service=STORAGE,
        quantity=3,
        created=at("2026-02-01"),
        delivered=at("2026-02-02", 16),
        rating=1,
        seconds=5400,
    )
    items["F3"] = finance_item(
        service=LAPTOP, status=ItemStatus.ON_HOLD, created=at("2026-01-02")
    )
    items["P1"] = sales_item(
        service=LAPTOP,
        created=at("2025-01-06"),
        delivered=at("2025-01-09", 16),
        targets=False,
    )
    items["P2"] = finance_item(
        service=STORAGE,
        created=at("2025-02-10"),
        delivered=at("2025-02-11", 16),
        targets=False,
    )
    items["R"] = finance_item(
        service=REMOVAL,
        created=at("2026-02-12"),
        delivered=at("2026-02-15", 16),
        targets=False,
        removes=items["P2"],
    )
    reporting_rebuild()
    return World(
        sales=sales,
        finance=finance,
        cc_sales=cc_sales,
        cc_marketing=cc_marketing,
        cc_finance=cc_finance,
        employee=employee,
        sales_head=sales_head,
        coo=coo,
        items=items,
    )


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def figures(user, **params):
    page = dashboard_page(user=user, params={**PERIOD, **params})
    assert page.dashboard is not None, page.filters.form.errors
    return page.dashboard


def by_name(rows):
    return {row.name: row for row in rows}


def summary_of(user, **params) -> dict:
    listing = report_items(user=user, params={**PERIOD, **params})
    assert listing.summary is not None, listing.filters.form.errors
    return {label: value for label, value, _ in listing.summary.lines}


# --- Spend ----------------------------------------------------------------------------


def test_spend_by_month(world, now):
    months = figures(world.coo).months
    # One-off: January S1 1,000 + S3 50 + F1 1,000; February S2 2 × 1,000 +
    # S4 50 + F2 3 × 50 + R 0.
    # Recurring: January S3 20 × 12/31 = 7.74 (from the 20th) + P2 20 (held all
    # month); February S3 20 + S4 20 × 15/28 = 10.71 (from the 14th) + F2 60 ×
    # 27/28 = 57.86 (from the 2nd) + P2 20 × 14/28 = 10.00 (removed on the 15th).
    assert [
        (m.month, m.one_off, m.recurring, m.total, m.submitted, m.delivered)
        for m in months
    ] == [
        (date(2026, 1, 1), D("2050.00"), D("27.74"), D("2077.74"), 5, 3),
        (date(2026, 2, 1), D("2200.00"), D("98.57"), D("2298.57"), 4, 4),
    ]


def test_spend_by_service_and_unit_cost(world, now):
    dashboard = figures(world.coo)
    services = by_name(dashboard.services)
    # Laptop: S1 1,000 + S2 2,000 + F1 1,000 over 4 units. Storage: S3 50 + S4 50
    # + F2 150 over 5 units; recurring 27.74 (S3) + 10.71 (S4) + 57.86 (F2) +
    # 30.00 (P2: 20 in January, 10 in February).
    assert [
        (s.name, s.one_off, s.recurring, s.total, s.delivered, s.units, s.unit_cost)
        for s in dashboard.services
    ] == [
        ("Laptop", D("4000.00"), D("0.00"), D("4000.00"), 3, 4, D("1000.00")),
        ("Storage", D("250.00"), D("126.31"), D("376.31"), 3, 5, D("50.00")),
        ("Remove: Storage", D("0.00"), D("0.00"), D("0.00"), 1, 1, D("0.00")),
    ]
    assert services["Storage"].recurring == D("126.31")
    totals = dashboard.totals
    # 4,250 one-off over 10 units delivered.
    assert (totals.one_off, totals.recurring, totals.total) == (
        D("4250.00"),
        D("126.31"),
        D("4376.31"),
    )
    assert (totals.units, totals.unit_cost) == (10, D("425.00"))


def test_spend_by_cost_centre(world, now):
    centres = figures(world.coo).cost_centres
    assert [
        (c.code, c.one_off, c.recurring, c.total, c.delivered) for c in centres
    ] == [
        # S1 1,000 + S2 2,000 + S3 50; S3's 27.74.
        ("CC-SAL", D("3050.00"), D("27.74"), D("3077.74"), 3),
        # F1 1,000 + F2 150 + R 0; F2 57.86 + P2 30.00.
        ("CC-FIN", D("1150.00"), D("87.86"), D("1237.86"), 3),
        # S4 50 and 10.71.
        ("CC-MKT", D("50.00"), D("10.71"), D("60.71"), 1),
    ]


def test_a_period_of_a_whole_month_and_some_days(world, now):
    # 1 January to 10 February: January's sums come from its monthly row, the
    # first ten days of February from their daily rows, and a service found in
    # both is added up. Delivered in it: S1 (8 Jan), S3 (20 Jan), F1 (15 Jan);
    # S2 (2 Feb) and F2 (2 Feb). Not S4 (14 Feb) nor R (15 Feb).
    dashboard = figures(world.coo, date_from="2026-01-01", date_to="2026-02-10")
    assert [
        (m.month, m.one_off, m.submitted, m.delivered) for m in dashboard.months
    ] == [
        # S1 1,000 + S3 50 + F1 1,000; requested S1, S2, S3, F1, F3.
        (date(2026, 1, 1), D("2050.00"), 5, 3),
        # S2 2 × 1,000 + F2 3 × 50; requested F2 and S4.
        (date(2026, 2, 1), D("2150.00"), 2, 2),
    ]
    services = by_name(dashboard.services)
    laptop, storage = services["Laptop"], services["Storage"]
    # Laptop: S1, F1 (January) and S2 ×2 (February). Requested S1, S2, F1, F3.
    assert (laptop.one_off, laptop.units, laptop.delivered, laptop.submitted) == (
        D("4000.00"),
        4,
        3,
        4,
    )
    # S1 10 h, F1 5 h, S2 20 h: median 10 h; 90th at 1.8: 10 + 0.8 × 10 = 18 h.
    assert (laptop.median_hours, laptop.p90_hours) == (D("10.0"), D("18.0"))
    # Storage: S3 (1 h) and F2 ×3 (1.5 h): 200 one-off over 4 units. Median
    # 1.25 h and 90th 1 + 0.9 × 0.5 = 1.45 h, each rounded half up.
    assert (storage.one_off, storage.units, storage.delivered) == (D("200.00"), 4, 2)
    assert (storage.median_hours, storage.p90_hours) == (D("1.3"), D("1.5"))
    # All five: 1, 1.5, 5, 10, 20 h. Median 5 h; 90th at 3.6: 10 + 0.6 × 10.
    totals = dashboard.totals
    assert (totals.delivered, totals.submitted) == (5, 7)
    assert (totals.median_hours, totals.p90_hours) == (D("5.0"), D("16.0"))
    centres = {c.code: (c.one_off, c.delivered) for c in dashboard.cost_centres}
    assert centres["CC-SAL"] == (D("3050.00"), 3)  # S1, S3, S2
    assert centres["CC-FIN"] == (D("1150.00"), 2)  # F1, F2
    # A year earlier, 1 January to 10 February 2025: P1 requested and delivered
    # (1,000), P2 requested on 10 February and delivered on the 11th.
    rows = {c.label: (c.current, c.previous) for c in dashboard.comparisons}
    assert rows["One-off spend"] == (D("4200.00"), D("1000.00"))
    assert rows["Items requested"] == (7, 2)
    assert rows["Items delivered"] == (5, 1)
    # The items behind the time to deliver: the same five, the same figures.
    assert summary_of(
        world.coo,
        metric="delivery_time",
        date_from="2026-01-01",
        date_to="2026-02-10",
    ) == {
        "Items delivered with a measured time": 5,
        "Median time to deliver": D("5.0"),
        "90th percentile": D("16.0"),
    }


def test_against_the_same_days_a_year_earlier(world, now):
    dashboard = figures(world.coo)
    assert dashboard.previous_period.start == date(2025, 1, 1)
    assert dashboard.previous_period.end == date(2025, 2, 28)
    rows = {
        c.label: (c.current, c.previous, c.sign, c.change_size, c.change_percent)
        for c in dashboard.comparisons
    }
    # A year earlier: P1 1,000 and P2 50 one-off; P2 20 × 18/28 = 12.86 recurring.
    assert rows == {
        # 3,200 / 1,050 = 304.76%.
        "One-off spend": (D("4250.00"), D("1050.00"), "+", D("3200.00"), D("304.8")),
        # 113.45 / 12.86 = 882.19%.
        "Recurring spend": (D("126.31"), D("12.86"), "+", D("113.45"), D("882.2")),
        # 3,313.45 / 1,062.86 = 311.75%.
        "Total spend": (D("4376.31"), D("1062.86"), "+", D("3313.45"), D("311.7")),
        "Items requested": (9, 2, "+", 7, D("350.0")),
        "Items delivered": (7, 2, "+", 5, D("250.0")),
        # 425 against 1,050 / 2 = 525: down 100, 19.05%.
        "Unit cost (one-off spend per unit delivered)": (
            D("425.00"),
            D("525.00"),
            "−",
            D("100.00"),
            D("-19.0"),
        ),
    }


# --- Service levels -------------------------------------------------------------------


def test_attainment_on_both_targets_and_breaches(world, now):
    dashboard = figures(world.coo)
    services = by_name(dashboard.services)

    def levels(figures):
        return [
            (a.met, a.measured, a.percent)
            for a in (getattr(figures, target) for target in TARGETS)
        ] + [figures.breached]

    # Laptop: S1, S2, F1 measured; S2 missed all but the first response.
    assert levels(services["Laptop"]) == [
        (3, 3, D("100.0")),
        (2, 3, D("66.7")),
        (2, 3, D("66.7")),
        (2, 3, D("66.7")),
        1,
    ]
    # Storage: S3, S4, F2; S4 missed the internal resolution target only.
    assert levels(services["Storage"]) == [
        (3, 3, D("100.0")),
        (3, 3, D("100.0")),
        (3, 3, D("100.0")),
        (2, 3, D("66.7")),
        0,
    ]
    # The removal had no targets: nothing measured, no percentage.
    assert levels(services["Remove: Storage"]) == [(0, 0, None)] * 4 + [0]
    assert levels(dashboard.totals) == [
        (6, 6, D("100.0")),
        (5, 6, D("83.3")),
        (5, 6, D("83.3")),
        (4, 6, D("66.7")),
        1,
    ]


def test_time_to_deliver_median_and_90th_percentile(world, now):
    dashboard = figures(world.coo)
    services = by_name(dashboard.services)
    # Laptop (odd count): 5 h, 10 h, 20 h. Median 10 h; 90th: position 2 × 0.9 =
    # 1.8, so 10 + 0.8 × (20 − 10) = 18 h.
    assert (services["Laptop"].median_hours, services["Laptop"].p90_hours) == (
        D("10.0"),
        D("18.0"),
    )
    # Storage: 1 h, 1.5 h, 2 h. Median 1.5 h; 90th 1.5 + 0.8 × 0.5 = 1.9 h.
    assert (services["Storage"].median_hours, services["Storage"].p90_hours) == (
        D("1.5"),
        D("1.9"),
    )
    # All six (even count): 1, 1.5, 2, 5, 10, 20 h. Median at position 2.5:
    # 2 + 0.5 × 3 = 3.5 h; 90th at 4.5: 10 + 0.5 × 10 = 15 h.
    assert (dashboard.totals.median_hours, dashboard.totals.p90_hours) == (
        D("3.5"),
        D("15.0"),
    )
    # The removal has no time to deliver.
    assert services["Remove: Storage"].median_hours is None


def test_approval_lead_time(world, now):
    dashboard = figures(world.coo)
    # S2 waited 24 h (10 Jan 09:00 to 11 Jan 09:00), F1 6 h: 15 h on average.
    assert by_name(dashboard.services)["Laptop"].approval_hours == D("15.0")
    assert by_name(dashboard.services)["Storage"].approval_hours is None
    assert dashboard.totals.approval_hours == D("15.0")


# --- Demand ---------------------------------------------------------------------------


def test_request_volume(world, now):
    dashboard = figures(world.coo)
    # Requested in January: S1 S2 S3 F1 F3; in February: S4 S7 F2 R.
    assert dashboard.totals.submitted == 9
    assert [m.submitted for m in dashboard.months] == [5, 4]
    services = by_name(dashboard.services)
    assert (services["Laptop"].submitted, services["Storage"].submitted) == (4, 4)


def test_open_backlog_by_age_and_at_risk(world, now):
    backlog = figures(world.coo).backlog
    # Open at 10 March 10:00: S6 (22 hours), S8 (exactly 3 days: counts as 3 to
    # 7), S5 (9 days), S7 (18 days), F3 (67 days). At risk: S5 only (S7 is late).
    assert [(b.key, b.count) for b in backlog.ages] == [
        ("0-1", 1),
        ("1-3", 0),
        ("3-7", 1),
        ("7-30", 2),
        ("30+", 1),
    ]
    assert (backlog.total, backlog.at_risk) == (5, 1)


def test_the_backlog_moves_with_the_clock(world):
    # A day later S6 is 1 day 22 hours old, S8 4 days.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        backlog = figures(world.coo).backlog
    assert [b.count for b in backlog.ages] == [0, 1, 1, 2, 1]


# --- Satisfaction ---------------------------------------------------------------------


def test_ratings_and_response_rate(world, now):
    dashboard = figures(world.coo)
    services = by_name(dashboard.services)
    # Laptop: 5, 2, 3 from 3 delivered. Storage: 4, 1 from 3 delivered.
    assert (services["Laptop"].rating, services["Laptop"].rated) == (D("3.3"), 3)
    assert services["Laptop"].response_rate == D("100.0")
    assert (services["Storage"].rating, services["Storage"].rated) == (D("2.5"), 2)
    assert services["Storage"].response_rate == D("66.7")
    assert services["Remove: Storage"].rating is None
    assert services["Remove: Storage"].response_rate == D("0.0")
    # 15 / 5 = 3.0; 5 of 7 delivered items rated.
    assert (dashboard.totals.rating, dashboard.totals.response_rate) == (
        D("3.0"),
        D("71.4"),
    )
    assert dashboard.flagged == []


def flag_case(met, measured, ratings):
    figures = Figures(name="Phone")
    figures.resolution = Attainment(measured=measured, met=met)
    figures.rated, figures.rating_sum = len(ratings), sum(ratings)
    return figures.flagged


@pytest.mark.parametrize(
    ("met", "measured", "ratings", "flagged"),
    [
        (5, 5, [2, 2, 3, 3, 4], True),  # 100% on time, 2.8 from 5
        (9, 10, [1, 1, 1, 1, 1], True),  # exactly 90%
        (8, 9, [1, 1, 1, 1, 1], False),  # 88.9%
        (5, 5, [2, 2, 3, 4], False),  # only 4 ratings
        (5, 5, [3, 3, 3, 3, 3], False),  # exactly 3.0 is not below 3
        (0, 0, [1, 1, 1, 1, 1], False),  # nothing measured
    ],
)
def test_the_on_time_but_unhappy_flag(met, measured, ratings, flagged):
    assert flag_case(met, measured, ratings) is flagged


def test_a_service_on_time_but_rated_poorly_is_flagged(world, now):
    # Five more phones for Finance in January, all on time, rated 1, 2, 2, 3, 3.
    phone = ("Mobile phone", "Phones", D("300"), D("0"))
    for rating in (1, 2, 2, 3, 3):
        make_item(
            department=world.finance,
            cost_centre=world.cc_finance,
            person=world.coo,
            service=phone,
            created=at("2026-01-19"),
            delivered=at("2026-01-21", 12),
            rating=rating,
            seconds=7200,
        )
    reporting_rebuild()
    dashboard = figures(world.coo)
    assert [s.name for s in dashboard.flagged] == ["Mobile phone"]
    phones = by_name(dashboard.services)["Mobile phone"]
    assert (phones.resolution.percent, phones.rating, phones.rated) == (
        D("100.0"),
        D("2.2"),
        5,
    )


# --- Scope ----------------------------------------------------------------------------


def test_a_department_executive_sees_only_their_department(world, now):
    dashboard = figures(world.sales_head)
    assert dashboard.scope_label == "Sales"
    totals = dashboard.totals
    # S1 S2 S3 S4: 3,100 one-off over 5 units; recurring S3 27.74 + S4 10.71.
    assert (totals.one_off, totals.recurring, totals.delivered, totals.units) == (
        D("3100.00"),
        D("38.45"),
        4,
        5,
    )
    assert totals.unit_cost == D("620.00")
    assert totals.submitted == 5  # S1 S2 S3 S4 S7
    assert [c.code for c in dashboard.cost_centres] == ["CC-SAL", "CC-MKT"]
    assert (dashboard.previous.one_off, dashboard.previous.recurring) == (
        D("1000.00"),
        D("0.00"),
    )
    assert (dashboard.backlog.total, dashboard.backlog.at_risk) == (4, 1)
    laptop = by_name(dashboard.services)["Laptop"]
    # S1 and S2 only: 10 h and 20 h; median 15 h, 90th 10 + 0.9 × 10 = 19 h.
    assert (laptop.resolution.met, laptop.resolution.measured) == (1, 2)
    assert (laptop.median_hours, laptop.p90_hours) == (D("15.0"), D("19.0"))


@pytest.mark.parametrize(
    ("viewer", "params", "expected"),
    [
        ("employee", {}, NotAllowed),
        ("sales head", {}, "Sales"),
        ("sales head", {"department": "sales"}, "Sales"),
        ("sales head", {"department": "finance"}, NotFoundForUser),
        ("sales head", {"cost_centre": "finance"}, NotFoundForUser),
        ("sales head", {"cost_centre": "marketing"}, "Sales"),
        ("coo", {}, "Whole company"),
        ("coo", {"department": "finance"}, "Finance"),
        ("coo", {"cost_centre": "finance"}, "Whole company"),
    ],
)
def test_who_sees_which_figures(world, now, viewer, params, expected):
    user = {
        "employee": world.employee,
        "sales head": world.sales_head,
        "coo": world.coo,
    }[viewer]
    ids = {
        "sales": world.sales.pk,
        "finance": world.finance.pk,
        "marketing": world.cc_marketing.pk,
    }
    if params.get("cost_centre") == "finance":
        params = {"cost_centre": world.cc_finance.pk}
    else:
        params = {key: ids[value] for key, value in params.items()}
    if isinstance(expected, type):
        with pytest.raises(expected):
            dashboard_page(user=user, params={**PERIOD, **params})
        with pytest.raises(expected):
            report_items(user=user, params={**PERIOD, **params})
        return
    assert figures(user, **params).scope_label == expected


def test_a_cost_centre_narrows_every_figure(world, now):
    dashboard = figures(world.sales_head, cost_centre=world.cc_marketing.pk)
    # S4 only.
    assert (dashboard.totals.one_off, dashboard.totals.recurring) == (
        D("50.00"),
        D("10.71"),
    )
    assert dashboard.totals.delivered == 1
    assert dashboard.backlog.total == 0


def test_a_service_narrows_every_figure(world, now):
    dashboard = figures(world.coo, service="Storage")
    assert [s.name for s in dashboard.services] == ["Storage"]
    assert dashboard.totals.total == D("376.31")
    # Open Storage: S7 only.
    assert dashboard.backlog.total == 1


# --- The items behind each figure -----------------------------------------------------


def test_the_items_behind_each_figure_add_up_to_it(world, now):
    coo = world.coo
    assert summary_of(coo, metric="delivered") == {
        "Items delivered": 7,
        "Units delivered": 10,
        "One-off spend": D("4250.00"),
        "Unit cost (one-off spend per unit delivered)": D("425.00"),
    }
    assert summary_of(coo, metric="submitted") == {"Items requested": 9}
    assert summary_of(coo, metric="breached") == {
        "Delivered after the customer's due time": 1
    }
    assert summary_of(coo, metric="resolution") == {
        "Items measured": 6,
        "Target met": 5,
        "Target missed": 1,
        "Attainment": D("83.3"),
    }
    assert summary_of(coo, metric="internal_resolution")["Attainment"] == D("66.7")
    assert summary_of(coo, metric="recurring") == {
        # S3, S4, F2 and P2.
        "Services held": 4,
        "Recurring spend": D("126.31"),
    }
    assert summary_of(coo, metric="spend") == {
        "Items": 8,  # the 7 delivered, and P2 held
        "One-off spend": D("4250.00"),
        "Recurring spend": D("126.31"),
        "Total spend": D("4376.31"),
    }
    assert summary_of(coo, metric="delivery_time") == {
        "Items delivered with a measured time": 6,
        "Median time to deliver": D("3.5"),
        "90th percentile": D("15.0"),
    }
    assert summary_of(coo, metric="approved") == {
        "Items approved": 2,
        "Approval lead time (average)": D("15.0"),
    }
    assert summary_of(coo, metric="rated") == {
        "Items rated": 5,
        "Average rating (of 5)": D("3.0"),
        "Items delivered": 7,
        "Response rate": D("71.4"),
    }
    assert summary_of(coo, metric="backlog") == {"Items open now": 5}
    assert summary_of(coo, metric="backlog", age="7-30") == {"Items open now": 2}
    assert summary_of(coo, metric="at_risk") == {"Items at risk now": 1}


def test_rows_of_the_dashboard_link_to_items_that_add_up_to_them(world, now):
    from urllib.parse import parse_qsl, urlsplit

    dashboard = figures(world.coo)

    def follow(url):
        params = dict(parse_qsl(urlsplit(url).query))
        listing = report_items(user=world.coo, params=params)
        return listing

    february = dashboard.months[1]
    listing = follow(february.links["delivered"])
    assert listing.summary.count == february.delivered == 4
    lines = {label: value for label, value, _ in listing.summary.lines}
    assert lines["One-off spend"] == february.one_off == D("2200.00")
    listing = follow(february.links["recurring"])
    assert listing.summary.lines[-1][1] == february.recurring == D("98.57")

    laptop = by_name(dashboard.services)["Laptop"]
    listing = follow(laptop.links["breached"])
    assert listing.summary.count == laptop.breached == 1
    assert [row.number for row in listing.rows] == [world.items["S2"].number]
    listing = follow(laptop.links["backlog"])
    assert listing.summary.count == laptop.open_now == 4

    marketing = next(c for c in dashboard.cost_centres if c.code == "CC-MKT")
    listing = follow(marketing.links["spend"])
    lines = {label: value for label, value, _ in listing.summary.lines}
    assert lines["Total spend"] == marketing.total == D("60.71")

    previous = follow(dashboard.previous.links["delivered"])
    assert previous.summary.count == dashboard.previous.delivered == 2

    for bucket in dashboard.backlog.ages:
        assert follow(bucket.link).summary.count == bucket.count


def test_a_department_executive_never_lists_another_departments_items(world, now):
    for metric in ("delivered", "submitted", "spend", "backlog", "rated"):
        listing = report_items(
            user=world.sales_head, params={**PERIOD, "metric": metric}
        )
        assert listing.rows, metric
        assert {row.department for row in listing.rows} == {"Sales"}, metric


def test_the_items_list_shows_what_each_item_is(world, now):
    listing = report_items(
        user=world.coo, params={**PERIOD, "metric": "delivered", "service": "Laptop"}
    )
    rows = {row.number: row for row in listing.rows}
    s2 = rows[world.items["S2"].number]
    assert (
        s2.service,
        s2.for_whom,
        s2.department,
        s2.cost_centre,
        s2.submitted,
        s2.delivered,
        s2.one_off,
        s2.status,
        s2.target,
    ) == (
        "Laptop",
        "Sam Seller",
        "Sales",
        "CC-SAL",
        date(2026, 1, 10),
        date(2026, 2, 2),
        D("2000.00"),
        "Closed",
        "missed",
    )
    assert rows[world.items["F1"].number].target == "met"
    # Newest delivery first.
    assert list(rows) == [world.items[k].number for k in ("S2", "F1", "S1")]


# --- The period -----------------------------------------------------------------------

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("asked", "start", "end", "note"),
    [
        ({}, date(2026, 1, 1), TODAY, ""),
        (
            {"kind": "month", "year": 2026, "month": 2},
            date(2026, 2, 1),
            date(2026, 2, 28),
            "",
        ),
        (
            {"kind": "quarter", "year": 2025, "quarter": 4},
            date(2025, 10, 1),
            date(2025, 12, 31),
            "",
        ),
        ({"kind": "year", "year": 2025}, date(2025, 1, 1), date(2025, 12, 31), ""),
        (
            {"kind": "year", "year": 1},
            date(2000, 1, 1),
            date(2000, 12, 31),
            "start in 2000",
        ),
        ({"kind": "year", "year": 9999}, date(2027, 1, 1), TODAY, "go up to 2027"),
        (
            {
                "kind": "custom",
                "date_from": date(2026, 2, 10),
                "date_to": date(2026, 1, 5),
            },
            date(2026, 1, 5),
            date(2026, 2, 10),
            "swapped",
        ),
        (
            {"kind": "custom", "date_from": date(2025, 11, 3)},
            date(2025, 11, 3),
            TODAY,
            "runs to today",
        ),
        (
            {"kind": "custom", "date_to": date(2025, 6, 30)},
            date(2025, 1, 1),
            date(2025, 6, 30),
            "starts on 1 January 2025",
        ),
        (
            {
                "kind": "custom",
                "date_from": date(1, 1, 1),
                "date_to": date(9999, 12, 31),
            },
            # Five years to today: from 1 April 2021.
            date(2021, 4, 1),
            TODAY,
            "at most 5 years",
        ),
    ],
)
def test_the_period_asked_for(asked, start, end, note):
    period = resolve_period(today=TODAY, **asked)
    if end == TODAY and period.start > TODAY:
        assert period.empty
    else:
        assert (period.start, period.end) == (start, end)
    assert note in " ".join(period.notes)


def test_a_period_that_has_not_started_has_no_figures(world, now):
    dashboard = figures(world.coo, period="year", year="2027", date_from="", date_to="")
    assert dashboard.period.empty
    assert dashboard.months == []
    assert dashboard.totals.total == D("0")
    assert "hasn't started yet" in dashboard.period.notes[-1]
    # What is open now is still what is open now.
    assert dashboard.backlog.total == 5


def test_the_same_days_a_year_earlier_of_a_period_to_date(world, now):
    dashboard = figures(world.coo, period="quarter", year="2026", quarter="1")
    assert (dashboard.period.start, dashboard.period.end) == (
        date(2026, 1, 1),
        TODAY,
    )
    assert (dashboard.previous_period.start, dashboard.previous_period.end) == (
        date(2025, 1, 1),
        date(2025, 3, 10),
    )
    # March 2026 has the recurring charges of what is held (S3, S4, F2: 20 + 20
    # + 60) though nothing was delivered yet.
    assert [m.recurring for m in dashboard.months][-1] == D("100.00")
