"""Pages of the indicators (issue 14 point 7), under /indicators/."""

from django.urls import path

from . import dashboard_pages, value_pages, views, warning_pages

app_name = "assessment"

urlpatterns = [
    # --- indicator definitions: the list, a version with its history, the bureau's forms ---
    path("definitions/", views.DefinitionListView.as_view(), name="definition-list"),
    path("definitions/new/", views.DefinitionCreateView.as_view(), name="definition-create"),
    path("definitions/<int:pk>/", views.DefinitionDetailView.as_view(), name="definition-detail"),
    path("definitions/<int:pk>/revise/", views.DefinitionReviseView.as_view(), name="definition-revise"),
]

# --- indicator values (issue 14 points 2, 4–6) ---
urlpatterns += [
    path("", value_pages.IndicatorValuesView.as_view(), name="values"),
    path("compute/", value_pages.ComputeView.as_view(), name="compute"),
    path("export/", value_pages.IndicatorExportView.as_view(), name="export"),
    path("publish/", value_pages.PublishView.as_view(), name="publish"),
    path("jobs/<int:pk>/", value_pages.ComputationJobView.as_view(), name="job"),
    path("values/<int:pk>/", value_pages.ValueDetailView.as_view(), name="value-detail"),
    path("values/<int:pk>/records/", value_pages.ValueRecordsView.as_view(), name="value-records"),
]

# --- warnings (issue 15 point 1) ---
urlpatterns += [
    path("warnings/", warning_pages.WarningListView.as_view(), name="warnings"),
    path(
        "warnings/<int:pk>/acknowledge/", warning_pages.AcknowledgeView.as_view(), name="warning-acknowledge"
    ),
]

# --- the dashboard and the monthly report (issue 15 points 2–4) ---
urlpatterns += [
    path("dashboard/", dashboard_pages.DashboardView.as_view(), name="dashboard"),
    path("dashboard/tile/", dashboard_pages.TileView.as_view(), name="dashboard-tile"),
    path("report/", dashboard_pages.ReportView.as_view(), name="report"),
]
