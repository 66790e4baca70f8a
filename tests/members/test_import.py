"""The staff import (issue 4 point 3): preview writes nothing; confirm writes exactly what the
preview showed, through members.services, in one transaction; rows outside the user's reach are
rejected with a reason; a job confirms once. Then the pages: upload → preview → confirm, 403 for
roles that may not write staff, the template download."""

import datetime
from io import BytesIO

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from core.imports import ImportAborted, confirm_import, preview_import
from core.models import Job, JobState
from members import services
from members.imports import StaffImport
from members.models import StaffMember, StaffPosting
from tests.core.factories import UserFactory
from tests.members.factories import MembershipFactory

pytestmark = pytest.mark.django_db

IMPORTER = StaffImport()
HEADERS = ["工号", "姓名", "性别", "专业类别", "执业证书编码", "机构代码", "科室代码", "入职日期"]
LOST_DIGITS = "该单元格被 Excel 转成了科学计数法，位数已丢失，请把该列设为文本格式后重新填写。"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def staff_xlsx(rows, headers=HEADERS, name="职工.xlsx"):
    """A staff upload as a clerk's Excel would hold it (numbers stay numbers)."""
    workbook = Workbook()
    workbook.active.append(headers)
    for row in rows:
        workbook.active.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def new_row(institution, number="E9001", name="李华", licence="110330100000009", department="02"):
    return [number, name, "女", "医师", licence, institution.code, department, "2024-03-01"]


def counts():
    return StaffMember.objects.count(), StaffPosting.objects.count(), LogEntry.objects.count()


def rejected(job):
    return [(entry["row"], entry["column"], entry["message"]) for entry in job.result["rejected"]]


def test_preview_writes_nothing_and_lists_creates_updates_and_rejections(world):
    mine, _other, users = world
    existing = mine.rows["staff"]
    before = counts()
    upload = staff_xlsx(
        [
            new_row(mine.home),
            [
                existing.employee_number,
                existing.name,
                "女",
                "医师",
                existing.licence_number,
                mine.home.code,
                None,
                None,
            ],
            new_row(mine.home, number="E9002", licence=1.1e17),
        ]
    )

    job = preview_import(IMPORTER, upload, user=users["alliance_admin"], target=mine.alliance)

    assert counts() == before
    assert job.state == JobState.READY and job.created_by == users["alliance_admin"]
    assert job.result["counts"] == {"create": 1, "update": 0, "unchanged": 1, "rejected": 1}
    assert [row["label"] for row in job.result["rows"]] == [
        "E9001 李华",
        f"{existing.employee_number} {existing.name}",
    ]
    assert rejected(job) == [(4, "执业证书编码", LOST_DIGITS)]


def test_confirm_writes_exactly_the_previewed_rows_through_the_services(world):
    mine, _other, users = world
    existing = mine.rows["staff"]
    upload = staff_xlsx(
        [
            new_row(mine.home),
            [
                existing.employee_number,
                existing.name,
                "女",
                "医师",
                "110330100000077",
                mine.home.code,
                None,
                None,
            ],
            new_row(mine.home, number="E9003", department="99"),
        ]
    )
    job = preview_import(IMPORTER, upload, user=users["alliance_admin"], target=mine.alliance)
    assert [(row["action"], row["changes"]) for row in job.result["rows"]] == [
        ("create", []),
        ("update", [["执业证书编码", existing.licence_number, "110330100000077"]]),
    ]

    done = confirm_import(IMPORTER, job.pk, user=users["alliance_admin"])

    hired = StaffMember.objects.get(alliance=mine.alliance, employee_number="E9001")
    assert (hired.name, hired.institution, hired.department.code, hired.licence_number) == (
        "李华",
        mine.home,
        "02",
        "110330100000009",
    )
    assert list(hired.postings.values_list("institution", "valid_from")) == [
        (mine.home.pk, datetime.date(2024, 3, 1))
    ]
    existing.refresh_from_db()
    assert existing.licence_number == "110330100000077"
    assert not StaffMember.objects.filter(employee_number="E9003").exists()
    assert done.state == JobState.SUCCEEDED
    assert done.result["written"] == {"create": 1, "update": 1}
    assert LogEntry.objects.get_for_object(hired).count() == 1  # audited like any service write


def test_an_unknown_department_code_is_rejected_naming_the_institution(world):
    mine, _other, users = world

    job = preview_import(
        IMPORTER,
        staff_xlsx([new_row(mine.home, department="99")]),
        user=users["alliance_admin"],
        target=mine.alliance,
    )

    assert rejected(job) == [
        (2, "科室代码", f"{mine.home.name}没有代码为 99 的科室，请核对该机构的科室代码。")
    ]


def test_a_service_validation_message_comes_back_on_its_column(world):
    mine, _other, users = world

    job = preview_import(
        IMPORTER,
        staff_xlsx([new_row(mine.home, licence="AB-12")]),
        user=users["alliance_admin"],
        target=mine.alliance,
    )

    assert rejected(job) == [(2, "执业证书编码", "执业证书编码为 9 至 30 位数字或大写字母，不含空格。")]


