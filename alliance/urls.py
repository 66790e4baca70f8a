"""Pages of the hierarchy and governance (issue 4), under /alliance/."""

from django.urls import path  # noqa: F401  (each section below adds its routes)

from .views import governance, institutions, tree
from .views import imports as import_views

app_name = "alliance"

urlpatterns = [
    # --- tree and institutions ---
    path("tree/", tree.TreeView.as_view(), name="tree"),
    path("institutions/", institutions.InstitutionListView.as_view(), name="institution-list"),
    path("institutions/new/", institutions.InstitutionRegisterView.as_view(), name="institution-create"),
    path("institutions/<int:pk>/", institutions.InstitutionDetailView.as_view(), name="institution-detail"),
    path(
        "institutions/<int:pk>/edit/", institutions.InstitutionUpdateView.as_view(), name="institution-update"
    ),
    path("institutions/<int:pk>/move/", institutions.InstitutionMoveView.as_view(), name="institution-move"),
    # --- governance ---
    path("governance/committee/", governance.CommitteeMemberListView.as_view(), name="committee-list"),
    path("governance/committee/new/", governance.CommitteeMemberFormView.as_view(), name="committee-create"),
    path(
        "governance/committee/<int:pk>/",
        governance.CommitteeMemberDetailView.as_view(),
        name="committee-detail",
    ),
    path(
        "governance/committee/<int:pk>/edit/",
        governance.CommitteeMemberFormView.as_view(),
        name="committee-update",
    ),
    path("governance/meetings/", governance.MeetingListView.as_view(), name="meeting-list"),
    path("governance/meetings/rule/", governance.MeetingRuleView.as_view(), name="meeting-rule"),
    path("governance/meetings/new/", governance.MeetingFormView.as_view(), name="meeting-create"),
    path("governance/meetings/<int:pk>/", governance.MeetingDetailView.as_view(), name="meeting-detail"),
    path("governance/meetings/<int:pk>/edit/", governance.MeetingFormView.as_view(), name="meeting-update"),
    path("governance/documents/", governance.DocumentListView.as_view(), name="document-list"),
    path("governance/documents/new/", governance.DocumentPublishView.as_view(), name="document-create"),
    path("governance/documents/<int:pk>/", governance.DocumentDetailView.as_view(), name="document-detail"),
    # --- Excel import ---
    path("import/", import_views.import_home, name="import"),
    path(
        "import/institutions/", import_views.InstitutionImportUploadView.as_view(), name="import_institutions"
    ),
    path(
        "import/institutions/template/",
        import_views.InstitutionImportTemplateView.as_view(),
        name="import_institutions_template",
    ),
    path(
        "import/institutions/<int:job_id>/",
        import_views.InstitutionImportPreviewView.as_view(),
        name="import_institutions_preview",
    ),
    path(
        "import/institutions/<int:job_id>/confirm/",
        import_views.InstitutionImportConfirmView.as_view(),
        name="import_institutions_confirm",
    ),
]
