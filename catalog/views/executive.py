"""The executive dashboard, the items behind each figure, and its downloads.

Who sees what, and what the figures are, is decided in
``catalog.selectors.reporting``: these views read, then render. Filters with
errors are shown with the error summary and a 400; other departments' things
are 404 and missing permission 403 (raised by the selectors).
"""

from django.http import Http404
from django.shortcuts import render

from catalog.exports import csv_response, sheets_as_rows, xlsx_response
from catalog.selectors.reporting.dashboard import (
    dashboard_page,
    dashboard_sheets,
    export_filename,
    report_items,
)

EXPORT_FORMATS = ("csv", "xlsx")


def _render_dashboard(request, report):
    return render(
        request,
        "catalog/executive/dashboard.html",
        {"report": report, "dashboard": report.dashboard},
        status=200 if report.dashboard is not None else 400,
    )


def dashboard(request):
    return _render_dashboard(
        request, dashboard_page(user=request.user, params=request.GET)
    )


def items(request):
    listing = report_items(user=request.user, params=request.GET)
    return render(
        request,
        "catalog/executive/items.html",
        {"listing": listing},
        status=200 if listing.summary is not None else 400,
    )


def export(request, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404("Downloads come as CSV or XLSX.")
    report = dashboard_page(user=request.user, params=request.GET)
    if report.dashboard is None:
        return _render_dashboard(request, report)
    sheets = dashboard_sheets(report.dashboard)
    filename = export_filename(report.dashboard, fmt)
    if fmt == "csv":
        return csv_response(filename, None, sheets_as_rows(sheets))
    return xlsx_response(filename, sheets)