def test_an_institution_admin_imports_only_their_own_institutions_staff(world):
    mine, _other, users = world
    elsewhere = mine.branches[1]
    upload = staff_xlsx([new_row(mine.home), new_row(elsewhere, number="E9002", department=None)])

    job = preview_import(IMPORTER, upload, user=users["institution_admin"], target=mine.alliance)

    assert [row["label"] for row in job.result["rows"]] == ["E9001 李华"]
    assert rejected(job) == [
        (3, "机构代码", f"没有代码为 {elsewhere.code} 且您可管理其职工的机构，请核对机构代码。")
    ]
    confirm_import(IMPORTER, job.pk, user=users["institution_admin"])
    assert list(
        StaffMember.objects.filter(employee_number__in=["E9001", "E9002"]).values_list(
            "employee_number", flat=True
        )
    ) == ["E9001"]


def test_a_known_employee_of_another_institution_is_not_transferred_by_an_import(world):
    mine, _other, users = world
    lead_staff = mine.rows["lead_staff"]
    row = [lead_staff.employee_number, lead_staff.name, "女", "医师", None, mine.home.code, None, None]

    job = preview_import(IMPORTER, staff_xlsx([row]), user=users["alliance_admin"], target=mine.alliance)

    assert rejected(job) == [(2, "机构代码", "该职工目前在其他机构或科室任职；调岗请在职工页面办理。")]


def test_a_new_employee_without_gender_profession_or_date_is_rejected_on_that_column(world):
    mine, _other, users = world
    row = ["E9001", "李华", "女", None, None, mine.home.code, None, "2024-03-01"]

    job = preview_import(IMPORTER, staff_xlsx([row]), user=users["alliance_admin"], target=mine.alliance)

    assert rejected(job) == [(2, "专业类别", "新职工必须填写此列。")]


def test_the_alliance_choices_are_those_holding_institutions_whose_staff_the_user_writes(world):
    mine, other, users = world

    assert list(IMPORTER.targets(users["alliance_admin"])) == [mine.alliance]
    assert list(IMPORTER.targets(users["institution_admin"])) == [mine.alliance]
    assert list(IMPORTER.targets(users["committee"])) == []


def test_confirming_the_same_job_twice_creates_once(world):
    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )

    first = confirm_import(IMPORTER, job.pk, user=users["alliance_admin"])
    second = confirm_import(IMPORTER, job.pk, user=users["alliance_admin"])

    assert first.state == JobState.SUCCEEDED
    assert second is None
    assert StaffMember.objects.filter(employee_number="E9001").count() == 1


def test_only_the_uploader_can_confirm(world):
    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )
    colleague = UserFactory()
    MembershipFactory(user=colleague, role="alliance_admin", alliance=mine.alliance)

    assert confirm_import(IMPORTER, job.pk, user=colleague) is None
    assert not StaffMember.objects.filter(employee_number="E9001").exists()
    assert Job.objects.get(pk=job.pk).state == JobState.READY


def test_a_row_that_changed_after_the_preview_rolls_the_whole_batch_back(world):
    mine, _other, users = world
    upload = staff_xlsx([new_row(mine.home), new_row(mine.home, number="E9002", licence="110330100000010")])
    job = preview_import(IMPORTER, upload, user=users["alliance_admin"], target=mine.alliance)
    services.hire_staff(
        alliance=mine.alliance,
        institution=mine.home,
        valid_from=datetime.date(2024, 1, 1),
        acting_user=None,
        department=mine.rows["departments"],
        employee_number="E9002",
        name="张三",
        gender="male",
        profession="nurse",
    )
    before = counts()

    with pytest.raises(ImportAborted) as aborted:
        confirm_import(IMPORTER, job.pk, user=users["alliance_admin"])

    assert (
        aborted.value.message == "第 3 行无法写入：预览之后数据已发生变化。整批数据均未导入，请重新上传文件。"
    )
    assert counts() == before
    assert not StaffMember.objects.filter(employee_number="E9001").exists()
    job.refresh_from_db()
    assert (job.state, job.error) == (JobState.FAILED, aborted.value.message)
    assert confirm_import(IMPORTER, job.pk, user=users["alliance_admin"]) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_of_one_job_create_once(world):
    from tests.alliance.test_concurrency import run_together

    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )
    user_id = users["alliance_admin"].pk

    def confirm():
        from django.contrib.auth import get_user_model

        return confirm_import(IMPORTER, job.pk, user=get_user_model().objects.get(pk=user_id))

    outcomes = run_together(confirm, confirm)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Job", "NoneType"]
    assert StaffMember.objects.filter(employee_number="E9001").count() == 1


# --- Pages -------------------------------------------------------------------------------------
def upload_url():
    return reverse("members:import_staff")


