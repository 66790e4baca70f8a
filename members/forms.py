"""Forms of the people pages. They check shape only and resolve what the clerk picked among the
rows the access policy lets them see; every rule is the service's (members.services).

Dropdowns stay small enough for an office PC: institutions (a county has about 200) and
teams are selects; staff (thousands) are named by employee number and resolved here."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.choices import PlacementRole
from alliance.models import Department, Institution
from alliance.querysets import today
from core import access

from .choices import ChronicCondition, Gender, Profession, SecondmentKind, TeamRole, TitleLevel
from .models import FamilyDoctorTeam, Secondment, SignedResident, StaffMember, TeamMembership

STAFF_DETAIL_FIELDS = (
    "employee_number", "name", "gender", "profession", "title_level", "title", "licence_number",
    "is_general_practitioner",
)  # fmt: skip


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class BlankTextInput(forms.TextInput):
    """A text input that never writes a value back into the page: a resident ID number typed
    into a form that failed is not shown again (DESIGN §5, the number is never displayed)."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        return None


def writable_institutions(user, model, **placement_filters):
    """Institutions in an alliance today where `user` may write `model` rows."""
    return access.institutions(user, model, access.WRITE).placed_on(today(), **placement_filters)


class UserFormMixin:
    """Forms built for one user: choices come from that user's scope."""

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def check_write(self, model, unsaved, field, message):
        """The access policy on the row about to be written (the institution chosen in the form)."""
        if not access.can_write(self.user, model, unsaved):
            self.add_error(field, message)


def resolve_staff(user, employee_number):
    """The one staff member with this employee number among those `user` may see, or None."""
    found = list(StaffMember.objects.for_user(user).filter(employee_number=employee_number.strip())[:2])
    return found[0] if len(found) == 1 else None


class EmployeeNumberField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            label=_("employee number"),
            max_length=32,
            help_text=_("The staff member's employee number, as on the staff list."),
            **kwargs,
        )


# --- Staff ---------------------------------------------------------------------------------------
class StaffDetailsForm(forms.Form):
    """A staff member's own details (update_staff)."""

    employee_number = forms.CharField(label=_("employee number"), max_length=32)
    name = forms.CharField(label=_("full name"), max_length=50)
    gender = forms.ChoiceField(label=_("gender"), choices=Gender.choices)
    profession = forms.ChoiceField(label=_("profession"), choices=Profession.choices)
    title_level = forms.ChoiceField(label=_("title level"), choices=TitleLevel.choices)
    title = forms.CharField(label=_("professional title"), max_length=30, required=False)
    licence_number = forms.CharField(label=_("practising licence number"), max_length=30, required=False)
    is_general_practitioner = forms.BooleanField(label=_("general practitioner"), required=False)


class StaffUpdateForm(UserFormMixin, StaffDetailsForm):
    active = forms.BooleanField(label=_("active"), required=False)


class PostingFieldsMixin(UserFormMixin):
    """Institution and department of a posting: the department list follows the chosen
    institution (htmx reloads it; the form accepts only that institution's departments)."""

    def setup_posting(self, institution_field="institution"):
        field = self.fields[institution_field]
        field.queryset = writable_institutions(self.user, StaffMember)
        field.widget.attrs.update(
            {
                "hx-get": _department_options_url(),
                "hx-target": "#id_department",
                "hx-trigger": "change",
            }
        )
        chosen = self.data.get(institution_field) or self.initial.get(institution_field)
        chosen = getattr(chosen, "pk", chosen)
        departments = Department.objects.for_user(self.user).filter(active=True)
        self.fields["department"].queryset = (
            departments.filter(institution_id=chosen) if str(chosen or "").isdigit() else departments.none()
        )


def _department_options_url():
    from django.urls import reverse

    return reverse("members:department-options")


