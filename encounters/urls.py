"""Pages of encounters (issue 5), under /encounters/."""

from django.urls import path

from . import views

app_name = "encounters"

urlpatterns = [
    path("visits/", views.VisitListView.as_view(), name="visit-list"),
    path("admissions/", views.AdmissionListView.as_view(), name="admission-list"),
    path("submissions/", views.submissions, name="submissions"),
    # --- Excel / CSV upload ---
]
