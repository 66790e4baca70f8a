"""Reading clerks' .xlsx files (core.excel.read_sheet): each messy case of issue 4 point 3 is
repaired or reported with the row and column as Excel shows them and how to fix the file.
Every file is a real .xlsx written with openpyxl in the test."""

import datetime
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from core.excel import (
    BOOLEAN,
    CHOICE,
    CODE,
    DATE,
    INTEGER,
    TEXT,
    ImportColumn,
    ImportFileError,
    build_template,
    read_sheet,
)

LOST_DIGITS = "该单元格被 Excel 转成了科学计数法，位数已丢失，请把该列设为文本格式后重新填写。"

COLUMNS = (
    ImportColumn("number", "工号", CODE, required=True),
    ImportColumn("name", "姓名", TEXT, required=True),
    ImportColumn("licence", "执业证书编码", CODE),
    ImportColumn("beds", "床位", INTEGER),
    ImportColumn("since", "入职日期", DATE),
    ImportColumn("gp", "是否全科医生", BOOLEAN),
    ImportColumn("gender", "性别", CHOICE, choices=(("male", "男"), ("female", "女"))),
    ImportColumn("department", "科室代码", CODE, zero_pad=2),
)


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def xlsx(rows, *, merge=(), name="职工.xlsx", formats=None):
    """An uploaded .xlsx whose first sheet holds `rows` (lists of cell values)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for cell_range in merge:
        sheet.merge_cells(cell_range)
    for coordinate, number_format in (formats or {}).items():
        sheet[coordinate].number_format = number_format
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def only_row(sheet):
    assert sheet.errors == []
    assert len(sheet.rows) == 1
    return sheet.rows[0]


def test_a_clean_file_reads_as_rows_numbered_as_excel_shows_them():
    sheet = read_sheet(xlsx([["工号", "姓名"], ["E001", "李华"], ["E002", "王芳"]]), COLUMNS)

    assert sheet.rows == [(2, {"number": "E001", "name": "李华"}), (3, {"number": "E002", "name": "王芳"})]
    assert sheet.headers == {"number": "工号", "name": "姓名"}
    assert sheet.notes == []


def test_a_licence_number_excel_stored_as_a_float_is_turned_back_into_its_digits():
    sheet = read_sheet(xlsx([["工号", "姓名", "执业证书编码"], ["E001", "李华", 110330100000001.0]]), COLUMNS)

    assert only_row(sheet)[1]["licence"] == "110330100000001"


def test_a_licence_number_typed_in_scientific_notation_without_lost_digits_is_repaired():
    sheet = read_sheet(
        xlsx([["工号", "姓名", "执业证书编码"], ["E001", "李华", "1.10330100000001E+14"]]), COLUMNS
    )

    assert only_row(sheet)[1]["licence"] == "110330100000001"


@pytest.mark.parametrize("mangled", [1.1e17, "1.1E+17", 110330100000000011])
def test_a_number_with_more_than_15_digits_is_rejected_because_excel_lost_digits(mangled):
    sheet = read_sheet(xlsx([["工号", "姓名", "执业证书编码"], ["E001", "李华", mangled]]), COLUMNS)

    assert sheet.rows == []
    assert [(e.row, e.column, e.message) for e in sheet.errors] == [(2, "执业证书编码", LOST_DIGITS)]


def test_a_code_excel_made_a_decimal_is_rejected_with_advice():
    sheet = read_sheet(xlsx([["工号", "姓名", "科室代码"], ["E001", "李华", 3.01]]), COLUMNS)

    assert [(e.row, e.column) for e in sheet.errors] == [(2, "科室代码")]
    assert "设为文本格式" in sheet.errors[0].message


def test_a_short_code_excel_made_a_number_gets_its_leading_zero_back():
    sheet = read_sheet(xlsx([["工号", "姓名", "科室代码"], ["E001", "李华", 3]]), COLUMNS)

    assert only_row(sheet)[1]["department"] == "03"


def test_spaces_and_full_width_characters_in_codes_and_names_are_normalised():
    rows = [
        ["工号", "姓名", "执业证书编码", "床位"],
        ["  ｅ ００１ ", " 李　 华 ", "１１０３３０ １０００００００１", "１２０"],
    ]

    values = only_row(read_sheet(xlsx(rows), COLUMNS))[1]

    assert values == {"number": "E001", "name": "李 华", "licence": "110330100000001", "beds": 120}


def test_headers_with_spaces_full_width_letters_and_a_required_star_are_recognised():
    sheet = read_sheet(xlsx([[" 工 号* ", "姓名＊"], ["E001", "李华"]]), COLUMNS)

    assert only_row(sheet) == (2, {"number": "E001", "name": "李华"})


def test_blank_rows_are_skipped_not_rejected():
    rows = [["工号", "姓名"], ["E001", "李华"], [None, None], ["  ", ""], ["E002", "王芳"]]

    sheet = read_sheet(xlsx(rows), COLUMNS)

    assert [number for number, _values in sheet.rows] == [2, 5]
    assert sheet.errors == []


def test_a_title_row_above_the_header_is_passed_over():
    rows = [["2024年职工花名册"], [], ["工号", "姓名"], ["E001", "李华"]]

    sheet = read_sheet(xlsx(rows, merge=["A1:B1"]), COLUMNS)

    assert only_row(sheet) == (4, {"number": "E001", "name": "李华"})


def test_a_two_row_header_whose_second_row_refines_the_first_is_joined():
    rows = [
        ["工号", "姓名", "执业证书", "是否"],
        [None, None, "编码", "全科医生"],
        ["E001", "李华", "110330100000001", "是"],
    ]

    sheet = read_sheet(xlsx(rows, merge=["A1:A2", "B1:B2"]), COLUMNS)

    assert only_row(sheet) == (
        3,
        {"number": "E001", "name": "李华", "licence": "110330100000001", "gp": True},
    )
    assert sheet.headers["licence"] == "执业证书编码"


def test_a_merged_group_header_over_two_columns_is_read_from_the_row_below():
    rows = [
        ["基本信息", None, "执业信息"],
        ["工号", "姓名", "执业证书编码"],
        ["E001", "李华", "110330100000001"],
    ]

    sheet = read_sheet(xlsx(rows, merge=["A1:B1"]), COLUMNS)

    assert only_row(sheet) == (3, {"number": "E001", "name": "李华", "licence": "110330100000001"})


def test_a_code_merged_down_over_several_rows_applies_to_each_of_them():
    rows = [["科室代码", "工号", "姓名"], ["03", "E001", "李华"], [None, "E002", "王芳"]]

    sheet = read_sheet(xlsx(rows, merge=["A2:A3"]), COLUMNS)

    assert [values["department"] for _number, values in sheet.rows] == ["03", "03"]


def test_unknown_headers_are_ignored_with_a_note():
    sheet = read_sheet(xlsx([["工号", "姓名", "备注"], ["E001", "李华", "新入职"]]), COLUMNS)

    assert only_row(sheet)[1] == {"number": "E001", "name": "李华"}
    assert sheet.notes == ["以下列不属于本次导入，已忽略：备注。"]


def test_missing_required_headers_reject_the_whole_file_naming_them():
    with pytest.raises(ImportFileError) as error:
        read_sheet(xlsx([["执业证书编码", "床位"], ["110330100000001", 3]]), COLUMNS)

    assert error.value.message == "文件缺少必填列：工号、姓名。请使用导入模板的表头。"


def test_an_empty_required_cell_rejects_the_row():
    sheet = read_sheet(xlsx([["工号", "姓名"], ["E001", None], ["E002", "王芳"]]), COLUMNS)

    assert [(e.row, e.column, e.message) for e in sheet.errors] == [(2, "姓名", "此单元格必须填写。")]
    assert sheet.rows == [(3, {"number": "E002", "name": "王芳"})]


@pytest.mark.parametrize(
    "cell",
    [
        datetime.datetime(2024, 3, 5),
        "2024-03-05",
        "2024/3/5",
        "2024年3月5日",
        " 2024 年 3 月 5 日 ",
        "2024.3.5",
        45356,
    ],
)
def test_dates_as_excel_dates_serial_numbers_and_text_are_understood(cell):
    sheet = read_sheet(xlsx([["工号", "姓名", "入职日期"], ["E001", "李华", cell]]), COLUMNS)

    assert only_row(sheet)[1]["since"] == datetime.date(2024, 3, 5)


@pytest.mark.parametrize("cell", ["2024-02-30", "三月五日", "5/3/2024"])
def test_a_date_that_cannot_be_read_is_rejected_with_the_format_to_use(cell):
    sheet = read_sheet(xlsx([["工号", "姓名", "入职日期"], ["E001", "李华", cell]]), COLUMNS)

    assert [(e.row, e.column, e.message) for e in sheet.errors] == [
        (2, "入职日期", "无法识别的日期，请写成 2024-01-31 这样的格式。")
    ]


@pytest.mark.parametrize(
    ("cell", "value"), [("是", True), ("否", False), (" 是 ", True), (True, True), ("Y", True), (0, False)]
)
def test_booleans_as_shi_and_fou(cell, value):
    sheet = read_sheet(xlsx([["工号", "姓名", "是否全科医生"], ["E001", "李华", cell]]), COLUMNS)

    assert only_row(sheet)[1]["gp"] is value


def test_a_boolean_that_is_neither_shi_nor_fou_is_rejected():
    sheet = read_sheet(xlsx([["工号", "姓名", "是否全科医生"], ["E001", "李华", "可能"]]), COLUMNS)

    assert [(e.column, e.message) for e in sheet.errors] == [("是否全科医生", "请填写“是”或“否”。")]


def test_a_choice_accepts_its_chinese_label_and_lists_the_allowed_values_otherwise():
    rows = [["工号", "姓名", "性别"], ["E001", "李华", " 女 "], ["E002", "王芳", "F"]]

    sheet = read_sheet(xlsx(rows), COLUMNS)

    assert sheet.rows == [(2, {"number": "E001", "name": "李华", "gender": "female"})]
    assert [(e.row, e.message) for e in sheet.errors] == [(3, "“F”不是允许的值，可填：男、女。")]


def test_a_whole_number_column_rejects_text():
    sheet = read_sheet(xlsx([["工号", "姓名", "床位"], ["E001", "李华", "很多"]]), COLUMNS)

    assert [(e.column, e.message) for e in sheet.errors] == [("床位", "请填写整数，例如 120。")]


def test_too_many_rows_reject_the_file_with_the_limit():
    rows = [["工号", "姓名"]] + [[f"E{n}", "李华"] for n in range(6)]

    with pytest.raises(ImportFileError) as error:
        read_sheet(xlsx(rows), COLUMNS, max_rows=5)

    assert error.value.message == "文件有 6 行数据，一次最多导入 5 行。请拆分成几个文件。"


def test_a_file_that_is_not_xlsx_is_rejected_with_advice():
    with pytest.raises(ImportFileError) as error:
        read_sheet(SimpleUploadedFile("职工.xls", b"\xd0\xcf\x11\xe0 old excel"), COLUMNS)

    assert "xlsx" in error.value.message and "另存为" in error.value.message


def test_a_broken_xlsx_is_rejected_with_advice():
    with pytest.raises(ImportFileError) as error:
        read_sheet(SimpleUploadedFile("职工.xlsx", b"not a zip"), COLUMNS)

    assert "另存为" in error.value.message


def test_the_template_has_chinese_headers_an_example_row_text_identifiers_and_instructions():
    columns = (
        ImportColumn("number", "工号", CODE, required=True, example="E001", help="在医共体内唯一"),
        ImportColumn("gender", "性别", CHOICE, choices=(("male", "男"), ("female", "女")), example="female"),
        ImportColumn("gp", "是否全科医生", BOOLEAN, example=True),
    )
    buffer = BytesIO()
    build_template("职工", columns, instructions=["每行一名职工。"]).save(buffer)
    buffer.seek(0)

    workbook = load_workbook(buffer)

    sheet, help_sheet = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == ["工号", "性别", "是否全科医生"]
    assert [cell.value for cell in sheet[2]] == ["E001", "女", "是"]
    assert sheet["A2"].number_format == "@"
    assert sheet.column_dimensions["A"].number_format == "@"
    assert help_sheet.title == "填写说明"
    rows = [[cell.value for cell in row] for row in help_sheet.iter_rows()]
    assert rows[0] == ["每行一名职工。", None, None, None]
    assert ["工号", "是", "在医共体内唯一", None] in rows
    assert ["性别", None, None, "男、女"] in rows
