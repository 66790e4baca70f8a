"""Staff upload of encounter records as .xlsx or .csv (issue 5 point 3): the columns of the file
and the service that checks and writes them, the same validator and service as the bulk API
(`ingest`). The engine (core.imports, batch mode) does the rest:

- preview reads the file (core.excel, so Excel's damage to identifiers is caught the same way as
  in every import), turns each good row into the API's record and calls `ingest(…, dry_run=True)`
  in the preview task: the counts and the rejected rows, by the row number Excel shows;
- the records hold resident ID numbers, so between upload and confirm they are kept only
  Fernet-encrypted (`Job.sealed`; DESIGN §3: the raw ID is never stored); the Job's readable part
  holds counts and messages, which never contain an ID;
- confirm locks that Job, calls `ingest` once (one transaction with the Job update), records what
  was written and wipes the ciphertext; a second confirm writes nothing.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import access
from core.excel import BOOLEAN, CODE, DATE, INTEGER, TEXT, ImportColumn
from core.imports import BatchImporter, ImportAborted

from .models import EncounterKind
from .services import MODELS, ingest

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
    required=False,  # or the outside facility's columns (insurance feed): the service says which
    aliases=("机构代码", "机构编码", "医疗机构代码"),
    help=gettext_lazy(
        "The code the institution was registered with in the alliance. The insurance feed fills the outside facility's columns instead for care outside the alliance."
    ),
    example="Y0001",
)
# Care outside the alliance, as the insurance feed's API sends it (`outside_facility`).
OUTSIDE_FACILITY = (
    _column(
        "outside_facility_code", gettext_lazy("Outside facility code"), CODE, required=False,
        aliases=("院外机构代码", "定点医疗机构代码"),
        help=gettext_lazy("Insurance feed only: the insurance code of a facility outside the alliance."),
    ),
    _column(
        "outside_facility_name", gettext_lazy("Outside facility name"), TEXT, required=False,
        aliases=("院外机构名称", "定点医疗机构名称"),
        help=gettext_lazy("Insurance feed only: its name."),
    ),
    _column(
        "outside_facility_region", gettext_lazy("Outside facility region code"), CODE, required=False,
        aliases=("院外机构区划", "院外机构所在地区划"),
        help=gettext_lazy("Insurance feed only: the six-digit region code where it is."),
    ),
    _column(
        "outside_facility_level", gettext_lazy("Outside facility level"), TEXT, required=False,
        aliases=("院外机构级别",),
        help=gettext_lazy("Insurance feed only: primary, secondary or tertiary (一级、二级、三级); may be empty."),
    ),
)  # fmt: skip
FACILITY_KEYS = {"outside_facility_code": "code", "outside_facility_name": "name",
                 "outside_facility_region": "region", "outside_facility_level": "level"}  # fmt: skip
FACILITY_LEVELS = {"一级": "primary", "二级": "secondary", "三级": "tertiary"}
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
        required=False,  # required for an institution, not used for an outside facility: the service checks
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
    EncounterKind.VISITS: (EXTERNAL_ID, INSTITUTION, VISIT_DATE, *COMMON, *OUTSIDE_FACILITY),
    EncounterKind.ADMISSIONS: (
        EXTERNAL_ID,
        INSTITUTION,
        ADMIT_DATE,
        DISCHARGE_DATE,
        *COMMON,
        *OUTSIDE_FACILITY,
    ),
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


class EncounterUpload(BatchImporter):
    """Batch mode of the engine (core.imports): the rows become the bulk API's records and
    `ingest` checks them (a dry run) at preview and writes them at confirm. `options`: the
    `source` system the clerk named."""

    encounter_kind = None
    key_field = "external_id"
    error_fields = {f"outside_facility.{key}": name for name, key in FACILITY_KEYS.items()}
    repeat_message = gettext_lazy("This external ID appears earlier in the file (row %(row)d).")
    instructions = INSTRUCTIONS

    @property
    def kind(self):
        return f"upload_{self.encounter_kind}"

    @property
    def columns(self):
        return COLUMNS[self.encounter_kind]

    @property
    def title(self):
        return TITLES[self.encounter_kind]

    template_title = title

    def may_import(self, user):
        return may_upload(user, self.encounter_kind)

    def to_record(self, values):
        return to_record(values)

    def check(self, records, *, user, options):
        return ingest(self.encounter_kind, records, client=user, source=options["source"], dry_run=True)

    def write(self, records, *, user, options):
        try:
            return ingest(self.encounter_kind, records, client=user, source=options["source"])
        except PermissionDenied as denied:
            raise ImportAborted(_("Your role may not send encounter records any more.")) from denied


class VisitUpload(EncounterUpload):
    encounter_kind = EncounterKind.VISITS


class AdmissionUpload(EncounterUpload):
    encounter_kind = EncounterKind.ADMISSIONS


UPLOADS = {EncounterKind.VISITS: VisitUpload(), EncounterKind.ADMISSIONS: AdmissionUpload()}
JOB_KINDS = {upload.kind: kind for kind, upload in UPLOADS.items()}


def to_record(values):
    """One row's cells ({field: value}) as the bulk API's record: dates as YYYY-MM-DD, amounts as
    text (the service checks them), empty cells left out."""
    record, facility = {}, {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        if name in FACILITY_KEYS:
            facility[FACILITY_KEYS[name]] = (
                FACILITY_LEVELS.get(value, value) if name.endswith("level") else value
            )
            continue
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif name in AMOUNTS:
            value = _amount_text(value)
        record[name] = value
    if facility:
        record["outside_facility"] = facility
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
