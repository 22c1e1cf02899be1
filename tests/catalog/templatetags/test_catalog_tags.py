"""How amounts print: prices and report figures (``money``) and statement
amounts (``amount``); and a list's times (``short_datetime``) and links
(``row_url``): tables written out by hand."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, set_script_prefix

from catalog.templatetags.catalog_tags import amount, charge, money


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("1299.00"), None, "€1,299"),
        (Decimal("12.5"), None, "€12.50"),
        (Decimal("0"), None, "€0"),
        (Decimal("1234567.891"), "GBP", "£1,234,567.89"),
        (Decimal("-45.10"), "USD", "$-45.10"),
        (Decimal("-1200"), "EUR", "€-1,200"),
        (Decimal("999"), "CHF", "CHF 999"),
        (Decimal("15"), "SEK", "SEK 15"),
        ("7.25", None, "€7.25"),
        (None, None, ""),
        ("", None, ""),
    ],
)
def test_money(value, currency, expected, settings):
    settings.CATALOG_CURRENCY = "EUR"
    assert money(value, currency) == expected


def test_charge_says_no_charge_for_nothing(settings):
    settings.CATALOG_CURRENCY = "EUR"
    assert charge(Decimal("0.00")) == "No charge"
    assert charge(Decimal("1500")) == "€1,500"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1299"), "1,299.00"),
        (Decimal("1234567.5"), "1,234,567.50"),
        (Decimal("0.125"), "0.13"),  # half up, not to the even cent
        (Decimal("0.135"), "0.14"),
        (Decimal("2.675"), "2.68"),
        (Decimal("-0.004"), "0.00"),  # never "-0.00"
        (Decimal("-0.00"), "0.00"),
        (Decimal("-1500.255"), "-1,500.26"),
        (12, "12.00"),
        ("45.5", "45.50"),
        ("not a number", ""),
        (None, ""),
        ("", ""),
    ],
)
def test_amount(value, expected):
    assert amount(value) == expected


# --- A list's times and links ---------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Europe/London: GMT in winter, BST (UTC+1) in summer.
        (datetime(2026, 11, 27, 9, 5, tzinfo=UTC), "27 Nov 2026, 09:05"),
        (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), "2 Jul 2026, 00:30"),
        (datetime(2026, 1, 5, 0, 0, tzinfo=UTC), "5 Jan 2026, 00:00"),
        (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), "31 Dec 2025, 23:59"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29 Mar 2026, 02:00"),
        (None, ""),
        ("2026-11-27 09:05", ""),  # not a moment: nothing, as date prints
    ],
)
def test_short_datetime_prints_the_local_day_and_time(moment, expected, settings):
    settings.TIME_ZONE = "Europe/London"
    page = Template("{% load catalog_tags %}{{ moment|short_datetime }}")
    assert page.render(Context({"moment": moment})) == expected


ROWS = Template(
    "{% load catalog_tags %}{% for pk in keys %}{% row_url name pk %}|{% endfor %}"
)


@pytest.mark.parametrize(
    ("name", "keys", "expected"),
    [
        (
            "catalog:request_detail",
            [1, 42, 987654321],
            "/requests/1/|/requests/42/|/requests/987654321/|",
        ),
        (
            "catalog:approval_decide",
            [7, 7, 12],
            "/approvals/steps/7/decide/|/approvals/steps/7/decide/"
            "|/approvals/steps/12/decide/|",
        ),
        ("catalog:queue_item", [3], "/queue/items/3/|"),
        # Not a whole number, or more digits than the stand-ins: {% url %}.
        (
            "catalog:queue_item",
            ["15", 10**12],
            "/queue/items/15/|/queue/items/1000000000000/|",
        ),
    ],
)
def test_row_url_gives_what_url_gives(name, keys, expected):
    assert ROWS.render(Context({"name": name, "keys": keys})) == expected


def test_row_url_keeps_the_address_prefix_of_the_request():
    set_script_prefix("/portal/")
    try:
        page = ROWS.render(Context({"name": "catalog:queue_item", "keys": [5, 6]}))
    finally:
        set_script_prefix("/")
    assert page == "/portal/queue/items/5/|/portal/queue/items/6/|"


def test_row_url_refuses_what_url_refuses():
    # More digits than an id has (catalog.ids): no address, as {% url %}.
    with pytest.raises(NoReverseMatch):
        ROWS.render(Context({"name": "catalog:queue_item", "keys": [10**18]}))
    with pytest.raises(NoReverseMatch):
        ROWS.render(Context({"name": "catalog:no_such_page", "keys": [1]}))
