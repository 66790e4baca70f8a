"""The import engine: upload → preview in a Job → locked confirm, for every import (issue 12
point 4). An import declares its columns and calls its app's services; the engine does the rest.

Two modes:

- **Row mode** (`Importer`: institutions, staff): each row is planned on its own (`plan`: create,
  update or nothing, and how, through the app's services) and confirm writes the plans
  (`apply`, which an importer may do in bulk). The lookups a plan needs are loaded once per file
  (`prepare`). A preview either checks each plan by applying it in a savepoint of a transaction
  that is rolled back (`check_by_applying`: later rows see earlier ones, e.g. a village clinic
  under a branch of the same file), or trusts the plan's own in-memory checks (fast: 5,000 rows
  in seconds).
- **Batch mode** (`BatchImporter`: encounters; next the drug catalogue and ledger entries): the
  rows become the records of the app's bulk API and one service call checks them all
  (`check`, a dry run) and, at confirm, writes them (`write`). The records may hold resident ID
  numbers, so they wait between preview and confirm only encrypted (`Job.sealed`).

The file is read in the request (a file that cannot be read is an error on the form); what was
read is sealed in a pending Job and the preview runs as a Celery task (eager without a broker),
recording its progress; the preview page polls it. The Job is then `ready`; confirm locks it,
checks it is the uploader's and less than a day old, writes, and moves it to `succeeded` (or
`failed`, with nothing written), so a second confirm, even a concurrent one, writes nothing.
"""

import base64
import contextlib
import datetime
import json
import zlib
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..excel import BOOLEAN, CHOICE, DATE, MAX_IMPORT_ROWS, read_sheet
from ..exceptions import Conflict
from ..identity import decrypt, encrypt
from ..logging import mask_resident_ids
from ..models import Job, JobState
from ..services import set_job_progress

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
PREVIEW_LIFETIME = datetime.timedelta(days=1)  # a preview older than this is uploaded again
PROGRESS_STEPS = 20  # a preview records its progress this many times
NO_COLUMN = "—"


class RowRejected(Exception):
    """A row the import will not write: `field` names the column at fault (None: the row)."""

    def __init__(self, field_name, message):
        super().__init__(message)
        self.field = field_name
        self.message = str(message)


