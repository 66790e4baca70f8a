"""Filters of referrals, slots and beds (DESIGN §8): ids and `_code`s, choices from the caller's
scope so a filter never reveals a hidden row."""

import django_filters
from django.utils import timezone

from alliance.filtersets import institution_code_filter
from alliance.models import Department, Institution
from core.filters import ScopedModelChoiceFilter

from .choices import Direction, PoolKind, ReferralState, SlotPeriod, Urgency, Weekday
from .models import Bed, PoolTemplateEntry, Referral, Slot


class _PoolFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    department = ScopedModelChoiceFilter(model=Department)
    date = django_filters.DateFilter()
    available = django_filters.BooleanFilter(method="filter_available")

    def filter_available(self, queryset, name, value):
        """Free and still to come (true), or taken (false)."""
        if value:
            return queryset.free().filter(date__gte=timezone.localdate())
        return queryset.filter(referral__isnull=False)


class SlotFilterSet(_PoolFilterSet):
    period = django_filters.ChoiceFilter(choices=SlotPeriod.choices)
    reserved = django_filters.BooleanFilter(method="filter_reserved")

    class Meta:
        model = Slot
        fields = ["institution", "institution_code", "department", "date", "period", "available", "reserved"]

    def filter_reserved(self, queryset, name, value):
        """Still reserved for referrals (true), or in the public pool (false)."""
        reserved = queryset.reserved_now()
        return reserved if value else queryset.exclude(pk__in=reserved.values("pk"))


class BedFilterSet(_PoolFilterSet):
    class Meta:
        model = Bed
        fields = ["institution", "institution_code", "department", "date", "available"]


class PoolTemplateEntryFilterSet(django_filters.FilterSet):
    institution = ScopedModelChoiceFilter(model=Institution)
    institution_code = institution_code_filter()
    department = ScopedModelChoiceFilter(model=Department)
    kind = django_filters.ChoiceFilter(choices=PoolKind.choices)
    weekday = django_filters.ChoiceFilter(choices=Weekday.choices)
    period = django_filters.ChoiceFilter(choices=SlotPeriod.choices)

    class Meta:
        model = PoolTemplateEntry
        fields = ["institution", "institution_code", "department", "kind", "weekday", "period"]


class ReferralFilterSet(django_filters.FilterSet):
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    state = django_filters.ChoiceFilter(choices=ReferralState.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    priority = django_filters.BooleanFilter()
    from_institution = ScopedModelChoiceFilter(model=Institution)
    from_institution_code = institution_code_filter("from_institution")
    to_institution = ScopedModelChoiceFilter(model=Institution)
    to_institution_code = institution_code_filter("to_institution")

    class Meta:
        model = Referral
        fields = [
            "direction", "state", "urgency", "priority", "from_institution", "from_institution_code",
            "to_institution", "to_institution_code",
        ]  # fmt: skip
