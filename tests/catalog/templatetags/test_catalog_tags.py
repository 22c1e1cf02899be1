"""How amounts print: prices and report figures (``money``) and statement
amounts (``amount``), as tables written out by hand."""

from decimal import Decimal

import pytest

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