class ImportAborted(Exception):
    """Confirm stopped: nothing of the batch was written."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class RowPlan:
    """What one row does: `apply()` calls the service; `changes` lists (field, old, new) of an
    update; `data` is what a bulk `Importer.apply` needs of the row."""

    action: str
    label: str
    apply: object = None  # callable() -> the written object
    changes: list = field(default_factory=list)
    data: object = None


class BaseImport:
    """What both modes declare: the Job kind, the columns, the page texts and who may import."""

    kind = ""  # the Job kind, e.g. "import_staff"
    title = ""
    columns = ()
    allow_csv = False
    error_fields = {}  # a service's error key → the column field it concerns
    key_field = None  # the column naming a record: a later row repeating it is rejected
    repeat_message = gettext_lazy("%(key)s appears earlier in the file (row %(row)d).")
    template_title = ""
    instructions = ()  # the lines of the template's instructions sheet
    max_rows = MAX_IMPORT_ROWS  # a file with more data rows is refused at upload

    def may_import(self, user):
        raise NotImplementedError

    def column(self, field_name):
        return next((column for column in self.columns if column.field == field_name), None)

    @property
    def path(self):
        """The dotted path the preview task finds this import by."""
        return f"{type(self).__module__}.{type(self).__qualname__}"


class Importer(BaseImport):
    """Row mode. Subclasses set the class attributes and implement `may_import`, `targets` and
    `plan`; `prepare` and `apply` when lookups or writes are worth doing once per file."""

    target_label = ""
    first_instruction = ""  # what one row is, e.g. "One row per staff member. …"
    common_instructions = (
        gettext_lazy(
            "Codes and numbers: keep these columns formatted as text so Excel does not turn them into numbers (1.1E+17)."
        ),
        gettext_lazy("Dates: 2024-01-31, 2024/1/31 or 2024年1月31日."),
        gettext_lazy(
            "Nothing is written at upload: a preview lists the rows to create, to update and the rejected rows with the reason; confirm to write."
        ),
    )
    url_prefix = ""  # "members:import_staff" → _template, _preview, _confirm
    check_by_applying = True

    @property
    def instructions(self):
        return (self.first_instruction, *self.common_instructions)

    def targets(self, user):
        """The rows (e.g. alliances) the user may import into: the choices of the upload form."""
        raise NotImplementedError

    def prepare(self, rows, *, user, target):
        """Whatever the plans of these rows ({field: value} each) look up, loaded once."""
        return None

    def plan(self, values, *, user, target, context):
        """What the row `values` does; raises RowRejected or the service's ValidationError when
        it cannot be written."""
        raise NotImplementedError

    def apply(self, entries, *, user, target, context):
        """Write the plans of `entries` [(row number, plan)]; one service call per row unless
        an importer writes in bulk. A failing row raises ImportAborted naming it."""
        for number, plan in entries:
            try:
                plan.apply()
            except (RowRejected, ValidationError, Conflict, IntegrityError) as error:
                raise self.aborted(number, error) from error

    def aborted(self, number, error):
        """The ImportAborted of row `number` failing with `error` at confirm."""
        return _aborted(self, number, error)


class BatchImporter(BaseImport):
    """Batch mode. Subclasses implement `may_import`, `to_record`, `check` and `write`; `check`
    and `write` return the bulk API's answer: {"created", "updated", "unchanged", "rejected",
    "errors": [{"index", "field", "message"}]}."""

    allow_csv = True

    def to_record(self, values):
        """One row's cells ({field: value}) as the service's record."""
        raise NotImplementedError

    def check(self, records, *, user, options):
        raise NotImplementedError

    def write(self, records, *, user, options):
        raise NotImplementedError


# --- Upload: read the file, seal it into a pending Job ---------------------------------------------
def start_preview(importer, file, *, user, target=None, options=None, enqueue=True):
    """Read `file` (ImportFileError when it cannot be read: nothing is kept), seal what was read in
    a pending Job of the uploader and, on commit, start its preview. Returns the Job."""
    sheet = read_sheet(file, importer.columns, max_rows=importer.max_rows, allow_csv=importer.allow_csv)
    headers = {
        column.field: sheet.headers.get(column.field, str(column.header)) for column in importer.columns
    }
    summary = {
        "file_name": mask_resident_ids(getattr(file, "name", "") or ""),
        "columns": [[name, header] for name, header in sheet.headers.items()],
        "headers": headers,
        "notes": [mask_resident_ids(note) for note in sheet.notes],
        "rejected": [_entry(error.row, error.column, error.message) for error in sheet.errors],
        "options": options or {},
    }
    if target is not None:
        summary["target"] = {"id": target.pk, "name": str(target)}
    rows = [
        [number, {name: _jsonable(value) for name, value in values.items()}] for number, values in sheet.rows
    ]
    job = Job.objects.create(
        kind=importer.kind, created_by=user, state=JobState.PENDING, result=summary, sealed=seal(rows)
    )
    if enqueue:
        from ..tasks import preview_import_task

        transaction.on_commit(lambda: preview_import_task.delay(job.pk, importer.path))
    return job


def preview_import(importer, file, *, user, target=None, options=None):
    """Upload and preview at once (the benchmark, tests, a management command): the finished Job."""
    job = start_preview(importer, file, user=user, target=target, options=options, enqueue=False)
    run_preview(importer, job.pk)
    job.refresh_from_db()
    return job


def run_preview(importer, job_id):
    """The preview of a pending Job (the task): pending → running (a conditional update, so a job
    delivered twice runs once) → ready with what the confirm would write, or failed."""
    if isinstance(importer, str):
        importer = import_string(importer)()
    started = Job.objects.filter(pk=job_id, state=JobState.PENDING).update(
        state=JobState.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not started:
        return None
    job = Job.objects.get(pk=job_id)
    rows = unseal(job.sealed)
    if rows is None:
        return _fail(job, _("The uploaded file can no longer be read; upload it again."))
    rows = _without_repeats(
        importer, job.result, [(number, _restore(importer, values)) for number, values in rows]
    )
    try:
        if isinstance(importer, BatchImporter):
            _preview_batch(importer, job, rows)
        else:
            _preview_rows(importer, job, rows)
    except PermissionDenied:
        return _fail(job, _("Your role may not import these rows any more."))
    except ValidationError as error:  # the batch as a whole refused (e.g. its source system)
        return _fail(job, mask_resident_ids("；".join(error.messages)))
    except ImportAborted as abort:
        return _fail(job, abort.message)
    job.result["rejected"].sort(key=lambda entry: entry["row"])
    job.state, job.progress = JobState.READY, 100
    job.save(update_fields=["state", "progress", "result", "sealed", "updated_at"])
    return job


def _without_repeats(importer, result, rows):
    """The rows less those repeating the `key_field` of an earlier row, which are rejected naming
    that row: two rows with one key are never merged into one record (issue 13 point 1)."""
    if not importer.key_field:
        return rows
    header = result["headers"].get(importer.key_field, NO_COLUMN)
    first, kept = {}, []
    for number, values in rows:
        key = values.get(importer.key_field)
        seen = first.setdefault(key, number) if key not in (None, "") else number
        if seen != number:
            message = importer.repeat_message % {"row": seen, "key": key}
            result["rejected"].append(_entry(number, header, message))
            continue
        kept.append((number, values))
    return kept


def _progress(job, done, total):
    step = max(1, total // PROGRESS_STEPS)
    if done % step == 0:
        set_job_progress(job, 100 * done / max(1, total))


def _preview_rows(importer, job, rows):
    user, result = job.created_by, job.result
    target = _target(importer, job)
    headers, entries = result["headers"], []
    # Only a preview that applies the plans needs a transaction (rolled back at the end); one
    # that checks in memory takes no write lock, so nobody waits for it (issue 13 point 2).
    with transaction.atomic() if importer.check_by_applying else contextlib.nullcontext():
        context = importer.prepare([values for _number, values in rows], user=user, target=target)
        for done, (number, values) in enumerate(rows, start=1):
            try:
                plan = importer.plan(values, user=user, target=target, context=context)
                if importer.check_by_applying and plan.action != UNCHANGED:
                    with transaction.atomic():
                        plan.apply()
            except (RowRejected, ValidationError, Conflict, IntegrityError) as error:
                result["rejected"].extend(_rejections(importer, number, error, headers))
            else:
                entries.append(_row_entry(importer, number, values, plan, headers))
            _progress(job, done, len(rows))
        if importer.check_by_applying:
            transaction.set_rollback(True)  # the preview writes nothing
    result["rows"] = entries
    result["counts"] = _counts(entries, result["rejected"])
    job.sealed = ""  # the rows are in the result: an import of this mode holds no resident IDs


def _preview_batch(importer, job, rows):
    result = job.result
    headers = result["headers"]
    numbers = [number for number, _values in rows]
    records = [importer.to_record(values) for _number, values in rows]
    set_job_progress(job, 30)
    answer = importer.check(records, user=job.created_by, options=result["options"])
    result["rejected"] += _batch_rejections(importer, answer["errors"], numbers, headers)
    failed = {error["index"] for error in answer["errors"]}
    valid = [index for index in range(len(records)) if index not in failed]
    result["counts"] = {key: answer[key] for key in ("created", "updated", "unchanged")}
    result["counts"]["rejected"] = len({entry["row"] for entry in result["rejected"]})
    job.sealed = seal({"rows": [numbers[i] for i in valid], "records": [records[i] for i in valid]})


# --- Confirm ---------------------------------------------------------------------------------------
def confirm_import(importer, job_id, *, user):
    """Write what the preview of `user`'s ready Job `job_id` showed, in one transaction with the
    Job's update. Returns the finished Job, or None when it is not ready any more (already
    confirmed: nothing is written twice). Raises ImportAborted, with nothing written, when the
    rows cannot be written now (the Job is then failed)."""
    try:
        with transaction.atomic():
            job = (
                Job.objects.select_for_update()
                .filter(pk=job_id, kind=importer.kind, created_by=user, state=JobState.READY)
                .first()
            )
            if job is None:
                return None
            if job.created_at < timezone.now() - PREVIEW_LIFETIME:
                raise ImportAborted(_("This preview is more than a day old; upload the file again."))
            if isinstance(importer, BatchImporter):
                _confirm_batch(importer, job, user)
            else:
                _confirm_rows(importer, job, user)
            job.state, job.progress, job.finished_at, job.sealed = JobState.SUCCEEDED, 100, timezone.now(), ""
            job.save(update_fields=["state", "progress", "finished_at", "result", "sealed", "updated_at"])
            return job
    except ImportAborted as abort:
        Job.objects.filter(pk=job_id, state=JobState.READY).update(
            state=JobState.FAILED, error=abort.message, finished_at=timezone.now(), sealed=""
        )
        raise


def _confirm_rows(importer, job, user):
    target = _target(importer, job)
    if target is None:
        raise ImportAborted(
            _("You may no longer import into %(target)s.") % {"target": job.result["target"]["name"]}
        )
    entries = [entry for entry in job.result["rows"] if entry["action"] != UNCHANGED]
    rows = [(entry["row"], _restore(importer, entry["values"]), entry["action"]) for entry in entries]
    context = importer.prepare([values for _number, values, _action in rows], user=user, target=target)
    plans = []
    for number, values, action in rows:
        try:
            plan = importer.plan(values, user=user, target=target, context=context)
            if plan.action != action:
                raise RowRejected(None, _("The data changed after the preview."))
        except (RowRejected, ValidationError, Conflict, IntegrityError) as error:
            raise _aborted(importer, number, error) from error
        if importer.check_by_applying:  # a later row may need this one written (its parent)
            importer.apply([(number, plan)], user=user, target=target, context=context)
        else:
            plans.append((number, plan))
    importer.apply(plans, user=user, target=target, context=context)
    counts = job.result["counts"]
    job.result["written"] = {CREATE: counts[CREATE], UPDATE: counts[UPDATE]}


def _confirm_batch(importer, job, user):
    payload = unseal(job.sealed)
    if payload is None:
        raise ImportAborted(_("The previewed records can no longer be read; upload the file again."))
    answer = importer.write(payload["records"], user=user, options=job.result["options"])
    job.result["written"] = {key: answer[key] for key in ("created", "updated", "unchanged", "rejected")}
    job.result["confirm_rejected"] = _batch_rejections(
        importer, answer["errors"], payload["rows"], job.result["headers"]
    )


def _target(importer, job):
    target = job.result.get("target")
    if target is None:
        return None
    return importer.targets(job.created_by).filter(pk=target["id"]).first()


def _fail(job, message):
    job.state, job.error, job.finished_at, job.sealed = JobState.FAILED, message, timezone.now(), ""
    job.save(update_fields=["state", "error", "finished_at", "result", "sealed", "updated_at"])
    return job


def expire_previews(kinds=None, now=None):
    """Fail the import previews (of `kinds`; None: every import) never confirmed within a day and
    wipe what they sealed, so an upload's resident IDs are not kept, even encrypted, for long.
    Hourly by beat, and at each encounter upload."""
    cutoff = (now or timezone.now()) - PREVIEW_LIFETIME
    waiting = Job.objects.filter(state__in=[JobState.PENDING, JobState.READY], created_at__lt=cutoff)
    if kinds is not None:
        waiting = waiting.filter(kind__in=list(kinds))
    else:
        waiting = waiting.filter(Q(state=JobState.READY) | ~Q(sealed=""))
    return waiting.update(
        state=JobState.FAILED,
        error=_("This preview is more than a day old; upload the file again."),
        finished_at=timezone.now(),
        sealed="",
    )


def rejected_rows(job):
    """Every rejected row of an import: at preview, and at confirm when the data had changed."""
    return sorted(
        [*job.result.get("rejected", []), *job.result.get("confirm_rejected", [])], key=lambda e: e["row"]
    )


# --- Entries of the result -------------------------------------------------------------------------
def _aborted(importer, number, error):
    reasons = "；".join(item["message"] for item in _rejections(importer, number, error, {}))
    return ImportAborted(
        _("Row %(row)d could not be written: %(reason)s Nothing was imported; upload the file again.")
        % {"row": number, "reason": reasons}
    )


def _entry(row, column, message):
    # A resident ID a clerk typed into the wrong column would come back inside a message
    # ("no institution with code …"): masked, like every log line (core.logging).
    return {"row": row, "column": str(column), "message": mask_resident_ids(str(message))}


def _rejections(importer, number, error, headers):
    """The rejected-row entries of one failing row: one per column the error names."""
    if isinstance(error, RowRejected):
        pairs = [(error.field, [error.message])]
    elif isinstance(error, Conflict):
        pairs = [(None, [str(error.message)])]
    elif isinstance(error, IntegrityError):  # a row saved by someone else at the same moment
        pairs = [(None, [_("This row clashes with a record saved meanwhile.")])]
    elif hasattr(error, "error_dict"):
        pairs = [(importer.error_fields.get(key, key), texts) for key, texts in error.message_dict.items()]
    else:
        pairs = [(None, error.messages)]
    entries = []
    for field_name, texts in pairs:
        column = importer.column(field_name) if field_name else None
        header = headers.get(field_name) or (str(column.header) if column else NO_COLUMN)
        entries.append(_entry(number, header, "".join(map(str, texts))))
    return entries


def _batch_rejections(importer, errors, numbers, headers):
    """The service's errors by record as rejected rows; `importer.error_fields` maps a nested
    field of the record (outside_facility.region) to the file's column."""
    named = importer.error_fields
    return [
        _entry(
            numbers[error["index"]],
            headers.get(named.get(error["field"], error["field"]), NO_COLUMN),
            error["message"],
        )
        for error in errors
    ]


