"""Pages of the drug catalogue and the formularies (issue 16), under /pharmacy/."""

from django.urls import path

from . import views

app_name = "pharmacy"

urlpatterns = [
    path("drugs/", views.DrugListView.as_view(), name="drug-list"),
    path("drugs/<int:pk>/", views.DrugDetailView.as_view(), name="drug-detail"),
    path("formularies/", views.FormularyListView.as_view(), name="formulary-list"),
    path("formularies/open/", views.FormularyOpenView.as_view(), name="formulary-open"),
    path("formularies/<int:pk>/", views.FormularyEditView.as_view(), name="formulary-edit"),
]
