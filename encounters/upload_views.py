"""Pages of the encounter upload under /encounters/upload/ (issue 5 point 3): upload (with the
templates and the user's recent uploads), preview (polled while it runs), confirm and the error
report. The work is the import engine's (core.imports, batch mode) with encounters.imports'
declarations; these views only check who may use them and turn results into pages."""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from core.excel import MAX_IMPORT_ROWS, ImportFileError, xlsx_response
from core.imports import expire_previews, rejected_rows, start_preview
from core.imports.forms import ImportFileForm
from core.imports.views import confirm_and_tell, job_context, own_job, template_download
from core.models import Job, JobState

from .imports import DEFAULT_SOURCE, JOB_KINDS, TITLES, UPLOADS, may_upload
from .models import EncounterKind
from .services import SOURCE_LENGTH

RECENT = 10


class UploadForm(ImportFileForm):
    """Which records, from which source system, in which file."""

    allow_csv = True
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
    field_order = ["kind", "source", "file"]


class UploadAccessMixin(LoginRequiredMixin):
    """Only users whose records `ingest` accepts reach these pages (403 otherwise)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_upload(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def own_job(self, job_id):
        return own_job(self.request.user, job_id, JOB_KINDS)


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
        upload = UPLOADS[form.cleaned_data["kind"]]
        if not upload.may_import(self.request.user):
            raise PermissionDenied
        expire_previews(JOB_KINDS)
        options = {"source": form.cleaned_data["source"].strip()}
        try:
            job = start_preview(upload, form.cleaned_data["file"], user=self.request.user, options=options)
        except ImportFileError as error:
            form.add_error("file", error.message)
            return self.form_invalid(form)
        return HttpResponseRedirect(reverse("encounters:upload-preview", args=[job.pk]))


class UploadTemplateView(UploadAccessMixin, View):
    """The template .xlsx of one kind: Chinese headers, one example row, identifier columns
    formatted as text, a 填写说明 sheet."""

    def get(self, request, kind):
        if kind not in EncounterKind.values:
            raise Http404
        upload = UPLOADS[kind]
        return template_download(upload.title, upload.columns, upload.instructions)


class UploadPreviewView(UploadAccessMixin, TemplateView):
    """The preview of one upload (its progress while it runs; counts, rejected rows, confirm),
    or once confirmed what was written. Only its uploader sees it."""

    template_name = "encounters/upload_preview.html"

    def get_context_data(self, **kwargs):
        job = self.own_job(self.kwargs["job_id"])
        context = job_context(job)
        kind = JOB_KINDS[job.kind]
        written, counts = job.result.get("written"), job.result.get("counts") or {}
        return super().get_context_data(
            **context,
            kind=kind,
            title=TITLES[kind],
            rejected=rejected_rows(job) if not context["running"] else [],
            can_confirm=job.state == JobState.READY and bool(counts.get("created") or counts.get("updated")),
            changed=_changed(written, counts),
            **kwargs,
        )


def _changed(written, counts):
    """Whether the confirm wrote other than the preview said: other counts, or records refused
    only now. The preview's rejected rows were never sent, so they are not a change."""
    if not written:
        return False
    return written["rejected"] > 0 or any(
        written[key] != counts[key] for key in ("created", "updated", "unchanged")
    )


class UploadConfirmView(UploadAccessMixin, View):
    """POST only (CSRF-checked): write the previewed records; a second confirm writes nothing."""

    http_method_names = ["post"]

    def post(self, request, job_id):
        job = self.own_job(job_id)
        confirm_and_tell(
            request,
            UPLOADS[JOB_KINDS[job.kind]],
            job_id,
            done=lambda written: (
                _("Written: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % written
            ),
            already=_("This upload was already confirmed or stopped; nothing more was written."),
        )
        return HttpResponseRedirect(reverse("encounters:upload-preview", args=[job_id]))


class UploadErrorReportView(UploadAccessMixin, View):
    """The rejected rows as .xlsx: row number, column, reason. No cell values, so no ID numbers;
    a header from the file that looks like a formula is written as text (core.excel.write)."""

    def get(self, request, job_id):
        job = self.own_job(job_id)
        rows = [(entry["row"], entry["column"], entry["message"]) for entry in rejected_rows(job)]
        headers = (_("Row"), _("Column"), _("Reason and how to fix it"))
        return xlsx_response(_("Rejected rows"), [(_("Rejected rows"), headers, rows)])
