"""Staff pages: the list, a staff member's record (postings, secondments, teams, history), and
the forms that hire, edit and transfer (hire_staff, update_staff, post_staff)."""

import django_filters
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliance.models import Alliance, Department
from alliance.querysets import today
from core import access
from core.detail import get_scoped_or_404
from core.listing import Column, ScopedListView, attr

from .. import services
from ..filtersets import StaffFilterSet
from ..forms import STAFF_DETAIL_FIELDS, HireStaffForm, StaffUpdateForm, TransferStaffForm
from ..models import Secondment, StaffMember, StaffPosting, TeamMembership
from .common import PeopleFormView, RecordDetailView


def departments_of_chosen_institution(request):
    """Department choices follow the institution filter (a county has hundreds of departments)."""
    if request is None:
        return Department.objects.none()
    chosen = request.GET.get("institution", "")
    departments = Department.objects.for_user(request.user)
    return departments.filter(institution_id=chosen) if chosen.isdigit() else departments.none()


class StaffPageFilterSet(StaffFilterSet):
    institution_code = None  # pages pick the institution from the list instead
    department = django_filters.ModelChoiceFilter(
        queryset=departments_of_chosen_institution, label=_("department")
    )

    class Meta(StaffFilterSet.Meta):
        fields = ["institution", "department", "profession", "title_level", "active"]


class StaffListView(ScopedListView):
    model = StaffMember
    queryset = StaffMember.objects.select_related("institution", "department")
    filterset_class = StaffPageFilterSet
    title = _("Staff")
    export_name = _("Staff")
    create_url_name = "members:staff-create"
    columns = [
        Column("name", _("full name"), attr("name"), "name"),
        Column("employee_number", _("employee number"), attr("employee_number"), "employee_number"),
        Column("institution", _("posted to"), attr("institution.name"), "institution__name"),
        Column("department", _("department"), attr("department.name"), "department__name"),
        Column("profession", _("profession"), attr("get_profession_display"), "profession"),
        Column("title_level", _("title level"), attr("get_title_level_display"), "title_level"),
        Column("title", _("professional title"), attr("title"), "title"),
        Column("gp", _("general practitioner"), attr("is_general_practitioner"), "is_general_practitioner"),
        Column("active", _("active"), attr("active"), "active"),
    ]


class StaffDetailView(RecordDetailView):
    """A staff member's facts, posting history, secondments and teams (each scoped too)."""

    model = StaffMember
    related = ("alliance", "institution", "department")
    template_name = "members/staffmember_detail.html"

    def get_context_data(self, **kwargs):
        user, staff = self.request.user, self.object
        return super().get_context_data(
            postings=StaffPosting.objects.for_user(user)
            .filter(staff=staff)
            .select_related("institution", "department")
            .order_by("-valid_from"),
            secondments=Secondment.objects.for_user(user)
            .filter(staff=staff)
            .select_related("from_institution", "to_institution"),
            team_memberships=TeamMembership.objects.for_user(user)
            .filter(staff=staff)
            .select_related("team", "team__institution")
            .order_by("-valid_from"),
            **kwargs,
        )


@login_required
def department_options(request):
    """The <option>s of the department select for the chosen institution (htmx)."""
    chosen = request.GET.get("institution", "")
    departments = Department.objects.for_user(request.user).filter(active=True)
    departments = departments.filter(institution_id=chosen) if chosen.isdigit() else departments.none()
    return render(request, "members/department_options.html", {"departments": departments})


def employer_of(user, institution):
    """The alliance that employs a new hire: the one the user administers (alliance roles) or,
    for an institution's administrator, the alliance their institution belongs to today."""
    reach = access.reach(user, StaffMember, access.WRITE)
    if len(reach.alliances) == 1:
        return Alliance.objects.get(pk=next(iter(reach.alliances)))
    placement = institution.placement_on(today())
    if placement is None:
        raise ValidationError(
            {"institution": gettext("Staff can only be posted to a member institution of their alliance.")}
        )
    return placement.alliance


class StaffCreateView(PeopleFormView):
    model = StaffMember
    form_class = HireStaffForm
    title = _("Hire a staff member")

    def perform(self, form):
        data = dict(form.cleaned_data)
        institution = data.pop("institution")
        return services.hire_staff(
            alliance=employer_of(self.request.user, institution),
            institution=institution,
            acting_user=self.request.user,
            **data,
        )

    def get_cancel_url(self):
        from django.urls import reverse

        return reverse("members:staff-list")


class StaffRecordFormView(PeopleFormView):
    """A form on one staff member the user may see (404 otherwise)."""

    model = StaffMember

    def get_object(self):
        return get_scoped_or_404(
            StaffMember.objects.select_related("alliance", "institution"),
            self.request.user,
            self.kwargs["pk"],
        )


class StaffUpdateView(StaffRecordFormView):
    form_class = StaffUpdateForm
    title = _("Edit staff member")

    def get_initial(self):
        return {name: getattr(self.object, name) for name in (*STAFF_DETAIL_FIELDS, "active")}

    def perform(self, form):
        return services.update_staff(self.object, acting_user=self.request.user, **form.cleaned_data)


class StaffTransferView(StaffRecordFormView):
    form_class = TransferStaffForm
    title = _("Transfer staff member")

    def get_initial(self):
        return {"institution": self.object.institution_id, "department": self.object.department_id}

    def perform(self, form):
        return services.post_staff(self.object, acting_user=self.request.user, **form.cleaned_data)
