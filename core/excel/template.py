"""The template of an import: the headers and one example row as the import reads them, and a
填写说明 sheet explaining each column."""

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .read import BOOLEAN, CHOICE, CODE, DATE, choice_labels
from .write import workbook_response


def build_template(title, columns, *, instructions):
    """A template workbook: the headers and one example row on the first sheet, identifier
    columns formatted as text ('@') so Excel keeps them as typed; a second sheet 填写说明
    explaining each column (`instructions`: lines shown above the column table)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(title)[:31]
    sheet.append([str(column.header) for column in columns])
    sheet.append([_example(column) for column in columns])
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, len(str(column.header)) * 2 + 4)
        if column.kind == CODE:
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
        elif column.kind == DATE:
            sheet.cell(row=2, column=index).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    _instructions_sheet(workbook, columns, instructions)
    return workbook


def _example(column):
    if column.kind == CHOICE and column.example in dict(column.choices):
        return str(dict(column.choices)[column.example])
    if column.kind == BOOLEAN and isinstance(column.example, bool):
        return "是" if column.example else "否"
    return column.example


def _instructions_sheet(workbook, columns, instructions):
    sheet = workbook.create_sheet(str(_("Instructions"))[:31])
    for line in instructions:
        sheet.append([str(line)])
    sheet.append([])
    heading = [_("Column"), _("Required"), _("Explanation"), _("Allowed values")]
    sheet.append([str(text) for text in heading])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column in columns:
        allowed = "、".join(choice_labels(column)) if column.kind == CHOICE else ""
        if column.kind == BOOLEAN:
            allowed = "是、否"
        required = _("Yes") if column.required else ""
        sheet.append([str(column.header), str(required), str(column.help), allowed])
    for letter, width in zip("ABCD", (22, 8, 70, 50), strict=True):
        sheet.column_dimensions[letter].width = width


def template_response(filename, workbook):
    """The template as a download."""
    return workbook_response(filename, workbook)
