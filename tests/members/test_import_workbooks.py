"""Workbooks as clerks make them (issue 13 point 1), through the staff import page: the data on
another sheet than the first, a merged title row above the header, hints in the headers with
full-width brackets, and numbers that lost their leading zeros."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from core.models import Job
from members.models import StaffMember
from tests.members.factories import staff

pytestmark = pytest.mark.django_db

HEADERS = ["工号", "姓名", "性别", "专业类别", "执业证书编码", "机构代码", "科室代码", "入职日期"]


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def _row(institution, number="E9301", licence="110330100000031"):
    return [number, "李华", "女", "医师", licence, institution.code, "02", "2024-03-01"]


def _upload(client, world, workbook):
    mine, _other, users = world
    buffer = BytesIO()
    workbook.save(buffer)
    client.force_login(users["alliance_admin"])
    with TestCase.captureOnCommitCallbacks(execute=True):  # the preview task
        response = client.post(
            reverse("members:import_staff"),
            {"target": mine.alliance.pk, "file": SimpleUploadedFile("花名册.xlsx", buffer.getvalue())},
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    return Job.objects.get(kind="import_staff"), client.get(response["Location"]).content.decode()


def test_the_data_on_a_sheet_after_the_instructions_is_found(client, world):
    mine = world[0]
    workbook = Workbook()
    workbook.active.title = "填写说明"
    workbook.active.append(["请按模板填写，每行一名职工。"])
    data = workbook.create_sheet("职工")
    data.append(HEADERS)
    data.append(_row(mine.home))

    job, page = _upload(client, world, workbook)

    assert job.result["counts"]["create"] == 1
    assert "已从工作表“职工”读取数据。" in page


def test_a_merged_title_above_the_header_is_not_glued_onto_the_column_names(client, world):
    mine = world[0]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2024年职工花名册"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    sheet.append(_row(mine.home, licence=1.1e17))

    job, page = _upload(client, world, workbook)

    assert [entry["column"] for entry in job.result["rejected"]] == ["执业证书编码"]
    assert "2024年职工花名册执业证书编码" not in page


def test_hints_in_the_headers_with_full_width_brackets_are_read_past(client, world):
    mine = world[0]
    workbook = Workbook()
    headers = [*HEADERS[:-1], "入职日期（年-月-日）", "是否全科医生（是/否）"]
    workbook.active.append(headers)
    workbook.active.append([*_row(mine.home), "是"])

    job, _page = _upload(client, world, workbook)

    assert job.result["counts"]["create"] == 1, job.result["rejected"]
    assert job.result["rows"][0]["values"]["is_general_practitioner"] is True
    assert job.result["rows"][0]["values"]["valid_from"] == "2024-03-01"


def test_an_employee_number_that_lost_its_leading_zeros_is_refused_with_the_reason(client, world):
    mine = world[0]
    staff(mine.home, employee_number="00123")
    workbook = Workbook()
    workbook.active.append(HEADERS)
    workbook.active.append(_row(mine.home, number=123))  # Excel made a number of 00123

    job, _page = _upload(client, world, workbook)

    assert job.result["counts"]["create"] == 0
    assert [(entry["column"], entry["message"]) for entry in job.result["rejected"]] == [
        (
            "工号",
            "这像是去掉了开头的 0 的工号 00123（Excel 另存为 .csv 时会丢掉开头的 0）；请把该列设为文本格式并填写完整的工号。",
        )
    ]
    assert not StaffMember.objects.filter(employee_number="123").exists()
