"""Admin of people and roles. Every write goes through `members.services`
(core.admin.ServiceModelAdmin); posting histories are read-only, and a signed resident's ID number
is typed once, stored only encrypted by the service and shown masked everywhere."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceInlineMixin, ServiceModelAdmin

from . import services
from .choices import ChronicCondition
from .models import (
    FamilyDoctorTeam,
    Membership,
    Secondment,
    SignedResident,
    StaffMember,
    StaffPosting,
    TeamMembership,
)


def _user(request):
    return {"acting_user": request.user}


def _label(model, name):
    return capfirst(model._meta.get_field(name).verbose_name)


class OpenEndedFilter(admin.SimpleListFilter):
    """Rows still running (no end date) or ended; `field` names the end-date column."""

    title = _("period")
    parameter_name = "open"
    field = "valid_to"

    def lookups(self, request, model_admin):
        return [("yes", _("running")), ("no", _("ended"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "yes"})
        return queryset


# --- Memberships ----------------------------------------------------------------------------------
@admin.register(Membership)
class MembershipAdmin(ServiceModelAdmin):
    """A user's role in an alliance or an institution: added by `grant_membership`, removed by
    `revoke_membership`. A membership is never edited: delete it and add the new one."""

    list_display = ["user", "role", "alliance", "institution", "created_at"]
    list_filter = ["role", "alliance__kind", "alliance"]
    list_select_related = ["user", "alliance", "institution"]
    search_fields = [
        "user__username", "user__first_name", "user__last_name",
        "alliance__name", "institution__code", "institution__name",
    ]  # fmt: skip
    autocomplete_fields = ["user", "alliance", "institution"]
    fields = ["user", "role", "alliance", "institution"]
    deletable = True

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def create(self, request, data):
        return services.grant_membership(data.pop("user"), **data, **_user(request))

    def delete(self, request, obj):
        services.revoke_membership(obj, **_user(request))


# --- Staff --------------------------------------------------------------------------------------------
class PostingInline(admin.TabularInline):
    """Where the staff member worked, oldest first: read-only history kept by `post_staff`."""

    model = StaffPosting
    fields = ["institution", "department", "valid_from", "valid_to"]
    readonly_fields = fields
    ordering = ["valid_from"]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("institution", "department")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HireForm(forms.ModelForm):
    """Hiring needs the day the first posting begins, which is not a column of the staff row."""

    valid_from = forms.DateField(label=capfirst(_("posted from")), widget=AdminDateWidget)


STAFF_DETAILS = [
    "employee_number", "name", "gender", "profession", "title_level", "title",
    "licence_number", "is_general_practitioner", "active", "user",
]  # fmt: skip


@admin.register(StaffMember)
class StaffMemberAdmin(ServiceModelAdmin):
    """Staff employed by the alliance: hired by `hire_staff` (which opens the first posting from
    `valid_from`), edited by `update_staff`; the posting history is read-only."""

    list_display = [
        "employee_number", "name", "institution", "department", "profession", "title_level",
        "is_general_practitioner", "active",
    ]  # fmt: skip
    list_filter = [
        "active",
        "profession",
        "title_level",
        "is_general_practitioner",
        "institution__level",
        "alliance",
    ]
    list_select_related = ["institution", "department"]
    search_fields = ["name", "employee_number", "licence_number", "institution__code", "institution__name"]
    autocomplete_fields = ["alliance", "institution", "department", "user"]
    inlines = [PostingInline]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = HireForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        placement = ["alliance", "institution", "department"]
        return placement + STAFF_DETAILS if obj else [*placement, "valid_from", *STAFF_DETAILS]

    def get_readonly_fields(self, request, obj=None):
        return ["alliance", "institution", "department"] if obj else []

    def create(self, request, data):
        return services.hire_staff(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_staff(obj, **data, **_user(request))


class SecondmentOpenFilter(OpenEndedFilter):
    field = "end_date"


@admin.register(Secondment)
class SecondmentAdmin(ServiceModelAdmin):
    """Doctors stationed at a lower-level institution (下沉/派驻): `second_staff` (from the staff
    member's institution), then `update_secondment` for kind, dates and notes."""

    list_display = ["staff", "from_institution", "to_institution", "kind", "start_date", "end_date"]
    list_filter = ["kind", SecondmentOpenFilter]
    list_select_related = ["staff", "from_institution", "to_institution"]
    search_fields = [
        "staff__name", "staff__employee_number", "from_institution__code", "from_institution__name",
        "to_institution__code", "to_institution__name",
    ]  # fmt: skip
    autocomplete_fields = ["staff", "to_institution"]
    date_hierarchy = "start_date"

    def get_fields(self, request, obj=None):
        heads = ["staff", "from_institution", "to_institution"] if obj else ["staff", "to_institution"]
        return [*heads, "kind", "start_date", "end_date", "notes"]

    def get_readonly_fields(self, request, obj=None):
        return ["staff", "from_institution", "to_institution"] if obj else []

    def create(self, request, data):
        return services.second_staff(data.pop("staff"), **data, **_user(request))

    def update(self, request, obj, data):
        return services.update_secondment(obj, **data, **_user(request))


# --- Family-doctor teams and signed residents ------------------------------------------------------
class TeamMemberInline(ServiceInlineMixin, admin.TabularInline):
    """Team members: added by `add_team_member` (which checks 全专结合) from a day, and
    taken off today by `remove_team_member` (the place stays, ended)."""

    model = TeamMembership
    fields = ["staff", "role", "valid_from", "valid_to"]
    readonly_fields = ["valid_to"]
    autocomplete_fields = ["staff"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff")

    def add_row(self, request, parent, data):
        return services.add_team_member(parent, **data, **_user(request))

    def delete_row(self, request, row):
        services.remove_team_member(row, **_user(request))


@admin.register(FamilyDoctorTeam)
class FamilyDoctorTeamAdmin(ServiceModelAdmin):
    """Family-doctor teams of branches and village clinics: `create_team`, `update_team`; members
    through the inline on the change page."""

    list_display = ["name", "institution", "leader", "members_today", "active"]
    list_filter = ["active", "institution__level"]
    list_select_related = ["institution", "leader"]
    search_fields = ["name", "institution__code", "institution__name", "leader__name"]
    autocomplete_fields = ["institution", "leader"]
    fields = ["institution", "name", "leader", "active"]
    inlines = [TeamMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_composition()

    @admin.display(description=_("members"), ordering="member_count")
    def members_today(self, obj):
        return obj.member_count

    def get_readonly_fields(self, request, obj=None):
        return ["institution"] if obj else []

    def create(self, request, data):
        return services.create_team(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_team(obj, **data, **_user(request))


def _conditions_field():
    return forms.MultipleChoiceField(
        label=_label(SignedResident, "chronic_conditions"),
        choices=ChronicCondition.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class SignForm(forms.ModelForm):
    """Signing takes the ID number in a plain field: it is never a column; the service keeps
    only its encrypted form and keyed hash."""

    id_number = forms.CharField(label=_label(SignedResident, "id_number_masked"), max_length=24)
    chronic_conditions = _conditions_field()


class ResidentChangeForm(forms.ModelForm):
    """The name is never shown in full; typing a corrected one replaces it."""

    corrected_name = forms.CharField(
        label=capfirst(_("corrected name")),
        max_length=50,
        required=False,
        help_text=_("Leave empty to keep the name."),
    )
    chronic_conditions = _conditions_field()


@admin.register(SignedResident)
class SignedResidentAdmin(ServiceModelAdmin):
    """Signed residents (签约居民): `sign_resident` on add, `update_resident` on change. Pages show
    the masked name and ID only, never the encrypted number or the patient key. There is no search
    by ID number here: a search goes into the URL, and URLs end up in server logs (the API's
    `POST /api/v1/residents/lookup/` takes the number in the body)."""

    list_display = ["masked_name", "id_number_masked", "team", "institution", "signed_on", "valid_to"]
    list_filter = [OpenEndedFilter, "gender", "institution__level"]
    list_select_related = ["team", "institution"]
    search_fields = ["name", "team__name", "institution__code", "institution__name"]
    autocomplete_fields = ["team"]
    date_hierarchy = "signed_on"
    # Not the birth date: with the masked ID's first six and last four digits it would spell the number.
    readonly_fields = ["masked_name", "id_number_masked", "gender", "institution"]

    @admin.display(description=_label(SignedResident, "name"), ordering="name")
    def masked_name(self, obj):
        return obj.masked_name

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = ResidentChangeForm if obj else SignForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["team", "name", "id_number", "signed_on", "valid_to", "chronic_conditions"]
        return [
            *self.readonly_fields,
            "team",
            "corrected_name",
            "signed_on",
            "valid_to",
            "chronic_conditions",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def create(self, request, data):
        return services.sign_resident(**data, **_user(request))

    def update(self, request, obj, data):
        if data.get("corrected_name"):
            data["name"] = data["corrected_name"]
        data.pop("corrected_name", None)
        return services.update_resident(obj, **data, **_user(request))
