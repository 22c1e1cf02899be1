"""Presentation helpers for prices and delivery times.

Amounts are grouped by Python's own formatting (``1,299.50``), the portal's
English, rather than by Django's localization: the dashboard and a large bill
print a few thousand amounts, and ``intcomma`` or ``floatformat:"2g"`` took
8 to 14 µs each where this takes under 2. For the same reason a list's times
(``short_datetime``) and its links (``row_url``) have their own, cheaper forms
of Django's ``date`` and ``url``."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode, url
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape

from catalog.services.reporting import CENT

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
        return f"{symbol}{int(amount):,}"
    return f"{symbol}{amount:,.2f}"


@register.filter
def amount(value):
    """An amount on a statement, to the cent and grouped: `1299` → `1,299.00`,
    `0.125` → `0.13` (half up, as a bill rounds)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        return ""
    rounded = number.quantize(CENT, ROUND_HALF_UP)
    return f"{abs(rounded) if rounded == 0 else rounded:,.2f}"  # never "-0.00"


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


# The calendar's words as the portal's English prints them (``short_datetime``,
# and the progress line's "Tue 1 Dec" in ``catalog_status``).
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


@register.filter(expects_localtime=True)
def short_datetime(value):
    """A moment in a list, in local time: `27 Nov 2026, 09:05`, as Django's
    ``date:"j M Y, H:i"`` prints it in the portal's English, in a quarter of
    the time (8 µs against 36 a row of a template loop, with the lookup): a
    request's timeline and My requests print one a row. Anything but a moment
    prints nothing, as with ``date``."""
    if not isinstance(value, datetime):
        return ""
    return (
        f"{value.day} {MONTHS[value.month - 1]} {value.year}, "
        f"{value.hour:02}:{value.minute:02}"
    )


# Stand-ins for a route's numbers: digits no address of the portal holds. A
# number of more digits than they have goes to ``{% url %}``: a route may
# refuse it (``catalog.ids``).
_STAND_INS = (987_654_321_001, 987_654_321_002, 987_654_321_003)
_BEYOND = 10 ** len(str(_STAND_INS[0]))


def _joined(pieces: list[str], args) -> str:
    joined = [pieces[0]]
    for arg, piece in zip(args, pieces[1:], strict=True):
        joined += [str(arg), piece]
    return "".join(joined)


class RowURLNode(URLNode):
    """``{% url %}`` for the link on every row of a list, whose arguments are
    numbers (keys): the route is reversed once a page, with stand-ins for the
    numbers, and each row's numbers are put in their place: 3 µs a link in a
    template loop against ``{% url %}``'s 26 (bench/README.md, "A list's
    rows"). Anything else goes to ``{% url %}``: keyword arguments, ``as``,
    an argument that is not a whole number or has more digits than the
    stand-ins, a route that doesn't print its numbers as they are."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        if (
            self.kwargs
            or self.asvar
            or len(args) > len(_STAND_INS)
            or any(type(arg) is not int or not 0 <= arg < _BEYOND for arg in args)
        ):
            return super().render(context)
        # Kept for this page only: the address prefix is the request's.
        view_name = self.view_name.resolve(context)
        known = context.render_context.get(self)
        if known is None:
            known = context.render_context[self] = {}
        pieces = known.get(view_name)
        if pieces is None:
            pieces = known[view_name] = self._pieces(context, view_name, len(args))
        if not pieces:
            return super().render(context)
        return _joined(pieces, args)

    def _pieces(self, context, view_name: str, count: int) -> list[str]:
        """The address around the stand-ins, escaped as ``{% url %}`` would:
        ``["/items/", "/"]`` for ``/items/<stand-in>/``. Empty when that does
        not give what ``reverse`` gives for other numbers."""
        # The application namespace as {% url %} finds it.
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            match = getattr(request, "resolver_match", None)
            current_app = getattr(match, "namespace", None)
        stand_ins = _STAND_INS[:count]
        try:
            rest = reverse(view_name, args=stand_ins, current_app=current_app)
            ones = reverse(view_name, args=[1] * count, current_app=current_app)
        except NoReverseMatch:
            return []
        pieces = []
        for stand_in in map(str, stand_ins):
            head, found, rest = rest.partition(stand_in)
            if not found:
                return []
            pieces.append(head)
        pieces.append(rest)
        if _joined(pieces, [1] * count) != ones:
            return []
        return (
            [conditional_escape(piece) for piece in pieces]
            if context.autoescape
            else pieces
        )


@register.tag
def row_url(parser, token):
    """``{% row_url 'catalog:request_detail' r.pk %}``: as ``{% url %}``, for a
    link printed on every row (``RowURLNode``)."""
    node = url(parser, token)
    return RowURLNode(node.view_name, node.args, node.kwargs, node.asvar)
