"""The monthly IT bill per cost centre: the statement, the items behind each line,
and its downloads.

What a person may see and what the figures are is decided in
``catalog.selectors.reporting.bill``: these views read, then render. No
reporting permission is a 403, another department's cost centre a 404, and a
month that can't be read is shown in the error summary with a 400.
"""

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from catalog.exports import Sheet, csv_response, sheets_as_rows, xlsx_response
from catalog.forms import PlainTextMixin
from catalog.selectors.reporting.bill import Bill, BillPage, bill_items, bill_page

EXPORT_FORMATS = ("csv", "xlsx")


class MonthInput(forms.TextInput):
    input_type = "month"


class BillForm(PlainTextMixin, forms.Form):
    """The cost centre and month picker, for showing it with its errors (the
    selector reads the same parameters)."""

    cost_centre = forms.ChoiceField(label="Cost centre")
    month = forms.CharField(
        label="Month",
        required=False,
        help_text="Year and month, e.g. 2026-10.",
        widget=MonthInput(attrs={"placeholder": "YYYY-MM", "maxlength": 7}),
    )

    def __init__(self, *args, page: BillPage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cost_centre"].choices = [
            (centre.pk, f"{centre.code} {centre.name}") for centre in page.choices
        ]


def _form(page: BillPage) -> BillForm:
    form = BillForm(
        data={
            "cost_centre": page.cost_centre.pk if page.cost_centre else "",
            "month": page.typed_month if page.month_error else f"{page.month:%Y-%m}",
        },
        page=page,
    )
    form.is_valid()
    if page.month_error:
        form.add_error("month", page.month_error)
    return form


def _render(request, page: BillPage):
    return render(
        request,
        "catalog/executive/bill.html",
        {"page": page, "bill": page.bill, "form": _form(page)},
        status=400 if page.month_error else 200,
    )


def bill(request):
    return _render(request, bill_page(user=request.user, params=request.GET))


def bill_export(request, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404("Bills download as CSV or XLSX.")
    page = bill_page(user=request.user, params=request.GET)
    if page.bill is None:
        return _render(request, page)
    statement = _statement_sheet(page.bill)
    filename = (
        f"it-bill-{page.bill.cost_centre.code}-{page.bill.month:%Y-%m}.{fmt}".lower()
    )
    if fmt == "csv":
        return csv_response(filename, None, sheets_as_rows([statement]))
    return xlsx_response(filename, [statement, _items_sheet(page.bill)])


# --- Downloads: the same figures as the screen --------------------------------------

MONEY_COLUMNS = (None, None, "count", None, "money", "money")


def _status(bill: Bill) -> str:
    if bill.closed is not None:
        closed_on = timezone.localdate(bill.closed.closed_at)
        return f"Closed on {closed_on:%-d %B %Y} by {bill.closed.name}"
    if bill.in_progress:
        return "Open: the month is not over, charges so far"
    return "Open: not closed yet, figures may still change"


def _statement_rows(bill: Bill):
    yield ["Month", f"{bill.month:%B %Y}"]
    yield ["Issued on", bill.issued_on]
    yield ["Status", _status(bill)]
    yield ["Covers", bill.covers]
    if bill.closed is not None:
        yield [
            "Note",
            "This month is closed: the statement is as it was closed. Items are "
            "listed as recorded now; any difference appears as an adjustment on "
            "the next open bill.",
        ]
    yield []
    yield ["Section", "Description", "Quantity", "Unit", "Unit price", "Amount"]
    sections = (
        ("One-off charges", bill.one_off),
        ("Monthly charges", bill.recurring),
        ("Adjustments for closed months", bill.adjustments),
    )
    for title, lines in sections:
        for line in lines:
            yield [
                title,
                line.description,
                line.quantity if not line.is_adjustment else None,
                line.quantity_unit,
                line.unit_price,
                line.amount,
            ]
    yield []
    yield ["Total", "One-off charges", None, None, None, bill.one_off_total]
    yield ["Total", "Monthly charges", None, None, None, bill.recurring_total]
    yield [
        "Total",
        f"Charges for {bill.month:%B %Y}",
        None,
        None,
        None,
        bill.charges_total,
    ]
    yield ["Total", "Adjustments", None, None, None, bill.adjustments_total]
    yield ["Total", "Total due", None, None, None, bill.total]


def _statement_sheet(bill: Bill) -> Sheet:
    centre = bill.cost_centre
    return Sheet(
        title="Statement",
        header=["IT bill", f"{centre.code} {centre.name}"],
        rows=_statement_rows(bill),
        formats=MONEY_COLUMNS,
    )


def _items_sheet(bill: Bill) -> Sheet:
    return Sheet(
        title="Items",
        header=[
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
        ],
        rows=(
            [
                item.number,
                item.service_name,
                item.for_whom,
                item.charge,
                item.delivered_on,
                item.held_from,
                item.held_until,
                item.days,
                item.units,
                item.unit_price,
                item.amount,
            ]
            for item in bill_items(bill=bill)
        ),
        formats=(None,) * 7 + ("count", "count", "money", "money"),
    )
