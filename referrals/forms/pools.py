"""Forms of the pool pages (issue 7 point 5): a line of the weekly template and the week to
publish. They check shape only; the rules (the lead hospital's shares, one line per session,
a week published once) are the services' (`referrals.services.pools`), whose errors come back
on these forms."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.models import Department

from ..choices import PoolKind, SlotPeriod, Weekday
from ..models import MAX_SLOT_MINUTES, SLOT_MINUTES
from ..services import MAX_PUBLISH

BLANK = [("", "---------")]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TemplateEntryForm(forms.Form):
    """A line of the weekly template. For beds the period, doctor, reserved share and minutes per
    slot are not used and are left out of what the service receives."""

    weekday = forms.TypedChoiceField(label=_("weekday"), choices=Weekday.choices, coerce=int)
    kind = forms.ChoiceField(label=_("kind"), choices=PoolKind.choices)
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.none())
    period = forms.ChoiceField(
        label=_("period"),
        choices=BLANK + SlotPeriod.choices,
        required=False,
        help_text=_("Slots only."),
    )
    doctor = forms.CharField(label=_("doctor"), max_length=50, required=False, help_text=_("Slots only."))
    count = forms.IntegerField(label=_("count"), min_value=1, max_value=MAX_PUBLISH)
    reserved_for_primary = forms.IntegerField(
        label=_("reserved for primary-care referrals"),
        min_value=0,
        max_value=MAX_PUBLISH,
        initial=0,
        required=False,
        help_text=_("Slots only: at least a third at the lead hospital."),
    )
    interval_minutes = forms.IntegerField(
        label=_("minutes per slot"),
        min_value=1,
        max_value=MAX_SLOT_MINUTES,
        initial=SLOT_MINUTES,
        required=False,
        help_text=_("Slots only: number n is expected (n − 1) × these minutes after the session starts."),
    )

    def __init__(self, *args, institution, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        self.fields["department"].queryset = (
            Department.objects.for_user(user).filter(institution=institution, active=True).order_by("code")
        )

    def clean(self):
        data = super().clean()
        if data.get("kind") == PoolKind.BED:
            data.update(period="", doctor="", reserved_for_primary=0, interval_minutes=SLOT_MINUTES)
        else:
            if "reserved_for_primary" in data and data["reserved_for_primary"] is None:
                data["reserved_for_primary"] = 0
            if "interval_minutes" in data and data["interval_minutes"] is None:
                data["interval_minutes"] = SLOT_MINUTES
        return data


def next_monday(day):
    """The first Monday after `day` (a week to come)."""
    return day + datetime.timedelta(days=7 - day.weekday())


class PublishWeekForm(forms.Form):
    week_start = forms.DateField(
        label=_("week starting (a Monday)"),
        widget=DateInput(),
        help_text=_("Every line of the template is published for that week, all or nothing."),
    )


class WeekForm(forms.Form):
    """The overview's choice of week: any day picks the week (Monday … Sunday) it falls in."""

    week = forms.DateField(label=_("week of"), widget=DateInput(), required=False)

    def monday(self, default):
        day = self.cleaned_data.get("week") if self.is_valid() else None
        day = day or default
        return day - datetime.timedelta(days=day.weekday())


class ConfirmForm(forms.Form):
    """Nothing to fill in: the button confirms."""
