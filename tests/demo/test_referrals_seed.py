"""The demo county's referrals (issue 6 point 8) at the small scale: slot and bed pools for the
anchor's week and the three after with their reserved shares, published week by week from the
hospitals' weekly templates, a year of referrals up and back down along the hierarchy with a
realistic mix of states, all closed before the anchor day, the open referrals of the anchor day
booking what is still to come, the admissions they match, and idempotence (anchor of
tests/demo/conftest.py: Thursday 2026-12-03)."""

import datetime

from django.db.models import Count, F, Q, Sum

from alliance.choices import PlacementRole
from alliance.models import ROLE_RANK, Placement
from demo.services import SCALES, seed_demo
from demo.services.referrals import POOL_DAYS, POOL_WEEKS
from encounters.models import Admission
from referrals.choices import Direction, ReferralState
from referrals.models import Bed, PoolPublication, PoolTemplateEntry, Referral, ReferralEvent, Slot
from tests.demo.conftest import ANCHOR, DATES, SEED

S = ReferralState
POOL_START = datetime.date(2026, 11, 30)  # the Monday of the anchor's week
POOL_END = POOL_START + datetime.timedelta(days=POOL_DAYS - 1)


def _history():
    return Referral.objects.filter(submitted_at__date__lt=ANCHOR)


def _open():
    return Referral.objects.filter(submitted_at__date__gte=ANCHOR)


def test_each_scale_has_its_amount_of_referrals(county):
    assert {name: scale.referrals for name, scale in SCALES.items()} == {
        "small": 200,
        "demo": 3_000,
        "full": 12_000,
    }
    assert _history().count() == 200
    assert _open().count() == SCALES["small"].open_referrals + 2  # and two refer-backs


def test_the_history_covers_the_year_and_is_mostly_completed(county):
    history = _history()
    days = history.aggregate(
        first=Count("pk", filter=Q(submitted_at__date__lt=DATES.period_start)),
        last=Count("pk", filter=Q(submitted_at__date__gte=DATES.period_end)),
    )
    states = dict(history.values_list("state").annotate(n=Count("pk")))

    assert days == {"first": 0, "last": 0}
    assert set(states) <= {S.COMPLETED, S.REJECTED, S.CANCELLED, S.EXPIRED, S.NO_SHOW}
    assert 0.65 <= states[S.COMPLETED] / 200 <= 0.92
    assert sum(states.get(state, 0) for state in (S.REJECTED, S.CANCELLED, S.EXPIRED, S.NO_SHOW)) >= 10
    assert len(states) >= 4


def test_directions_follow_the_hierarchy_of_the_day(county):
    """Up goes to a higher rank, down to a lower one, by the placements on the submission day."""
    directions = dict(_history().values_list("direction").annotate(n=Count("pk")))
    assert directions[Direction.UP] > directions[Direction.DOWN] > 30
    assert Direction.LATERAL not in directions

    for referral in Referral.objects.all():
        day = referral.submitted_at.date()
        sender = Placement.objects.on(day).get(institution_id=referral.from_institution_id)
        receiver = Placement.objects.on(day).get(institution_id=referral.to_institution_id)
        higher = ROLE_RANK[receiver.role] > ROLE_RANK[sender.role]
        assert higher == (referral.direction == Direction.UP), referral
        if referral.direction == Direction.UP:
            assert sender.role in (PlacementRole.BRANCH, PlacementRole.VILLAGE)
        assert referral.deductible_continuity and not referral.out_of_county


def test_timelines_and_events_are_consistent(county):
    for referral in _history().prefetch_related("events"):
        events = list(referral.events.all())
        assert [event.to_state for event in events][:2] == [S.DRAFT, S.SUBMITTED]
        assert events[-1].to_state == referral.state
        assert [event.at for event in events] == sorted(event.at for event in events)
        assert referral.created_at == referral.submitted_at
        if referral.state == S.COMPLETED:
            assert (
                referral.submitted_at <= referral.accepted_at <= referral.arrived_at <= referral.completed_at
            )
        else:
            assert referral.closed_at is not None and referral.completed_at is None
        assert referral.patient_key and referral.patient_name_encrypted and "*" in referral.patient_id_masked


def test_refer_backs_return_to_the_sender_of_a_completed_up_referral(county):
    backs = Referral.objects.filter(return_of__isnull=False).select_related("return_of")
    assert backs.count() >= 20
    for back in backs:
        up = back.return_of
        assert up.direction == Direction.UP and up.state == S.COMPLETED
        assert (back.from_institution_id, back.to_institution_id) == (
            up.to_institution_id,
            up.from_institution_id,
        )
        assert back.patient_key == up.patient_key and back.submitted_at > up.completed_at


def test_matched_admissions_carry_their_referral(county):
    linked = Admission.objects.filter(referral_id__isnull=False)
    assert linked.exists()
    referrals = Referral.objects.in_bulk([row.referral_id for row in linked])
    for admission in linked:
        referral = referrals[admission.referral_id]
        assert referral.direction == Direction.UP and referral.state == S.COMPLETED
        assert referral.patient_key == admission.patient_key
        assert referral.to_institution_id == admission.institution_id
        assert referral.arrived_at.date() == admission.admit_date


def test_pools_cover_four_weeks_with_the_reserved_shares(county):
    slots, beds = Slot.objects.all(), Bed.objects.all()
    assert slots.aggregate(first=Count("date", distinct=True))["first"] == 24  # Monday to Saturday
    assert beds.aggregate(days=Count("date", distinct=True))["days"] == POOL_DAYS
    assert not slots.exclude(date__range=(POOL_START, POOL_END)).exists()

    for row in slots.release_share_by_institution():
        assert row["reserved"] * 3 >= row["published"]
    lead = slots.at_role(PlacementRole.LEAD, POOL_START).release_share()
    assert lead["reserved"] / lead["published"] >= 0.4
    for row in beds.bed_days_by_institution():
        placement = (
            Placement.objects.on(POOL_START).select_related("institution").get(institution=row["institution"])
        )
        assert placement.role in (PlacementRole.LEAD, PlacementRole.COLLABORATING)
        assert row["bed_days"] >= placement.institution.open_beds * POOL_DAYS / 4
    assert set(slots.values_list("period", flat=True)) == {"am", "pm"}


