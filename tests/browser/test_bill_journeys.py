"""The monthly IT bill in a browser: the COO opens a cost centre's bill for the
last complete month, looks at the items behind a line, downloads the XLSX and
prints it; an administrator closes the month in the admin and the bill then says
so. On the demo catalog with a little generated history."""

import io
import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from catalog.demo.history import history_generate
from catalog.models import BillClosing, CostCentre
from catalog.selectors.reporting.bill import bill_default_month
from catalog.services.billing import bill_closings_verify
from tests.browser.viewports import fits_320

pytestmark = pytest.mark.browser


@pytest.fixture
def history(demo):
    history_generate(requests=120, seed=2026)


def money(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


def test_executive_opens_downloads_and_prints_the_it_bill(
    page, login, screenshot, history
):
    month = bill_default_month()
    sales = CostCentre.objects.get(code="CC-2100")
    login(page, "executive")
    page.goto("/executive/bill/")
    expect(page.get_by_role("heading", name="IT bill", exact=True)).to_be_visible()
    # The COO's own cost centre first; she picks Sales and the month.
    page.get_by_label("Cost centre").select_option(str(sales.pk))
    page.get_by_label("Month").fill(f"{month:%Y-%m}")
    page.get_by_role("button", name="Show the bill").click()
    bill = page.locator("article.bill")
    expect(bill.get_by_role("heading", name="CC-2100 Sales")).to_be_visible()
    expect(bill.locator(".bill-head__month")).to_have_text(f"{month:%B %Y}")
    expect(bill).to_contain_text("Requests for everyone, in every department")
    expect(bill.get_by_role("heading", name="One-off charges")).to_be_visible()
    expect(bill.get_by_role("heading", name="Monthly charges")).to_be_visible()
    total = bill.locator("dd.bill-totals__due").inner_text()
    assert money(total) > 0
    screenshot(page, "bill1-statement")
    assert fits_320(page, screenshot, "bill1-statement-320px")

    # The items behind the first one-off line.
    line = bill.locator("#one-off-title + p + table tbody tr").first
    description = line.locator("td").first.locator("a").inner_text()
    line.locator("td a").first.click()
    items = page.locator("#items")
    expect(items.get_by_role("heading")).to_contain_text(description)
    expect(items.locator("tbody tr").first).to_contain_text("REQ-")
    screenshot(page, "bill2-items-behind-a-line")
    page.get_by_role("link", name="Back to the statement").click()

    # The XLSX has the statement and every item, with the same total.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download XLSX")).click()
    download = download_info.value
    assert download.suggested_filename == f"it-bill-cc-2100-{month:%Y-%m}.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames == ["Statement", "Items"]
    statement = list(workbook["Statement"].iter_rows(values_only=True))
    due = next(row[5] for row in statement if row[:2] == ("Total", "Total due"))
    assert round(due, 2) == money(total)
    item_rows = list(workbook["Items"].iter_rows(values_only=True))[1:]
    assert item_rows
    assert round(sum(row[10] for row in item_rows), 2) == money(
        bill.locator(".bill-totals dd").nth(2).inner_text()
    )

    # Printed, it reads like a statement: no navigation, the head and lines.
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".bill-picker")).to_be_hidden()
    expect(page.locator(".bill-actions")).to_be_hidden()
    expect(bill.locator(".bill-head")).to_be_visible()
    expect(bill.locator("th", has_text="Unit price").first).to_be_visible()
    screenshot(page, "bill3-print")
    page.emulate_media(media="screen")
    expect(page.locator(".site-header")).to_be_visible()


def test_admin_closes_the_month_and_the_bill_is_frozen(
    page, new_page, login, admin_login, screenshot, history
):
    month = bill_default_month()
    admin_login(page, "admin")
    page.get_by_role("link", name="Close IT bills").click()
    expect(page.get_by_label("Month")).to_have_value(f"{month:%Y-%m}")
    page.get_by_label("Cost centre").select_option(label="CC-2100 Sales")
    page.get_by_role("button", name="Close the month").click()
    expect(page.get_by_text(f"Closed {month:%B %Y} for CC-2100")).to_be_visible()
    screenshot(page, "bill4-admin-closed")
    # Twice: refused with a message, nothing added.
    page.get_by_label("Month").fill(f"{month:%Y-%m}")
    page.get_by_label("Cost centre").select_option(label="CC-2100 Sales")
    page.get_by_role("button", name="Close the month").click()
    expect(
        page.get_by_text(f"{month:%B %Y} is already closed for CC-2100")
    ).to_be_visible()
    assert BillClosing.objects.count() == 1
    assert list(bill_closings_verify()) == []

    coo = new_page()
    login(coo, "executive")
    sales = CostCentre.objects.get(code="CC-2100")
    coo.goto(f"/executive/bill/?cost_centre={sales.pk}&month={month:%Y-%m}")
    expect(coo.locator(".bill-head")).to_contain_text("Closed on")
    expect(coo.locator(".bill-head")).to_contain_text("by Ada Admin")
    screenshot(coo, "bill5-closed")

    # The head of Sales sees Sales' part; another department's bill is a 404.
    head = new_page()
    login(head, "manager")
    head.goto("/executive/bill/")
    expect(head.locator(".bill-head")).to_contain_text("CC-2100 Sales")
    expect(head.locator(".bill-head")).to_contain_text("Requests for people in Sales")
    finance = CostCentre.objects.get(code="CC-1100")
    response = head.goto(f"/executive/bill/?cost_centre={finance.pk}")
    assert response.status == 404
