"""Staff upload of encounter records as .xlsx or .csv (issue 5 point 3): the columns of the file,
the preview and the confirm, through the same validator and service as the bulk API (`ingest`).

- Preview reads the file (core.excel, so Excel's damage to identifiers is caught the same way as
  in every import), turns each good row into the API's record and calls `ingest(…, dry_run=True)`:
  the counts and the rejected rows, by the row number Excel shows. Nothing is written.
- The records hold resident ID numbers, so between preview and confirm they are kept only
  Fernet-encrypted in the uploader's pending `core.Job` (DESIGN §3: the raw ID is never stored);
  the Job's readable part holds counts and messages, which never contain an ID.
- Confirm locks that Job, decrypts, calls `ingest` once (one transaction with the Job update),
  records what was written and wipes the ciphertext. The Job leaves `pending`, so a second
  confirm writes nothing.
"""

import base64
import datetime
import json
import zlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import access
from core.excel import BOOLEAN, CODE, DATE, INTEGER, TEXT, ImportColumn, read_sheet
from core.identity import decrypt, encrypt
from core.imports import PREVIEW_LIFETIME
from core.logging import mask_resident_ids
from core.models import Job, JobState

from .models import EncounterKind
from .services import MODELS, ingest

JOB_KINDS = {f"upload_{kind.value}": kind.value for kind in MODELS}
AMOUNTS = ("total_cost", "insurance_paid")
NO_COLUMN = "—"
# The `source` of uploaded records unless the clerk names another: stored data (part of the
# upsert key), so one fixed text whatever the page language, or a re-upload would duplicate.
DEFAULT_SOURCE = "Excel上传"


def _column(field, header, kind, *, aliases=(), required=True, **options):
    """A column of the upload; the API's field name is accepted as a header too (an HIS export)."""
    return ImportColumn(field, header, kind, required=required, aliases=(field, *aliases), **options)


EXTERNAL_ID = _column(
    "external_id",
    gettext_lazy("External ID"),
    CODE,
    keep_case=True,  # the sending system's own key, compared as typed
    aliases=("外部编号", "外部ID", "就诊流水号", "流水号"),
    help=gettext_lazy(
        "The record's number in your system, unique per source: uploading it again updates the record instead of adding one."
    ),
    example="MZ20260316001",
)
INSTITUTION = _column(
    "institution",
    gettext_lazy("Institution code"),
    CODE,
    aliases=("机构代码", "机构编码", "医疗机构代码"),
    help=gettext_lazy("The code the institution was registered with in the alliance."),
    example="Y0001",
)
VISIT_DATE = _column(
    "visit_date", gettext_lazy("Visit date"), DATE, aliases=("就诊日期",), example=datetime.date(2026, 3, 16)
)
ADMIT_DATE = _column(
    "admit_date",
    gettext_lazy("Admission date"),
    DATE,
    aliases=("入院日期",),
    example=datetime.date(2026, 3, 11),
)
DISCHARGE_DATE = _column(
    "discharge_date",
    gettext_lazy("Discharge date"),
    DATE,
    aliases=("出院日期",),
    help=gettext_lazy("An admission counts in the month of discharge."),
    example=datetime.date(2026, 3, 16),
)
COMMON = (
    _column(
        "department",
        gettext_lazy("Department code"),
        CODE,
        zero_pad=2,  # 02 全科医疗科 typed into a number cell comes back as 2
        aliases=("科室代码", "科室编码"),
        help=gettext_lazy("The code of one of the institution's departments, e.g. 02 or 03.01."),
        example="02",
    ),
    _column(
        "patient_id_number",
        gettext_lazy("Resident ID number"),
        CODE,
        aliases=("居民身份证号", "居民身份证号码", "身份证号", "身份证号码"),
        help=gettext_lazy(
            "18 characters. Used only to compute the patient key; the number itself is never stored."
        ),
        example="11010519491231002X",
    ),
    _column(
        "resident_region",
        gettext_lazy("Insured region code"),
        CODE,
        aliases=("参保地区划", "参保地区划代码", "参保地行政区划", "参保地"),
        help=gettext_lazy("The six-digit GB/T 2260 code of the region where the patient is insured."),
        example="330782",
    ),
    _column(
        "diagnosis",
        gettext_lazy("Diagnosis code"),
        TEXT,
        aliases=("诊断编码", "诊断代码", "ICD-10"),
        help=gettext_lazy("ICD-10, e.g. J06.9."),
        example="J06.9",
    ),
    _column(
        "total_cost",
        gettext_lazy("Total cost"),
        TEXT,
        aliases=("总费用", "总金额"),
        help=gettext_lazy("In yuan, at most 2 decimal places."),
        example=125.5,
    ),
    _column(
        "insurance_paid",
        gettext_lazy("Paid by insurance"),
        TEXT,
        aliases=("医保支付", "医保支付金额", "统筹支付"),
        help=gettext_lazy("In yuan, not more than the total cost."),
        example=80,
    ),
    _column(
        "tcm",
        gettext_lazy("TCM"),
        BOOLEAN,
        required=False,
        aliases=("中医",),
        help=gettext_lazy("Traditional Chinese medicine: 是 or 否 (empty: 否)."),
        example=False,
    ),
    _column(
        "referral",
        gettext_lazy("Referral number"),
        INTEGER,
        required=False,
        aliases=("转诊单号",),
        help=gettext_lazy("The number of the referral that brought the patient, if any."),
    ),
)
COLUMNS = {
    EncounterKind.VISITS: (EXTERNAL_ID, INSTITUTION, VISIT_DATE, *COMMON),
    EncounterKind.ADMISSIONS: (EXTERNAL_ID, INSTITUTION, ADMIT_DATE, DISCHARGE_DATE, *COMMON),
}
TITLES = {
    EncounterKind.VISITS: gettext_lazy("Outpatient visits upload"),
    EncounterKind.ADMISSIONS: gettext_lazy("Admissions upload"),
}
INSTRUCTIONS = (
    gettext_lazy(
        "One row per record. Keep the identifier columns (external ID, codes, resident ID number) formatted as text, or Excel turns an ID number into 1.1E+17 and loses digits."
    ),
    gettext_lazy("Dates: 2026-03-16, 2026/3/16 or 2026年3月16日."),
    gettext_lazy("You may also save the sheet as CSV (comma separated, UTF-8 or GBK) and upload that."),
    gettext_lazy(
        "Nothing is written at upload: a preview shows how many records would be created, updated or are unchanged, and the rejected rows with the reason; confirm to write."
    ),
)


