"""The pages of a row-mode import: upload, preview (polled while it runs), confirm and the
template. An app wires them with its Importer (`ImportUploadView.as_view(importer=…)`); a
batch-mode import with pages of its own (encounters) uses `own_job` and `ImportJobMixin`."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from ..excel import ImportFileError, build_template, template_response
from ..models import Job, JobState
from .engine import CREATE, UNCHANGED, UPDATE, ImportAborted, confirm_import, start_preview
from .forms import UploadForm


def own_job(user, job_id, kinds):
    """The user's own import Job of one of `kinds`; another user's is 404, as if it did not exist."""
    return get_object_or_404(Job, pk=job_id, kind__in=kinds, created_by=user)


def job_context(job):
    """What every preview page shows of its Job: whether it still runs (the page then polls it
    with htmx every second) and how far it has got."""
    running = job.state in (JobState.PENDING, JobState.RUNNING)
    return {"job": job, "running": running, "result": job.result if not running else {}}


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
            max_rows=self.importer.max_rows,
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
            job = start_preview(
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
    """The preview of one upload (its progress while it runs; once confirmed, what was
    written). Only its uploader sees it."""

    template_name = "core/import_preview.html"

    def get_context_data(self, **kwargs):
        job = own_job(self.request.user, self.kwargs["job_id"], [self.importer.kind])
        context = job_context(job)
        rows = context["result"].get("rows", [])
        return super().get_context_data(
            **context,
            headers=[header for _name, header in job.result["columns"]],
            creates=[row for row in rows if row["action"] == CREATE],
            updates=[row for row in rows if row["action"] == UPDATE],
            can_confirm=job.state == JobState.READY and any(row["action"] != UNCHANGED for row in rows),
            confirm_url=self.url("_confirm", job.pk),
            **kwargs,
        )


class ImportConfirmView(ImportViewMixin, View):
    """POST only (CSRF-checked): write the previewed rows; a second confirm writes nothing."""

    http_method_names = ["post"]

    def post(self, request, job_id):
        own_job(request.user, job_id, [self.importer.kind])
        confirm_and_tell(
            request,
            self.importer,
            job_id,
            done=lambda written: (
                _("Imported: %(create)d created, %(update)d updated.")
                % {"create": written[CREATE], "update": written[UPDATE]}
            ),
            already=_("This import was already confirmed or stopped; nothing more was written."),
        )
        return HttpResponseRedirect(self.url("_preview", job_id))


def confirm_and_tell(request, importer, job_id, *, done, already):
    """Confirm the user's import `job_id` and say on the next page what happened: `done(written)`,
    `already` (a second confirm), or why nothing was written."""
    try:
        job = confirm_import(importer, job_id, user=request.user)
    except ImportAborted as abort:
        messages.error(request, abort.message)
        return None
    if job is None:
        messages.info(request, already)
    else:
        messages.success(request, done(job.result["written"]))
    return job


class ImportTemplateView(ImportViewMixin, View):
    """The template .xlsx: Chinese headers, one example row, a 填写说明 sheet."""

    def get(self, request):
        return template_download(
            self.importer.template_title, self.importer.columns, self.importer.instructions
        )


def template_download(title, columns, instructions):
    """An import's template as a download. It is the Chinese file format whatever the page
    language (its headers are what the import matches; English headers are accepted too)."""
    with translation.override("zh-hans"):
        return template_response(str(title), build_template(title, columns, instructions=instructions))
