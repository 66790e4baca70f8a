"""Writing .xlsx: one way to turn rows into a workbook a clerk opens in Excel or WPS, and to send
it as a download. Text stays text, so identifiers are never turned into 1.1E+17."""

import datetime
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_EXPORT_ROWS = 100_000  # a county's largest list (staff, residents) stays well below this
# A text Excel or WPS would run as a formula (=HYPERLINK(…), +cmd|…, -1+1, @SUM(…)): every
# written cell starting so is a plain string cell, shown as typed and never evaluated.
FORMULA_START = ("=", "+", "-", "@")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, int | float | datetime.date):
        return value
    return str(value)


def build_workbook(sheets):
    """`sheets`: [(title, headers, rows)]; each row a sequence of values. Text stays text."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([str(header) for header in headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(value) for value in row])
            _as_text(sheet[sheet.max_row])
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(10, len(str(header)) * 2 + 4)
        sheet.freeze_panes = "A2"
    return workbook


def _as_text(cells):
    for cell in cells:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
            cell.data_type = "s"  # openpyxl would store "=…" as a live formula


def xlsx_response(filename, sheets):
    """An .xlsx download named `filename` (without extension) and today's date holding `sheets`."""
    stamp = timezone.localdate().strftime("%Y%m%d")
    return workbook_response(f"{filename}-{stamp}", build_workbook(sheets))


def workbook_response(filename, workbook):
    """`workbook` as a download named `filename` (without extension)."""
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(str(filename))}.xlsx"
    return response
