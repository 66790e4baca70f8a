"""Filters of the hierarchy. Choices come from scoped querysets, so a filter never reveals a
hidden row. `alliance`, `role` and `parent` of an institution are its place on `as_of` (default
today): "as it stood on a date" is `PlacementQuerySet.on`, as everywhere."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import ScopedCodeChoiceFilter, ScopedModelChoiceFilter

from .choices import AllianceKind, InstitutionLevel, PlacementRole
from .models import Alliance, Department, Institution
from .querysets import today


def institution_code_filter(field_name="institution"):
    """`?<field>_code=<code>` beside `?<field>=<id>`, among the institutions the caller may see."""
    return ScopedCodeChoiceFilter(model=Institution, field_name=field_name)


class AllianceFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AllianceKind.choices)
    region_code = django_filters.CharFilter()

    class Meta:
        model = Alliance
        fields = ["kind", "region_code"]


def _placement_filter(queryset, name, value):
    return queryset  # applied together on the `as_of` date in InstitutionFilterSet.filter_queryset


class InstitutionFilterSet(django_filters.FilterSet):
    as_of = django_filters.DateFilter(method=_placement_filter, label=_("as of (YYYY-MM-DD)"))
    alliance = ScopedModelChoiceFilter(model=Alliance, method=_placement_filter)
    role = django_filters.ChoiceFilter(choices=PlacementRole.choices, method=_placement_filter)
    parent = ScopedModelChoiceFilter(model=Institution, method=_placement_filter)
    parent_code = ScopedCodeChoiceFilter(model=Institution, method=_placement_filter)
    code = django_filters.CharFilter()
    level = django_filters.ChoiceFilter(choices=InstitutionLevel.choices)
    search = django_filters.CharFilter(method="filter_search", label=_("name or code"))

    class Meta:
        model = Institution
        fields = ["as_of", "alliance", "role", "parent", "parent_code", "code", "level", "search"]

    @property
    def reference_date(self):
        return self.form.cleaned_data.get("as_of") or today()

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        wanted = {
            "alliance": data.get("alliance"),
            "role": data.get("role"),
            "parent": data.get("parent") or data.get("parent_code"),
        }
        wanted = {name: value for name, value in wanted.items() if value}
        queryset = queryset.with_placement_on(self.reference_date)
        if wanted:
            queryset = queryset.placed_on(self.reference_date, **wanted)
        return super().filter_queryset(queryset)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(code__iexact=value))


class DepartmentFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    code = django_filters.CharFilter()
    active = django_filters.BooleanFilter()

    class Meta:
        model = Department
        fields = ["institution", "institution_code", "code", "active"]
