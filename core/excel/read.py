"""Reading a clerk's upload (.xlsx, or .csv for imports that allow it) against the columns an import
declares (issue 4 point 3, issue 5 point 3): header detection, clean-up and the checks of every
cell, each problem reported with the row and column as Excel shows them.
"""

import codecs
import csv
import datetime
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

# Clerks' files are messy (issue 4 point 3): identifiers that Excel turned into numbers, merged
# or two-row headers, spaces and full-width characters, blank rows, dates typed as text. Each
# case is either repaired here or reported with the row and column as Excel shows them and a
# message saying how to fix the file.

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 60 * 1024 * 1024  # a 5 MB .xlsx that inflates beyond this is not a clerk's list
MAX_IMPORT_ROWS = 5000
HEADER_SEARCH_ROWS = 5
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number; longer identifiers lose the rest

TEXT, CODE, INTEGER, DATE, BOOLEAN, CHOICE = "text", "code", "integer", "date", "boolean", "choice"


class ImportFileError(Exception):
    """The whole file cannot be read (wrong type, too big, missing columns): nothing is imported."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImportColumn:
    """A column an import reads: `field` (the service's argument), `header` (a lazy translation:
    the file's header in Chinese; the English text and `aliases` are accepted too), `kind`.

    `required` columns must be present in the file and filled on every row. `choices` maps each
    stored value to its label (labels in Chinese and English, the stored value and `aliases`
    are accepted in a cell). `zero_pad` restores leading zeros of short numeric codes (03).
    """

    field: str
    header: str
    kind: str = TEXT
    required: bool = False
    choices: tuple = ()  # ((value, label), ...)
    aliases: tuple = ()
    choice_aliases: tuple = ()  # ((word, value), ...)
    zero_pad: int = 0
    keep_case: bool = False  # a CODE whose letters are kept as typed (an external system's key)
    help: str = ""
    example: object = ""


@dataclass(frozen=True)
class CellError:
    row: int  # the row number Excel shows
    column: str  # the header as it is written in the file
    message: str


@dataclass
class Sheet:
    """What `read_sheet` found: good rows as (row number, {field: value}), cell errors (a row
    with one is not in `rows`), notes (ignored columns) and the file's header of each field."""

    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    headers: dict = field(default_factory=dict)


class CellValueError(ValueError):
    pass


def clean_text(value):
    """NFKC (full-width letters, digits and spaces made half-width), trimmed, inner runs of
    spaces collapsed to one."""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split())


# A hint a clerk (or another template) put in a header: 是否全科（是/否）, 入职日期【年-月-日】.
HEADER_HINT = re.compile(r"[(\[【〔].*?[)\]】〕]")


def _header_key(value):
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return HEADER_HINT.sub("", "".join(text.split())).strip("*").lower()


def header_names(column):
    """Every header text that names `column`: its Chinese and English header and its aliases."""
    names = {_header_key(column.header), *(_header_key(alias) for alias in column.aliases)}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            names.add(_header_key(str(column.header)))
    return names


def read_sheet(file, columns, *, max_rows=MAX_IMPORT_ROWS, allow_csv=False):
    """Read the sheet of an uploaded .xlsx whose header names the most of `columns` (or, with
    `allow_csv`, a .csv) against them (see `Sheet`).

    Raises ImportFileError when the file is not a readable .xlsx or .csv, is too large, has more
    than `max_rows` data rows or lacks a required column.
    """
    if allow_csv and _is_csv(file):
        grids = [("", _load_csv_grid(file))]
    else:
        grids = _load_grids(file, allow_csv=allow_csv)
    title, grid, (header_index, header_depth, by_position) = _best_sheet(grids, columns)
    sheet = Sheet()
    if title and title != grids[0][0]:
        sheet.notes.append(_("The rows were read from the sheet “%(sheet)s”.") % {"sheet": title})
    present = {by_position[position]: position for position in sorted(by_position)}
    missing = [str(column.header) for column in columns if column.required and column.field not in present]
    if missing:
        raise ImportFileError(
            _("The file lacks the required columns %(columns)s. Use the headers of the import template.")
            % {"columns": "、".join(missing)}
        )
    header_texts = _header_texts(grid, header_index, header_depth)
    sheet.headers = {field_name: header_texts[position] for field_name, position in present.items()}
    ignored = [text for position, text in enumerate(header_texts) if text and position not in by_position]
    if ignored:
        sheet.notes.append(
            _("These columns are not part of the import and were ignored: %(columns)s.")
            % {"columns": "、".join(ignored)}
        )
    by_field = {column.field: column for column in columns}
    data = [(index + 1, row) for index, row in enumerate(grid) if index >= header_index + header_depth]
    data = [(number, row) for number, row in data if any(_filled(value) for value in row)]
    if len(data) > max_rows:
        raise ImportFileError(
            _(
                "The file has %(count)d rows; at most %(max)d can be imported at once. Split it into several files."
            )
            % {"count": len(data), "max": max_rows}
        )
    for number, row in data:
        _read_row(sheet, number, row, present, by_field)
    return sheet


