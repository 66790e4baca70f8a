"""Excel import pages under /alliance/import/: the landing page listing the imports a user may
use, and the institutions import (upload → preview → confirm, template download)."""

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import access
from core.imports.views import ImportConfirmView, ImportPreviewView, ImportTemplateView, ImportUploadView
from core.models import Job

from ..imports import InstitutionImport, may_use_imports

IMPORTER = InstitutionImport()
# Each import by its Job kind: title and url names. The staff and drug imports live in their
# apps, reached by url name only (the hierarchy never imports them, DESIGN §2).
IMPORTS = {
    "import_institutions": (IMPORTER.title, "alliance:import_institutions", ("alliance", "Institution")),
    "import_staff": (_("Import staff"), "members:import_staff", ("members", "StaffMember")),
    "import_drugs": (
        _("Import the drug catalogue"),
        "pharmacy:import_drugs",
        ("pharmacy", "DrugCatalogueEntry"),
    ),
}


@login_required
def import_home(request):
    """The imports this user may use, with their templates, and the user's recent uploads."""
    user = request.user
    if not may_use_imports(user):
        raise PermissionDenied
    usable = [
        (title, reverse(url_name), reverse(f"{url_name}_template"))
        for title, url_name, model in IMPORTS.values()
        if access.can_write(user, apps.get_model(*model))
    ]
    jobs = Job.objects.filter(created_by=user, kind__in=IMPORTS).order_by("-created_at")[:10]
    recent = [
        (job, IMPORTS[job.kind][0], reverse(f"{IMPORTS[job.kind][1]}_preview", args=[job.pk])) for job in jobs
    ]
    return render(request, "core/import_home.html", {"imports": usable, "recent": recent})


class InstitutionImportUploadView(ImportUploadView):
    importer = IMPORTER


class InstitutionImportPreviewView(ImportPreviewView):
    importer = IMPORTER


class InstitutionImportConfirmView(ImportConfirmView):
    importer = IMPORTER


class InstitutionImportTemplateView(ImportTemplateView):
    importer = IMPORTER
