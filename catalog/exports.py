"""Downloads of report tables as CSV and XLSX, shared by the executive pages.

Two calls, both given rows as an iterable (a generator is fine, nothing is held
in memory twice):

- ``csv_response(filename, header, rows)``: one table, streamed as it is
  written. ``sheets_as_rows(sheets)`` turns several tables into one CSV's rows
  (each under its title, separated by an empty line).
- ``xlsx_response(filename, sheets)``: one worksheet per ``Sheet``, written with
  openpyxl's write-only workbook (rows go straight to disk) and streamed from a
  temporary file.

Values are written as they are: numbers stay numbers, dates stay dates. Text
that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with an apostrophe, so a service
name can't run anything in the reader's spreadsheet.
"""

import csv
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Cell formats by the kind of figure in a column.
XLSX_FORMATS = {
    "money": "#,##0.00",
    "count": "#,##0",
    "percent": "0.0",
    "hours": "0.0",
    "rating": "0.0",
    "month": "mmm yyyy",
    "date": "yyyy-mm-dd",
    "auto": "#,##0.##",
}


@dataclass
class Sheet:
    """One table: a title (the worksheet's name), column headings and rows.
    ``formats`` optionally names each column's kind (a key of XLSX_FORMATS)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence]
    formats: Sequence[str | None] = field(default_factory=tuple)


def safe_text(value):
    """Text a spreadsheet won't run; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return safe_text(value)


class _Echo:
    """A file that hands back what is written to it, for streaming csv.writer."""

    def write(self, value):
        return value


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    filename: str, header: Sequence[str] | None, rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """A CSV download of ``rows`` under ``header`` (none if empty), in UTF-8
    with a byte-order mark so spreadsheet programs read accents right."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        if header:
            yield writer.writerow([safe_text(h) for h in header])
        for row in rows:
            yield writer.writerow([_csv_value(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    return _attachment(response, filename)


def sheets_as_rows(sheets: Iterable[Sheet]):
    """Several tables as the rows of one CSV: title, headings, rows, blank."""
    for number, sheet in enumerate(sheets):
        if number:
            yield []
        yield [sheet.title]
        if any(sheet.header):
            yield list(sheet.header)
        yield from sheet.rows


def _sheet_title(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()[:31]
    cleaned = cleaned or "Sheet"
    candidate, number = cleaned, 2
    while candidate.lower() in used:
        suffix = f" ({number})"
        candidate = cleaned[: 31 - len(suffix)] + suffix
        number += 1
    used.add(candidate.lower())
    return candidate


def _xlsx_value(value):
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: local time, as the page shows it.
        return timezone.localtime(value).replace(tzinfo=None)
    return safe_text(value)


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> FileResponse:
    """An XLSX download with one worksheet per sheet, headings in bold."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    used: set[str] = set()
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title, used))
        if any(sheet.header):
            cells = []
            for heading in sheet.header:
                cell = WriteOnlyCell(worksheet, value=safe_text(heading))
                cell.font = bold
                cells.append(cell)
            worksheet.append(cells)
        formats = [XLSX_FORMATS.get(kind or "") for kind in sheet.formats]
        for row in sheet.rows:
            cells = []
            for column, value in enumerate(row):
                cell = WriteOnlyCell(worksheet, value=_xlsx_value(value))
                number_format = formats[column] if column < len(formats) else None
                if number_format and value is not None:
                    cell.number_format = number_format
                elif isinstance(value, date) and not isinstance(value, datetime):
                    cell.number_format = XLSX_FORMATS["date"]
                cells.append(cell)
            worksheet.append(cells)
    # Spooled: small workbooks stay in memory, large ones go to disk. The
    # response closes it once sent, so no ``with`` here.
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=filename, content_type=XLSX_TYPE
    )