def _read_row(sheet, number, row, present, by_field):
    values, errors = {}, []
    for field_name, position in present.items():
        column = by_field[field_name]
        raw = row[position] if position < len(row) else None
        try:
            values[field_name] = parse_cell(raw, column)
        except CellValueError as error:
            errors.append(CellError(number, sheet.headers[field_name], str(error)))
            continue
        if column.required and values[field_name] in (None, ""):
            errors.append(CellError(number, sheet.headers[field_name], _("This cell must be filled in.")))
    if errors:
        sheet.errors.extend(errors)
    else:
        sheet.rows.append((number, values))


def _filled(value):
    return value is not None and clean_text(value) != ""


def _load_grids(file, *, allow_csv=False):
    """Every sheet as (title, a list of rows of values), merged ranges filled with their top-left
    value (a clerk merges a header over two columns, or one institution code over many rows)."""
    name = getattr(file, "name", "") or ""
    if name and not name.lower().endswith(".xlsx"):
        if allow_csv:
            raise ImportFileError(
                _(
                    'Only .xlsx and .csv files can be imported. In Excel use "Save as" → "Excel Workbook (*.xlsx)".'
                )
            )
        raise ImportFileError(
            _('Only .xlsx files can be imported. In Excel use "Save as" → "Excel Workbook (*.xlsx)".')
        )
    _check_size(file)
    try:
        with zipfile.ZipFile(file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise ImportFileError(_("The file is too large once opened; split it into several files."))
        file.seek(0)
        workbook = load_workbook(file, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException):
        raise ImportFileError(
            _(
                'This is not a readable .xlsx file. Open it in Excel and "Save as" → "Excel Workbook (*.xlsx)".'
            )
        ) from None
    return [(worksheet.title, _grid_of(worksheet)) for worksheet in workbook.worksheets]


def _grid_of(worksheet):
    grid = [list(row) for row in worksheet.iter_rows(values_only=True)]
    for merged in worksheet.merged_cells.ranges:
        if merged.min_row > len(grid):
            continue
        top_left = grid[merged.min_row - 1][merged.min_col - 1]
        for row in range(merged.min_row - 1, min(merged.max_row, len(grid))):
            for col in range(merged.min_col - 1, min(merged.max_col, len(grid[row]))):
                grid[row][col] = top_left
    return grid


def _best_sheet(grids, columns):
    """The sheet whose header names the most columns (the data may follow an instructions sheet
    or sit on any sheet of a clerk's workbook): (title, grid, header)."""
    best, failure = None, None
    for title, grid in grids:
        try:
            header = _find_header(grid, columns)
        except ImportFileError as error:
            failure = failure or error
            continue
        if best is None or len(set(header[2].values())) > len(set(best[2][2].values())):
            best = (title, grid, header)
    if best is None:
        raise failure
    return best


def _check_size(file):
    size = getattr(file, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise _too_large()


def _too_large():
    return ImportFileError(
        _("The file is larger than %(mb)d MB; split it into several files.")
        % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    )


# Excel in China saves "CSV (逗号分隔)" in the system's code page, GBK; GB18030 is its superset.
# "CSV UTF-8" starts with a byte-order mark. UTF-8 is tried first: GBK text is almost never
# valid UTF-8, while UTF-8 text often decodes as (wrong) GB18030.
CSV_ENCODINGS = ("utf-8", "gb18030")


def _is_csv(file):
    """A .csv by its name; a file without a name (tests, scripts) when it is not a zip archive."""
    name = (getattr(file, "name", "") or "").lower()
    if name:
        return name.endswith(".csv")
    file.seek(0)
    start = file.read(4)
    file.seek(0)
    return not start.startswith(b"PK")


def _load_csv_grid(file):
    """A comma-separated file as the same grid of rows `_load_grid` gives (every cell text)."""
    _check_size(file)
    file.seek(0)
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large()
    text = _decode_csv(data)
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error:
        raise ImportFileError(
            _('This is not a readable .csv file. In Excel use "Save as" → "CSV UTF-8 (comma delimited)".')
        ) from None


def _decode_csv(data):
    if data.startswith(codecs.BOM_UTF8):
        candidates, data = ("utf-8",), data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ()  # Excel's "Unicode text" is tab-separated UTF-16, not a CSV
    else:
        candidates = CSV_ENCODINGS
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        _(
            'The text encoding of this .csv file is not recognised. In Excel use "Save as" → "CSV UTF-8 (comma delimited)".'
        )
    )


def _find_header(grid, columns):
    """The header is the row (or pair of rows) within the first rows that names the most known
    columns. In a two-row header the lower cell refines the upper one (执业证书 / 编码), so a
    column is matched by the joined text first, then by the lower or upper text alone."""
    names = {column.field: header_names(column) for column in columns}
    best = (0, 0, 1, {})
    for index in range(min(HEADER_SEARCH_ROWS, len(grid))):
        for depth in (1, 2):
            if index + depth > len(grid):
                continue
            matched = _match_headers(grid, index, depth, names)
            # Two rows win only by naming more columns: a merged title row above a one-row
            # header (2024年职工花名册) must not be glued onto every column name.
            if len(set(matched.values())) > best[0]:
                best = (len(set(matched.values())), index, depth, matched)
            elif (
                depth == 1 and best[2] == 2 and len(set(matched.values())) == best[0] and best[1] == index - 1
            ):
                best = (best[0], index, depth, matched)
    if best[0] == 0:
        raise ImportFileError(
            _(
                "No known column header was found in the first %(n)d rows. Use the headers of the import template."
            )
            % {"n": HEADER_SEARCH_ROWS}
        )
    return best[1], best[2], best[3]


def _match_headers(grid, index, depth, names):
    matched, taken = {}, set()
    width = max(len(row) for row in grid[index : index + depth])
    for position in range(width):
        cells = [row[position] if position < len(row) else None for row in grid[index : index + depth]]
        keys = [_header_key(cell) for cell in cells]
        candidates = ["".join(keys)] + keys[::-1] if depth == 2 else keys
        if depth == 2 and keys[0] == keys[1]:
            candidates = [keys[0]]  # a header merged vertically over both rows
        for key in candidates:
            field_name = next((f for f, known in names.items() if key and key in known), None)
            if field_name and field_name not in taken:
                matched[position] = field_name
                taken.add(field_name)
                break
    return matched


def _header_texts(grid, index, depth):
    width = max(len(row) for row in grid[index : index + depth])
    texts = []
    for position in range(width):
        parts = []
        for row in grid[index : index + depth]:
            text = clean_text(row[position]) if position < len(row) and row[position] is not None else ""
            if text and text not in parts:
                parts.append(text)
        texts.append("".join(parts))
    return texts


# --- Cells -------------------------------------------------------------------------------------
def parse_cell(value, column):
    """The value of one cell for `column`, or None when empty; CellValueError says how to fix it."""
    if value is None or (isinstance(value, str) and clean_text(value) == ""):
        return None
    parse = {
        TEXT: _text,
        CODE: _code,
        INTEGER: _integer,
        DATE: _date,
        BOOLEAN: _boolean,
        CHOICE: _choice,
    }[column.kind]
    return parse(value, column)


def _text(value, column):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


DOTTED_DIGITS = re.compile(r"^\d+(\.\d+)*$")
SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?E[+-]?\d+$", re.IGNORECASE)


def _code(value, column):
    """An identifier (code, licence or credit number): no spaces, half-width, upper case.
    A number that Excel made of it is turned back into its digits when no digit was lost."""
    if isinstance(value, bool):
        raise CellValueError(_("Fill in a code here, not a yes/no value."))
    if isinstance(value, int | float | Decimal):
        return _digits_of_number(Decimal(str(value)) if isinstance(value, float) else Decimal(value), column)
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    text = text if column.keep_case else text.upper()
    if SCIENTIFIC.match(text):
        return _digits_of_number(Decimal(text), column)
    if column.zero_pad and DOTTED_DIGITS.match(text):  # a .csv saved by Excel: 2 for 02, 3.01 for 03.01
        head, dot, rest = text.partition(".")
        return f"{head.zfill(column.zero_pad)}{dot}{rest}"
    return text


def _digits_of_number(number, column):
    lost = _(
        "Excel turned this cell into scientific notation and digits were lost; "
        "format the column as text and fill it in again."
    )
    if number != number.to_integral_value():
        raise CellValueError(
            _("Excel turned this code into a decimal number; format the column as text and fill it in again.")
        )
    digits = str(abs(int(number)))
    if len(digits) > EXCEL_DIGITS:
        raise CellValueError(lost)
    return digits.zfill(column.zero_pad) if column.zero_pad else digits


def _integer(value, column):
    if isinstance(value, bool):
        raise CellValueError(_("Fill in a whole number here."))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = "".join(unicodedata.normalize("NFKC", str(value)).split()).replace(",", "")
        if not re.fullmatch(r"\d+(\.0+)?", text):
            raise CellValueError(_("Fill in a whole number here, e.g. 120."))
        number = int(Decimal(text))
    if number < 0:
        raise CellValueError(_("Fill in a whole number here, e.g. 120."))
    return number


# A date outside these years is a typing slip (2204 for 2024, 1024 for 2024), not a plan.
EARLIEST_YEAR, YEARS_AHEAD = 1900, 5
DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
TIME_OF_DAY = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2})?$")


