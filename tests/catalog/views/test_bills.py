"""The IT bill page, its downloads and the admin's closing page: who sees what,
the figures as shown and downloaded (the October 2026 fixture of
tests/catalog/test_bill.py), bad input, and query budgets."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.models import BillClosing
from catalog.services.billing import bill_close
from catalog.services.reporting import reporting_rebuild
from tests.catalog.test_bill import at, build_october, make_item, remove
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = Decimal
PAGE = reverse("catalog:bill")


def export_url(fmt):
    return reverse("catalog:bill_export", args=[fmt])


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(
        datetime(2026, 11, 3, 10, 0, tzinfo=LONDON), tick=False
    ) as moving:
        yield moving


@pytest.fixture
def october():
    data = build_october()
    admin = UserFactory(
        username="ada",
        first_name="Ada",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
        profile={"department": data["sales"]},
    )
    data["people"]["admin"] = admin
    return data


def get(client, user, url=PAGE, **params):
    client.force_login(user)
    return client.get(url, params)


def text(response):
    return response.content.decode()


# --- Who sees what ------------------------------------------------------------------

CENTRES = {"CC-2100": "cc_sales", "CC-1100": "cc_finance", "CC-0100": "cc_office"}


@pytest.mark.parametrize("where", [PAGE, export_url("csv"), export_url("xlsx")])
@pytest.mark.parametrize(
    ("viewer", "cost_centre", "expected"),
    [
        ("employee", None, 403),
        ("employee", "CC-2100", 403),
        ("sales head", None, 200),
        ("sales head", "CC-2100", 200),
        ("sales head", "CC-1100", 404),
        ("sales head", "CC-0100", 404),
        ("finance head", "CC-2100", 200),
        ("finance head", "CC-1100", 200),
        ("finance head", "CC-0100", 404),
        ("coo", None, 200),
        ("coo", "CC-1100", 200),
        ("coo", "CC-0100", 200),
        ("coo", "unknown", 404),
        ("coo", "30 digits", 404),
        ("coo", "letters", 404),
    ],
)
def test_who_may_open_which_bill(client, october, where, viewer, cost_centre, expected):
    params = {"month": "2026-10"}
    if cost_centre in CENTRES:
        params["cost_centre"] = october[CENTRES[cost_centre]].pk
    elif cost_centre is not None:
        params["cost_centre"] = {
            "unknown": "999999",
            "30 digits": "1" * 30,
            "letters": "CC-2100",
        }[cost_centre]
    response = get(client, october["people"][viewer], where, **params)
    assert response.status_code == expected


def test_logged_out_people_are_sent_to_log_in(client, october):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_default_is_the_viewers_cost_centre_and_last_month(client, october):
    response = get(client, october["people"]["sales head"])
    assert response.status_code == 200
    page = text(response)
    assert "CC-2100 Sales" in page
    assert "October 2026" in page
    # Sales' part only: Fiona's docking station isn't Sales' figure.
    assert "EUR 4,309.76" in page
    assert "Requests for people in Sales" in page


# --- The figures on screen --------------------------------------------------------


def test_the_statement_on_screen(client, october):
    response = get(
        client,
        october["people"]["coo"],
        cost_centre=october["cc_sales"].pk,
        month="2026-10",
    )
    bill = response.context["bill"]
    assert [(line.description, line.amount) for line in bill.lines] == [
        ("Docking station", D("300.00")),
        ("Docking station", D("175.00")),
        ("Mobile phone", D("300.00")),
        ("New laptop", D("3600.00")),
        ("Extra storage, the whole month", D("37.50")),
        ("Extra storage, part of the month (by the day)", D("8.87")),
        ("Mobile phone, part of the month (by the day)", D("4.52")),
        ("Software licence, part of the month (by the day)", D("33.87")),
    ]
    page = text(response)
    for shown in (
        "3,600.00",
        "1,200.00",
        "22 days",
        "33.87",
        "4,375.00",
        "84.76",
        "EUR 4,459.76",
        "Issued on",
        "3 November 2026",
        "31 in October",
    ):
        assert shown in page
    assert 'media="print"' in page and "css/bill-print.css" in page
    # Each line links to the items behind it.
    assert (
        f"?cost_centre={october['cc_sales'].pk}&amp;month=2026-10&amp;kind=part_month"
        "&amp;service=Software+licence&amp;price=30.00#items"
    ) in page


def test_the_items_behind_a_line(client, october):
    items = october["items"]
    response = get(
        client,
        october["people"]["coo"],
        cost_centre=october["cc_sales"].pk,
        month="2026-10",
        kind="part_month",
        service="Software licence",
        price="30.00",
    )
    page = text(response)
    assert "2 items charged to CC-2100 in October 2026 at 30.00 a month" in page
    for item, days, amount in (
        (items["licence 1 Sep"], "14 of 31", "13.55"),
        (items["licence 6 Oct"], "21 of 31", "20.32"),
    ):
        assert f"REQ-{item.request_id:06d}-1" in page
        assert days in page
        assert amount in page
    assert "from 1 Sep 2026, removed 15 Oct 2026" in page


def test_a_department_head_lists_only_their_items(client, october):
    fiona_dock = october["items"]["finance dock on CC-2100"]
    params = {
        "cost_centre": october["cc_sales"].pk,
        "month": "2026-10",
        "kind": "one_off",
        "service": "Docking station",
        "price": "150.00",
    }
    coo = text(get(client, october["people"]["coo"], **params))
    head = text(get(client, october["people"]["sales head"], **params))
    number = f"REQ-{fiona_dock.request_id:06d}-1"
    assert number in coo
    assert number not in head
    assert "1 item charged" in head


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "nonsense"},
        {"kind": "one_off", "price": "lots"},
        {"kind": "one_off", "page": "999"},
        {"kind": "one_off", "page": "x" * 40},
    ],
)
def test_odd_item_parameters_never_fail(client, october, params):
    response = get(
        client,
        october["people"]["coo"],
        cost_centre=october["cc_sales"].pk,
        month="2026-10",
        **params,
    )
    assert response.status_code == 200


def test_closed_and_adjusted_bills_on_screen(client, october):
    bill_close(
        cost_centre=october["cc_sales"],
        month=datetime(2026, 10, 1).date(),
        actor=october["people"]["admin"],
    )
    remove(october["items"]["storage 3 Sep"], at(2026, 10, 20))
    make_item(
        october["people"]["sam"],
        october["cc_sales"],
        "New laptop",
        one_off="1200",
        delivered=at(2026, 10, 28),
    )
    reporting_rebuild()
    coo = october["people"]["coo"]
    closed = text(get(client, coo, cost_centre=october["cc_sales"].pk, month="2026-10"))
    assert "Closed</span> on 3 November 2026 by Ada Admin" in closed
    assert "EUR 4,459.76" in closed
    november = text(
        get(client, coo, cost_centre=october["cc_sales"].pk, month="2026-11")
    )
    assert "Adjustments for closed months" in november
    assert "Extra storage: monthly charges for October 2026" in november
    assert "-4.84" in november
    assert "New laptop: one-off charges for October 2026" in november
    assert "1,195.16" in november
    assert "EUR 2,465.16" in november
    assert "November 2026 so far" in november
    download = get(
        client,
        coo,
        export_url("csv"),
        cost_centre=october["cc_sales"].pk,
        month="2026-10",
    )
    rows = list(
        csv.reader(
            io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))
        )
    )
    assert ["Status", "Closed on 3 November 2026 by Ada Admin"] in rows
    assert ["Total", "Total due", "", "", "", "4459.76"] in rows


def test_holders_of_close_bills_get_a_link_to_close_the_month(client, october):
    params = {"cost_centre": october["cc_sales"].pk, "month": "2026-10"}
    assert "Close October 2026 for CC-2100" not in text(
        get(client, october["people"]["coo"], **params)
    )
    shown = text(get(client, october["people"]["admin"], **params))
    assert "Close October 2026 for CC-2100" in shown
    assert f"{reverse('close_bills')}?cost_centre=" in shown


# --- Bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "status", "message"),
    [
        (
            "0000-13",
            400,
            "Enter the month as year and month, for example 2026-10 for October 2026.",
        ),
        ("1" * 30, 400, "Enter the month as year and month"),
        ("0001-01", 400, "Bills start in January 2000."),
        (
            "9999-01",
            200,
            "There is no bill for January 9999 yet. Showing November 2026 so far.",
        ),
        ("2026-12", 200, "There is no bill for December 2026 yet."),
    ],
)
def test_months_that_cant_be_billed(client, october, month, status, message):
    for where in (PAGE, export_url("csv"), export_url("xlsx")):
        response = get(
            client,
            october["people"]["coo"],
            where,
            cost_centre=october["cc_sales"].pk,
            month=month,
        )
        assert response.status_code == status
        if where == PAGE or status == 400:
            page = text(response)
            assert message in page
    if status == 400:
        # The one error pattern: a summary linking to the field, and the message
        # under the field.
        assert 'class="error-summary"' in page
        assert '<a href="#id_month">' in page
        assert '<p class="field__error" id="id_month_error">' in page
        assert 'aria-describedby="id_month_helptext id_month_error"' in page


def test_unknown_export_format_is_not_found(client, october):
    response = get(client, october["people"]["coo"], export_url("pdf"))
    assert response.status_code == 404


# --- Downloads ------------------------------------------------------------------------


def test_csv_has_the_statement_and_totals(client, october):
    response = get(
        client,
        october["people"]["coo"],
        export_url("csv"),
        cost_centre=october["cc_sales"].pk,
        month="2026-10",
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="it-bill-cc-2100-2026-10.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[:6] == [
        ["Statement"],
        ["IT bill", "CC-2100 Sales"],
        ["Month", "October 2026"],
        ["Issued on", "2026-11-03"],
        ["Status", "Open: not closed yet, figures may still change"],
        ["Covers", "Requests for everyone, in every department"],
    ]
    assert rows[7:] == [
        ["Section", "Description", "Quantity", "Unit", "Unit price", "Amount"],
        ["One-off charges", "Docking station", "2", "items", "150.00", "300.00"],
        ["One-off charges", "Docking station", "1", "item", "175.00", "175.00"],
        ["One-off charges", "Mobile phone", "1", "item", "300.00", "300.00"],
        ["One-off charges", "New laptop", "3", "items", "1200.00", "3600.00"],
        [
            "Monthly charges",
            "Extra storage, the whole month",
            "3",
            "months",
            "12.50",
            "37.50",
        ],
        [
            "Monthly charges",
            "Extra storage, part of the month (by the day)",
            "22",
            "days",
            "12.50",
            "8.87",
        ],
        [
            "Monthly charges",
            "Mobile phone, part of the month (by the day)",
            "7",
            "days",
            "20.00",
            "4.52",
        ],
        [
            "Monthly charges",
            "Software licence, part of the month (by the day)",
            "35",
            "days",
            "30.00",
            "33.87",
        ],
        [],
        ["Total", "One-off charges", "", "", "", "4375.00"],
        ["Total", "Monthly charges", "", "", "", "84.76"],
        ["Total", "Charges for October 2026", "", "", "", "4459.76"],
        ["Total", "Adjustments", "", "", "", "0.00"],
        ["Total", "Total due", "", "", "", "4459.76"],
    ]


def test_xlsx_has_the_statement_and_every_item(client, october):
    response = get(
        client,
        october["people"]["sales head"],
        export_url("xlsx"),
        cost_centre=october["cc_sales"].pk,
        month="2026-10",
    )
    assert response.status_code == 200
    assert 'filename="it-bill-cc-2100-2026-10.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Statement", "Items"]
    statement = [list(row) for row in workbook["Statement"].iter_rows(values_only=True)]
    assert statement[0] == ["IT bill", "CC-2100 Sales", None, None, None, None]
    assert statement[4][:2] == ["Covers", "Requests for people in Sales"]
    totals = {row[1]: row[5] for row in statement if row and row[0] == "Total"}
    assert totals == {
        "One-off charges": 4225,
        "Monthly charges": 84.76,
        "Charges for October 2026": 4309.76,
        "Adjustments": 0,
        "Total due": 4309.76,
    }
    items = list(workbook["Items"].iter_rows(values_only=True))
    assert items[0] == (
        "Item",
        "Service",
        "For whom",
        "Charge",
        "Delivered on",
        "Held from",
        "Held until (first day not held)",
        "Days charged",
        "Quantity",
        "Unit price",
        "Amount",
    )
    # Sales' eleven items (Fiona's docking station is Finance's).
    assert len(items) == 1 + 11
    licence = october["items"]["licence 1 Sep"]
    row = next(r for r in items if r[0] == f"REQ-{licence.request_id:06d}-1")
    assert row[1:4] == ("Software licence", "Sam Seller", "Monthly, by the day")
    assert row[5].date() == datetime(2026, 9, 1).date()
    assert row[6].date() == datetime(2026, 10, 15).date()
    assert row[7:] == (14, 1, 30, 13.55)
    assert round(sum(r[10] for r in items[1:]), 2) == 4309.76


# --- Query budgets -------------------------------------------------------------------


def more_of_everything(data, times):
    sam, cc = data["people"]["sam"], data["cc_sales"]
    for n in range(times):
        make_item(
            sam, cc, f"Service {n}", one_off="10", delivered=at(2026, 10, 1 + n % 28)
        )
        held = make_item(
            sam, cc, f"Monthly {n}", monthly="5", delivered=at(2026, 9, 1 + n % 28)
        )
        remove(held, at(2026, 10, 2 + n % 27))
    reporting_rebuild()


def test_the_bill_page_query_count_does_not_grow_with_data(
    client, october, django_assert_max_num_queries
):
    coo = october["people"]["coo"]
    client.force_login(coo)
    params = {"cost_centre": october["cc_sales"].pk, "month": "2026-11"}
    bill_close(
        cost_centre=october["cc_sales"],
        month=datetime(2026, 10, 1).date(),
        actor=None,
    )
    with django_assert_max_num_queries(15) as few:
        assert client.get(PAGE, params).status_code == 200
    more_of_everything(october, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(PAGE, params).status_code == 200


def test_the_items_page_query_count_does_not_grow_with_data(
    client, october, django_assert_max_num_queries
):
    head = october["people"]["sales head"]
    client.force_login(head)
    params = {
        "cost_centre": october["cc_sales"].pk,
        "month": "2026-10",
        "kind": "one_off",
        "service": "New laptop",
        "price": "1200.00",
    }
    with django_assert_max_num_queries(16) as few:
        assert client.get(PAGE, params).status_code == 200
    for _ in range(8):
        make_item(
            october["people"]["sam"],
            october["cc_sales"],
            "New laptop",
            one_off="1200",
            delivered=at(2026, 10, 9),
        )
    reporting_rebuild()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGE, params)
    assert "10 items charged" in text(response)


# --- Closing in the admin ------------------------------------------------------------


def test_the_admin_closes_a_month(client, october):
    client.force_login(october["people"]["admin"])
    page = client.get(reverse("close_bills"))
    assert page.status_code == 200
    assert 'value="2026-10"' in text(page)
    response = client.post(reverse("close_bills"), {"month": "2026-10"}, follow=True)
    page = text(response)
    assert "Closed October 2026 for CC-1100: total 1,200.00." in page
    assert "Closed October 2026 for CC-2100: total 4,459.76." in page
    assert [
        (c.cost_centre.code, c.closed_by.username) for c in BillClosing.objects.all()
    ] == [("CC-1100", "ada"), ("CC-2100", "ada")]
    again = client.post(
        reverse("close_bills"),
        {"month": "2026-10", "cost_centre": october["cc_sales"].pk},
        follow=True,
    )
    assert "October 2026 is already closed for CC-2100" in text(again)
    assert BillClosing.objects.count() == 2


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-11", "November 2026 hasn&#x27;t ended yet"),
        ("9999-01", "That month hasn&#x27;t ended yet"),
        ("0000-13", "Enter the month as year and month"),
        ("", "This field is required."),
    ],
)
def test_the_admin_refuses_months_that_cant_be_closed(client, october, month, message):
    client.force_login(october["people"]["admin"])
    response = client.post(reverse("close_bills"), {"month": month})
    assert response.status_code == 400
    assert message in text(response)
    assert not BillClosing.objects.exists()


def test_only_holders_of_close_bills_see_the_admin_page(client, october):
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(staff)
    # The admin's way of refusing: back to its dashboard, with a message.
    for response in (
        client.get(reverse("close_bills")),
        client.post(reverse("close_bills"), {"month": "2026-10"}),
    ):
        assert (response.status_code, response.url) == (302, "/admin/")
    assert "Close IT bills" not in text(client.get(reverse("wagtailadmin_home")))
    client.force_login(october["people"]["admin"])
    assert "Close IT bills" in text(client.get(reverse("wagtailadmin_home")))
    assert not BillClosing.objects.exists()
