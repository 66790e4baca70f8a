"""Reads of referrals, slots and beds: scopes and the set-based shares the indicators reuse
(`slots.lead.reserved`, `slots.lead.published`, reserved bed-days; DESIGN §3 "Measure")."""

from django.db.models import Count, Q

from alliance.models import Placement
from core.querysets import ScopedQuerySet


class _PoolQuerySet(ScopedQuerySet):
    def between(self, first, last):
        """Rows of the days first … last (inclusive)."""
        return self.filter(date__gte=first, date__lte=last)

    def at_role(self, role, date, alliance=None):
        """Rows of the institutions holding `role` (e.g. lead) on `date` (hierarchy of that day)."""
        placements = Placement.objects.on(date).filter(role=role)
        if alliance is not None:
            placements = placements.filter(alliance=alliance)
        return self.filter(institution__in=placements.values("institution"))

    def free(self):
        return self.filter(referral__isnull=True)


class SlotQuerySet(_PoolQuerySet):
    def reserved_now(self):
        """Reserved for referrals and not yet returned to the public pool."""
        return self.filter(reserved=True, returned_at__isnull=True)

    def bookable(self, now):
        """What a referral may book: reserved, not returned, free, session not yet started."""
        return self.reserved_now().free().filter(starts_at__gt=now)

    def due_for_return(self, now):
        """Unbooked reserved slots past their cut-off (times from Python, so a test can freeze them)."""
        return self.reserved_now().free().filter(release_at__lte=now)

    def release_share(self):
        """`{"published", "reserved"}` in one aggregate: the numerator and denominator of the
        slot release ratio (号源下沉比例; at least 1/3 at the lead hospital). Reserved counts
        what was released at publishing, also when it later returned unbooked."""
        return self.aggregate(published=Count("pk"), reserved=Count("pk", filter=Q(reserved=True)))

    def release_share_by_institution(self):
        """The same per institution, one GROUP BY: `{"institution", "published", "reserved"}` rows."""
        return (
            self.order_by()
            .values("institution")
            .annotate(published=Count("pk"), reserved=Count("pk", filter=Q(reserved=True)))
            .order_by("institution")
        )


class BedQuerySet(_PoolQuerySet):
    def bed_days_by_institution(self):
        """Reserved bed-days per institution (one GROUP BY); divided by the days of the period
        and the open beds, the bed release ratio (床位下沉比例; at least 1/4 at the lead hospital)."""
        return self.order_by().values("institution").annotate(bed_days=Count("pk")).order_by("institution")


class ReferralQuerySet(ScopedQuerySet):
    def for_list(self):
        return self.select_related(
            "from_institution", "to_institution", "to_department", "slot", "bed", "team"
        )

    def answer_overdue(self, now):
        """Submitted referrals nobody answered in time."""
        from .models import ReferralState

        return self.filter(state=ReferralState.SUBMITTED, answer_due_at__lte=now)

    def received_by(self, institution):
        """The receiver's list: prioritised signed residents first (优先就诊), then by urgency."""
        return self.filter(to_institution=institution).order_by("-priority", "answer_due_at", "pk")


class ReferralEventQuerySet(ScopedQuerySet):
    pass
