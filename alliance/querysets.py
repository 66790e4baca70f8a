"""Reads of the hierarchy. "As it stood on a date" is `PlacementQuerySet.on(date)`, used everywhere:
the institution list with `as_of`, the access policy, a month's figures (last day of the month)."""

from django.db.models import Count, Prefetch, Q
from django.db.models.functions import ExtractYear
from django.utils import timezone

from core.querysets import ScopedQuerySet


def today():
    """Today in Asia/Shanghai (TIME_ZONE): what "current" means (DESIGN §3)."""
    return timezone.localdate()


class PlacementQuerySet(ScopedQuerySet):
    def on(self, date):
        """Placements in force on `date`: valid_from ≤ date < valid_to (open-ended when empty)."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date), valid_from__lte=date)

    def current(self):
        return self.on(today())

    def overlapping(self, valid_from, valid_to):
        """Placements whose period meets [valid_from, valid_to) (valid_to None: open-ended)."""
        queryset = self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from))
        if valid_to is not None:
            queryset = queryset.filter(valid_from__lt=valid_to)
        return queryset


class InstitutionQuerySet(ScopedQuerySet):
    def with_placement_on(self, date):
        """Attach `placement_on_date` (the placement in force on `date`, or None) in one query."""
        from .models import Placement

        placements = Placement.objects.on(date).select_related("alliance", "parent")
        return self.prefetch_related(
            Prefetch("placements", queryset=placements, to_attr="placements_on_date")
        )

    def placed_on(self, date, **placement_filters):
        """Institutions whose placement on `date` matches `placement_filters` (alliance=, role=, parent=)."""
        from .models import Placement

        placed = Placement.objects.on(date).filter(**placement_filters).values("institution")
        return self.filter(pk__in=placed)

    def ever_in(self, alliances):
        """Institutions that have belonged to any of `alliances` at any time (history included)."""
        from .models import Placement

        return self.filter(pk__in=Placement.objects.filter(alliance__in=alliances).values("institution"))


class AllianceQuerySet(ScopedQuerySet):
    def with_lead_on(self, date):
        """Attach `leads_on_date` (the lead hospital's placement on `date`, a list of 0 or 1) and
        the populations, in two queries for the whole list."""
        from .models import Placement, PlacementRole

        leads = Placement.objects.on(date).filter(role=PlacementRole.LEAD).select_related("institution")
        return self.prefetch_related(
            Prefetch("placements", queryset=leads, to_attr="leads_on_date"), "populations"
        )


class DepartmentQuerySet(ScopedQuerySet):
    pass


class GovernanceQuerySet(ScopedQuerySet):
    pass


class MeetingQuerySet(ScopedQuerySet):
    def government_rule_met(self, alliance, year):
        """Whether the county government's executive meeting studied `alliance` at least twice
        in `year` (domain/indicators-and-standards.md, source 003)."""
        from .models import GOVERNMENT_MEETINGS_PER_YEAR, MeetingKind

        held = self.filter(alliance=alliance, kind=MeetingKind.GOVERNMENT, held_on__year=year).count()
        return held >= GOVERNMENT_MEETINGS_PER_YEAR

    def government_count_by_year(self):
        """Per alliance and year, how many county-government meetings studied the alliance."""
        from .models import MeetingKind

        return (
            self.filter(kind=MeetingKind.GOVERNMENT)
            .annotate(year=ExtractYear("held_on"))
            .values("alliance", "year")
            .annotate(count=Count("pk"))
            .order_by("alliance", "year")
        )
