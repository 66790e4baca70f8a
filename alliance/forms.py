"""Forms of the hierarchy and governance pages (issue 4). They check the shape of the input
only; the rules and their Chinese messages are in `alliance.services`, which the views call.

Choices come from the user's scope (`for_user`), so a form never offers a hidden row; an
alliance picked for a new record must also be one the user may write in (DESIGN §5).
"""

from django import forms
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from core import access

from .choices import PlacementRole
from .models import Alliance, CommitteeMember, GovernanceDocument, Institution, Meeting, Placement
from .querysets import today

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
INSTITUTION_FORM_FIELDS = [
    "code",
    "name",
    "level",
    "credit_code",
    "region_code",
    "licensed_beds",
    "open_beds",
]


def _date_widgets(fields):
    for field in fields.values():
        if isinstance(field, forms.DateField):
            field.widget = DATE_INPUT
    return fields


class ModelFieldsForm(forms.Form):
    """A plain form whose fields (labels, choices, lengths) come from a model, without the
    model's own validation: the service validates, normalises and explains (STYLE.md)."""

    model = None
    field_names = ()

    def __init__(self, *args, user, instance=None, **kwargs):
        if instance is not None:
            kwargs["initial"] = {
                **model_to_dict(instance, fields=self.field_names),
                **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields.update(_date_widgets(fields_for_model(self.model, fields=self.field_names)))


class AllianceChoiceMixin:
    """An `alliance` field among the user's alliances, refusing one the user may not write in."""

    def add_alliance_field(self):
        field = forms.ModelChoiceField(queryset=Alliance.objects.for_user(self.user), label=_("alliance"))
        self.fields = {"alliance": field, **self.fields}

    def clean_alliance(self):
        alliance = self.cleaned_data["alliance"]
        if not access.can_write(self.user, self.model, self.model(alliance=alliance)):
            raise forms.ValidationError(_("You may not record this in that alliance."))
        return alliance


# --- Tree ---------------------------------------------------------------------------------------
class TreeForm(forms.Form):
    """The date the tree is drawn on, and which of the user's alliances."""

    as_of = forms.DateField(label=_("as of"), required=False, widget=DATE_INPUT)
    alliance = forms.TypedChoiceField(label=_("alliance"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, alliances, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alliance"].choices = [(alliance.pk, alliance.name) for alliance in alliances]

    def chosen(self, alliances):
        """(date, alliance): today and the first alliance unless valid ones were asked for."""
        data = self.cleaned_data if self.is_valid() else {}
        by_id = {alliance.pk: alliance for alliance in alliances}
        alliance = by_id.get(data.get("alliance")) or (alliances[0] if alliances else None)
        return data.get("as_of") or today(), alliance


# --- Institutions -------------------------------------------------------------------------------
class InstitutionForm(ModelFieldsForm):
    model = Institution
    field_names = INSTITUTION_FORM_FIELDS


class RegisterInstitutionForm(AllianceChoiceMixin, InstitutionForm):
    """Register an institution and place it in an alliance in one step (`register_member`)."""

    model = Institution
    role = forms.ChoiceField(label=_("role"), choices=PlacementRole.choices)
    parent = forms.ModelChoiceField(
        label=_("parent institution"), queryset=Institution.objects.none(), required=False
    )
    valid_from = forms.DateField(label=_("valid from"), initial=today, widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_alliance_field()
        self.fields["parent"].queryset = parent_choices(self.user)
        self.order_fields([*INSTITUTION_FORM_FIELDS, "alliance", "role", "parent", "valid_from"])

    def clean_alliance(self):
        alliance = self.cleaned_data["alliance"]
        if not access.can_write(self.user, Placement, Placement(alliance=alliance)):
            raise forms.ValidationError(_("You may not record this in that alliance."))
        return alliance


def parent_choices(user):
    """Institutions that can be a parent today: branches (of village clinics) and lead hospitals."""
    placed = Institution.objects.placed_on(today(), role__in=[PlacementRole.BRANCH, PlacementRole.LEAD])
    return placed.for_user(user).order_by("code")


class PlacementChangeForm(forms.Form):
    """Move an institution (another parent, role or alliance from a date) or end its membership."""

    MOVE, LEAVE = "move", "leave"
    action = forms.ChoiceField(
        label=_("change"),
        choices=[(MOVE, _("Move (new parent, role or alliance)")), (LEAVE, _("Leave the alliance"))],
        widget=forms.RadioSelect,
        initial=MOVE,
    )
    on = forms.DateField(label=_("from (date)"), initial=today, widget=DATE_INPUT)
    alliance = forms.ModelChoiceField(
        label=_("new alliance"), queryset=Alliance.objects.none(), required=False,
        help_text=_("Empty: stays in the current alliance."),
    )  # fmt: skip
    role = forms.ChoiceField(
        label=_("new role"), choices=[("", _("unchanged")), *PlacementRole.choices], required=False
    )
    parent = forms.ModelChoiceField(
        label=_("new parent institution"), queryset=Institution.objects.none(), required=False,
        help_text=_("A village clinic needs its township branch; hospitals have none."),
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["alliance"].queryset = Alliance.objects.for_user(user)
        self.fields["parent"].queryset = parent_choices(user)

    def clean_alliance(self):
        alliance = self.cleaned_data.get("alliance")
        if alliance and not access.can_write(self.user, Placement, Placement(alliance=alliance)):
            raise forms.ValidationError(_("You may not record this in that alliance."))
        return alliance


# --- Governance ---------------------------------------------------------------------------------
class GovernanceForm(AllianceChoiceMixin, ModelFieldsForm):
    """A governance record: a new one names its alliance; an edited one stays where it is."""

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        if instance is None:
            self.add_alliance_field()


class CommitteeMemberForm(GovernanceForm):
    model = CommitteeMember
    field_names = ["name", "position", "organisation", "valid_from", "valid_to"]


class MeetingForm(GovernanceForm):
    model = Meeting
    field_names = ["kind", "held_on", "title", "attendees", "decisions", "minutes"]


class DocumentForm(GovernanceForm):
    """A new version of the charter or the responsibility list (`publish_document`)."""

    model = GovernanceDocument
    field_names = ["kind", "title", "effective_on", "file", "notes"]
