"""Filters of people. Choices come from scoped querysets, so a filter never reveals a hidden row;
filters take ids and, under `_code`, institution codes (DESIGN §8)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from alliance.filtersets import institution_code_filter
from alliance.models import Department, Institution
from core.filters import ScopedModelChoiceFilter

from .choices import Profession, SecondmentKind, TitleLevel
from .models import FamilyDoctorTeam, Secondment, SignedResident, StaffMember


@extend_schema_field(OpenApiTypes.INT)
class YearFilter(django_filters.NumberFilter):
    """A calendar year, 2000–2100 (a year outside would only be a typing error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=2000, max_value=2100, **kwargs)


class StaffFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    department = ScopedModelChoiceFilter(model=Department)
    profession = django_filters.ChoiceFilter(choices=Profession.choices)
    title_level = django_filters.ChoiceFilter(choices=TitleLevel.choices)
    is_general_practitioner = django_filters.BooleanFilter()
    active = django_filters.BooleanFilter()
    search = django_filters.CharFilter(method="filter_search", label=_("name or employee number"))

    class Meta:
        model = StaffMember
        fields = ["institution", "institution_code", "department", "profession", "title_level", "active"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(employee_number__iexact=value))


class SecondmentFilterSet(django_filters.FilterSet):
    from_institution = ScopedModelChoiceFilter(model=Institution)
    from_institution_code = institution_code_filter("from_institution")
    to_institution = ScopedModelChoiceFilter(model=Institution)
    to_institution_code = institution_code_filter("to_institution")
    staff = ScopedModelChoiceFilter(model=StaffMember)
    kind = django_filters.ChoiceFilter(choices=SecondmentKind.choices)
    in_force_on = django_filters.DateFilter(method="filter_in_force_on", label=_("in force on"))
    reaches_six_months_in = YearFilter(
        method="filter_six_months", label=_("stationed six months or more in this year")
    )

    class Meta:
        model = Secondment
        fields = ["staff", "kind", "from_institution", "to_institution"]

    def filter_in_force_on(self, queryset, name, value):
        return queryset.in_force_on(value)

    def filter_six_months(self, queryset, name, value):
        return queryset.reaching_six_months(value)


class TeamFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    active = django_filters.BooleanFilter()

    class Meta:
        model = FamilyDoctorTeam
        fields = ["institution", "institution_code", "active"]


class ResidentFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    team = ScopedModelChoiceFilter(model=FamilyDoctorTeam)
    under_contract_on = django_filters.DateFilter(
        method="filter_under_contract", label=_("under contract on")
    )

    class Meta:
        model = SignedResident
        fields = ["institution", "institution_code", "team"]

    def filter_under_contract(self, queryset, name, value):
        return queryset.under_contract_on(value)