def _date(value, column):
    """A plausible date (EARLIEST_YEAR to YEARS_AHEAD years from today): a date cell, an Excel
    serial number, or text as 2024-01-31, 2024/1/31 or 2024年1月31日."""
    day = _any_date(value)
    latest = timezone.localdate().replace(month=1, day=1).year + YEARS_AHEAD
    if not EARLIEST_YEAR <= day.year <= latest:
        raise CellValueError(
            _("The year %(year)d cannot be right for this column; check the date (e.g. 2024-01-31).")
            % {"year": day.year}
        )
    return day


def _any_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return from_excel(value).date()
    text = TIME_OF_DAY.sub("", clean_text(value))  # "2024-01-31 00:00:00" typed or pasted as text
    match = DATE_TEXT.match("".join(text.split()))
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellValueError(_("This is not a date Excel or the import understands; write it as 2024-01-31."))


TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "无"}


def _boolean(value, column):
    if isinstance(value, bool):
        return value
    word = _header_key(value)
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellValueError(_("Fill in 是 or 否 here."))


def choice_words(column):
    """Every word accepted in a cell of a choice column, mapped to the stored value."""
    words = {}
    for value, label in column.choices:
        words[_header_key(value)] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                words[_header_key(str(label))] = value
    for word, value in column.choice_aliases:
        words[_header_key(word)] = value
    return words


def choice_labels(column):
    """The allowed values of a choice column as a clerk writes them (for messages and the template)."""
    return [str(label) for _value, label in column.choices]


def _choice(value, column):
    found = choice_words(column).get(_header_key(value))
    if found is None:
        raise CellValueError(
            _("“%(value)s” is not one of the allowed values: %(allowed)s.")
            % {"value": clean_text(value), "allowed": "、".join(choice_labels(column))}
        )
    return found
