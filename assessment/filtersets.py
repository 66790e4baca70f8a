"""Filters of the indicator definitions, shared by the API and the pages (DESIGN §8): by code,
by the level an indicator applies to, by name; by default one version per code (the one in
force today, or the latest of an indicator not in force), `all_versions` for every version."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import IndicatorDefinition, Scope


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