def may_upload(user, kind=None):
    """Whether `user` may upload records of `kind` (any kind when None): exactly those `ingest`
    accepts."""
    models = [MODELS[kind]] if kind else MODELS.values()
    return any(access.can_write(user, model) for model in models)


# --- Preview --------------------------------------------------------------------------------------
def preview_upload(kind, file, *, user, source):
    """Read `file`, check every row through `ingest(dry_run=True)`, keep the valid records
    encrypted in a pending Job of the uploader and return it. Raises ImportFileError for an
    unreadable file, PermissionDenied and ValidationError as `ingest` does."""
    sheet = read_sheet(file, COLUMNS[kind], allow_csv=True)
    headers = {column.field: sheet.headers.get(column.field, str(column.header)) for column in COLUMNS[kind]}
    rejected = [_entry(error.row, error.column, error.message) for error in sheet.errors]
    numbers, records = _records(sheet, headers, rejected)
    result = ingest(kind, records, client=user, source=source, dry_run=True)
    rejected += _rejections(result["errors"], numbers, headers)
    failed = {error["index"] for error in result["errors"]}
    valid = [index for index in range(len(records)) if index not in failed]
    rejected.sort(key=lambda entry: entry["row"])
    counts = {key: result[key] for key in ("created", "updated", "unchanged")}
    counts["rejected"] = len({entry["row"] for entry in rejected})
    summary = {
        "kind": kind,
        "source": source.strip(),
        "file_name": mask_resident_ids(getattr(file, "name", "") or ""),
        "headers": headers,
        "counts": counts,
        "rejected": rejected,
        "notes": [mask_resident_ids(note) for note in sheet.notes],
        "payload": _seal({"rows": [numbers[i] for i in valid], "records": [records[i] for i in valid]}),
    }
    return Job.objects.create(kind=f"upload_{kind}", created_by=user, state=JobState.PENDING, result=summary)


