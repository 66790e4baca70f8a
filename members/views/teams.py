"""Family-doctor team pages: the list with its composition, a team's record (members with their
roles, residents under contract, history) and the forms (create_team, update_team,
add_team_member, remove_team_member)."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import access
from core.detail import get_scoped_or_404
from core.listing import Column, ScopedListView, attr

from .. import services
from ..filtersets import TeamFilterSet
from ..forms import TeamCreateForm, TeamMemberForm, TeamMemberRemoveForm, TeamUpdateForm
from ..models import FamilyDoctorTeam, TeamMembership
from .common import PeopleFormView, RecordDetailView


class TeamPageFilterSet(TeamFilterSet):
    institution_code = None
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("team name"))

    class Meta(TeamFilterSet.Meta):
        fields = ["institution", "active"]


class TeamListView(ScopedListView):
    model = FamilyDoctorTeam
    queryset = (
        FamilyDoctorTeam.objects.select_related("institution", "leader")
        .with_composition()
        .with_resident_count()
    )
    filterset_class = TeamPageFilterSet
    title = _("Family-doctor teams")
    export_name = _("Family-doctor teams")
    create_url_name = "members:team-create"
    columns = [
        Column("name", _("name"), attr("name"), "name"),
        Column("institution", _("institution"), attr("institution.name"), "institution__name"),
        Column("leader", _("team leader"), attr("leader.name"), "leader__name"),
        Column("members", _("members"), attr("member_count"), "member_count"),
        Column("gps", _("general practitioners"), attr("gp_count"), "gp_count"),
        Column("specialists", _("specialists"), attr("specialist_count"), "specialist_count"),
        Column("residents", _("residents under contract"), attr("resident_count"), "resident_count"),
        Column("active", _("active"), attr("active"), "active"),
    ]


class TeamDetailView(RecordDetailView):
    model = FamilyDoctorTeam
    related = ("institution", "leader")
    template_name = "members/familydoctorteam_detail.html"

    def get_queryset(self):
        return super().get_queryset().with_resident_count()

    def get_context_data(self, **kwargs):
        memberships = (
            TeamMembership.objects.for_user(self.request.user)
            .filter(team=self.object)
            .select_related("staff", "staff__institution")
        )
        return super().get_context_data(
            memberships=memberships.on().order_by("role", "staff__name"),
            former_memberships=memberships.exclude(pk__in=memberships.on().values("pk")).order_by(
                "-valid_from"
            ),
            member_form=TeamMemberForm(user=self.request.user),
            **kwargs,
        )


class TeamCreateView(PeopleFormView):
    model = FamilyDoctorTeam
    form_class = TeamCreateForm
    title = _("New family-doctor team")

    def perform(self, form):
        return services.create_team(acting_user=self.request.user, **form.cleaned_data)

    def get_cancel_url(self):
        return reverse("members:team-list")


class TeamUpdateView(PeopleFormView):
    model = FamilyDoctorTeam
    form_class = TeamUpdateForm
    title = _("Edit family-doctor team")

    def get_object(self):
        return get_scoped_or_404(
            FamilyDoctorTeam.objects.select_related("institution"), self.request.user, self.kwargs["pk"]
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "team": self.object}

    def get_initial(self):
        return {"name": self.object.name, "leader": self.object.leader_id, "active": self.object.active}

    def perform(self, form):
        return services.update_team(self.object, acting_user=self.request.user, **form.cleaned_data)


class TeamMemberAddView(PeopleFormView):
    """Add a member: the write check is on the team (its institution), like the API's."""

    model = TeamMembership
    form_class = TeamMemberForm
    title = _("Add a team member")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.team = get_scoped_or_404(
                FamilyDoctorTeam.objects.select_related("institution"), request.user, kwargs["pk"]
            )
            if not access.can_write(request.user, TeamMembership, TeamMembership(team=self.team)):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        services.add_team_member(
            self.team,
            staff=form.cleaned_data["staff"],
            role=form.cleaned_data["role"],
            valid_from=form.cleaned_data["valid_from"],
            acting_user=self.request.user,
        )
        return self.team

    def get_cancel_url(self):
        return self.team.get_absolute_url()


class TeamMemberRemoveView(PeopleFormView):
    model = TeamMembership
    form_class = TeamMemberRemoveForm
    title = _("Remove a team member")
    template_name = "members/teammembership_confirm_delete.html"

    def get_object(self):
        membership = get_scoped_or_404(
            TeamMembership.objects.open().select_related("team", "staff"),
            self.request.user,
            self.kwargs["membership_pk"],
        )
        if membership.team_id != self.kwargs["pk"]:
            raise Http404
        return membership

    def perform(self, form):
        services.remove_team_member(
            self.object, valid_to=form.cleaned_data["valid_to"], acting_user=self.request.user
        )
        return self.object.team

    def get_cancel_url(self):
        return self.object.team.get_absolute_url()
