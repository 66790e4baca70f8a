"""Reads of people: scopes and set-based aggregates reused by pages, the API and indicators."""

import datetime

from django.db import models
from django.db.models import Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, Least

from alliance.querysets import today
from core.identity import patient_key
from core.querysets import ScopedQuerySet

from .choices import SecondmentKind, TeamRole

# "Six months within a year" (派驻6个月以上), counted in days inside the calendar year: 183 is
# half a year rounded up, so the Python check and the SQL aggregate agree on every date.
SIX_MONTHS_DAYS = 183


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        """A user sees their own memberships (GET /api/v1/me/)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


def roles_of(user):
    """The roles `user` holds (a frozenset of Role values), read once per request: the home's
    panels ask it each (issue 15 point 5)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_roles_held", None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("role", flat=True))
        user._roles_held = cached
    return cached


class StaffQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(active=True)


class SecondmentQuerySet(ScopedQuerySet):
    def in_force_on(self, date):
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gt=date), start_date__lte=date)

    def overlapping(self, start, end):
        """Secondments sharing a day with [start, end) (end None: open-ended)."""
        overlap = self.filter(Q(end_date__isnull=True) | Q(end_date__gt=start))
        return overlap if end is None else overlap.filter(start_date__lt=end)

    def with_days_in_year(self, year):
        """Annotate `days_inside_year`: the days of each secondment inside `year`, in SQL (not
        named `days_in_year`, which would shadow the model method on the annotated rows)."""
        first, after = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
        start = Greatest(F("start_date"), Value(first))
        end = Least(Coalesce(F("end_date"), Value(after)), Value(after))
        return (
            self.filter(start_date__lt=after)
            .filter(Q(end_date__isnull=True) | Q(end_date__gt=first))
            .annotate(days_inside_year=ExpressionWrapper(end - start, output_field=DurationField()))
        )

    def reaching_six_months(self, year):
        """Stationed secondments with at least six months (183 days) inside `year`."""
        return (
            self.filter(kind=SecondmentKind.STATIONED)
            .with_days_in_year(year)
            .filter(days_inside_year__gte=datetime.timedelta(days=SIX_MONTHS_DAYS))
        )


class TeamQuerySet(ScopedQuerySet):
    def with_composition(self, on=None):
        """Annotate member counts on `on` (default today): general practitioners, specialists,
        everyone."""
        on = on or today()
        current = Q(memberships__valid_from__lte=on) & (
            Q(memberships__valid_to__isnull=True) | Q(memberships__valid_to__gt=on)
        )
        return self.annotate(
            member_count=Count("memberships", filter=current, distinct=True),
            gp_count=Count(
                "memberships",
                filter=current & Q(memberships__role=TeamRole.GENERAL_PRACTITIONER),
                distinct=True,
            ),
            specialist_count=Count(
                "memberships", filter=current & Q(memberships__role=TeamRole.SPECIALIST), distinct=True
            ),
        )

    def with_resident_count(self, on=None):
        """Annotate `resident_count`: residents under contract on `on` (default today), as one
        correlated subquery (no join that would multiply the member counts)."""
        from .models import SignedResident

        residents = (
            SignedResident.objects.under_contract_on(on)
            .filter(team=OuterRef("pk"))
            .order_by()
            .values("team")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return self.annotate(resident_count=Coalesce(Subquery(residents), 0))


class TeamMembershipQuerySet(ScopedQuerySet):
    """Scoped through the team's institution (members.access RULES)."""

    def on(self, date=None):
        """Places held on `date` (default today)."""
        date = date or today()
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date), valid_from__lte=date)

    def open(self):
        """Places not ended: the ones a removal may end."""
        return self.filter(valid_to__isnull=True)


class ResidentQuerySet(ScopedQuerySet):
    def with_id_number(self, id_number):
        """Look a resident up by ID number through its keyed hash (the number is never stored)."""
        return self.filter(patient_key=patient_key(id_number))

    def under_contract_on(self, date=None):
        date = date or today()
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date), signed_on__lte=date)
