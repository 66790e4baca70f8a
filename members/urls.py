"""Pages of people (issue 4), under /people/."""

from django.urls import path  # noqa: F401  (each section below adds its routes)

from .views import imports as import_views
from .views import residents, secondments, staff, teams  # staff, secondments, teams, residents

app_name = "members"

urlpatterns = [
    # --- staff, secondments, teams, residents ---
    path("staff/", staff.StaffListView.as_view(), name="staff-list"),
    path("staff/new/", staff.StaffCreateView.as_view(), name="staff-create"),
    path("staff/departments/", staff.department_options, name="department-options"),
    path("staff/<int:pk>/", staff.StaffDetailView.as_view(), name="staff-detail"),
    path("staff/<int:pk>/edit/", staff.StaffUpdateView.as_view(), name="staff-update"),
    path("staff/<int:pk>/transfer/", staff.StaffTransferView.as_view(), name="staff-transfer"),
    path("secondments/", secondments.SecondmentListView.as_view(), name="secondment-list"),
    path("secondments/new/", secondments.SecondmentCreateView.as_view(), name="secondment-create"),
    path("secondments/<int:pk>/", secondments.SecondmentDetailView.as_view(), name="secondment-detail"),
    path("secondments/<int:pk>/edit/", secondments.SecondmentUpdateView.as_view(), name="secondment-update"),
    path("teams/", teams.TeamListView.as_view(), name="team-list"),
    path("teams/new/", teams.TeamCreateView.as_view(), name="team-create"),
    path("teams/<int:pk>/", teams.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<int:pk>/edit/", teams.TeamUpdateView.as_view(), name="team-update"),
    path("teams/<int:pk>/members/add/", teams.TeamMemberAddView.as_view(), name="team-member-add"),
    path(
        "teams/<int:pk>/members/<int:membership_pk>/remove/",
        teams.TeamMemberRemoveView.as_view(),
        name="team-member-remove",
    ),
    path("residents/", residents.ResidentListView.as_view(), name="resident-list"),
    path("residents/find/", residents.find_resident, name="resident-find"),
    path("residents/new/", residents.ResidentCreateView.as_view(), name="resident-create"),
    path("residents/<int:pk>/", residents.ResidentDetailView.as_view(), name="resident-detail"),
    path("residents/<int:pk>/edit/", residents.ResidentUpdateView.as_view(), name="resident-update"),
    # --- Excel import ---
    path("import/staff/", import_views.StaffImportUploadView.as_view(), name="import_staff"),
    path(
        "import/staff/template/", import_views.StaffImportTemplateView.as_view(), name="import_staff_template"
    ),
    path(
        "import/staff/<int:job_id>/",
        import_views.StaffImportPreviewView.as_view(),
        name="import_staff_preview",
    ),
    path(
        "import/staff/<int:job_id>/confirm/",
        import_views.StaffImportConfirmView.as_view(),
        name="import_staff_confirm",
    ),
]
