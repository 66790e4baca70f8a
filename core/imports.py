"""Excel imports: upload → preview → confirm (issue 4 point 3), one machinery for every import.

An app describes an import with an `Importer`: its columns (core.excel.ImportColumn), who may
use it and onto what (`targets`, e.g. the alliances a user may write), and `plan(values)`, which
says what one row would do (create, update or nothing) and how to do it through the app's
services, the same ones the API calls.

- Preview reads the file (`read_sheet`), then runs every row's plan inside one transaction that
  is rolled back: each row is checked by the services themselves (a row failing alone in its
  savepoint), later rows see earlier ones (a village clinic under a branch of the same file),
  and nothing is written. What would happen is kept in a `core.Job` row (state pending, created
  by the uploader): the normalised rows, the changes and the rejected rows with their reasons.
- Confirm locks that Job row, re-plans every previewed row and applies them in one transaction;
  a row that now fails (the data changed meanwhile) rolls the whole batch back. The job then
  leaves `pending`, so a second confirm, even a concurrent one, writes nothing.
"""

import datetime
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from .excel import (
    BOOLEAN,
    CHOICE,
    DATE,
    MAX_IMPORT_ROWS,
    MAX_UPLOAD_BYTES,
    ImportFileError,
    build_template,
    read_sheet,
    template_response,
)
from .exceptions import Conflict
from .models import Job, JobState

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
PREVIEW_LIFETIME = datetime.timedelta(days=1)  # a preview older than this is uploaded again


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
    """What one row does: `apply()` calls the service; `changes` lists (field, old, new) of an update."""

    action: str
    label: str
    apply: object = None  # callable() -> the written object
    changes: list = field(default_factory=list)


class Importer:
    """One kind of import. Subclasses set the class attributes and implement `targets`,
    `may_import` and `plan`."""

    kind = ""  # the Job kind, e.g. "import_staff"
    title = ""
    columns = ()
    target_label = ""
    template_title = ""
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

    @property
    def instructions(self):
        """The lines of the template's instructions sheet."""
        return (self.first_instruction, *self.common_instructions)

    url_prefix = ""  # "members:import_staff" → _template, _preview, _confirm
    error_fields = {}  # a service's error key → the column field it concerns

    def may_import(self, user):
        raise NotImplementedError

    def targets(self, user):
        """The rows (e.g. alliances) the user may import into: the choices of the upload form."""
        raise NotImplementedError

    def plan(self, values, *, user, target):
        """What the row `values` ({field: value}) does; raises RowRejected or the service's
        ValidationError when it cannot be written."""
        raise NotImplementedError

    def column(self, field_name):
        return next((column for column in self.columns if column.field == field_name), None)


# --- Preview and confirm -------------------------------------------------------------------------
def preview_import(importer, file, *, user, target):
    """Read `file`, check every row through the services without writing, and record the
    preview in a pending Job of the uploader. Raises ImportFileError for an unreadable file."""
    sheet = read_sheet(file, importer.columns)
    headers = {
        column.field: sheet.headers.get(column.field, str(column.header)) for column in importer.columns
    }
    rejected = [{"row": e.row, "column": e.column, "message": e.message} for e in sheet.errors]
    rows = []
    with transaction.atomic():
        for number, values in sheet.rows:
            try:
                with transaction.atomic():
                    plan = importer.plan(values, user=user, target=target)
                    if plan.action != UNCHANGED:
                        plan.apply()
            except (RowRejected, ValidationError, Conflict, IntegrityError) as error:
                rejected.extend(_rejections(importer, number, error, headers))
                continue
            rows.append(_row_entry(importer, number, values, plan, headers))
        transaction.set_rollback(True)  # the preview writes nothing
    rejected.sort(key=lambda entry: entry["row"])
    result = {
        "target": {"id": target.pk, "name": str(target)},
        "file_name": getattr(file, "name", ""),
        "columns": [[name, header] for name, header in sheet.headers.items()],
        "rows": rows,
        "rejected": rejected,
        "notes": sheet.notes,
        "counts": _counts(rows, rejected),
    }
    return Job.objects.create(kind=importer.kind, created_by=user, state=JobState.PENDING, result=result)


def confirm_import(importer, job_id, *, user):
    """Write every previewed row in one transaction, through the same plans and services.

    Returns the finished Job, or None when this job is not pending any more (already confirmed:
    nothing is written twice). Raises ImportAborted, with nothing written, when a row fails now.
    """
    try:
        with transaction.atomic():
            job = (
                Job.objects.select_for_update()
                .filter(pk=job_id, kind=importer.kind, created_by=user, state=JobState.PENDING)
                .first()
            )
            if job is None:
                return None
            _apply_rows(importer, job, user)
            job.state, job.progress, job.finished_at = JobState.SUCCEEDED, 100, timezone.now()
            job.result["written"] = {
                CREATE: job.result["counts"][CREATE],
                UPDATE: job.result["counts"][UPDATE],
            }
            job.save(update_fields=["state", "progress", "finished_at", "result", "updated_at"])
            return job
    except ImportAborted as abort:
        Job.objects.filter(pk=job_id, state=JobState.PENDING).update(
            state=JobState.FAILED, error=abort.message, finished_at=timezone.now()
        )
        raise


