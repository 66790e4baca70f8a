"""The one import engine (issue 12 point 4): the upload is read in the request and sealed in a
pending Job; the preview runs as a task (once, however often it is delivered), records its
progress, and leaves the Job ready; the preview page polls while it runs; a real worker runs it
too. Row mode's fast path (lookups once, bulk writes, audited) is checked on the staff import."""

import time
from io import BytesIO

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from core.imports import confirm_import, preview_import, run_preview, start_preview
from core.models import Job, JobState
from members.imports import StaffImport
from members.models import StaffMember, StaffPosting

pytestmark = pytest.mark.django_db

IMPORTER = StaffImport()
HEADERS = ["工号", "姓名", "性别", "专业类别", "执业证书编码", "机构代码", "科室代码", "入职日期"]


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def staff_file(rows):
    workbook = Workbook()
    workbook.active.append(HEADERS)
    for row in rows:
        workbook.active.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("职工.xlsx", buffer.getvalue())


def row(institution, number, name="李华", licence=""):
    return [number, name, "女", "医师", licence, institution.code, "02", "2024-03-01"]


def test_the_upload_is_sealed_in_a_pending_job_and_previewed_on_commit(world):
    mine, _other, users = world
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        job = start_preview(
            IMPORTER,
            staff_file([row(mine.home, "E9101")]),
            user=users["alliance_admin"],
            target=mine.alliance,
        )

    assert len(callbacks) == 1  # the preview task, after the commit
    job.refresh_from_db()
    assert (job.state, job.progress, job.created_by) == (JobState.PENDING, 0, users["alliance_admin"])
    assert job.sealed and "E9101" not in job.sealed  # encrypted, not merely stored
    assert "rows" not in job.result


def test_the_preview_runs_once_and_leaves_the_job_ready(world):
    mine, _other, users = world
    job = start_preview(
        IMPORTER, staff_file([row(mine.home, "E9102")]), user=users["alliance_admin"], target=mine.alliance,
        enqueue=False,
    )  # fmt: skip

    first, second = run_preview(IMPORTER.path, job.pk), run_preview(IMPORTER.path, job.pk)

    job.refresh_from_db()
    assert first is not None and second is None  # delivered twice, run once
    assert (job.state, job.progress, job.sealed) == (JobState.READY, 100, "")
    assert job.started_at is not None
    assert job.result["counts"] == {"create": 1, "update": 0, "unchanged": 0, "rejected": 0}


def test_the_preview_page_polls_while_the_job_runs_and_stops_when_ready(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])
    job = start_preview(
        IMPORTER, staff_file([row(mine.home, "E9103")]), user=users["alliance_admin"], target=mine.alliance,
        enqueue=False,
    )  # fmt: skip
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, progress=40)
    url = reverse("members:import_staff_preview", args=[job.pk])

    running = client.get(url).content.decode()
    run_ready = Job.objects.filter(pk=job.pk).update(state=JobState.PENDING)
    run_preview(IMPORTER, job.pk)
    ready = client.get(url).content.decode()

    assert run_ready == 1
    assert 'hx-trigger="every 1s"' in running and 'value="40"' in running and "40%" in running
    assert "确认导入" not in running
    assert 'hx-trigger="every 1s"' not in ready and "确认导入" in ready and "E9103" in ready


def test_a_repeated_employee_number_in_the_file_is_rejected_naming_the_column(world):
    mine, _other, users = world
    upload = staff_file([row(mine.home, "E9104"), row(mine.home, "E9104", name="王五")])

    job = preview_import(IMPORTER, upload, user=users["alliance_admin"], target=mine.alliance)

    assert job.result["counts"]["create"] == 1
    assert [(e["row"], e["column"], e["message"]) for e in job.result["rejected"]] == [
        (3, "工号", "该工号在文件中前面的行已出现过（第 2 行）。")
    ]


def test_a_repeated_institution_code_in_the_file_is_rejected_naming_the_first_row(world):
    """Issue 13 point 1: two clinics with one code are never merged into one row."""
    from alliance.imports import InstitutionImport
    from tests.alliance.test_import import institutions_xlsx

    mine, _other, users = world
    rows = [
        ["H8001", "赤岸镇卫生院", "一级", 40, 35, "分院", None, "2024-03-01"],
        ["H8001", "毛店村卫生室", "一级", None, None, "分院", None, "2024-03-01"],
    ]

    job = preview_import(
        InstitutionImport(), institutions_xlsx(rows), user=users["bureau"], target=mine.alliance
    )

    assert job.result["counts"]["create"] == 1
    assert [(e["row"], e["message"]) for e in job.result["rejected"]] == [
        (3, "该机构代码在文件中前面的行已出现过（第 2 行）。")
    ]


def test_an_implausible_date_is_refused_with_a_message(world):
    mine, _other, users = world
    hire = row(mine.home, "E9107")
    hire[-1] = "2204-03-01"  # 2024 mistyped

    job = preview_import(IMPORTER, staff_file([hire]), user=users["alliance_admin"], target=mine.alliance)

    assert [(e["row"], e["column"], e["message"]) for e in job.result["rejected"]] == [
        (2, "入职日期", "年份 2204 不可能正确，请核对日期（如 2024-01-31）。")
    ]


def test_a_bad_field_is_rejected_at_preview_by_the_services_checks_without_writing(world):
    mine, _other, users = world
    before = StaffMember.objects.count()

    job = preview_import(
        IMPORTER, staff_file([row(mine.home, "E9105", licence="12")]), user=users["alliance_admin"],
        target=mine.alliance,
    )  # fmt: skip

    assert StaffMember.objects.count() == before
    assert [e["column"] for e in job.result["rejected"]] == ["执业证书编码"]


def test_a_bulk_confirm_writes_staff_and_postings_and_audits_each_with_its_actor(world):
    mine, _other, users = world
    admin = users["alliance_admin"]
    job = preview_import(
        IMPORTER,
        staff_file([row(mine.home, f"E92{n:02d}") for n in range(5)]),
        user=admin,
        target=mine.alliance,
    )

    with set_actor(admin):
        done = confirm_import(IMPORTER, job.pk, user=admin)

    new = StaffMember.objects.filter(employee_number__startswith="E92")
    assert done.result["written"] == {"create": 5, "update": 0}
    assert new.count() == 5 and StaffPosting.objects.filter(staff__in=new).count() == 5
    entries = LogEntry.objects.get_for_objects(new)
    assert entries.count() == 5
    assert {(entry.action, entry.actor_id) for entry in entries} == {(LogEntry.Action.CREATE, admin.pk)}
    assert entries.first().changes_dict["employee_number"][1].startswith("E92")
    assert LogEntry.objects.get_for_objects(StaffPosting.objects.filter(staff__in=new)).count() == 5


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_previews_an_upload(world, celery_worker):
    mine, _other, users = world

    job = start_preview(
        IMPORTER, staff_file([row(mine.home, "E9106")]), user=users["alliance_admin"], target=mine.alliance
    )

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == JobState.READY:
            break
        time.sleep(0.1)
    assert job.state == JobState.READY and job.result["counts"]["create"] == 1
