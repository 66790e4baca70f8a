"""Benchmark of the staff import (issue 12 point 4; `make bench`): a 5,000-row staff file, as an
alliance office would upload when the alliance is founded, previewed and then confirmed through
the engine (core.imports) as the pages call it: the request reads the file into a Job, the
preview task checks every row (lookups loaded once per file), the confirm writes in bulk (and
audits every new staff member and posting).

Targets: preview ≤ 10 s, confirm ≤ 15 s (gunicorn's timeout is 30 s). Beside them, the limit on
the same data: the plain SQL that writes the same rows (one INSERT … SELECT of the staff rows and
one of their postings), i.e. what no import can beat. The alliance is the benchmark's own
(tests/bench/conftest.py): it adds rows of its own to the tables and counts only them.
"""

import time
from io import BytesIO

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from openpyxl import Workbook

from alliance.choices import PlacementRole
from core.imports import confirm_import, run_preview, start_preview
from core.models import JobState
from members.imports import StaffImport
from members.models import StaffMember, StaffPosting
from tests.alliance.factories import AllianceFactory, DepartmentFactory, InstitutionFactory, place
from tests.core.factories import UserFactory

ROWS = 5000
BRANCHES = 20
PREVIEW_TARGET_S, CONFIRM_TARGET_S = 10, 15
HEADERS = [
    "工号",
    "姓名",
    "性别",
    "专业类别",
    "职称等级",
    "执业证书编码",
    "是否全科医生",
    "机构代码",
    "科室代码",
    "入职日期",
]
LIMIT_SQL = """
INSERT INTO members_staffmember (alliance_id, institution_id, department_id, employee_number, name,
    gender, profession, title_level, title, licence_number, is_general_practitioner, active,
    created_at, updated_at)
SELECT %(alliance)s, %(institution)s, NULL, 'L' || n, '职工' || n, 'F', 'doctor', '', '', '', false, true,
    now(), now()
FROM generate_series(1, %(rows)s) AS n;
INSERT INTO members_staffposting (staff_id, institution_id, department_id, valid_from)
SELECT id, institution_id, NULL, DATE '2024-01-01' FROM members_staffmember
WHERE alliance_id = %(alliance)s AND employee_number LIKE 'L%%';
"""


def _county():
    """The benchmark's own alliance, with codes of its own: the full demo county may hold the
    factories' codes already (the benchmarks share one database)."""
    alliance = AllianceFactory(name="导入基准医共体")
    lead = InstitutionFactory(code="BIMP-LEAD")
    place(lead, alliance, PlacementRole.LEAD)
    branches = []
    for n in range(BRANCHES):
        branch = InstitutionFactory(code=f"BIMP-{n:03d}")
        place(branch, alliance, PlacementRole.BRANCH)
        DepartmentFactory(institution=branch, code="02", name="全科医疗科")
        branches.append(branch)
    return alliance, branches


def _file(branches):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for n in range(1, ROWS + 1):
        branch = branches[n % len(branches)]
        sheet.append(
            [f"E{n:05d}", f"职工{n}", "女" if n % 2 else "男", "医师", "中级", f"1103301{n:08d}", "否",
             branch.code, "02", "2024-01-01"]
        )  # fmt: skip
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("职工.xlsx", buffer.getvalue())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_5000_row_staff_file_previews_and_confirms_in_time():
    from members.choices import MembershipRole
    from tests.members.factories import MembershipFactory

    alliance, branches = _county()
    user = UserFactory(username="bench_import_admin")
    MembershipFactory(user=user, role=MembershipRole.ALLIANCE_ADMIN, alliance=alliance)
    upload = _file(branches)
    importer = StaffImport()

    started = time.perf_counter()
    job = start_preview(importer, upload, user=user, target=alliance, enqueue=False)  # the request
    read_s = time.perf_counter() - started
    run_preview(importer, job.pk)  # the preview task
    preview_s = time.perf_counter() - started
    job.refresh_from_db()
    assert job.result["counts"]["create"] == ROWS, job.result["rejected"][:3]

    started = time.perf_counter()
    done = confirm_import(importer, job.pk, user=user)
    confirm_s = time.perf_counter() - started
    assert done.state == JobState.SUCCEEDED
    assert StaffMember.objects.filter(alliance=alliance).count() == ROWS
    assert StaffPosting.objects.filter(staff__alliance=alliance).count() == ROWS
    audited = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(StaffMember))
    assert (
        audited.filter(object_id__in=StaffMember.objects.filter(alliance=alliance).values("pk")).count()
        == ROWS
    )

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LIMIT_SQL, {"alliance": alliance.pk, "institution": branches[0].pk, "rows": ROWS})
        transaction.set_rollback(True)
    limit_s = time.perf_counter() - started

    print(f"\nstaff import, {ROWS:,} rows into {BRANCHES} branches ({connection.vendor})")
    for name, seconds, target in (
        ("preview", preview_s, PREVIEW_TARGET_S),
        ("confirm", confirm_s, CONFIRM_TARGET_S),
    ):
        verdict = "ok" if seconds <= target else "SHORTFALL"
        print(f"  {name:8} {seconds:6.2f} s  ({ROWS / seconds:,.0f} rows/s; target ≤ {target} s) [{verdict}]")
        if name == "preview":
            print(
                f"           of which reading the file in the request {read_s:.2f} s, checking in the task {preview_s - read_s:.2f} s"
            )
    print(f"  limit: plain SQL INSERT … SELECT of the staff rows and postings {limit_s:.2f} s")
