"""The executive dashboard, its drill-down and its downloads, through the views:
who may see what, what bad input gives, that the pages and files carry the same
figures, and that the number of queries doesn't grow with the data.

The world (and the figures worked out by hand) is the one of
tests/catalog/selectors/test_reporting_dashboard.py.
"""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urlencode

import pytest
import time_machine
from openpyxl import load_workbook

from catalog.models import ItemStatus
from catalog.selectors.reporting import dashboard
from catalog.services.reporting import reporting_rebuild
from tests.catalog.selectors.test_reporting_dashboard import (
    LAPTOP,
    NOW,
    PERIOD,
    STORAGE,
    at,
    build_world,
    make_item,
)

pytestmark = pytest.mark.django_db

D = Decimal
DASHBOARD = "/executive/"
ITEMS = "/executive/items/"
CSV = "/executive/export.csv"
XLSX = "/executive/export.xlsx"


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def get(client, user, url, **params):
    client.force_login(user)
    query = urlencode({**PERIOD, **params})
    return client.get(f"{url}?{query}")


def content(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response) -> list[list[str]]:
    text = content(response).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def workbook(response):
    return load_workbook(io.BytesIO(content(response)), read_only=True)


def text_of(response) -> str:
    """The page's visible text, roughly: tags out, spaces squeezed."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- Who sees what --------------------------------------------------------------------


@pytest.mark.parametrize("url", [DASHBOARD, ITEMS, CSV, XLSX])
@pytest.mark.parametrize(
    ("viewer", "params", "status"),
    [
        ("employee", {}, 403),
        ("sales head", {}, 200),
        ("sales head", {"department": "sales"}, 200),
        ("sales head", {"department": "finance"}, 404),
        ("sales head", {"cost_centre": "finance"}, 404),
        ("sales head", {"cost_centre": "marketing"}, 200),
        ("coo", {}, 200),
        ("coo", {"department": "finance"}, 200),
        ("coo", {"cost_centre": "finance"}, 200),
    ],
)
def test_who_may_see_what(client, world, url, viewer, params, status):
    user = {
        "employee": world.employee,
        "sales head": world.sales_head,
        "coo": world.coo,
    }[viewer]
    ids = {
        ("department", "sales"): world.sales.pk,
        ("department", "finance"): world.finance.pk,
        ("cost_centre", "finance"): world.cc_finance.pk,
        ("cost_centre", "marketing"): world.cc_marketing.pk,
    }
    params = {key: ids[key, value] for key, value in params.items()}
    response = get(client, user, url, **params)
    assert response.status_code == status


def test_logged_out_people_are_sent_to_log_in(client, world):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_header_links_to_it_costs_for_executives_only(client, world):
    client.force_login(world.coo)
    assert (
        'href="/executive/">IT costs</a>' in client.get("/requests/").content.decode()
    )
    client.force_login(world.employee)
    assert "IT costs" not in client.get("/requests/").content.decode()


def test_a_department_executive_sees_their_departments_figures_only(client, world):
    page = text_of(get(client, world.sales_head, DASHBOARD))
    # Sales: 3,100 one-off + 38.45 recurring; Finance's cost centre never shows.
    assert "€3,138.45" in page
    assert "CC-FIN" not in page
    assert "Department Sales" in page  # named, not offered as a choice
    assert (
        'name="department"'
        not in get(client, world.sales_head, DASHBOARD).content.decode()
    )
    items = text_of(get(client, world.sales_head, ITEMS, metric="spend"))
    assert "Fiona" not in items and "Finance" not in items


def test_the_whole_company_viewer_may_choose_a_department(client, world):
    response = get(client, world.coo, DASHBOARD)
    assert 'name="department"' in response.content.decode()
    page = text_of(get(client, world.coo, DASHBOARD, department=world.finance.pk))
    # Finance: F1 1,000 + F2 150 + R 0 one-off; F2 57.86 + P2 30.00 recurring.
    assert "€1,237.86" in page


# --- The figures on the page ----------------------------------------------------------


def test_the_dashboard_shows_the_figures(client, world):
    response = get(client, world.coo, DASHBOARD)
    assert response.status_code == 200
    page = text_of(response)
    for expected in (
        "Whole company · 1 January 2026 to 28 February 2026",
        "Total spend €4,376.31",
        "+€3,313.45 (+311.7%) on 1 January 2025 to 28 February 2025",
        "Delivered on time 83.3%",
        "Open now 5",
        "1 at risk",
        "Average rating 3.0 of 5",
        "Unit cost €425",
        "Jan 2026 €2,050 €27.74 €2,077.74",
        "Feb 2026 €2,200 €98.57 €2,298.57",
        "Laptop €4,000 €0 €4,000 3 4 €1,000",
        "CC-MKT Marketing campaigns €50 €10.71 €60.71 1",
        "7 to 30 days 2",
    ):
        assert expected in page, expected


def test_sla_and_ola_are_explained_where_they_are_shown(client, world):
    page = text_of(get(client, world.coo, DASHBOARD))
    assert "SLA (customer target) What we promise the customer" in page
    assert "OLA (internal target) Our own, stricter target" in page


def test_every_figure_links_to_the_items_behind_it(client, world):
    response = get(client, world.coo, DASHBOARD)
    html = response.content.decode()
    links = set(re.findall(r'href="(/executive/items/\?[^"]+)"', html))
    assert len(links) > 40
    # Follow a handful and check the count or amount shown there.
    laptop_breaches = next(
        link.replace("&amp;", "&")
        for link in links
        if "metric=breached" in link and "service=Laptop" in link
    )
    page = text_of(client.get(laptop_breaches))
    assert "Delivered after the customer's due time 1" in page
    assert "1 item" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"metric": "delivered"}, "Items delivered 7"),
        ({"metric": "delivered"}, "One-off spend €4,250"),
        ({"metric": "spend"}, "Total spend €4,376.31"),
        ({"metric": "recurring"}, "Recurring spend €126.31"),
        ({"metric": "submitted"}, "Items requested 9"),
        ({"metric": "resolution"}, "Attainment 83.3%"),
        ({"metric": "delivery_time"}, "Median time to deliver 3.5 h"),
        ({"metric": "approved"}, "Approval lead time (average) 15.0 h"),
        ({"metric": "rated"}, "Response rate 71.4%"),
        ({"metric": "backlog", "age": "7-30"}, "Items open now 2"),
        ({"metric": "at_risk"}, "Items at risk now 1"),
        ({"metric": "delivered", "service": "Storage"}, "Items delivered 3"),
    ],
)
def test_the_items_page_adds_up_to_the_figure(client, world, params, expected):
    response = get(client, world.coo, ITEMS, **params)
    assert response.status_code == 200
    assert expected in text_of(response)


def test_the_items_page_shows_50_items_a_page(client, world):
    for day in range(60):
        make_item(
            department=world.sales,
            cost_centre=world.cc_sales,
            person=world.sales_head,
            service=STORAGE,
            created=at("2026-01-05") + timedelta(hours=day),
            delivered=at("2026-01-09", 12),
        )
    reporting_rebuild()
    first = get(client, world.coo, ITEMS, metric="delivered")
    page = text_of(first)
    # 7 from the world and 60 more.
    assert "67 items, page 1 of 2" in page
    assert first.content.decode().count('<th scope="row" class="nowrap">REQ-') == 50
    second = get(client, world.coo, ITEMS, metric="delivered", page=2)
    assert second.content.decode().count('<th scope="row" class="nowrap">REQ-') == 17


def test_the_items_pages_stop_at_the_cap_but_the_count_covers_all(
    client, world, monkeypatch
):
    monkeypatch.setattr(dashboard, "ITEMS_PER_PAGE", 2)
    monkeypatch.setattr(dashboard, "LISTED_AT_MOST", 4)
    # 7 delivered in the world: two pages of 2, and the total of all 7.
    first = get(client, world.coo, ITEMS, metric="delivered")
    page = text_of(first)
    assert "7 items, page 1 of 2 (the first 4 are listed: narrow the filters" in page
    assert "Items delivered 7" in page
    far = get(client, world.coo, ITEMS, metric="delivered", page=4)
    assert far.status_code == 200
    assert "7 items, page 2 of 2" in text_of(far)
    assert far.content.decode().count('<th scope="row" class="nowrap">REQ-') == 2


# --- Downloads ------------------------------------------------------------------------


def test_the_csv_has_the_dashboards_tables(client, world):
    response = get(client, world.coo, CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="it-costs-whole-company-2026-01-01-to-2026-02-28.csv"'
    )
    rows = csv_rows(response)
    assert ["By month"] in rows
    start = rows.index(["By month"])
    assert rows[start + 1 : start + 4] == [
        ["Month", "One-off", "Recurring", "Total", "Requested", "Delivered"],
        ["2026-01-01", "2050.00", "27.74", "2077.74", "5", "3"],
        ["2026-02-01", "2200.00", "98.57", "2298.57", "4", "4"],
    ]
    assert ["Total spend", "4376.31", "1062.86", "3313.45", "311.7"] in rows
    assert ["CC-MKT", "Marketing campaigns", "50.00", "10.71", "60.71", "1"] in rows
    assert ["7 to 30 days", "2"] in rows


def test_the_xlsx_has_the_same_figures(client, world):
    response = get(client, world.coo, XLSX)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = workbook(response)
    assert book.sheetnames == [
        "About",
        "Against last year",
        "By month",
        "Spend by service",
        "Spend by cost centre",
        "Service levels",
        "Demand",
        "Open by age",
        "Satisfaction",
    ]
    spend = [list(row) for row in book["Spend by service"].iter_rows(values_only=True)]
    assert spend[0][:4] == ["Service", "One-off", "Recurring", "Total"]
    assert spend[-1][:4] == ["All services", 4250, 126.31, 4376.31]
    levels = [list(row) for row in book["Service levels"].iter_rows(values_only=True)]
    totals = levels[-1]
    # Delivery on time: 5 of 6 (SLA), 4 of 6 (OLA); 1 late; medians 3.5 h, 15 h.
    assert totals[7:13] == [83.3, 6, 5, 66.7, 6, 4]
    assert totals[13:18] == [1, 1, 3.5, 15, 15]


def test_a_department_executives_download_has_their_figures_only(client, world):
    rows = csv_rows(get(client, world.sales_head, CSV))
    assert ["Whose figures", "Sales"] in rows
    assert not any("CC-FIN" in cell for row in rows for cell in row)


def test_a_text_that_looks_like_a_formula_is_kept_as_text(client, world):
    make_item(
        department=world.sales,
        cost_centre=world.cc_sales,
        person=world.sales_head,
        service=("=HYPERLINK(1)", "", D("10"), D("0")),
        created=at("2026-01-05"),
        delivered=at("2026-01-06", 12),
    )
    reporting_rebuild()
    rows = csv_rows(get(client, world.coo, CSV))
    assert any(row and row[0] == "'=HYPERLINK(1)" for row in rows)
    assert not any(row and row[0] == "=HYPERLINK(1)" for row in rows)


def test_an_unknown_download_format_is_not_found(client, world):
    assert get(client, world.coo, "/executive/export.pdf").status_code == 404


# --- Bad input ------------------------------------------------------------------------

THIRTY_DIGITS = "9" * 30


@pytest.mark.parametrize("url", [DASHBOARD, ITEMS, CSV])
@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        (
            {"date_from": "2026-02-28", "date_to": "2026-01-01"},
            200,
            "The start date was after the end date, so they're swapped.",
        ),
        (
            {"period": "year", "year": "1"},
            200,
            "Figures start in 2000, so this shows 2000.",
        ),
        (
            {"period": "year", "year": "9999"},
            200,
            "Figures go up to 2027, so this shows 2027.",
        ),
        (
            {"date_from": "2025-11-01", "date_to": ""},
            200,
            "No end date given, so this runs to today, 10 March 2026.",
        ),
        (
            {"date_from": "0001-01-01", "date_to": "9999-12-31"},
            200,
            "A period can be at most 5 years long",
        ),
        ({"period": "decade"}, 400, "Choose a month, quarter, year or dates."),
        ({"year": "twenty"}, 400, "Enter a year as four digits, like 2025."),
        ({"date_from": "2026-02-30"}, 400, "Enter a real date, like 2025-01-31."),
        ({"cost_centre": "abc"}, 400, "Choose a cost centre from the list."),
        ({"cost_centre": "-1"}, 400, "Choose a cost centre from the list."),
        ({"service": "No such thing"}, 400, "Choose a service from the list."),
        ({"service": "x" * 300}, 400, "Choose a service from the list."),
        ({"category": "Nope"}, 400, "Choose a category from the list."),
        ({"department": "abc"}, 400, "Choose a department from the list."),
        ({"department": THIRTY_DIGITS}, 404, ""),
        ({"department": "999999"}, 404, ""),
        ({"cost_centre": THIRTY_DIGITS}, 404, ""),
        ({"cost_centre": "999999"}, 404, ""),
    ],
)
def test_bad_input_gets_a_message_or_a_clean_refusal(
    client, world, url, params, status, says
):
    response = get(client, world.coo, url, **params)
    assert response.status_code == status
    if says and not response.streaming and url != CSV:
        page = response.content.decode().replace("&#x27;", "'")
        assert says in page
    if status == 400:
        page = response.content.decode()
        assert 'class="error-summary"' in page
        assert 'class="field__error"' in page
        assert "<title>Error: " in page


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"metric": "everything"}, 400),
        ({"metric": "backlog", "age": "forever"}, 400),
        ({"metric": "delivered", "page": "999"}, 200),
        ({"metric": "delivered", "page": "abc"}, 200),
    ],
)
def test_bad_input_on_the_items_page(client, world, params, status):
    assert get(client, world.coo, ITEMS, **params).status_code == status


def test_a_department_executive_asking_for_junk_departments_gets_404(client, world):
    for value in ("abc", THIRTY_DIGITS, str(world.finance.pk)):
        response = get(client, world.sales_head, DASHBOARD, department=value)
        assert response.status_code == 404, value


def test_a_service_no_longer_in_the_catalog_can_still_be_chosen(client, world):
    # Its items were ordered under this name; the rollups keep it.
    response = get(client, world.coo, DASHBOARD, service="Remove: Storage")
    assert response.status_code == 200


# --- Query budgets --------------------------------------------------------------------


def more_history(world, count: int) -> None:
    """``count`` more requests, a mix of delivered, rated, held and open items."""
    for number in range(count):
        service = LAPTOP if number % 2 else STORAGE
        delivered = number % 3 != 0
        make_item(
            department=world.sales if number % 2 else world.finance,
            cost_centre=world.cc_sales if number % 2 else world.cc_finance,
            person=world.sales_head,
            service=(f"{service[0]} {number % 5}", *service[1:]),
            created=at("2026-01-03") + timedelta(days=number % 50),
            status=ItemStatus.CLOSED if delivered else ItemStatus.IN_PROGRESS,
            delivered=at("2026-02-20", 12) if delivered else None,
            rating=number % 5 + 1 if delivered else None,
            seconds=3600 * (number % 7 + 1) if delivered else None,
            at_risk=at("2026-03-05") if not delivered else None,
        )
    reporting_rebuild()


# (page, params, budget). Every page: the session and the person (2), their
# permissions (2) and, for a department executive, their department (1). The
# dashboard then asks for its figures (10 aggregate queries), the filter choices
# (cost centres, categories, services, and departments for the whole company:
# up to 4) and the header's approvals, basket and link to the catalog (3); a
# chosen cost centre is checked (1). The items list: the total (from the daily
# rollup where it keeps the figure) and one page of items (2); spend adds up
# the recurring charges (1). Downloads have no header and no choices.
BUDGETS = [
    (DASHBOARD, {}, 21),
    (DASHBOARD, {"cost_centre": "sales", "service": "Laptop 1"}, 23),
    (ITEMS, {"metric": "delivered"}, 13),
    (ITEMS, {"metric": "submitted"}, 13),
    (ITEMS, {"metric": "approved"}, 13),
    (ITEMS, {"metric": "resolution"}, 13),
    (ITEMS, {"metric": "breached"}, 13),
    (ITEMS, {"metric": "spend"}, 14),
    (ITEMS, {"metric": "rated"}, 13),
    (ITEMS, {"metric": "backlog"}, 13),
    (ITEMS, {"metric": "at_risk"}, 13),
    (CSV, {}, 15),
    (XLSX, {}, 15),
]


@pytest.mark.parametrize(("url", "params", "budget"), BUDGETS)
@pytest.mark.parametrize("viewer", ["coo", "sales head"])
def test_the_number_of_queries_does_not_grow_with_the_data(
    client, world, django_assert_max_num_queries, url, params, budget, viewer
):
    user = world.coo if viewer == "coo" else world.sales_head
    if params.get("cost_centre") == "sales":
        params = {**params, "cost_centre": world.cc_sales.pk}
    client.force_login(user)
    query = urlencode({**PERIOD, **params})
    counts = []
    for more in (2, 18):
        more_history(world, more)
        with django_assert_max_num_queries(budget) as queries:
            response = client.get(f"{url}?{query}")
            assert response.status_code == 200
            content(response)
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
