"""Staff upload of encounters as .xlsx or .csv (issue 5 point 3): template, preview through
`ingest(dry_run=True)` writing nothing, records kept only encrypted until confirm, confirm once,
error report, and no raw resident ID anywhere."""

import datetime
import logging
import zipfile
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils.translation import gettext, override
from openpyxl import Workbook, load_workbook

from core.models import Job, JobState
from encounters import services
from encounters.models import Admission, IngestBatch, OutpatientVisit
from tests.encounters.factories import admission, visit

pytestmark = pytest.mark.django_db

VISIT_HEADERS = [
    ("外部编号", "external_id"),
    ("机构代码", "institution"),
    ("就诊日期", "visit_date"),
    ("科室代码", "department"),
    ("居民身份证号", "patient_id_number"),
    ("参保地区划", "resident_region"),
    ("诊断编码", "diagnosis"),
    ("总费用", "total_cost"),
    ("医保支付", "insurance_paid"),
    ("中医", "tcm"),
    ("转诊单号", "referral"),
    ("院外机构代码", "outside_facility_code"),
    ("院外机构名称", "outside_facility_name"),
    ("院外机构区划", "outside_facility_region"),
    ("院外机构级别", "outside_facility_level"),
]
ADMISSION_HEADERS = [
    *VISIT_HEADERS[:2],
    ("入院日期", "admit_date"),
    ("出院日期", "discharge_date"),
    *VISIT_HEADERS[3:],
]
LOST_DIGITS = (
    "Excel turned this cell into scientific notation and digits were lost; "
    "format the column as text and fill it in again."
)


def zh(msgid):
    with override("zh-hans"):
        return gettext(msgid)


def cell(field, value):
    """A value as a clerk's sheet holds it: dates as dates, amounts as numbers, 是/否."""
    if field.endswith("_date"):
        return datetime.date.fromisoformat(value)
    if field in ("total_cost", "insurance_paid"):
        return float(value)
    if field == "tcm":
        return "是" if value else "否"
    return value


