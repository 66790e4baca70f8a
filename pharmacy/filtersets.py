"""Filters of the catalogue and the formularies (DESIGN §8), shared by the API and the pages:
one search box (`search`: name, pinyin initials or full pinyin, or code)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from alliance.filtersets import institution_code_filter
from alliance.models import Alliance, Institution
from core.filters import ScopedModelChoiceFilter

from .models import DrugCatalogueEntry, Formulary, FormularyTier, InsuranceClass


class DrugFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label=_("name, pinyin or code"))
    alliance = ScopedModelChoiceFilter(model=Alliance)
    insurance_class = django_filters.ChoiceFilter(choices=InsuranceClass.choices, label=_("insurance class"))
    is_essential = django_filters.BooleanFilter(label=_("essential drug (基本药物)"))
    is_negotiated = django_filters.BooleanFilter(label=_("nationally negotiated (国谈)"))
    nhsa_code = django_filters.CharFilter(label=_("national insurance drug code"))

    class Meta:
        model = DrugCatalogueEntry
        fields = ["search", "alliance", "insurance_class", "is_essential", "is_negotiated", "nhsa_code"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class FormularyFilterSet(django_filters.FilterSet):
    alliance = ScopedModelChoiceFilter(model=Alliance)
    tier = django_filters.ChoiceFilter(choices=FormularyTier.choices, label=_("tier"))
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()

    class Meta:
        model = Formulary
        fields = ["alliance", "tier", "institution", "institution_code"]