def test_upload_preview_confirm_through_the_pages(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])
    upload = staff_xlsx([new_row(mine.home), new_row(mine.home, number="E9002", licence=1.1e17)])

    with TestCase.captureOnCommitCallbacks(execute=True):  # the preview task
        response = client.post(upload_url(), {"target": mine.alliance.pk, "file": upload})

    job = Job.objects.get(kind="import_staff")
    assert response.status_code == 302 and response["Location"] == reverse(
        "members:import_staff_preview", args=[job.pk]
    )
    html = client.get(response["Location"]).content.decode()
    assert "将新增的行" in html and "E9001" in html
    assert f"<tr><td>3</td><td>执业证书编码</td><td>{LOST_DIGITS}</td></tr>" in html
    assert "确认导入" in html
    assert not StaffMember.objects.filter(employee_number__in=["E9001", "E9002"]).exists()

    confirmed = client.post(reverse("members:import_staff_confirm", args=[job.pk]), follow=True)

    assert "导入完成：新增 1 条，更新 0 条。" in confirmed.content.decode()
    assert list(
        StaffMember.objects.filter(employee_number__in=["E9001", "E9002"]).values_list(
            "employee_number", flat=True
        )
    ) == ["E9001"]
    again = client.post(reverse("members:import_staff_confirm", args=[job.pk]), follow=True)
    assert "该导入已确认或已终止，未再写入任何数据。" in again.content.decode()
    assert StaffMember.objects.filter(employee_number="E9001").count() == 1


def test_a_file_missing_required_columns_is_refused_on_the_form(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])
    upload = staff_xlsx([["李华"]], headers=["姓名"])

    with TestCase.captureOnCommitCallbacks(execute=True):  # the preview task
        response = client.post(upload_url(), {"target": mine.alliance.pk, "file": upload})

    assert response.status_code == 200
    assert "文件缺少必填列：工号、机构代码。请使用导入模板的表头。" in response.content.decode()
    assert not Job.objects.exists()


def test_an_xls_file_is_refused_on_the_form(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    with TestCase.captureOnCommitCallbacks(execute=True):  # the preview task
        response = client.post(
            upload_url(), {"target": mine.alliance.pk, "file": SimpleUploadedFile("职工.xls", b"old")}
        )

    assert "只能导入 .xlsx 文件。" in response.content.decode()


@pytest.mark.parametrize("role", ["committee", "clinician", "bureau", "finance"])
def test_roles_that_may_not_write_staff_get_403(client, world, role):
    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )
    client.force_login(users[role])

    assert client.get(upload_url()).status_code == 403
    assert client.get(reverse("members:import_staff_template")).status_code == 403
    assert client.post(reverse("members:import_staff_confirm", args=[job.pk])).status_code == 403
    assert not StaffMember.objects.filter(employee_number="E9001").exists()


def test_another_users_preview_is_not_found(client, world):
    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )
    client.force_login(users["institution_admin"])

    assert client.get(reverse("members:import_staff_preview", args=[job.pk])).status_code == 404
    assert client.post(reverse("members:import_staff_confirm", args=[job.pk])).status_code == 404
    assert not StaffMember.objects.filter(employee_number="E9001").exists()


def test_confirm_is_post_only_and_csrf_checked(world):
    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["alliance_admin"])
    url = reverse("members:import_staff_confirm", args=[job.pk])

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert not StaffMember.objects.filter(employee_number="E9001").exists()


def test_the_template_download_is_an_xlsx_with_text_identifier_columns(client, world):
    _mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.get(reverse("members:import_staff_template"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(BytesIO(response.content))
    sheet, instructions = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == [
        "工号", "姓名", "性别", "专业类别", "职称级别", "专业技术职称", "执业证书编码", "是否全科医生", "机构代码", "科室代码", "入职日期",
    ]  # fmt: skip
    text_columns = {cell.column_letter for cell in sheet[2] if cell.number_format == "@"}
    assert text_columns == {"A", "G", "I", "J"}
    assert sheet["G2"].value == "110330100000001"
    assert instructions.title == "填写说明"
    rows = [[cell.value for cell in row] for row in instructions.iter_rows()]
    assert ["性别", None, "新职工必填。", "男、女"] in rows


def test_the_template_reads_back_as_one_valid_row(world):
    mine, _other, users = world
    from core.excel import build_template

    workbook = build_template("职工", IMPORTER.columns, instructions=[])
    sheet = workbook.active
    sheet["I2"] = mine.home.code
    sheet["J2"] = "02"
    buffer = BytesIO()
    workbook.save(buffer)

    job = preview_import(
        IMPORTER,
        SimpleUploadedFile("模板.xlsx", buffer.getvalue()),
        user=users["alliance_admin"],
        target=mine.alliance,
    )

    assert job.result["counts"] == {"create": 1, "update": 0, "unchanged": 0, "rejected": 0}


def test_a_preview_older_than_a_day_cannot_be_confirmed(world):
    mine, _other, users = world
    job = preview_import(
        IMPORTER, staff_xlsx([new_row(mine.home)]), user=users["alliance_admin"], target=mine.alliance
    )
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at - datetime.timedelta(days=2))

    with pytest.raises(ImportAborted) as aborted:
        confirm_import(IMPORTER, job.pk, user=users["alliance_admin"])

    assert aborted.value.message == "该预览已超过一天，请重新上传文件。"
    assert not StaffMember.objects.filter(employee_number="E9001").exists()
    assert Job.objects.get(pk=job.pk).state == JobState.FAILED