def xlsx(records, headers=VISIT_HEADERS, name="visits.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([header for header, _field in headers])
    for record in records:
        sheet.append([cell(field, record[field]) if field in record else None for _h, field in headers])
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def csv_file(records, encoding, headers=VISIT_HEADERS, name="visits.csv"):
    lines = [",".join(header for header, _field in headers)]
    for record in records:
        values = [record.get(field, "") for _h, field in headers]
        lines.append(",".join("是" if v is True else "否" if v is False else str(v) for v in values))
    return SimpleUploadedFile(name, "\r\n".join(lines).encode(encoding))


def upload(client, user, file, kind="visits", source="Excel上传"):
    """Upload as the page does; the preview task runs on commit (eager, as without a broker)."""
    client.force_login(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/encounters/upload/", {"kind": kind, "source": source, "file": file})


def preview_of(response):
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    return job


@pytest.fixture
def admin_(world):
    """The institution admin of the first county's home branch (department 02 exists there)."""
    mine, _other, users = world
    return mine, users["institution_admin"]


def test_template_has_chinese_headers_text_identifier_columns_and_instructions(client, world):
    _mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.get("/encounters/upload/template/visits/")

    workbook = load_workbook(BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert response.status_code == 200
    assert [c.value for c in sheet[1]] == [header for header, _field in VISIT_HEADERS]
    by_header = {c.value: c.column_letter for c in sheet[1]}
    for header in ("外部编号", "机构代码", "科室代码", "居民身份证号", "参保地区划"):
        letter = by_header[header]
        assert sheet[f"{letter}2"].number_format == "@"
        assert sheet.column_dimensions[letter].number_format == "@"
    assert sheet[f"{by_header['居民身份证号']}2"].value == "11010519491231002X"
    assert workbook.sheetnames[1] == "填写说明"


def test_admissions_template_has_both_dates(client, world):
    _mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.get("/encounters/upload/template/admissions/")

    headers = [c.value for c in load_workbook(BytesIO(response.content)).worksheets[0][1]]
    assert headers == [header for header, _field in ADMISSION_HEADERS]


def test_xlsx_preview_counts_and_rejected_rows_and_writes_nothing(client, admin_):
    mine, admin = admin_
    records = [visit(n, mine.home) for n in (1, 2, 3)] + [visit(4, mine.home, diagnosis="感冒")]

    job = preview_of(upload(client, admin, xlsx(records)))

    assert job.state == JobState.READY and job.progress == 100
    assert job.result["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [(e["row"], e["column"]) for e in job.result["rejected"]] == [(5, "诊断编码")]
    assert OutpatientVisit.objects.count() == 0
    assert IngestBatch.objects.count() == 0


def test_confirm_writes_exactly_the_valid_rows_and_wipes_the_payload(client, admin_):
    mine, admin = admin_
    records = [visit(n, mine.home) for n in (1, 2, 3)] + [visit(4, mine.home, total_cost="-1")]
    job = preview_of(upload(client, admin, xlsx(records)))

    response = client.post(f"/encounters/upload/{job.pk}/confirm/")

    job.refresh_from_db()
    assert response.status_code == 302
    assert sorted(OutpatientVisit.objects.values_list("external_id", flat=True)) == [
        "V0000001",
        "V0000002",
        "V0000003",
    ]
    assert set(OutpatientVisit.objects.values_list("source", "client", "institution")) == {
        ("Excel上传", admin.pk, mine.home.pk)
    }
    assert job.state == JobState.SUCCEEDED
    assert job.result["written"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert job.sealed == ""
    page = client.get(f"/encounters/upload/{job.pk}/").content.decode()
    assert "confirm/" not in page


def test_same_rows_as_the_api_record_for_record(client, admin_):
    """The upload is the API's path: the rows it writes equal those `ingest` writes directly."""
    mine, admin = admin_
    records = [visit(n, mine.home, tcm=n == 2) for n in (1, 2)]
    job = preview_of(upload(client, admin, xlsx(records), source="HIS-X"))
    client.post(f"/encounters/upload/{job.pk}/confirm/")
    uploaded = list(OutpatientVisit.objects.order_by("external_id").values())

    result = services.ingest("visits", records, client=admin, source="HIS-X")

    assert result["unchanged"] == 2
    assert list(OutpatientVisit.objects.order_by("external_id").values()) == uploaded


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_csv_round_trip_in_every_encoding_excel_saves(client, admin_, encoding):
    mine, admin = admin_
    records = [visit(1, mine.home), visit(2, mine.home, tcm=True, referral=None)]

    job = preview_of(upload(client, admin, csv_file(records, encoding)))
    client.post(f"/encounters/upload/{job.pk}/confirm/")

    assert job.result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert list(OutpatientVisit.objects.order_by("external_id").values_list("external_id", "tcm")) == [
        ("V0000001", False),
        ("V0000002", True),
    ]


def test_admissions_xlsx_round_trip(client, admin_):
    mine, admin = admin_
    records = [admission(1, mine.home), admission(2, mine.home, admit_date="2026-03-20")]

    job = preview_of(upload(client, admin, xlsx(records, ADMISSION_HEADERS), kind="admissions"))
    client.post(f"/encounters/upload/{job.pk}/confirm/")

    assert job.result["counts"]["created"] == 1
    assert job.result["rejected"][0]["row"] == 3
    assert job.result["rejected"][0]["column"] == "出院日期"
    assert list(Admission.objects.values_list("external_id", flat=True)) == ["A0000001"]


def test_raw_id_number_appears_nowhere(client, admin_, caplog):
    mine, admin = admin_
    records = [visit(1, mine.home), visit(2, mine.home, diagnosis="bad")]
    numbers = [record["patient_id_number"] for record in records]
    # A clerk's slip: an ID typed into the institution column comes back in a message, masked.
    misplaced = visit(3, mine.home)
    misplaced["institution"] = misplaced["patient_id_number"]
    numbers.append(misplaced["patient_id_number"])
    caplog.set_level(logging.DEBUG)

    job = preview_of(upload(client, admin, xlsx([*records, misplaced], name=f"{numbers[0]}.xlsx")))
    preview = client.get(f"/encounters/upload/{job.pk}/").content.decode()
    report = client.get(f"/encounters/upload/{job.pk}/errors/").content
    stored_before = str(list(Job.objects.filter(pk=job.pk).values()))
    client.post(f"/encounters/upload/{job.pk}/confirm/")
    stored_after = str(list(Job.objects.filter(pk=job.pk).values()))
    confirmed = client.get(f"/encounters/upload/{job.pk}/").content.decode()

    with zipfile.ZipFile(BytesIO(report)) as archive:
        report_text = "".join(archive.read(name).decode() for name in archive.namelist())
    assert job.result["counts"]["rejected"] == 2
    for number in numbers:
        for text in (stored_before, stored_after, preview, confirmed, report_text, caplog.text):
            assert number not in text
    assert numbers[2][:6] + "********" + numbers[2][-4:] in preview


def test_error_report_lists_row_column_and_message(client, admin_):
    mine, admin = admin_
    records = [visit(1, mine.home), visit(2, mine.home, department="99")]
    job = preview_of(upload(client, admin, xlsx(records)))

    response = client.get(f"/encounters/upload/{job.pk}/errors/")

    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert response.status_code == 200
    assert rows[0] == ["行号", "列", "原因及修改方法"]
    assert rows[1][:2] == [3, "科室代码"]
    assert "99" in rows[1][2]


@pytest.mark.parametrize("as_csv", [False, True])
def test_scientific_notation_id_is_rejected_telling_to_format_as_text(client, admin_, as_csv):
    mine, admin = admin_
    record = visit(1, mine.home)
    if as_csv:
        record["patient_id_number"] = "3.30782E+17"
        file = csv_file([record], "gbk")
    else:
        record["patient_id_number"] = float(record["patient_id_number"])  # the column was a number
        file = xlsx([record])

    job = preview_of(upload(client, admin, file))

    assert job.result["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    assert job.result["rejected"] == [{"row": 2, "column": "居民身份证号", "message": zh(LOST_DIGITS)}]


def test_duplicate_external_id_in_the_file_names_the_first_row(client, admin_):
    mine, admin = admin_
    records = [visit(1, mine.home), visit(2, mine.home), visit(1, mine.home)]

    job = preview_of(upload(client, admin, xlsx(records)))

    assert job.result["counts"]["created"] == 2
    assert job.result["rejected"] == [
        {"row": 4, "column": "外部编号", "message": "该外部编号在文件前面已出现过（第 2 行）。"}
    ]


def test_second_confirm_writes_nothing(client, admin_):
    mine, admin = admin_
    job = preview_of(upload(client, admin, xlsx([visit(1, mine.home)])))
    client.post(f"/encounters/upload/{job.pk}/confirm/")
    rows = list(OutpatientVisit.objects.values())

    response = client.post(f"/encounters/upload/{job.pk}/confirm/")

    assert response.status_code == 302
    assert list(OutpatientVisit.objects.values()) == rows
    assert IngestBatch.objects.count() == 1


def test_another_user_cannot_see_or_confirm_an_upload(client, world, admin_):
    mine, admin = admin_
    _mine, _other, users = world
    job = preview_of(upload(client, admin, xlsx([visit(1, mine.home)])))
    client.force_login(users["alliance_admin"])

    confirm = client.post(f"/encounters/upload/{job.pk}/confirm/")
    preview = client.get(f"/encounters/upload/{job.pk}/")
    report = client.get(f"/encounters/upload/{job.pk}/errors/")

    job.refresh_from_db()
    assert (confirm.status_code, preview.status_code, report.status_code) == (404, 404, 404)
    assert OutpatientVisit.objects.count() == 0
    assert job.state == JobState.READY


def test_confirm_is_post_only(client, admin_):
    mine, admin = admin_
    job = preview_of(upload(client, admin, xlsx([visit(1, mine.home)])))

    response = client.get(f"/encounters/upload/{job.pk}/confirm/")

    assert response.status_code == 405
    assert OutpatientVisit.objects.count() == 0


def test_confirm_shows_the_new_counts_when_the_data_changed(client, admin_):
    mine, admin = admin_
    records = [visit(1, mine.home), visit(2, mine.home)]
    job = preview_of(upload(client, admin, xlsx(records)))
    services.ingest("visits", records[:1], client=admin, source="Excel上传")  # meanwhile

    client.post(f"/encounters/upload/{job.pk}/confirm/")
    page = client.get(f"/encounters/upload/{job.pk}/").content.decode()

    job.refresh_from_db()
    assert job.result["counts"]["created"] == 2
    assert job.result["written"] == {"created": 1, "updated": 0, "unchanged": 1, "rejected": 0}
    assert "预览之后、确认之前数据发生了变化" in page


def test_a_preview_older_than_a_day_cannot_be_confirmed(client, admin_):
    mine, admin = admin_
    job = preview_of(upload(client, admin, xlsx([visit(1, mine.home)])))
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at - datetime.timedelta(days=2))

    client.post(f"/encounters/upload/{job.pk}/confirm/")

    job.refresh_from_db()
    assert OutpatientVisit.objects.count() == 0
    assert job.state == JobState.FAILED
    assert job.sealed == ""


def test_abandoned_previews_lose_their_records_at_the_next_upload(client, admin_):
    mine, admin = admin_
    old = preview_of(upload(client, admin, xlsx([visit(1, mine.home)])))
    Job.objects.filter(pk=old.pk).update(created_at=old.created_at - datetime.timedelta(days=2))

    preview_of(upload(client, admin, xlsx([visit(2, mine.home)])))

    old.refresh_from_db()
    assert old.state == JobState.FAILED
    assert old.sealed == ""


def test_the_hourly_task_wipes_abandoned_previews(client, admin_):
    from django.conf import settings

    from core.tasks import expire_import_previews_task

    mine, admin = admin_
    old = preview_of(upload(client, admin, xlsx([visit(1, mine.home)])))
    fresh = preview_of(upload(client, admin, xlsx([visit(2, mine.home)])))
    Job.objects.filter(pk=old.pk).update(created_at=old.created_at - datetime.timedelta(days=2))

    expire_import_previews_task.delay()

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, bool(old.sealed)) == (JobState.FAILED, False)
    assert (fresh.state, bool(fresh.sealed)) == (JobState.READY, True)
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "core.tasks.expire_import_previews_task" in tasks


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("visits.txt", b"x", "只能导入 .xlsx 或 .csv 文件"),
        ("visits.xlsx", b"not a zip", "无法读取"),
        ("visits.csv", "外部编号\n".encode("utf-16"), "无法识别该 .csv 文件的文字编码"),
        ("visits.csv", "姓名,年龄\n张三,3\n".encode(), "没有找到可识别的表头"),
    ],
)
def test_unreadable_files_are_refused_with_a_chinese_message(client, admin_, name, content, message):
    _mine, admin = admin_

    response = upload(client, admin, SimpleUploadedFile(name, content))

    assert response.status_code == 200
    assert message in str(response.context["form"].errors["file"])
    assert Job.objects.count() == 0


def test_too_many_rows_are_refused(client, admin_):
    mine, admin = admin_
    row = visit(1, mine.home)
    file = csv_file([row] * 5001, "utf-8")

    response = upload(client, admin, file)

    assert "5001" in str(response.context["form"].errors["file"])
    assert Job.objects.count() == 0


@pytest.mark.parametrize("role", ["committee", "finance", "clinician", "bureau"])
def test_roles_that_may_not_send_encounters_get_403_and_no_menu_entry(client, world, role):
    _mine, _other, users = world
    client.force_login(users[role])

    pages = [
        client.get("/encounters/upload/"),
        client.get("/encounters/upload/template/visits/"),
        client.post("/encounters/upload/", {"kind": "visits", "source": "x"}),
    ]

    assert [page.status_code for page in pages] == [403, 403, 403]
    assert "/encounters/upload/" not in client.get("/").content.decode()


@pytest.mark.parametrize("role", ["institution_admin", "alliance_admin", "api_client"])
def test_writers_see_the_upload_page_and_menu_entry(client, world, role):
    _mine, _other, users = world
    client.force_login(users[role])

    response = client.get("/encounters/upload/")

    assert response.status_code == 200
    assert "/encounters/upload/" in client.get("/").content.decode()
    assert 'value="Excel上传"' in response.content.decode()


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/encounters/upload/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_batch_the_service_refuses_as_a_whole_fails_its_job_with_the_reason(admin_):
    from core.imports import run_preview, start_preview
    from encounters.imports import UPLOADS

    mine, admin = admin_
    upload = UPLOADS["visits"]
    job = start_preview(
        upload, xlsx([visit(1, mine.home)]), user=admin, options={"source": " "}, enqueue=False
    )

    run_preview(upload, job.pk)

    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error and job.sealed == ""
    assert OutpatientVisit.objects.count() == 0


def test_a_confirm_after_a_preview_with_rejected_rows_does_not_say_the_data_changed(client, admin_):
    """Issue 13 point 1: the preview's rejected rows were never sent, so they are no change."""
    mine, admin = admin_
    records = [visit(1, mine.home), visit(2, mine.home, diagnosis="感冒")]
    job = preview_of(upload(client, admin, xlsx(records)))

    client.post(f"/encounters/upload/{job.pk}/confirm/")
    page = client.get(f"/encounters/upload/{job.pk}/").content.decode()

    job.refresh_from_db()
    assert job.result["counts"]["rejected"] == 1 and job.result["written"]["created"] == 1
    assert "预览之后、确认之前数据发生了变化" not in page


def test_a_csv_department_code_that_lost_its_leading_zero_is_restored(client, admin_):
    """Issue 13 point 1: Excel saves 02 as 2 in a .csv; the department column pads it back."""
    mine, admin = admin_
    record = {**visit(1, mine.home), "department": "2"}

    job = preview_of(upload(client, admin, csv_file([record], "utf-8")))

    assert job.result["counts"]["created"] == 1, job.result["rejected"]


def test_two_clerks_of_one_institution_uploading_the_same_file_do_not_duplicate_it(client, admin_):
    """Issue 13 point 1: the record is keyed by institution, source and external ID, not by who uploads."""
    from members.choices import MembershipRole
    from tests.referrals.factories import member

    mine, admin = admin_
    colleague = member(MembershipRole.INSTITUTION_ADMIN, mine.home)
    records = [visit(n, mine.home) for n in (1, 2)]
    first = preview_of(upload(client, admin, xlsx(records)))
    client.post(f"/encounters/upload/{first.pk}/confirm/")

    second = preview_of(upload(client, colleague, xlsx(records)))
    client.post(f"/encounters/upload/{second.pk}/confirm/")

    second.refresh_from_db()
    assert second.result["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert OutpatientVisit.objects.count() == 2


def test_the_insurance_feed_uploads_care_outside_the_alliance_with_the_facility_columns(client, world):
    """Issue 13 point 1: the upload takes the outside-facility columns the insurance API takes."""
    _mine, _other, users = world
    headers = [
        ("外部编号", "external_id"), ("院外机构代码", "outside_facility_code"), ("院外机构名称", "outside_facility_name"),
        ("院外机构区划", "outside_facility_region"), ("院外机构级别", "outside_facility_level"), ("就诊日期", "visit_date"),
        *[pair for pair in VISIT_HEADERS if pair[1] not in ("external_id", "institution", "visit_date", "department")],
    ]  # fmt: skip
    record = {
        **visit(1), "outside_facility_code": "ZJ-HZ-001", "outside_facility_name": "浙江大学医学院附属第一医院",
        "outside_facility_region": "330106", "outside_facility_level": "三级",
    }  # fmt: skip
    bad = {**record, "external_id": "V0000002", "outside_facility_region": "99"}

    job = preview_of(upload(client, users["insurance_feed"], xlsx([record, bad], headers=headers)))

    assert job.result["counts"]["created"] == 1, job.result["rejected"]
    assert [entry["column"] for entry in job.result["rejected"]] == ["院外机构区划"]
    client.post(f"/encounters/upload/{job.pk}/confirm/")
    (row,) = OutpatientVisit.objects.all()
    assert (row.institution_id, row.outside_facility.code, row.outside_facility.level) == (
        None,
        "ZJ-HZ-001",
        "tertiary",
    )
