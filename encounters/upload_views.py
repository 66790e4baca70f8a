"""Pages of the encounter upload under /encounters/upload/ (issue 5 point 3): upload (with the
templates and the user's recent uploads), preview, confirm and the error report. The work is in
encounters.imports; these views only check who may use them and turn results into pages."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from core.excel import (
    MAX_IMPORT_ROWS,
    MAX_UPLOAD_BYTES,
    ImportFileError,
    build_template,
    template_response,
    xlsx_response,
)
from core.imports import translation_zh
from core.models import Job, JobState

from .imports import (
    COLUMNS,
    DEFAULT_SOURCE,
    INSTRUCTIONS,
    JOB_KINDS,
    TITLES,
    confirm_upload,
    expire_uploads,
    may_upload,
    preview_upload,
    rejected_rows,
)
from .models import EncounterKind
from .services import SOURCE_LENGTH

RECENT = 10
FORMULA_START = ("=", "+", "-", "@")  # a cell text Excel would run as a formula


class UploadForm(forms.Form):
    """Which records, from which source system, in which file."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Records"), choices=EncounterKind.choices, widget=forms.RadioSelect
    )
    source = forms.CharField(
        label=gettext_lazy("Source system"),
        max_length=SOURCE_LENGTH,
        initial=DEFAULT_SOURCE,
        help_text=gettext_lazy(
            "The system the records come from. Records are matched by source and external ID: upload corrections with the same source."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx or .csv)"),
        help_text=gettext_lazy("At most 5 MB and 5,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise ValidationError(
                _(
                    'Only .xlsx and .csv files can be imported. In Excel use "Save as" → "Excel Workbook (*.xlsx)".'
                )
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)d MB; split it into several files.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class UploadAccessMixin(LoginRequiredMixin):
    """Only users whose records `ingest` accepts reach these pages (403 otherwise)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_upload(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def own_job(self, job_id):
        """The user's own upload; another user's is 404, as if it did not exist."""
        return get_object_or_404(Job, pk=job_id, kind__in=JOB_KINDS, created_by=self.request.user)


class UploadView(UploadAccessMixin, FormView):
    """The landing page: the templates, the form, the user's recent uploads."""

    template_name = "encounters/upload_form.html"
    form_class = UploadForm

    def get_initial(self):
        kind = self.request.GET.get("kind")
        return {"kind": kind if kind in EncounterKind.values else EncounterKind.VISITS}

    def get_context_data(self, **kwargs):
        kinds = [kind for kind in EncounterKind if may_upload(self.request.user, kind)]
        jobs = Job.objects.filter(created_by=self.request.user, kind__in=JOB_KINDS)[:RECENT]
        return super().get_context_data(
            templates=[(TITLES[kind], reverse("encounters:upload-template", args=[kind])) for kind in kinds],
            recent=[(job, TITLES[JOB_KINDS[job.kind]]) for job in jobs],
            max_rows=MAX_IMPORT_ROWS,
            **kwargs,
        )

    def form_valid(self, form):
        kind = form.cleaned_data["kind"]
        if not may_upload(self.request.user, kind):
            raise PermissionDenied
        expire_uploads()
        try:
            job = preview_upload(
                kind, form.cleaned_data["file"], user=self.request.user, source=form.cleaned_data["source"]
            )
        except ImportFileError as error:
            form.add_error("file", error.message)
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_error("source", error.message_dict.get("source", error.messages))
            return self.form_invalid(form)
        return HttpResponseRedirect(reverse("encounters:upload-preview", args=[job.pk]))


class UploadTemplateView(UploadAccessMixin, View):
    """The template .xlsx of one kind: Chinese headers, one example row, identifier columns
    formatted as text, a 填写说明 sheet."""

    def get(self, request, kind):
        if kind not in EncounterKind.values:
            raise Http404
        with translation_zh():
            workbook = build_template(TITLES[kind], COLUMNS[kind], instructions=INSTRUCTIONS)
            name = str(TITLES[kind])
        return template_response(name, workbook)


class UploadPreviewView(UploadAccessMixin, TemplateView):
    """The preview of one upload (counts, rejected rows, confirm), or once confirmed what was
    written. Only its uploader sees it."""

    template_name = "encounters/upload_preview.html"

    def get_context_data(self, **kwargs):
        job = self.own_job(self.kwargs["job_id"])
        result = job.result
        written = result.get("written")
        counts = result["counts"]
        return super().get_context_data(
            job=job,
            result=result,
            title=TITLES[result["kind"]],
            rejected=rejected_rows(job),
            can_confirm=job.state == JobState.PENDING and (counts["created"] or counts["updated"]),
            changed=bool(written) and any(written[key] != counts[key] for key in written),
            **kwargs,
        )


class UploadConfirmView(UploadAccessMixin, View):
    """POST only (CSRF-checked): write the previewed records; a second confirm writes nothing."""

    http_method_names = ["post"]

    def post(self, request, job_id):
        self.own_job(job_id)
        job = confirm_upload(job_id, user=request.user)
        if job is None:
            messages.info(
                request, _("This upload was already confirmed or stopped; nothing more was written.")
            )
        elif job.state == JobState.FAILED:
            messages.error(request, job.error)
        else:
            written = job.result["written"]
            messages.success(
                request,
                _("Written: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % written,
            )
        return HttpResponseRedirect(reverse("encounters:upload-preview", args=[job_id]))


class UploadErrorReportView(UploadAccessMixin, View):
    """The rejected rows as .xlsx: row number, column, reason. No cell values, so no ID numbers."""

    def get(self, request, job_id):
        job = self.own_job(job_id)
        rows = [
            (entry["row"], _cell_text(entry["column"]), _cell_text(entry["message"]))
            for entry in rejected_rows(job)
        ]
        headers = (_("Row"), _("Column"), _("Reason and how to fix it"))
        return xlsx_response(_("Rejected rows"), [(_("Rejected rows"), headers, rows)])


def _cell_text(text):
    """Text that Excel shows as typed, never runs as a formula (a header or code from the file)."""
    return f"'{text}" if text.startswith(FORMULA_START) else text