class HireStaffForm(PostingFieldsMixin, StaffDetailsForm):
    """hire_staff: the institution among those the user may staff, a department of it."""

    institution = forms.ModelChoiceField(label=_("posted to"), queryset=Institution.objects.none())
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )
    valid_from = forms.DateField(label=_("posted from"), widget=DateInput())

    field_order = ["institution", "department", "valid_from", *STAFF_DETAIL_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_posting()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("institution"):
            unsaved = StaffMember(institution=cleaned["institution"])
            self.check_write(
                StaffMember, unsaved, "institution", _("You may not hire staff for this institution.")
            )
        return cleaned


class TransferStaffForm(PostingFieldsMixin, forms.Form):
    """post_staff: a new posting from a date."""

    institution = forms.ModelChoiceField(label=_("posted to"), queryset=Institution.objects.none())
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )
    on = forms.DateField(label=_("posted from"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_posting()


# --- Secondments ---------------------------------------------------------------------------------
class SecondmentUpdateForm(UserFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=SecondmentKind.choices)
    start_date = forms.DateField(label=_("start date"), widget=DateInput())
    end_date = forms.DateField(
        label=_("end date"), widget=DateInput(), required=False, help_text=_("Empty while it lasts.")
    )
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class SecondmentCreateForm(SecondmentUpdateForm):
    """second_staff: the doctor by employee number, the host among the alliance's institutions."""

    employee_number = EmployeeNumberField()
    to_institution = forms.ModelChoiceField(label=_("to institution"), queryset=Institution.objects.none())

    field_order = ["employee_number", "to_institution", "kind", "start_date", "end_date", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_institution"].queryset = Institution.objects.for_user(self.user).placed_on(today())

    def clean(self):
        cleaned = super().clean()
        number = cleaned.get("employee_number")
        staff = resolve_staff(self.user, number) if number else None
        if number and staff is None:
            self.add_error("employee_number", _("No staff member you can see has this employee number."))
        cleaned["staff"] = staff
        if staff and cleaned.get("to_institution"):
            unsaved = Secondment(
                staff=staff, from_institution=staff.institution, to_institution=cleaned["to_institution"]
            )
            self.check_write(Secondment, unsaved, None, _("You may not record this secondment."))
        return cleaned


# --- Family-doctor teams -------------------------------------------------------------------------
class TeamCreateForm(UserFormMixin, forms.Form):
    institution = forms.ModelChoiceField(label=_("institution"), queryset=Institution.objects.none())
    name = forms.CharField(label=_("name"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = writable_institutions(
            self.user, FamilyDoctorTeam, role__in=[PlacementRole.BRANCH, PlacementRole.VILLAGE]
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("institution"):
            unsaved = FamilyDoctorTeam(institution=cleaned["institution"])
            self.check_write(
                FamilyDoctorTeam, unsaved, "institution", _("You may not create teams for this institution.")
            )
        return cleaned


class TeamUpdateForm(UserFormMixin, forms.Form):
    """update_team: the leader among the team's institution's staff and the team's members."""

    name = forms.CharField(label=_("name"), max_length=100)
    leader = forms.ModelChoiceField(
        label=_("team leader"), queryset=StaffMember.objects.none(), required=False
    )
    active = forms.BooleanField(label=_("active"), required=False)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        members = TeamMembership.objects.on().filter(team=team).values("staff")
        self.fields["leader"].queryset = (
            StaffMember.objects.for_user(self.user)
            .filter(active=True)
            .filter(Q(institution=team.institution_id) | Q(pk__in=members))
            .order_by("name")
        )


class TeamMemberForm(UserFormMixin, forms.Form):
    """add_team_member: the staff member by employee number and their role in the team."""

    employee_number = EmployeeNumberField()
    role = forms.ChoiceField(label=_("role in the team"), choices=TeamRole.choices)
    valid_from = forms.DateField(
        label=_("in the team from"),
        widget=DateInput(),
        initial=today,
        required=False,
        help_text=_("A past day records a change after it happened; empty is today."),
    )

    def clean_employee_number(self):
        staff = resolve_staff(self.user, self.cleaned_data["employee_number"])
        if staff is None:
            raise forms.ValidationError(_("No staff member you can see has this employee number."))
        self.cleaned_data["staff"] = staff
        return self.cleaned_data["employee_number"]


class TeamMemberRemoveForm(UserFormMixin, forms.Form):
    """remove_team_member: the day the person left the team (their place stays as history)."""

    valid_to = forms.DateField(
        label=_("left the team on"),
        widget=DateInput(),
        initial=today,
        required=False,
        help_text=_("A past day records a change after it happened; empty is today."),
    )


# --- Signed residents ----------------------------------------------------------------------------
class ResidentFieldsForm(UserFormMixin, forms.Form):
    team = forms.ModelChoiceField(label=_("team"), queryset=FamilyDoctorTeam.objects.none())
    signed_on = forms.DateField(label=_("signed on"), widget=DateInput())
    valid_to = forms.DateField(label=_("contract ends"), widget=DateInput(), required=False)
    chronic_conditions = forms.MultipleChoiceField(
        label=_("chronic conditions"),
        choices=ChronicCondition.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = (
            FamilyDoctorTeam.objects.for_user(self.user).filter(active=True).select_related("institution")
        )
        self.fields["team"].label_from_instance = lambda team: f"{team.name} · {team.institution.name}"

    def clean(self):
        cleaned = super().clean()
        team = cleaned.get("team")
        if team:
            unsaved = SignedResident(team=team, institution=team.institution)
            self.check_write(
                SignedResident, unsaved, "team", _("You may not record residents for this team.")
            )
        return cleaned


class SignResidentForm(ResidentFieldsForm):
    """sign_resident: the ID number is validated by the service and never shown back."""

    name = forms.CharField(label=_("full name"), max_length=50)
    id_number = forms.CharField(
        label=_("resident ID number"),
        max_length=30,
        widget=BlankTextInput(),
        help_text=_("18 characters. It is stored encrypted and shown masked."),
    )

    field_order = ["team", "name", "id_number", "signed_on", "valid_to", "chronic_conditions"]


class ResidentUpdateForm(ResidentFieldsForm):
    """update_resident. The name is not shown in full here either: leave it empty to keep it."""

    name = forms.CharField(
        label=_("new name"),
        max_length=50,
        required=False,
        help_text=_("Leave empty to keep the current name."),
    )

    field_order = ["team", "name", "signed_on", "valid_to", "chronic_conditions"]


class FindResidentForm(forms.Form):
    """Find a resident by ID number: posted, never in a URL, never shown back."""

    id_number = forms.CharField(label=_("resident ID number"), max_length=30, widget=BlankTextInput())

    def clean_id_number(self):
        from core.identity import validate_resident_id

        return validate_resident_id(self.cleaned_data["id_number"])
