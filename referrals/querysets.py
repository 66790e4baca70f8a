"""Reads of referrals, slots and beds: scopes and the set-based shares the indicators reuse
(`slots.lead.reserved`, `slots.lead.published`, reserved bed-days; DESIGN §3 "Measure")."""

from django.db.models import Case, Count, F, FloatField, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, NullIf

from alliance.choices import PlacementRole
from alliance.models import ROLE_RANK, Placement
from core.querysets import ScopedQuerySet

from .choices import Direction, ReferralState

# What makes a session of slots (a doctor's morning, afternoon or evening at a department): its
# slots are numbered 1 … n (号序, `Slot.number`).
SESSION = ("institution", "department", "date", "period", "doctor")


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

    # Pool management and the indicators (issue 6 point 1, issue 7 point 5).
    def release_ratio_by_institution(self, first, last):
        """The slot release ratio of each institution over the days first … last, one GROUP BY:
        `{"institution", "published", "reserved", "ratio"}` rows (`ratio` = reserved / published,
        None without slots; at least 1/3 at the lead hospital)."""
        return (
            self.between(first, last)
            .release_share_by_institution()
            .annotate(ratio=Cast("reserved", FloatField()) / NullIf(Cast("published", FloatField()), 0.0))
        )

    def status_by_department_and_day(self):
        """The pool overview of slots, one GROUP BY per day and department: `published`,
        `reserved` (released to referrals when published), `booked` (by a referral),
        `returned` (reserved, unbooked at the cut-off), `free` (not booked) and `reserved_free`
        (still bookable by a referral unless its session has started)."""
        return (
            self.order_by()
            .values("date", "department", "department__code", "department__name")
            .annotate(
                # first: once annotated, `reserved` names the count, no longer the column
                reserved_free=Count(
                    "pk", filter=Q(reserved=True, returned_at__isnull=True, referral__isnull=True)
                ),
                published=Count("pk"),
                reserved=Count("pk", filter=Q(reserved=True)),
                booked=Count("pk", filter=Q(referral__isnull=False)),
                returned=Count("pk", filter=Q(returned_at__isnull=False)),
                free=Count("pk", filter=Q(referral__isnull=True)),
            )
            .order_by("date", "department__code", "department")
        )

    # The refer page's calendar (issue 7 point 2).
    def availability(self, institution, department, first, last, now):
        """What a referral may book at one department on the days first … last, in one GROUP BY:
        `{"date", "period", "doctor", "free"}` rows."""
        return (
            self.bookable(now)
            .filter(institution=institution, department=department)
            .between(first, last)
            .order_by()
            .values("date", "period", "doctor")
            .annotate(free=Count("pk"))
            .order_by("date", "period", "doctor")
        )

    def offers(self, now, *fields):
        """What a referral may book, one row per session (`SESSION`, `fields` and `free`) with
        the session's lowest free number, the one a page books: `first` (its id),
        `first_number` and `first_at` (its expected time) (issue 13 point 5). One query: a
        subquery per session reads the session's unique index. Filter on sessions only (days,
        periods, departments), so that the subquery sees the same free slots."""
        lowest = self.model.objects.bookable(now).filter(**{name: OuterRef(name) for name in SESSION})
        lowest = lowest.order_by("number")
        return (
            self.bookable(now)
            .order_by()
            .values(*SESSION, *fields)
            .annotate(
                free=Count("pk"),
                first_number=Min("number"),
                first=Subquery(lowest.values("pk")[:1]),
                first_at=Subquery(lowest.values("expected_at")[:1]),
            )
        )


class BedQuerySet(_PoolQuerySet):
    def bed_days_by_institution(self):
        """Reserved bed-days per institution (one GROUP BY); divided by the days of the period
        and the open beds, the bed release ratio (床位下沉比例; at least 1/4 at the lead hospital)."""
        return self.order_by().values("institution").annotate(bed_days=Count("pk")).order_by("institution")

    def release_ratio_by_institution(self, first, last):
        """The bed release ratio of each institution over the days first … last, one GROUP BY:
        `{"institution", "open_beds", "bed_days", "ratio"}` rows; `ratio` = reserved bed-days /
        (days × open beds), the average daily reserved beds over the open beds (at least 1/4 at
        the lead hospital; None without open beds)."""
        days = (last - first).days + 1
        return (
            self.between(first, last)
            .order_by()
            .values("institution", open_beds=F("institution__open_beds"))
            .annotate(bed_days=Count("pk"))
            .annotate(
                ratio=Cast("bed_days", FloatField()) / NullIf(Cast(F("open_beds") * days, FloatField()), 0.0)
            )
            .order_by("institution")
        )

    def status_by_department_and_day(self):
        """The pool overview of beds, one GROUP BY per day and department: `reserved` (the
        rows), `booked` by a referral and `free`."""
        return (
            self.order_by()
            .values("date", "department", "department__code", "department__name")
            .annotate(
                reserved=Count("pk"),
                booked=Count("pk", filter=Q(referral__isnull=False)),
                free=Count("pk", filter=Q(referral__isnull=True)),
            )
            .order_by("date", "department__code", "department")
        )

    def free_by_day(self, institution, department, first, last):
        """Free reserved beds of one department per day (the refer page's bed tab), one GROUP BY:
        `{"date", "free", "first"}` rows."""
        return (
            self.free()
            .filter(institution=institution, department=department)
            .between(first, last)
            .order_by()
            .values("date")
            .annotate(free=Count("pk"), first=Min("pk"))
            .order_by("date")
        )


