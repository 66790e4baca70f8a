"""Forms of the actions on a referral page (issue 7 point 2): accept (with a free reserved slot
or bed of the receiver), reject and cancel (a reason), complete (the summary), refer back, and
the verbs without input (submit, arrive, no-show).

They check shape only and resolve what the clerk picked among the rows the access policy lets
them see; every rule is the service's. Each form carries the state the page showed
(`seen_state`), so an action taken in a tab that is out of date is refused in place.
"""

from django import forms
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.models import Department

from ..choices import ReferralState, SlotPeriod, Urgency
from ..models import Bed, Slot

MAX_SLOT_OPTIONS = 200  # sessions (date, period, doctor) listed in the accept form
MAX_BED_OPTIONS = 100  # (department, day) pairs with a free bed


class ActionForm(forms.Form):
    """A verb without input; every action form knows its referral, user and moment."""

    # The state the page showed; the view refuses the action when the referral moved on since.
    seen_state = forms.ChoiceField(choices=ReferralState.choices, widget=forms.HiddenInput, required=False)

    def __init__(self, *args, referral, user, verb, now=None, **kwargs):
        self.referral, self.user, self.verb, self.now = referral, user, verb, now or timezone.now()
        kwargs.setdefault("initial", {})["seen_state"] = referral.state
        kwargs.setdefault("auto_id", f"id_{verb}_%s")  # several action forms share one page
        super().__init__(*args, **kwargs)

    def service_kwargs(self):
        """The keyword arguments of the verb's service (besides the referral and acting_user)."""
        return {}


class AcceptForm(ActionForm):
    """Accept, optionally booking (or swapping to) a free reserved slot or a bed of the receiving
    institution and department. A session is listed once with its lowest free number (the one
    booked) and beds of one day once (the first free one); a row taken meanwhile is the
    service's Conflict."""

    booking = forms.CharField(label=_("Slot or bed to book"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["booking"].widget = forms.Select(choices=self.booking_choices())

    def booking_choices(self):
        referral = self.referral
        held = getattr(referral, "slot", None) or getattr(referral, "bed", None)
        keep = _("Keep the booking: %(booking)s") % {"booking": booking_label(referral)} if held else None
        choices = [("", keep or _("No slot or bed"))]
        slots = [(f"slot:{row['first']}", slot_option(row)) for row in self.free_slots()]
        beds = [(f"bed:{row['first']}", bed_option(row)) for row in self.free_beds()]
        if slots:
            choices.append((_("Outpatient slots"), slots))
        if beds:
            choices.append((_("Beds"), beds))
        return choices

    def _pool(self, queryset):
        queryset = queryset.for_user(self.user).filter(institution_id=self.referral.to_institution_id)
        if self.referral.to_department_id:
            queryset = queryset.filter(department_id=self.referral.to_department_id)
        return queryset

    def free_slots(self):
        """Bookable slots grouped by session with its lowest free number, in one GROUP BY."""
        rows = self._pool(Slot.objects.all()).offers(self.now, "starts_at", "department__name")
        return rows.order_by("starts_at", "department__name", "doctor")[:MAX_SLOT_OPTIONS]

    def free_beds(self):
        """Free beds from today on, grouped by day and department, in one GROUP BY."""
        rows = self._pool(Bed.objects.free().filter(date__gte=timezone.localdate(self.now)))
        rows = rows.values("date", "department__name").annotate(first=Min("pk"), free=Count("pk"))
        return rows.order_by("date", "department__name")[:MAX_BED_OPTIONS]

    def clean_booking(self):
        value = self.cleaned_data["booking"]
        if not value:
            return None
        kind, _sep, pk = value.partition(":")
        model = {"slot": Slot, "bed": Bed}.get(kind)
        row = model.objects.for_user(self.user).filter(pk=pk).first() if model and pk.isdigit() else None
        if row is None:
            raise forms.ValidationError(_("Choose a slot or bed from the list."), code="invalid_choice")
        return row

    def service_kwargs(self):
        row = self.cleaned_data.get("booking")
        return {"slot": row if isinstance(row, Slot) else None, "bed": row if isinstance(row, Bed) else None}


class RejectForm(ActionForm):
    reason = forms.CharField(label=_("Reason for rejection"), widget=forms.Textarea(attrs={"rows": 2}))

    def service_kwargs(self):
        return {"reason": self.cleaned_data["reason"]}


class CancelForm(RejectForm):
    reason = forms.CharField(label=_("Reason for cancellation"), widget=forms.Textarea(attrs={"rows": 2}))


class CompleteForm(ActionForm):
    summary = forms.CharField(
        label=_("discharge summary or feedback"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def service_kwargs(self):
        return {"summary": self.cleaned_data["summary"]}


class ReferBackForm(ActionForm):
    """The down-referral back to the sender, carrying the discharge summary (回转)."""

    summary = forms.CharField(
        label=_("discharge summary or feedback"), widget=forms.Textarea(attrs={"rows": 3})
    )
    urgency = forms.ChoiceField(label=_("urgency"), choices=Urgency.choices)
    to_department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        referral = self.referral
        self.fields["summary"].initial = referral.summary
        self.fields["urgency"].initial = referral.urgency
        self.fields["to_department"].queryset = Department.objects.for_user(self.user).filter(
            institution_id=referral.from_institution_id, active=True
        )

    def service_kwargs(self):
        return {name: self.cleaned_data[name] for name in ("summary", "urgency", "to_department")}


ACTION_FORMS = {
    "submit": ActionForm,
    "accept": AcceptForm,
    "reject": RejectForm,
    "arrive": ActionForm,
    "complete": CompleteForm,
    "no_show": ActionForm,
    "refer_back": ReferBackForm,
    "cancel": CancelForm,
}


# --- How a booking reads ---------------------------------------------------------------------------
def slot_option(row):
    return _("%(date)s %(period)s · %(department)s · %(doctor)s · %(number)s (%(free)s free)") % {
        "date": row["date"].isoformat(),
        "period": SlotPeriod(row["period"]).label,
        "department": row["department__name"],
        "doctor": row["doctor"] or "—",
        "number": number_and_time(row["first_number"], row["first_at"]),
        "free": row["free"],
    }


def number_and_time(number, expected_at):
    """A slot's number in its session and when the patient is expected ("No. 3, about 08:20")."""
    return _("No. %(number)s, about %(time)s") % {
        "number": number,
        "time": timezone.localtime(expected_at).strftime("%H:%M"),
    }


def bed_option(row):
    return _("Bed · %(date)s · %(department)s (%(free)s free)") % {
        "date": row["date"].isoformat(),
        "department": row["department__name"],
        "free": row["free"],
    }


def booking_label(referral, with_department=True):
    """The slot or bed a referral holds, in words ('' when none). Without the department, the
    lists need no join to the slot's department (theirs is the referral's)."""
    slot = getattr(referral, "slot", None)
    if slot is not None:
        words = {
            "date": slot.date.isoformat(),
            "period": slot.get_period_display(),
            "doctor": slot.doctor or "—",
            "number": number_and_time(slot.number, slot.expected_at),
        }
        if not with_department:
            return _("%(date)s %(period)s · %(number)s · %(doctor)s") % words
        return _("%(date)s %(period)s · %(number)s · %(department)s · %(doctor)s") % {
            **words,
            "department": slot.department.name,
        }
    bed = getattr(referral, "bed", None)
    if bed is not None:
        if not with_department:
            return _("Bed · %(date)s") % {"date": bed.date.isoformat()}
        return _("Bed · %(date)s · %(department)s") % {
            "date": bed.date.isoformat(),
            "department": bed.department.name,
        }
    return ""
