"""The refer-up and refer-down form (issue 7 point 2). It checks shape and resolves what the
doctor picked among the rows the hierarchy and the access policy offer: the sending institution
among their own, the receiver among those `receivers_on` allows today, the department, slot,
bed and family-doctor team among the rows they may see. Every rule is the service's
(`referrals.services.create_referral`), whose errors come back on this form; where the page
offers a choice it asks the function the service checks (`route`, `needs_reason_code`)."""

import uuid
from functools import cached_property

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alliance.choices import PlacementRole
from alliance.models import Department, Placement
from core import access
from core.codes import ICD10_LENGTH, ICD10_MESSAGE, normalize_icd10
from core.identity import decrypt, encrypt, mask_resident_id, patient_key, validate_resident_id
from members.forms import BlankTextInput
from members.models import FamilyDoctorTeam

from ..choices import OutOfCountyReason, Urgency
from ..models import Bed, Referral, Slot
from ..querysets import receivers_on
from ..services import needs_reason_code

BLANK = [("", "---------")]
PICK_FROM_CALENDAR = _("Choose a free slot or bed from the calendar.")


def sending_institution_ids(user):
    """Institutions `user` may send referrals from on these pages: where they may write referrals
    as a person (an HIS writes through the API, not here), by the access door's reach, which
    reads the memberships once per request."""
    return access.reach(user, Referral, access.WRITE, interactive=True).institutions


def may_refer(user):
    """The navigation's 'Refer up' and 'Refer down' (DESIGN §5: institution_admin, clinician)."""
    return bool(sending_institution_ids(user))


def senders_on(user, day):
    """The user's sending institutions placed in an alliance on `day` (not as a partner), with
    their placement: one query."""
    return (
        Placement.objects.on(day)
        .filter(institution__in=sending_institution_ids(user))
        .exclude(role=PlacementRole.PARTNER)
        .select_related("institution")
        .order_by("institution__code")
    )


def new_token():
    return uuid.uuid4().hex


def _picked(data, name, initial=None):
    """The id chosen in a select (sent, or initial), before the form is cleaned: the choices
    that follow from it (receivers, departments) are built from it."""
    value = data.get(name) or initial
    value = getattr(value, "pk", value)
    return int(value) if str(value or "").isdigit() else None


