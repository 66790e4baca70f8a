"""Pages of encounters (issue 5), under /encounters/."""

from django.urls import path

from . import upload_views, views

app_name = "encounters"

urlpatterns = [
    path("visits/", views.VisitListView.as_view(), name="visit-list"),
    path("admissions/", views.AdmissionListView.as_view(), name="admission-list"),
    path("submissions/", views.submissions, name="submissions"),
    # --- Excel / CSV upload ---
    path("upload/", upload_views.UploadView.as_view(), name="upload"),
    path("upload/template/<str:kind>/", upload_views.UploadTemplateView.as_view(), name="upload-template"),
    path("upload/<int:job_id>/", upload_views.UploadPreviewView.as_view(), name="upload-preview"),
    path("upload/<int:job_id>/confirm/", upload_views.UploadConfirmView.as_view(), name="upload-confirm"),
    path("upload/<int:job_id>/errors/", upload_views.UploadErrorReportView.as_view(), name="upload-errors"),
]