class PoolTemplateEntryQuerySet(ScopedQuerySet):
    def for_page(self):
        """Day by day, slots (morning, afternoon, evening) before beds."""
        sessions = Case(When(period="am", then=Value(0)), When(period="pm", then=Value(1)), default=Value(2))
        return self.select_related("department").order_by(
            "weekday", "-kind", sessions, "department__code", "doctor", "pk"
        )

    def bed_totals_by_weekday(self):
        """`{weekday: beds}` of the bed lines, one GROUP BY (checked at the lead hospital against
        a quarter of its open beds)."""
        rows = self.filter(kind="bed").order_by().values_list("weekday").annotate(beds=Sum("count"))
        return dict(rows.order_by())


class PoolPublicationQuerySet(ScopedQuerySet):
    pass


class ReferralQuerySet(ScopedQuerySet):
    def for_list(self):
        return self.select_related(
            "from_institution", "to_institution", "to_department", "slot", "bed", "team"
        )

    def answer_overdue(self, now):
        """Submitted referrals nobody answered in time."""
        return self.filter(state=ReferralState.SUBMITTED, answer_due_at__lte=now)

    def received_by(self, institution):
        """The receiver's list: prioritised signed residents first (优先就诊), then by urgency."""
        return self.filter(to_institution=institution).order_by("-priority", "answer_due_at", "pk")

    # The referral pages (issue 7): inbox, outbox, the referral page and its slip.
    def counts_by_state(self):
        """`{state: count}` in one GROUP BY (the tabs of the inbox and outbox)."""
        rows = self.order_by().values_list("state").annotate(n=Count("pk")).order_by()
        return dict(rows)

    def open_returns_of(self, referral):
        """The down-referrals back from `referral` still under way (not rejected, cancelled,
        expired or no-show): while one exists, referring back again is refused."""
        closed = [
            ReferralState.REJECTED,
            ReferralState.CANCELLED,
            ReferralState.EXPIRED,
            ReferralState.NO_SHOW,
        ]
        return self.filter(return_of=referral).exclude(state__in=closed)

    def for_detail(self):
        """Everything the referral page and the slip show of the row itself, in one query."""
        return self.select_related(
            "alliance",
            "from_institution",
            "to_institution",
            "to_department",
            "team",
            "team__institution",
            "slot",
            "slot__department",
            "bed",
            "bed__department",
            "return_of",
        )


class ReferralEventQuerySet(ScopedQuerySet):
    pass


def route(sender, receiver):
    """`(direction, out_of_county)` of a referral from the placement `sender` to `receiver` (its
    placement that day; None when it has none), or None when the hierarchy forbids it. The one
    rule that `services.classify` enforces and `receivers_on` offers:

    - out of the county (no placement, another alliance, a partner): up;
    - inside the alliance, by rank: a higher rank is up, a lower one down, the same lateral;
    - a village clinic goes up to its own township branch only, never to another township's
      (乡村一体化: the branch runs its village clinics); the hospitals are open to it.
    """
    partner = PlacementRole.PARTNER
    if receiver is None or receiver.alliance_id != sender.alliance_id or receiver.role == partner:
        return Direction.UP, True
    to_rank, from_rank = ROLE_RANK[receiver.role], ROLE_RANK[sender.role]
    if to_rank == from_rank:
        return Direction.LATERAL, False
    if to_rank < from_rank:
        return Direction.DOWN, False
    if sender.role == PlacementRole.VILLAGE and receiver.role == PlacementRole.BRANCH:
        return (Direction.UP, False) if receiver.institution_id == sender.parent_id else None
    return Direction.UP, False


def receivers_on(day, sender, direction, placements=None):
    """Where `sender` (its Placement on `day`) may refer in `direction` by that day's hierarchy
    (`route`, the rule the service checks): the receivers' placements with their institution,
    each marked `outside` (out of the county), the alliance's own first, higher roles first.
    `placements` narrows the candidates (the user's scope: `Placement.objects.for_user(user)`);
    one query, and a few hundred placements at most to weigh.
    """
    placements = placements if placements is not None else Placement.objects.all()
    candidates = placements.on(day).exclude(institution=sender.institution_id).select_related("institution")
    if direction != Direction.UP:  # only an up-referral leaves the alliance: read no other
        candidates = candidates.filter(alliance=sender.alliance_id).exclude(role=PlacementRole.PARTNER)
    offered = []
    for placement in candidates:
        way = route(sender, placement)
        if way is not None and way[0] == direction:
            placement.outside = way[1]
            offered.append(placement)
    order = {role: i for i, role in enumerate(PlacementRole.values)}
    return sorted(offered, key=lambda p: (p.outside, order[p.role], p.institution.code))


def referral_alliances(ids, alliances):
    """{referral id: alliance id} of the referrals among `ids` in `alliances` (core.references).
    Unfiltered manager: the caller checks a batch it has already scoped."""
    from .models import Referral

    return dict(Referral.objects.filter(pk__in=ids, alliance__in=alliances).values_list("pk", "alliance_id"))
