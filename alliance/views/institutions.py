"""Institution pages (issue 4 point 1): the list as of a date, one institution with its
departments, staff, teams, secondments, membership history and change history, and the forms
that register, edit, move it or end its membership through `alliance.services`.

The people rows on the institution page (teams, secondments) are reached through reverse
relations and scoped with their own `for_user`, so the hierarchy never imports the people app
(DESIGN §2) and a role sees only the people rows it may see (DESIGN §5).
"""

from django.utils.translation import gettext_lazy as _

from core import access
from core.detail import ScopedDetailView, get_scoped_or_404
from core.forms import ServiceFormView
from core.listing import Column, ScopedListView, attr

from .. import services
from ..filtersets import InstitutionFilterSet
from ..forms import INSTITUTION_FORM_FIELDS, InstitutionForm, PlacementChangeForm, RegisterInstitutionForm
from ..models import Institution
from ..querysets import today


def _place(row):
    """The placement attached by `with_placement_on` (the filter set's date), or None."""
    found = getattr(row, "placements_on_date", None)
    return found[0] if found else None


def _place_attr(name):
    def read(row):
        place = _place(row)
        return attr(name)(place) if place else None

    return read


class InstitutionListView(ScopedListView):
    """`/alliance/institutions/`: the institutions the user may see, with their place on
    `?as_of` (default today), filters by alliance, role, parent, level, and a search."""

    model = Institution
    filterset_class = InstitutionFilterSet
    title = _("Institutions")
    create_url_name = "alliance:institution-create"
    default_sort = "code"
    columns = [
        Column("code", _("code"), attr("code"), "code"),
        Column("name", _("name"), attr("name"), "name"),
        Column("level", _("level"), attr("get_level_display"), "level"),
        Column("alliance", _("alliance"), _place_attr("alliance.name")),
        Column("role", _("role"), _place_attr("get_role_display")),
        Column("parent", _("parent institution"), _place_attr("parent.name")),
        Column("licensed_beds", _("licensed beds"), attr("licensed_beds"), "licensed_beds"),
        Column("open_beds", _("open beds"), attr("open_beds"), "open_beds"),
        Column("credit_code", _("unified social credit code"), attr("credit_code")),
    ]


class InstitutionDetailView(ScopedDetailView):
    """`/alliance/institutions/<id>/`: 404 outside the user's scope."""

    model = Institution
    template_name = "alliance/institution_detail.html"

    def get_context_data(self, **kwargs):
        institution, user = self.object, self.request.user
        staff = institution.staff.model  # members.StaffMember, without importing it
        return super().get_context_data(
            place=institution.placement_on(today()),
            departments=institution.departments.all(),
            staff_count=institution.staff.filter(active=True).count(),
            can_read_staff=access.can_read(user, staff),
            teams=institution.family_doctor_teams.for_user(user).select_related("leader"),
            secondments_in=institution.secondments_in.for_user(user).select_related(
                "staff", "from_institution"
            ),
            secondments_out=institution.secondments_out.for_user(user).select_related(
                "staff", "to_institution"
            ),
            placements=institution.placements.select_related("alliance", "parent").order_by("-valid_from"),
            can_write=self.may_change(),
            **kwargs,
        )


class InstitutionFormMixin:
    """Forms get the user (scoped choices) and, when editing, the institution."""

    model = Institution
    template_name = "alliance/record_form.html"

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_scoped_or_404(Institution, self.request.user, self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class InstitutionRegisterView(InstitutionFormMixin, ServiceFormView):
    """Register an institution and place it in an alliance (`register_member`)."""

    form_class = RegisterInstitutionForm
    extra_context = {"title": _("Register an institution")}
    error_renames = {"on": "valid_from"}

    def perform(self, form):
        data = dict(form.cleaned_data)
        return services.register_member(
            alliance=data.pop("alliance"),
            role=data.pop("role"),
            parent=data.pop("parent"),
            valid_from=data.pop("valid_from"),
            acting_user=self.request.user,
            **data,
        )


class InstitutionUpdateView(InstitutionFormMixin, ServiceFormView):
    """Edit the facts of an institution (`update_institution`)."""

    form_class = InstitutionForm
    extra_context = {"title": _("Edit institution")}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def perform(self, form):
        fields = {name: form.cleaned_data[name] for name in INSTITUTION_FORM_FIELDS}
        return services.update_institution(self.object, acting_user=self.request.user, **fields)


class InstitutionMoveView(InstitutionFormMixin, ServiceFormView):
    """Move an institution from a date (`move_institution`) or end its membership
    (`leave_alliance`); the current period closes, history stays."""

    form_class = PlacementChangeForm
    extra_context = {"title": _("Move or leave")}

    def perform(self, form):
        data, user = form.cleaned_data, self.request.user
        if data["action"] == PlacementChangeForm.LEAVE:
            services.leave_alliance(self.object, on=data["on"], acting_user=user)
        else:
            services.move_institution(
                self.object,
                on=data["on"],
                alliance=data["alliance"],
                role=data["role"] or None,
                parent=data["parent"],
                acting_user=user,
            )
        return self.object
