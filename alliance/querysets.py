"""Reads of the hierarchy. "As it stood on a date" is `PlacementQuerySet.on(date)`, used everywhere:
the institution list with `as_of`, the access policy, a month's figures (last day of the month)."""

from django.db.models import Count, Prefetch, Q
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone

from core.measures import month_end, month_range, next_month
from core.querysets import ScopedQuerySet

from .choices import GOVERNMENT_MEETINGS_PER_YEAR, MeetingKind, PlacementRole


def today():
    """Today in Asia/Shanghai (TIME_ZONE): what "current" means (DESIGN §3)."""
    return timezone.localdate()


# The columns of a tree node (PlacementQuerySet.tree_rows).
TREE_FIELDS = (
    "pk",
    "alliance_id",
    "role",
    "parent_id",
    "valid_from",
    "institution_id",
    "institution__code",
    "institution__name",
    "institution__level",
    "institution__licensed_beds",
    "institution__open_beds",
)


class PlacementQuerySet(ScopedQuerySet):
    def on(self, date):
        """Placements in force on `date`: valid_from ≤ date < valid_to (open-ended when empty)."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date), valid_from__lte=date)

    def current(self):
        return self.on(today())

    def on_last_day_of(self, month):
        """Placements in force on the last day of `month`: a first day of month, or an expression
        giving one (`OuterRef("month")`, so a measure's query can join the month's hierarchy).
        Compared by months, so no date arithmetic is needed in SQL: in force on the last day
        means begun in that month or before and ended (valid_to) in a later month, or not."""
        return self.alias(began=TruncMonth("valid_from"), ended=TruncMonth("valid_to")).filter(
            Q(valid_to__isnull=True) | Q(ended__gt=month), began__lte=month
        )

    def by_month(self, first_month, last_month):
        """`{(institution_id, month): placement}` of the placements in force on the last day of
        each month first … last (the hierarchy of each month, DESIGN §3), in one query."""
        months = month_range(first_month, last_month)
        placements = list(self.overlapping(first_month, next_month(last_month)).order_by())
        return {
            (placement.institution_id, month): placement
            for month in months
            for placement in placements
            if placement.covers(month_end(month))
        }

    def changed_within(self, first, last):
        """Placements that began or ended on a day in [first, last]: the changes of a period.
        `valid_to` is the first day outside the alliance, so it is the day of the change."""
        began = Q(valid_from__gte=first, valid_from__lte=last)
        ended = Q(valid_to__gte=first, valid_to__lte=last)
        return self.filter(began | ended)

    def tree_rows(self, date):
        """The nodes of the tree on `date` in one GROUP BY query: one dict per placement in force,
        with the institution's facts and `staff`, the active staff posted there on that date.

        Staff are reached through the reverse relation `staff_postings` (members.StaffPosting),
        so the hierarchy counts them without importing the people app (DESIGN §2); a posting
        history, not the current posting, so a past date shows who worked where then.
        """
        posting = "institution__staff_postings"
        posted_then = Q(**{f"{posting}__valid_from__lte": date, f"{posting}__staff__active": True}) & (
            Q(**{f"{posting}__valid_to__isnull": True}) | Q(**{f"{posting}__valid_to__gt": date})
        )
        return (
            self.on(date)
            .values(*TREE_FIELDS)
            .annotate(staff=Count(posting, filter=posted_then))
            .order_by("institution__code")
        )

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
        from .models import Placement

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
        held = self.filter(alliance=alliance, kind=MeetingKind.GOVERNMENT, held_on__year=year).count()
        return held >= GOVERNMENT_MEETINGS_PER_YEAR

    def government_count_by_year(self):
        """Per alliance and year, how many county-government meetings studied the alliance."""
        return (
            self.filter(kind=MeetingKind.GOVERNMENT)
            .annotate(year=ExtractYear("held_on"))
            .values("alliance", "year")
            .annotate(count=Count("pk"))
            .order_by("alliance", "year")
        )