class ReferForm(forms.Form):
    """One referral up or down. `token` makes a repeated POST of the same form create nothing
    new (core.services.run_idempotent). The patient's ID number is never written back into the
    page (BlankTextInput)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    from_institution = forms.TypedChoiceField(
        label=_("sending institution"),
        coerce=int,
        error_messages={"invalid_choice": _("You may send referrals only from an institution you work at.")},
    )
    patient_name = forms.CharField(label=_("full name"), max_length=50)
    id_number = forms.CharField(
        label=_("resident ID number"), max_length=30, required=False, widget=BlankTextInput()
    )
    id_sealed = forms.CharField(required=False, widget=forms.HiddenInput)
    insurance_number = forms.CharField(label=_("insurance number"), max_length=32, required=False)
    signed_resident = forms.BooleanField(label=_("signed resident"), required=False)
    team = forms.ModelChoiceField(
        label=_("family-doctor team"),
        queryset=FamilyDoctorTeam.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    diagnosis = forms.CharField(label=_("diagnosis (ICD-10)"), max_length=ICD10_LENGTH)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}))
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE)
    to_institution = forms.TypedChoiceField(
        label=_("receiving institution"),
        coerce=int,
        error_messages={
            "invalid_choice": _("By today's hierarchy this referral cannot go to this institution.")
        },
    )
    to_department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )
    reason_code = forms.ChoiceField(
        label=_("out-of-county reason"), choices=BLANK + OutOfCountyReason.choices, required=False
    )
    slot = forms.ModelChoiceField(
        queryset=Slot.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": PICK_FROM_CALENDAR},
    )
    bed = forms.ModelChoiceField(
        queryset=Bed.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": PICK_FROM_CALENDAR},
    )

    def __init__(self, *args, user, direction, day, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.direction, self.day = user, direction, day
        self._setup_sender()
        self._setup_receiver()
        self.fields["team"].queryset = FamilyDoctorTeam.objects.for_user(user)
        self.fields["slot"].queryset = Slot.objects.for_user(user)
        self.fields["bed"].queryset = Bed.objects.for_user(user)
        self._wire_htmx()

    # --- choices -----------------------------------------------------------------------------
    def _setup_sender(self):
        self.senders = {placement.institution_id: placement for placement in senders_on(self.user, self.day)}
        self.fields["from_institution"].choices = [(pk, p.institution.name) for pk, p in self.senders.items()]
        chosen = _picked(self.data, "from_institution", self.initial.get("from_institution"))
        self.sender = self.senders.get(chosen) or next(iter(self.senders.values()), None)

    def _setup_receiver(self):
        """The receivers the hierarchy allows today, in two groups; the chosen one's departments."""
        receivers = []
        if self.sender is not None:
            scope = Placement.objects.for_user(self.user)
            receivers = list(receivers_on(self.day, self.sender, self.direction, scope))
        self.receivers = {placement.institution_id: placement for placement in receivers}
        inside = [(p.institution_id, p.institution.name) for p in receivers if not p.outside]
        outside = [(p.institution_id, p.institution.name) for p in receivers if p.outside]
        choices = list(BLANK)
        if inside:
            choices.append((_("Within the alliance"), inside))
        if outside:
            choices.append((_("Outside the county"), outside))
        self.fields["to_institution"].choices = choices
        chosen = _picked(self.data, "to_institution", self.initial.get("to_institution"))
        self.receiver = self.receivers.get(chosen)
        departments = Department.objects.none()
        if self.receiver is not None:
            departments = Department.objects.for_user(self.user).filter(
                institution=self.receiver.institution_id, active=True
            )
        self.fields["to_department"].queryset = departments
        if not self.needs_reason_code:
            del self.fields["reason_code"]

    def _wire_htmx(self):
        """Choosing a sender reloads the receivers, a receiver its departments, a department
        the calendar: in place (htmx), each GET naming only the choices it needs."""
        direction = str(self.direction)
        self.fields["from_institution"].widget.attrs.update(
            {
                "hx-get": reverse("referrals:refer-receivers", args=[direction]),
                "hx-target": "#refer-receivers",
            }
        )
        self.fields["to_institution"].widget.attrs.update(
            {
                "hx-get": reverse("referrals:refer-receiver", args=[direction]),
                "hx-target": "#refer-receiver",
                "hx-include": "[name=from_institution]",
            }
        )
        self.fields["to_department"].widget.attrs.update(
            {
                "hx-get": reverse("referrals:refer-calendar"),
                "hx-target": "#refer-calendar",
                "hx-vals": '{"reset": "1"}',
            }
        )

    @property
    def needs_reason_code(self):
        """The coded reason is asked for exactly when the service requires it."""
        return self.receiver is not None and needs_reason_code(self.direction, self.receiver.outside)

    @property
    def several_senders(self):
        return len(self.senders) > 1

    # --- cleaning ----------------------------------------------------------------------------
    def clean_id_number(self):
        """The typed number, or the one this form sealed when it came back (so a doctor whose
        slot was taken meanwhile does not type it again): never shown back in clear."""
        typed = self.cleaned_data["id_number"].strip() or decrypt(self.data.get("id_sealed") or "")
        if not typed:
            raise forms.ValidationError(self.fields["id_number"].error_messages["required"], code="required")
        return validate_resident_id(typed)

    @cached_property
    def kept_id(self):
        """`(sealed, masked)` of a valid number on a form sent back, else None."""
        number = getattr(self, "cleaned_data", {}).get("id_number")
        if not number or "id_number" in self.errors:
            return None
        return encrypt(number), mask_resident_id(number)

    def clean_diagnosis(self):
        code = normalize_icd10(self.cleaned_data["diagnosis"])
        if code is None:
            raise ValidationError(ICD10_MESSAGE, code="icd10")
        return code

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()

    # --- what the service receives -----------------------------------------------------------
    def service_arguments(self):
        data = self.cleaned_data
        return {
            "from_institution": self.senders[data["from_institution"]].institution,
            "to_institution": self.receivers[data["to_institution"]].institution,
            "to_department": data.get("to_department"),
            "direction": self.direction,
            "patient": {
                "name": data["patient_name"].strip(),
                "id_number": data["id_number"],
                "insurance_number": data["insurance_number"],
                "signed_resident": data["signed_resident"],
            },
            "diagnosis": data["diagnosis"],
            "reason": data["reason"],
            "urgency": data["urgency"],
            "reason_code": data.get("reason_code") or "",
            "team": data.get("team"),
            "slot": data.get("slot"),
            "bed": data.get("bed"),
        }

    def idempotency_payload(self):
        """What tells 'the same form again' from another one (hashed by run_idempotent), with
        the patient's keyed hash instead of the raw ID number."""
        data = self.cleaned_data
        skip = {"token", "id_sealed"}
        payload = {name: getattr(value, "pk", value) for name, value in data.items() if name not in skip}
        payload["id_number"] = patient_key(data["id_number"])
        return payload
