"""Presentation helpers for prices and delivery times."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF "}
NO_CHARGE = "No charge"


@register.filter
def money(value, currency=None):
    """`1299.00` → `€1,299`; `12.5` → `€12.50`."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    symbol = SYMBOLS.get(currency or settings.CATALOG_CURRENCY, f"{currency} ")
    if amount == amount.to_integral_value():
        return f"{symbol}{intcomma(int(amount))}"
    return f"{symbol}{intcomma(f'{amount:.2f}')}"


@register.filter
def charge(value, currency=None):
    """What a person pays, in their words: `0` → `No charge`, else as `money`.
    For people's own pages (basket, checkout, requests, approvals); reports keep
    `money`, where a column of figures reads €0."""
    if value is not None and value != "" and Decimal(value) == 0:
        return NO_CHARGE
    return money(value, currency)


@register.inclusion_tag("includes/price.html")
def price(service, size="normal"):
    return {"service": service, "size": size}


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (for pagination).

    A listing passes the parameters it was rendered from (``listing_params``):
    a cached listing must not carry the query string of whoever asked first."""
    params = context.get("listing_params", context["request"].GET).copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def number(value):
    """`99.50` → `99.5`, `4.00` → `4`: no trailing zeros."""
    if value is None or value == "":
        return ""
    normalised = Decimal(value).normalize()
    return f"{normalised:f}"


@register.filter
def duration_hours(value):
    """A target in hours, in words: `0.5` → `30 minutes`, `16` → `16 hours`."""
    if value is None or value == "":
        return ""
    hours = Decimal(value)
    if hours < 1:
        minutes = int(hours * 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{number(hours)} hour{'s' if hours != 1 else ''}"