def _row_entry(importer, number, values, plan, headers):
    return {
        "row": number,
        "action": plan.action,
        "label": plan.label,
        "values": {name: _jsonable(value) for name, value in values.items()},
        "cells": [_display(importer.column(name), values.get(name)) for name in values],
        "changes": [
            [
                headers.get(name, name),
                _display(importer.column(name), old),
                _display(importer.column(name), new),
            ]
            for name, old, new in plan.changes
        ],
    }


def _counts(rows, rejected):
    counts = {
        action: sum(1 for row in rows if row["action"] == action) for action in (CREATE, UPDATE, UNCHANGED)
    }
    counts["rejected"] = len({entry["row"] for entry in rejected})
    return counts


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


def _restore(importer, values):
    restored = {}
    for name, value in values.items():
        column = importer.column(name)
        if column is not None and column.kind == DATE and isinstance(value, str):
            value = datetime.date.fromisoformat(value)
        restored[name] = value
    return restored


def _display(column, value):
    if value is None or value == "":
        return ""
    if column is not None and column.kind == CHOICE:
        return str(dict(column.choices).get(value, value))
    if column is not None and column.kind == BOOLEAN or isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# --- Sealing ---------------------------------------------------------------------------------------
def seal(data):
    """JSON, compressed (5,000 records are about 1 MB), then Fernet under RESIDENT_DATA_KEYS."""
    packed = zlib.compress(json.dumps(data, ensure_ascii=False).encode())
    return encrypt(base64.b64encode(packed).decode("ascii"))


def unseal(token):
    text = decrypt(token) if token else None
    if text is None:
        return None
    return json.loads(zlib.decompress(base64.b64decode(text)))
