"""Excel (.xlsx) out and in, with openpyxl, split by concern:

- `write`: rows → a workbook a clerk opens in Excel or WPS, and its download (lists' exports);
- `read`: a clerk's upload (.xlsx, or .csv where an import allows it) against the columns an
  import declares (`ImportColumn`, `read_sheet`), every problem reported by row and column;
- `template`: the matching template of an import, with its 填写说明 sheet.

Callers import from `core.excel`; the names below are the whole public surface.
"""

from .read import (
    BOOLEAN,
    CHOICE,
    CODE,
    DATE,
    INTEGER,
    MAX_IMPORT_ROWS,
    MAX_UPLOAD_BYTES,
    TEXT,
    CellError,
    ImportColumn,
    ImportFileError,
    Sheet,
    parse_cell,
    read_sheet,
)
from .template import build_template, template_response
from .write import MAX_EXPORT_ROWS, XLSX, build_workbook, workbook_response, xlsx_response

__all__ = [
    "BOOLEAN", "CHOICE", "CODE", "DATE", "INTEGER", "MAX_EXPORT_ROWS", "MAX_IMPORT_ROWS",
    "MAX_UPLOAD_BYTES", "TEXT", "XLSX", "CellError", "ImportColumn", "ImportFileError", "Sheet",
    "build_template", "build_workbook", "parse_cell", "read_sheet", "template_response",
    "workbook_response", "xlsx_response",
]  # fmt: skip
