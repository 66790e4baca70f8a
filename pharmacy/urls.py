"""Pages of the drug catalogue and the formularies (issue 16), under /pharmacy/."""

from django.urls import path

from . import import_views, views

app_name = "pharmacy"

urlpatterns = [
    path("drugs/", views.DrugListView.as_view(), name="drug-list"),
    path("drugs/<int:pk>/", views.DrugDetailView.as_view(), name="drug-detail"),
    path("formularies/", views.FormularyListView.as_view(), name="formulary-list"),
    # --- the national workbook's import ---
    path("import/drugs/", import_views.DrugImportUploadView.as_view(), name="import_drugs"),
    path(
        "import/drugs/template/", import_views.DrugImportTemplateView.as_view(), name="import_drugs_template"
    ),
    path(
        "import/drugs/<int:job_id>/",
        import_views.DrugImportPreviewView.as_view(),
        name="import_drugs_preview",
    ),
    path(
        "import/drugs/<int:job_id>/confirm/",
        import_views.DrugImportConfirmView.as_view(),
        name="import_drugs_confirm",
    ),
    path("formularies/open/", views.FormularyOpenView.as_view(), name="formulary-open"),
    path("formularies/<int:pk>/", views.FormularyEditView.as_view(), name="formulary-edit"),
]
