"""Filters of encounters (DESIGN §8): `?institution=` (id) or `?institution_code=`, `?month=YYYY-MM`
(admissions: the month of discharge). Institution choices come from the caller's scope."""

import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from alliance.filtersets import institution_code_filter
from alliance.models import Institution
from core.filters import ScopedModelChoiceFilter

from .models import Admission, OutpatientVisit

MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text):
    """`YYYY-MM` → the first day of that month; ValidationError in Chinese otherwise."""
    match = MONTH.fullmatch((text or "").strip())
    try:
        return datetime.date(int(match[1]), int(match[2]), 1)
    except (TypeError, ValueError):
        raise ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-03."), code="invalid") from None


class MonthField(forms.CharField):
    """A calendar month written YYYY-MM, cleaned to its first day."""

    def to_python(self, value):
        value = super().to_python(value)
        return parse_month(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class MonthFilter(django_filters.Filter):
    field_class = MonthField

    def filter(self, queryset, value):
        return queryset if value is None else queryset.filter(month=value)


class EncounterFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    month = MonthFilter(label=_("month (YYYY-MM)"))
    source = django_filters.CharFilter()
    external_id = django_filters.CharFilter()


class VisitFilterSet(EncounterFilterSet):
    class Meta:
        model = OutpatientVisit
        fields = ["institution", "institution_code", "month", "source", "external_id"]


class AdmissionFilterSet(EncounterFilterSet):
    class Meta:
        model = Admission
        fields = ["institution", "institution_code", "month", "source", "external_id"]