def test_the_hospitals_publish_their_weeks_from_their_templates(county):
    hospitals = set(
        Placement.objects.on(POOL_START)
        .filter(role__in=[PlacementRole.LEAD, PlacementRole.COLLABORATING])
        .values_list("institution", flat=True)
    )
    weeks = [POOL_START + datetime.timedelta(weeks=n) for n in range(POOL_WEEKS)]

    assert POOL_START.weekday() == 0 and len(hospitals) == 3
    assert set(PoolTemplateEntry.objects.values_list("institution", flat=True)) == hospitals
    assert sorted(PoolPublication.objects.values_list("institution", "week_start")) == sorted(
        (institution, monday) for institution in hospitals for monday in weeks
    )
    assert PoolPublication.objects.aggregate(slots=Sum("slots"), beds=Sum("beds")) == {
        "slots": Slot.objects.count(),
        "beds": Bed.objects.count(),
    }
    # every week is the template's week: the same slots and beds each week
    per_week = Slot.objects.filter(date__lt=POOL_START + datetime.timedelta(weeks=1)).count()
    assert Slot.objects.count() == POOL_WEEKS * per_week


def test_open_referrals_went_through_the_services_and_hold_one_slot_each(county):
    live = _open().filter(return_of__isnull=True)
    states = dict(live.values_list("state").annotate(n=Count("pk")))
    assert states == {S.SUBMITTED: 3, S.ACCEPTED: 3}
    held = (
        Slot.objects.filter(referral__isnull=False).count()
        + Bed.objects.filter(referral__isnull=False).count()
    )
    assert held == live.count()
    assert not Slot.objects.filter(referral__isnull=False, reserved=False).exists()
    assert (
        not Slot.objects.filter(referral__isnull=False)
        .exclude(institution=F("referral__to_institution"))
        .exists()
    )
    assert ReferralEvent.objects.filter(referral__in=live, to_state=S.SUBMITTED).count() == live.count()
    assert _open().filter(return_of__isnull=False, state=S.SUBMITTED, direction=Direction.DOWN).count() == 2


def test_the_history_ends_before_the_anchor_day(county):
    """Timelines of the last days of November that would have run past Thursday 3 December were
    moved back: every event of the year came before the anchor day."""
    events = ReferralEvent.objects.filter(referral__in=_history())

    assert not events.filter(at__date__gte=ANCHOR).exists()
    assert _history().filter(submitted_at__date__gte=datetime.date(2026, 11, 1)).count() >= 5


def test_the_weeks_were_published_before_the_first_began(county):
    assert set(PoolPublication.objects.values_list("published_at", flat=True)) == {
        datetime.datetime(2026, 11, 27, 8, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    }  # the Friday before the anchor's week


def test_open_referrals_book_sessions_and_beds_still_to_come(county):
    live = _open().filter(return_of__isnull=True)
    slots = Slot.objects.filter(referral__in=live).select_related("referral")
    beds = Bed.objects.filter(referral__in=live)

    assert (slots.count(), beds.count()) == (4, 2)  # every third referral books a bed
    assert all(slot.date >= ANCHOR and slot.starts_at > slot.referral.submitted_at for slot in slots)
    assert all(bed.date >= ANCHOR for bed in beds)
    assert set(live.values_list("submitted_at__date", flat=True)) == {ANCHOR}
    # The days of the week before the anchor were published too; no referral holds one.
    assert Slot.objects.filter(date__lt=ANCHOR).exists()
    assert not Slot.objects.filter(date__lt=ANCHOR, referral__isnull=False).exists()
    assert not Bed.objects.filter(date__lt=ANCHOR, referral__isnull=False).exists()


def test_a_second_run_changes_no_referral_or_pool(county):
    before = (
        Referral.objects.count(),
        ReferralEvent.objects.count(),
        Slot.objects.count(),
        Bed.objects.count(),
    )

    result = seed_demo(seed=SEED, scale="small", today=ANCHOR)

    assert not result.built
    assert (
        Referral.objects.count(),
        ReferralEvent.objects.count(),
        Slot.objects.count(),
        Bed.objects.count(),
    ) == before


def test_a_county_without_referrals_gets_the_same_ones_again(county):
    def fingerprint():
        return sorted(
            Referral.objects.values_list(
                "direction",
                "state",
                "from_institution__code",
                "to_institution__code",
                "patient_key",
                "submitted_at",
            )
        )

    before = fingerprint(), Slot.objects.count(), Bed.objects.count()
    Admission.objects.update(referral_id=None)
    Slot.objects.update(referral=None)
    Bed.objects.update(referral=None)
    ReferralEvent.objects.all().delete()
    Referral.objects.filter(return_of__isnull=False).delete()
    Referral.objects.all().delete()
    Slot.objects.all().delete()
    Bed.objects.all().delete()
    PoolPublication.objects.all().delete()  # the templates stay: the weeks are published again

    result = seed_demo(seed=SEED, scale="small", today=ANCHOR)

    assert [step for step, _seconds in result.timings] == [
        "publish_pools",
        "record_referrals",
        "open_referrals",
    ]
    assert (fingerprint(), Slot.objects.count(), Bed.objects.count()) == before
    assert Admission.objects.filter(referral_id__isnull=False).exists()
