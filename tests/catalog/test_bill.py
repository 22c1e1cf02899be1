"""The monthly IT bill: every line and total of October 2026 for cost centre
CC-2100 worked out by hand, scoping, the month people type, the items behind a
line, and the bill's charges equal to the rollups the dashboard reads.

October 2026 has 31 days, so a monthly service held for part of it is charged
monthly price × days held ÷ 31, rounded to the cent per item. The fixture
(``build_october``, also used by the closing and page tests):

CC-2100 (Sales' cost centre), requests of Sales people unless said otherwise:
- New laptop 1,200.00, delivered 5 Oct (1 item) and 20 Oct (2 items): 3,600.00
- Docking station 150.00, delivered 12 Oct; and one for a Finance person
  charged to CC-2100, delivered 14 Oct: 300.00 (150.00 for Sales alone)
- Docking station 175.00, delivered 30 Oct: 175.00
- Mobile phone 300.00 one-off and 20.00 a month, delivered 25 Oct:
  300.00 one-off, and 7 days (25-31 Oct): 20 × 7 / 31 = 4.516 → 4.52
- Extra storage 12.50 a month, delivered 3 Sep (1) and 20 Aug (2 items):
  the whole month, 3 × 12.50 = 37.50
- Extra storage 12.50 a month, delivered 10 Oct: 22 days, 12.5 × 22 / 31 =
  8.870 → 8.87
- Software licence 30.00 a month, delivered 1 Sep, removal delivered 15 Oct:
  14 days (1-14 Oct), 30 × 14 / 31 = 13.548 → 13.55
- Software licence 30.00 a month, delivered 6 Oct, removal delivered 27 Oct:
  21 days, 30 × 21 / 31 = 20.322 → 20.32
Not on the bill: a laptop for Finance charged to CC-1100 (delivered 8 Oct), a
laptop delivered 30 Sep, one delivered 2 Nov, one still being worked on, and
extra storage delivered on 1 November.

One-off 4,375.00 + monthly 84.76 = 4,459.76 (Sales alone: 4,309.76).
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Sum

from catalog.exceptions import NotAllowed, NotFoundForUser
from catalog.models import (
    DailyRollup,
    ItemStatus,
    RecurringRollup,
    RequestItem,
    ServiceRequest,
)
from catalog.selectors.reporting.bill import (
    bill_cost_centre,
    bill_cost_centres,
    bill_for,
    bill_item_filter,
    bill_item_page,
    bill_items,
    bill_month,
    bill_statement,
)
from catalog.selectors.reporting.scope import reporting_scope
from catalog.services.reporting import reporting_rebuild
from tests.factories import CostCentreFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = Decimal
OCTOBER = date(2026, 10, 1)
TODAY = date(2026, 11, 3)


def at(year, month, day, hour=10):
    return datetime(year, month, day, hour, tzinfo=LONDON)


def make_item(
    person,
    cost_centre,
    service,
    *,
    one_off="0",
    monthly="0",
    quantity=1,
    delivered=None,
    removes=None,
    status=None,
    department=None,
):
    """One request with one item, delivered at ``delivered`` (a datetime) or
    still being worked on; facts and rollups come from ``reporting_rebuild``."""
    created = (delivered or at(2026, 10, 1)) - timedelta(days=2)
    request = ServiceRequest.objects.create(
        requested_by=person,
        requested_for=person,
        cost_centre=cost_centre,
        department=department or person.profile.department,
        business_reason="Needed for work.",
        currency="EUR",
        submitted_at=created,
    )
    if status is None:
        status = ItemStatus.FULFILLED if delivered else ItemStatus.IN_PROGRESS
    return RequestItem.objects.create(
        request=request,
        line_number=1,
        service_name=service,
        category_name="Hardware",
        quantity=quantity,
        one_off_price=D(one_off),
        monthly_price=D(monthly),
        currency="EUR",
        status=status,
        created_at=created,
        status_changed_at=delivered or created,
        fulfilled_at=delivered,
        removes_item=removes,
    )


def remove(held, delivered):
    return make_item(
        held.request.requested_for,
        held.request.cost_centre,
        f"Remove: {held.service_name}",
        quantity=held.quantity,
        delivered=delivered,
        removes=held,
    )


def person(username, first, last, department, *codenames):
    user = UserFactory(
        username=username,
        first_name=first,
        last_name=last,
        profile={"department": department},
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def build_october():
    """The fixture described in the module docstring; returns the people,
    cost centres and a few items by name."""
    cc_sales = CostCentreFactory(code="CC-2100", name="Sales")
    cc_finance = CostCentreFactory(code="CC-1100", name="Finance and accounting")
    cc_office = CostCentreFactory(code="CC-0100", name="Executive office")
    sales = DepartmentFactory(name="Sales", cost_centre=cc_sales)
    finance = DepartmentFactory(name="Finance", cost_centre=cc_finance)
    office = DepartmentFactory(name="Executive Office", cost_centre=cc_office)
    sam = person("sam", "Sam", "Seller", sales)
    fiona = person("fiona", "Fiona", "Figures", finance)
    people = {
        "sam": sam,
        "fiona": fiona,
        "employee": person("emp", "Emma", "Evans", sales),
        "sales head": person("head", "Marcus", "Meyer", sales, "view_reports"),
        "finance head": person("fhead", "Frank", "Fuller", finance, "view_reports"),
        "coo": person(
            "coo", "Elena", "Ortiz", office, "view_reports", "view_all_departments"
        ),
    }
    items = {
        "laptop 5 Oct": make_item(
            sam, cc_sales, "New laptop", one_off="1200", delivered=at(2026, 10, 5)
        ),
        "laptops 20 Oct": make_item(
            sam,
            cc_sales,
            "New laptop",
            one_off="1200",
            quantity=2,
            delivered=at(2026, 10, 20),
        ),
        "dock": make_item(
            sam, cc_sales, "Docking station", one_off="150", delivered=at(2026, 10, 12)
        ),
        "finance dock on CC-2100": make_item(
            fiona,
            cc_sales,
            "Docking station",
            one_off="150",
            delivered=at(2026, 10, 14),
        ),
        "dock 175": make_item(
            sam, cc_sales, "Docking station", one_off="175", delivered=at(2026, 10, 30)
        ),
        "phone": make_item(
            sam,
            cc_sales,
            "Mobile phone",
            one_off="300",
            monthly="20",
            delivered=at(2026, 10, 25),
        ),
        "storage 3 Sep": make_item(
            sam, cc_sales, "Extra storage", monthly="12.50", delivered=at(2026, 9, 3)
        ),
        "storage x2 20 Aug": make_item(
            sam,
            cc_sales,
            "Extra storage",
            monthly="12.50",
            quantity=2,
            delivered=at(2026, 8, 20),
        ),
        "storage 10 Oct": make_item(
            sam, cc_sales, "Extra storage", monthly="12.50", delivered=at(2026, 10, 10)
        ),
        "licence 1 Sep": make_item(
            sam, cc_sales, "Software licence", monthly="30", delivered=at(2026, 9, 1)
        ),
        "licence 6 Oct": make_item(
            sam, cc_sales, "Software licence", monthly="30", delivered=at(2026, 10, 6)
        ),
        # Not on CC-2100's October bill:
        "finance laptop": make_item(
            fiona, cc_finance, "New laptop", one_off="1200", delivered=at(2026, 10, 8)
        ),
        "laptop 30 Sep": make_item(
            sam, cc_sales, "New laptop", one_off="1200", delivered=at(2026, 9, 30)
        ),
        "laptop 2 Nov": make_item(
            sam, cc_sales, "New laptop", one_off="1200", delivered=at(2026, 11, 2)
        ),
        "laptop in progress": make_item(sam, cc_sales, "New laptop", one_off="1200"),
        "storage 1 Nov": make_item(
            sam, cc_sales, "Extra storage", monthly="12.50", delivered=at(2026, 11, 1)
        ),
    }
    items["licence 1 Sep removed"] = remove(items["licence 1 Sep"], at(2026, 10, 15))
    items["licence 6 Oct removed"] = remove(items["licence 6 Oct"], at(2026, 10, 27))
    reporting_rebuild()
    return {
        "people": people,
        "cc_sales": cc_sales,
        "cc_finance": cc_finance,
        "cc_office": cc_office,
        "sales": sales,
        "finance": finance,
        "items": items,
    }


@pytest.fixture
def october():
    return build_october()


def table(bill):
    """The bill as (description, quantity, unit, unit price, amount) rows."""
    return [
        (
            line.description,
            line.quantity if not line.is_adjustment else None,
            line.quantity_unit,
            line.unit_price,
            line.amount,
        )
        for line in bill.lines
    ]


def scope_of(people, who):
    return reporting_scope(user=people[who])


# --- Every line and total, by hand --------------------------------------------------


def test_the_whole_october_bill_line_by_line(october):
    coo = scope_of(october["people"], "coo")
    bill = bill_for(
        scope=coo, cost_centre=october["cc_sales"], month=OCTOBER, today=TODAY
    )
    assert table(bill) == [
        ("Docking station", 2, "items", D("150.00"), D("300.00")),
        ("Docking station", 1, "item", D("175.00"), D("175.00")),
        ("Mobile phone", 1, "item", D("300.00"), D("300.00")),
        ("New laptop", 3, "items", D("1200.00"), D("3600.00")),
        (
            "Extra storage, the whole month",
            3,
            "months",
            D("12.50"),
            D("37.50"),
        ),
        (
            "Extra storage, part of the month (by the day)",
            22,
            "days",
            D("12.50"),
            D("8.87"),
        ),
        (
            "Mobile phone, part of the month (by the day)",
            7,
            "days",
            D("20.00"),
            D("4.52"),
        ),
        (
            "Software licence, part of the month (by the day)",
            35,
            "days",
            D("30.00"),
            D("33.87"),
        ),
    ]
    assert bill.one_off_total == D("4375.00")
    assert bill.recurring_total == D("84.76")
    assert bill.charges_total == D("4459.76")
    assert bill.adjustments_total == D("0.00")
    assert bill.total == D("4459.76")
    assert bill.closed is None
    assert not bill.in_progress
    assert bill.issued_on == TODAY


def test_a_department_executive_sees_their_departments_part(october):
    sales = scope_of(october["people"], "sales head")
    bill = bill_for(
        scope=sales, cost_centre=october["cc_sales"], month=OCTOBER, today=TODAY
    )
    # Fiona's (Finance) docking station charged to CC-2100 is not Sales' figure.
    assert table(bill)[0] == ("Docking station", 1, "item", D("150.00"), D("150.00"))
    assert bill.one_off_total == D("4225.00")
    assert bill.recurring_total == D("84.76")
    assert bill.total == D("4309.76")


def test_finance_sees_its_docking_station_on_the_sales_cost_centre(october):
    finance = scope_of(october["people"], "finance head")
    bill = bill_for(
        scope=finance, cost_centre=october["cc_sales"], month=OCTOBER, today=TODAY
    )
    assert table(bill) == [("Docking station", 1, "item", D("150.00"), D("150.00"))]
    assert bill.total == D("150.00")


def test_the_same_items_in_september_and_november(october):
    coo = scope_of(october["people"], "coo")
    september = bill_for(
        scope=coo, cost_centre=october["cc_sales"], month=date(2026, 9, 1), today=TODAY
    )
    # September has 30 days. Storage from 3 Sep: 28 days, 12.5 × 28 / 30 =
    # 11.666 → 11.67; storage ×2 since August: 25.00; licence from 1 Sep: the
    # whole month 30.00; the laptop of 30 Sep: 1,200.00.
    assert table(september) == [
        ("New laptop", 1, "item", D("1200.00"), D("1200.00")),
        ("Extra storage, the whole month", 2, "months", D("12.50"), D("25.00")),
        (
            "Extra storage, part of the month (by the day)",
            28,
            "days",
            D("12.50"),
            D("11.67"),
        ),
        ("Software licence, the whole month", 1, "month", D("30.00"), D("30.00")),
    ]
    assert september.total == D("1266.67")
    november = bill_for(
        scope=coo, cost_centre=october["cc_sales"], month=date(2026, 11, 1), today=TODAY
    )
    # November so far: the laptop of 2 Nov; storage held all month (3 + 1 held
    # since 10 Oct + 1 delivered on the 1st: a whole month too); the phone.
    assert table(november) == [
        ("New laptop", 1, "item", D("1200.00"), D("1200.00")),
        ("Extra storage, the whole month", 5, "months", D("12.50"), D("62.50")),
        ("Mobile phone, the whole month", 1, "month", D("20.00"), D("20.00")),
    ]
    assert november.total == D("1282.50")
    assert november.in_progress


def test_bill_charges_equal_the_rollups_the_dashboard_reads(october):
    """The dashboard's spend for a cost centre and month comes from the rollups:
    one-off from the daily rows, recurring as the running level plus the month's
    part months. The bill, added up from the facts, must say the same."""
    coo = scope_of(october["people"], "coo")
    sales = scope_of(october["people"], "sales head")
    for scope in (coo, sales):
        for month in (date(2026, 8, 1), date(2026, 9, 1), OCTOBER, date(2026, 11, 1)):
            bill = bill_for(
                scope=scope, cost_centre=october["cc_sales"], month=month, today=TODAY
            )
            end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            daily = DailyRollup.objects.filter(
                scope.q(), cost_centre=october["cc_sales"], day__gte=month, day__lt=end
            ).aggregate(s=Sum("one_off_amount"))["s"] or D(0)
            recurring = RecurringRollup.objects.filter(
                scope.q(), cost_centre=october["cc_sales"]
            )
            level = recurring.filter(month__lte=month).aggregate(s=Sum("level_change"))[
                "s"
            ] or D(0)
            part = recurring.filter(month=month).aggregate(s=Sum("part_months"))[
                "s"
            ] or D(0)
            assert bill.one_off_total == daily
            assert bill.recurring_total == level + part
            assert bill.charges_total == daily + level + part


def test_the_frozen_statement_keeps_departments_apart(october):
    statement = bill_statement(cost_centre=october["cc_sales"], month=OCTOBER)
    sales, finance = october["sales"].pk, october["finance"].pk
    assert statement["month"] == "2026-10"
    assert statement["cost_centre"]["code"] == "CC-2100"
    assert [
        (row["kind"], row["department"], row["service"], row["amount"])
        for row in statement["lines"]
    ] == [
        ("one_off", "Sales", "Docking station", "150.00"),
        ("one_off", "Finance", "Docking station", "150.00"),
        ("one_off", "Sales", "Docking station", "175.00"),
        ("one_off", "Sales", "Mobile phone", "300.00"),
        ("one_off", "Sales", "New laptop", "3600.00"),
        ("monthly", "Sales", "Extra storage", "37.50"),
        ("part_month", "Sales", "Extra storage", "8.87"),
        ("part_month", "Sales", "Mobile phone", "4.52"),
        ("part_month", "Sales", "Software licence", "33.87"),
    ]
    assert [row["department_id"] for row in statement["lines"]][:2] == [
        sales,
        finance,
    ]
    assert statement["totals"] == {
        "one_off": "4375.00",
        "recurring": "84.76",
        "charges": "4459.76",
        "adjustments": "0.00",
        "total": "4459.76",
    }


# --- Who may open which cost centre -------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("coo", ["CC-0100", "CC-1100", "CC-2100"]),
        ("sales head", ["CC-2100"]),
        # Finance's own, and Sales' which one of its requests was charged to.
        ("finance head", ["CC-1100", "CC-2100"]),
    ],
)
def test_which_cost_centres_each_viewer_may_pick(october, viewer, expected):
    scope = scope_of(october["people"], viewer)
    assert [c.code for c in bill_cost_centres(scope=scope)] == expected


@pytest.mark.parametrize(
    ("viewer", "cost_centre", "expected"),
    [
        ("coo", "CC-2100", "CC-2100"),
        ("coo", "CC-0100", "CC-0100"),
        ("sales head", "CC-2100", "CC-2100"),
        ("sales head", "CC-1100", NotFoundForUser),
        ("sales head", "CC-0100", NotFoundForUser),
        ("finance head", "CC-2100", "CC-2100"),
        ("finance head", "CC-0100", NotFoundForUser),
        ("coo", "unknown", NotFoundForUser),
        ("coo", "30 digits", NotFoundForUser),
        ("coo", "text", NotFoundForUser),
    ],
)
def test_opening_a_cost_centre(october, viewer, cost_centre, expected):
    scope = scope_of(october["people"], viewer)
    asked = {
        "CC-2100": october["cc_sales"].pk,
        "CC-1100": october["cc_finance"].pk,
        "CC-0100": october["cc_office"].pk,
        "unknown": 999999,
        "30 digits": "1" * 30,
        "text": "CC-2100",
    }[cost_centre]
    if expected is NotFoundForUser:
        with pytest.raises(NotFoundForUser):
            bill_cost_centre(scope=scope, cost_centre=asked)
    else:
        assert bill_cost_centre(scope=scope, cost_centre=asked).code == expected


def test_an_employee_has_no_bill_at_all(october):
    with pytest.raises(NotAllowed):
        reporting_scope(user=october["people"]["employee"])


# --- The month people type ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "month", "error", "note"),
    [
        ("", date(2026, 10, 1), False, False),
        (None, date(2026, 10, 1), False, False),
        ("2026-09", date(2026, 9, 1), False, False),
        ("2026-11", date(2026, 11, 1), False, False),
        (" 2026-03 ", date(2026, 3, 1), False, False),
        ("2026-12", date(2026, 11, 1), False, True),
        ("9999-01", date(2026, 11, 1), False, True),
        ("0000-13", date(2026, 10, 1), True, False),
        ("2026-13", date(2026, 10, 1), True, False),
        ("2026-00", date(2026, 10, 1), True, False),
        ("0001-01", date(2026, 10, 1), True, False),
        ("1999-12", date(2026, 10, 1), True, False),
        ("October", date(2026, 10, 1), True, False),
        ("2026-10-05", date(2026, 10, 1), True, False),
        ("1" * 30, date(2026, 10, 1), True, False),
    ],
)
def test_the_month_asked_for(typed, month, error, note):
    choice = bill_month(typed, today=TODAY)
    assert (choice.month, bool(choice.error), bool(choice.note)) == (
        month,
        error,
        note,
    )


def test_the_messages_say_what_to_do():
    assert bill_month("0000-13", today=TODAY).error == (
        "Enter the month as year and month, for example 2026-10 for October 2026."
    )
    assert bill_month("9999-01", today=TODAY).note == (
        "There is no bill for January 9999 yet. Showing November 2026 so far."
    )
    assert bill_month("1999-12", today=TODAY).error == (
        "Bills start in January 2000. Enter a later month, for example 2026-10."
    )


# --- The items behind a line ------------------------------------------------------


def rows(page_or_items):
    return [
        (
            i.number,
            i.service_name,
            i.for_whom,
            i.delivered_on,
            i.held_from,
            i.held_until,
            i.days,
            i.amount,
        )
        for i in page_or_items
    ]


def number(item):
    return f"REQ-{item.request_id:06d}-1"


def test_the_items_behind_a_part_month_line(october):
    coo = scope_of(october["people"], "coo")
    bill = bill_for(
        scope=coo, cost_centre=october["cc_sales"], month=OCTOBER, today=TODAY
    )
    line = next(line for line in bill.lines if line.description.startswith("Software"))
    assert line.items_query == {
        "kind": "part_month",
        "service": "Software licence",
        "price": "30.00",
    }
    page = bill_item_page(bill=bill, items=bill_item_filter(line.items_query))
    items = october["items"]
    assert rows(page) == [
        (
            number(items["licence 1 Sep"]),
            "Software licence",
            "Sam Seller",
            None,
            date(2026, 9, 1),
            date(2026, 10, 15),
            14,
            D("13.55"),
        ),
        (
            number(items["licence 6 Oct"]),
            "Software licence",
            "Sam Seller",
            None,
            date(2026, 10, 6),
            date(2026, 10, 27),
            21,
            D("20.32"),
        ),
    ]


def test_the_items_behind_a_one_off_line_keep_to_the_viewers_department(october):
    items = october["items"]
    query = {"kind": "one_off", "service": "Docking station", "price": "150.00"}
    expected = {
        "coo": [number(items["dock"]), number(items["finance dock on CC-2100"])],
        "sales head": [number(items["dock"])],
    }
    for viewer, numbers in expected.items():
        bill = bill_for(
            scope=scope_of(october["people"], viewer),
            cost_centre=october["cc_sales"],
            month=OCTOBER,
            today=TODAY,
        )
        page = bill_item_page(bill=bill, items=bill_item_filter(query))
        assert [i.number for i in page] == numbers


def test_every_item_for_the_export(october):
    coo = scope_of(october["people"], "coo")
    bill = bill_for(
        scope=coo, cost_centre=october["cc_sales"], month=OCTOBER, today=TODAY
    )
    everything = list(bill_items(bill=bill))
    assert [(i.charge, i.service_name, i.days, i.amount) for i in everything] == [
        ("One-off", "New laptop", None, D("1200.00")),
        ("One-off", "Docking station", None, D("150.00")),
        ("One-off", "Docking station", None, D("150.00")),
        ("One-off", "New laptop", None, D("2400.00")),
        ("One-off", "Mobile phone", None, D("300.00")),
        ("One-off", "Docking station", None, D("175.00")),
        ("Monthly, whole month", "Extra storage", 31, D("25.00")),
        ("Monthly, whole month", "Extra storage", 31, D("12.50")),
        ("Monthly, by the day", "Software licence", 14, D("13.55")),
        ("Monthly, by the day", "Software licence", 21, D("20.32")),
        ("Monthly, by the day", "Extra storage", 22, D("8.87")),
        ("Monthly, by the day", "Mobile phone", 7, D("4.52")),
    ]
    # The items add up to the statement.
    assert sum(i.amount for i in everything) == D("4459.76")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "everything"},
        {"kind": "one_off", "price": "lots"},
        {"kind": "one_off", "price": "NaN"},
        {"kind": "one_off", "price": "1e30"},
        {"kind": "one_off", "service": "x" * 300},
    ],
)
def test_unreadable_item_filters_pick_no_line(params):
    assert bill_item_filter(params) is None