def _records(sheet, headers, rejected):
    """The API records of the rows read without error, with their row numbers. A later row with
    an external id seen before is rejected here, naming the first row (the service's message
    would name a position in the batch, which means nothing to a clerk)."""
    numbers, records, first = [], [], {}
    for number, values in sheet.rows:
        record = to_record(values)
        seen = first.setdefault(record.get("external_id"), number)
        if seen != number:
            message = _("This external ID appears earlier in the file (row %(row)d).") % {"row": seen}
            rejected.append(_entry(number, headers["external_id"], message))
            continue
        numbers.append(number)
        records.append(record)
    return numbers, records


def to_record(values):
    """One row's cells ({field: value}) as the bulk API's record: dates as YYYY-MM-DD, amounts as
    text (the service checks them), empty cells left out."""
    record = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif name in AMOUNTS:
            value = _amount_text(value)
        record[name] = value
    return record


def _amount_text(text):
    """An amount cell as text: thousands separators dropped, and a number Excel computed
    (0.1 + 0.2 = 0.30000000000000004) cut to the 15 significant digits Excel shows."""
    text = text.replace(",", "").replace("，", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text  # not a number: the service says so
    if number.is_finite() and len(number.as_tuple().digits) > 15:
        return format(Decimal(f"{float(number):.15g}"), "f")
    return text


def _rejections(errors, numbers, headers):
    return [
        _entry(numbers[error["index"]], headers.get(error["field"], NO_COLUMN), error["message"])
        for error in errors
    ]


def _entry(row, column, message):
    # A resident ID a clerk typed into the wrong column would come back inside a message
    # ("no institution with code …"): masked, like every log line (core.logging).
    return {"row": row, "column": str(column), "message": mask_resident_ids(str(message))}


# --- Confirm --------------------------------------------------------------------------------------
def confirm_upload(job_id, *, user):
    """Write the previewed records of `user`'s pending upload `job_id` through `ingest`, in one
    transaction with the Job's update. Returns the Job (succeeded, or failed with a reason:
    expired, role lost, unreadable), or None when it is not pending any more (nothing written)."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update()
            .filter(pk=job_id, kind__in=JOB_KINDS, created_by=user, state=JobState.PENDING)
            .first()
        )
        if job is None:
            return None
        payload = _unseal(job.result.pop("payload", None))
        if job.created_at < timezone.now() - PREVIEW_LIFETIME:
            return _fail(job, _("This preview is more than a day old; upload the file again."))
        if payload is None:
            return _fail(job, _("The previewed records can no longer be read; upload the file again."))
        try:
            result = ingest(job.result["kind"], payload["records"], client=user, source=job.result["source"])
        except PermissionDenied:
            return _fail(job, _("Your role may not send encounter records any more."))
        job.result["written"] = {key: result[key] for key in ("created", "updated", "unchanged", "rejected")}
        job.result["confirm_rejected"] = _rejections(result["errors"], payload["rows"], job.result["headers"])
        job.state, job.progress, job.finished_at = JobState.SUCCEEDED, 100, timezone.now()
        job.save(update_fields=["state", "progress", "finished_at", "result", "updated_at"])
        return job


def _fail(job, message):
    job.state, job.error, job.finished_at = JobState.FAILED, message, timezone.now()
    job.save(update_fields=["state", "error", "finished_at", "result", "updated_at"])
    return job


def expire_uploads(now=None):
    """Wipe the encrypted records of uploads never confirmed within a day (they fail). Run at
    each upload, so abandoned previews do not keep resident IDs, even encrypted, for long."""
    cutoff = (now or timezone.now()) - PREVIEW_LIFETIME
    stale = Job.objects.filter(kind__in=JOB_KINDS, state=JobState.PENDING, created_at__lt=cutoff)
    for job in stale.only("pk", "result"):
        job.result.pop("payload", None)
        _fail(job, _("This preview is more than a day old; upload the file again."))


def rejected_rows(job):
    """Every rejected row of an upload: at preview, and at confirm when the data had changed."""
    return sorted(
        [*job.result["rejected"], *job.result.get("confirm_rejected", [])], key=lambda entry: entry["row"]
    )


# --- The encrypted payload ------------------------------------------------------------------------
def _seal(payload):
    """JSON, compressed (5,000 records are about 1 MB), then Fernet under RESIDENT_DATA_KEYS."""
    packed = zlib.compress(json.dumps(payload, ensure_ascii=False).encode())
    return encrypt(base64.b64encode(packed).decode("ascii"))


def _unseal(token):
    text = decrypt(token) if token else None
    if text is None:
        return None
    return json.loads(zlib.decompress(base64.b64decode(text)))