def _apply_rows(importer, job, user):
    if job.created_at < timezone.now() - PREVIEW_LIFETIME:
        raise ImportAborted(_("This preview is more than a day old; upload the file again."))
    target = importer.targets(user).filter(pk=job.result["target"]["id"]).first()
    if target is None:
        raise ImportAborted(
            _("You may no longer import into %(target)s.") % {"target": job.result["target"]["name"]}
        )
    for entry in job.result["rows"]:
        if entry["action"] == UNCHANGED:
            continue
        values = _restore(importer, entry["values"])
        try:
            plan = importer.plan(values, user=user, target=target)
            if plan.action != entry["action"]:
                raise RowRejected(None, _("The data changed after the preview."))
            plan.apply()
        except (RowRejected, ValidationError, Conflict, IntegrityError) as error:
            reasons = "；".join(item["message"] for item in _rejections(importer, entry["row"], error, {}))
            raise ImportAborted(
                _("Row %(row)d could not be written: %(reason)s Nothing was imported; upload the file again.")
                % {"row": entry["row"], "reason": reasons}
            ) from error


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
        header = headers.get(field_name) or (str(column.header) if column else "—")
        entries.append({"row": number, "column": header, "message": "".join(map(str, texts))})
    return entries


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


# --- Pages -------------------------------------------------------------------------------------
class UploadForm(forms.Form):
    """The file and the target (e.g. the alliance) to import into."""

    target = forms.ModelChoiceField(queryset=None, empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        help_text=gettext_lazy("At most 5 MB and 5,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, targets, target_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets
        self.fields["target"].label = target_label

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(
                _('Only .xlsx files can be imported. In Excel use "Save as" → "Excel Workbook (*.xlsx)".')
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)d MB; split it into several files.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class ImportViewMixin(LoginRequiredMixin):
    """Only a user who may write what the import writes reaches its pages (403 otherwise)."""

    importer = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.importer.may_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def url(self, suffix="", *args):
        return reverse(f"{self.importer.url_prefix}{suffix}", args=args)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            importer=self.importer,
            template_url=self.url("_template"),
            upload_url=self.url(),
            max_rows=MAX_IMPORT_ROWS,
            **kwargs,
        )


class ImportUploadView(ImportViewMixin, FormView):
    template_name = "core/import_upload.html"
    form_class = UploadForm

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "targets": self.importer.targets(self.request.user),
            "target_label": self.importer.target_label,
        }

    def form_valid(self, form):
        try:
            job = preview_import(
                self.importer,
                form.cleaned_data["file"],
                user=self.request.user,
                target=form.cleaned_data["target"],
            )
        except ImportFileError as error:
            form.add_error("file", error.message)
            return self.form_invalid(form)
        return HttpResponseRedirect(self.url("_preview", job.pk))


class ImportPreviewView(ImportViewMixin, TemplateView):
    """The preview of one upload (or, once confirmed, what was written). Only its uploader sees it."""

    template_name = "core/import_preview.html"

    def get_context_data(self, **kwargs):
        job = get_object_or_404(
            Job, pk=self.kwargs["job_id"], kind=self.importer.kind, created_by=self.request.user
        )
        rows = job.result["rows"]
        return super().get_context_data(
            job=job,
            result=job.result,
            headers=[header for _name, header in job.result["columns"]],
            creates=[row for row in rows if row["action"] == CREATE],
            updates=[row for row in rows if row["action"] == UPDATE],
            can_confirm=job.state == JobState.PENDING and any(row["action"] != UNCHANGED for row in rows),
            confirm_url=self.url("_confirm", job.pk),
            **kwargs,
        )


class ImportConfirmView(ImportViewMixin, View):
    """POST only (CSRF-checked): write the previewed rows; a second confirm writes nothing."""

    http_method_names = ["post"]

    def post(self, request, job_id):
        get_object_or_404(Job, pk=job_id, kind=self.importer.kind, created_by=request.user)
        try:
            job = confirm_import(self.importer, job_id, user=request.user)
        except ImportAborted as abort:
            messages.error(request, abort.message)
        else:
            if job is None:
                messages.info(
                    request, _("This import was already confirmed or stopped; nothing more was written.")
                )
            else:
                written = job.result["written"]
                messages.success(
                    request,
                    _("Imported: %(create)d created, %(update)d updated.")
                    % {"create": written[CREATE], "update": written[UPDATE]},
                )
        return HttpResponseRedirect(self.url("_preview", job_id))


class ImportTemplateView(ImportViewMixin, View):
    """The template .xlsx: Chinese headers, one example row, a 填写说明 sheet."""

    def get(self, request):
        with translation_zh():
            workbook = build_template(
                self.importer.template_title, self.importer.columns, instructions=self.importer.instructions
            )
            name = str(self.importer.template_title)
        return template_response(name, workbook)


def translation_zh():
    """The template is the Chinese file format whatever the page language (its headers are what
    the import matches; English headers are accepted too)."""
    return translation.override("zh-hans")
