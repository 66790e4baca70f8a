"""Filters of the indicators (DESIGN §8). Definitions, shared by the API and the pages: by code,
by the level an indicator applies to, by name; by default one version per code (the one in
force today, or the latest of an indicator not in force), `all_versions` for every version.
Values and restatements: by indicator, alliance, institution, month, period and scope, each
alliance and institution through the access door."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alliance.filtersets import institution_code_filter
from alliance.models import Alliance, Institution
from core.filters import ScopedModelChoiceFilter
from encounters.filtersets import MonthFilter

from .models import (
    Hierarchy,
    IndicatorDefinition,
    IndicatorValue,
    IndicatorWarning,
    Light,
    Period,
    Restatement,
    Scope,
    WarningKind,
    WarningState,
)


def _applied_in_filter_queryset(queryset, name, value):
    return queryset


class IndicatorDefinitionFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("code"))
    scope = django_filters.ChoiceFilter(choices=Scope.choices, method="filter_scope", label=_("computed for"))
    search = django_filters.CharFilter(method="filter_search", label=_("name or code"))
    all_versions = django_filters.BooleanFilter(method=_applied_in_filter_queryset, label=_("every version"))

    class Meta:
        model = IndicatorDefinition
        fields = ["code", "scope", "search", "all_versions"]

    def __init__(self, data=None, *args, **kwargs):
        # A page opened without filters is unbound, and django-filter would skip filter_queryset:
        # bound to no data, it still shows one version per code.
        super().__init__({} if data is None else data, *args, **kwargs)

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("all_versions"):
            queryset = queryset.current_or_latest()
        return super().filter_queryset(queryset)

    def filter_scope(self, queryset, name, value):
        return queryset.filter(**{f"for_{value}": True})

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(code__icontains=value) | Q(name_zh__icontains=value) | Q(name_en__icontains=value)
        )


class IndicatorValueFilterSet(django_filters.FilterSet):
    indicator = django_filters.CharFilter(label=_("indicator (code)"))
    alliance = ScopedModelChoiceFilter(model=Alliance)
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    month = MonthFilter(label=_("month (YYYY-MM)"))
    period = django_filters.ChoiceFilter(choices=Period.choices)
    scope = django_filters.ChoiceFilter(choices=Scope.choices)
    hierarchy = django_filters.ChoiceFilter(
        choices=Hierarchy.choices, method="filter_hierarchy", label=_("hierarchy")
    )

    class Meta:
        model = IndicatorValue
        fields = ["indicator", "alliance", "institution", "institution_code", "month", "period", "scope"]

    def filter_hierarchy(self, queryset, name, value):
        return queryset  # the view builds today's view; stored rows are all of the month's


class RestatementFilterSet(django_filters.FilterSet):
    alliance = ScopedModelChoiceFilter(model=Alliance)
    month = MonthFilter(label=_("month (YYYY-MM)"))
    indicator = django_filters.CharFilter(field_name="value__indicator", label=_("indicator (code)"))

    class Meta:
        model = Restatement
        fields = ["alliance", "month", "indicator"]


class WarningFilterSet(django_filters.FilterSet):
    """Warnings (issue 15 point 1): by alliance, month, kind, state, light and subject (an
    indicator's code, or visits/admissions for siphoning)."""

    alliance = ScopedModelChoiceFilter(model=Alliance)
    month = MonthFilter(label=_("month (YYYY-MM)"))
    kind = django_filters.ChoiceFilter(choices=WarningKind.choices, label=_("kind"))
    state = django_filters.ChoiceFilter(choices=WarningState.choices, label=_("state"))
    light = django_filters.ChoiceFilter(choices=Light.choices, label=_("light"))
    subject = django_filters.CharFilter(label=_("indicator (code)"))

    class Meta:
        model = IndicatorWarning
        fields = ["alliance", "month", "kind", "state", "light", "subject"]
