"""Late data restated visibly (issue 14 point 5): a referral's move that the referral measures
count (submitted, accepted, completed) marks that month (Asia/Shanghai) of its alliance, the
referral as the cause; publishing slots and beds marks the months of their days for the alliance
the institution is placed in at each month's end, the pool row as the cause. Refused moves,
closing moves, drafts and returned slots mark nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alliance import services as alliance_services
from core.exceptions import Conflict
from core.measures import next_month
from referrals import services
from referrals.choices import PoolKind, ReferralState, SlotPeriod
from referrals.models import Slot
from tests.alliance.factories import InstitutionFactory, place
from tests.core.marks import marks, months_marked
from tests.referrals.factories import beds, department, referral, slots

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
MARCH, APRIL, MAY = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1), datetime.date(2026, 5, 1)


def at(day, hour=10):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI)


def month_of(day):
    return day.replace(day=1)


# --- The workflow -------------------------------------------------------------------------------
def test_a_submitted_referral_marks_its_alliances_month_with_itself_as_cause(county, sender):
    made = referral(county.home, county.lead, acting_user=sender, now=at(datetime.date(2026, 3, 20)))

    assert marks(made) == [(county.alliance.pk, MARCH, "referrals.referral", made.pk)]


def test_the_month_is_shanghais(county, sender):
    """17:00 UTC on 31 March is 1 April in Asia/Shanghai: the measures count it in April."""
    utc = datetime.datetime(2026, 3, 31, 17, 0, tzinfo=datetime.UTC)

    made = referral(county.home, county.lead, acting_user=sender, now=utc)

    assert months_marked(county.alliance, made) == [APRIL]


def test_accept_and_complete_mark_the_months_they_happen_in(county, sender, receiver):
    made = referral(county.home, county.lead, acting_user=sender, now=at(datetime.date(2026, 3, 30)))

    services.accept_referral(made, acting_user=receiver, now=at(datetime.date(2026, 4, 2)))
    services.record_arrival(made, acting_user=receiver, now=at(datetime.date(2026, 4, 8)))
    services.complete_referral(made, acting_user=receiver, summary="好转", now=at(datetime.date(2026, 5, 6)))

    assert [month for _a, month, _c, _i in marks(made)] == [MARCH, APRIL, MAY]  # arrival marks nothing


def test_a_draft_marks_nothing_until_it_is_submitted(county, sender):
    draft = referral(county.home, county.lead, acting_user=sender, submit=False)
    assert marks(draft) == []

    services.submit_referral(draft, acting_user=sender, now=at(datetime.date(2026, 4, 9)))

    assert months_marked(county.alliance, draft) == [APRIL]


@pytest.mark.parametrize("close", ["reject", "cancel", "no_show", "expire"])
def test_closing_moves_mark_nothing(county, sender, receiver, close):
    made = referral(county.home, county.lead, acting_user=sender)
    if close == "no_show":
        services.accept_referral(made, acting_user=receiver)
    before = marks(made)

    if close == "reject":
        services.reject_referral(made, acting_user=receiver, reason="无床位")
    elif close == "cancel":
        services.cancel_referral(made, acting_user=sender, reason="患者拒绝")
    elif close == "no_show":
        services.record_no_show(made, acting_user=receiver)
    else:
        made.refresh_from_db()
        assert services.expire_referrals(made.answer_due_at + datetime.timedelta(minutes=1)) == 1

    made.refresh_from_db()
    assert made.state in (ReferralState.REJECTED, ReferralState.CANCELLED, ReferralState.NO_SHOW,
                          ReferralState.EXPIRED)  # fmt: skip
    assert marks(made) == before


def test_an_illegal_move_is_a_conflict_and_marks_nothing(county, sender, receiver):
    made = referral(county.home, county.lead, acting_user=sender)
    services.cancel_referral(made, acting_user=sender, reason="患者拒绝")
    before = marks()

    with pytest.raises(Conflict):
        services.accept_referral(made, acting_user=receiver)

    assert marks() == before


def test_a_referral_whose_slot_is_taken_is_not_written_nor_marked(county, lead_dept, sender):
    (slot,) = slots(lead_dept, count=1, reserved=1)
    referral(county.home, county.lead, to_department=lead_dept, slot=slot, acting_user=sender)
    before = marks()

    with pytest.raises(Conflict):
        referral(county.home, county.lead, n=2, to_department=lead_dept, slot=slot, acting_user=sender)

    assert marks() == before


def test_a_lateral_referral_is_counted_nowhere_and_marks_nothing(county, users):
    made = referral(county.branches[0], county.branches[1], acting_user=users["institution_admin"])

    assert made.direction == "lateral"
    assert marks(made) == []


def test_a_referral_back_marks_its_submission(county, sender, receiver):
    made = referral(county.home, county.lead, acting_user=sender)
    services.accept_referral(made, acting_user=receiver)
    services.record_arrival(made, acting_user=receiver)
    services.complete_referral(made, acting_user=receiver, summary="好转出院")

    back = services.refer_back(made, acting_user=receiver)

    assert months_marked(county.alliance, back) == [month_of(timezone.localdate())]


# --- Slot and bed pools ---------------------------------------------------------------------------
def test_published_slots_and_beds_mark_their_days_month(county, lead_dept):
    day = timezone.localdate() + datetime.timedelta(days=10)

    published = slots(lead_dept, count=3, reserved=3, date=day)
    reserved = beds(lead_dept, count=2, date=day)

    assert marks(published[0]) == [(county.alliance.pk, month_of(day), "referrals.slot", published[0].pk)]
    assert marks(reserved[0]) == [(county.alliance.pk, month_of(day), "referrals.bed", reserved[0].pk)]


def test_a_pool_counts_for_the_alliance_the_institution_is_in_at_the_months_end(world):
    """An institution moving to another alliance on the 20th of next month: its slots of the 10th
    count for the new alliance (the hierarchy of the month's last day)."""
    mine, other, _users = world
    clinic = InstitutionFactory()
    place(clinic, mine.alliance, "collaborating")
    moving_on = next_month(timezone.localdate()).replace(day=20)
    alliance_services.move_institution(clinic, on=moving_on, alliance=other.alliance, acting_user=None)
    before = len(marks())

    published = slots(department(clinic), count=2, reserved=0, date=moving_on.replace(day=10))

    assert marks(published[0]) == [
        (other.alliance.pk, month_of(moving_on), "referrals.slot", published[0].pk)
    ]
    assert len(marks()) == before + 1


def test_a_refused_publication_marks_nothing(county, lead_dept):
    before = marks()

    with pytest.raises(ValidationError):  # the lead reserves at least a third
        services.publish_slots(
            institution=county.lead, department=lead_dept, date=timezone.localdate(), period=SlotPeriod.AM,
            count=9, reserved_for_primary=2, acting_user=None,
        )  # fmt: skip

    assert marks() == before


def _monday_of_a_week_across_two_months():
    today = timezone.localdate()
    monday = today + datetime.timedelta(days=7 - today.weekday())
    while (monday + datetime.timedelta(days=6)).month == monday.month:
        monday += datetime.timedelta(days=7)
    return monday


def test_a_week_across_two_months_marks_both_with_the_publication_as_cause(county):
    dept = department(county.home, code="04", name="儿科")
    monday = _monday_of_a_week_across_two_months()
    sunday = monday + datetime.timedelta(days=6)
    services.create_template_entry(county.home, weekday=0, kind=PoolKind.SLOT, department=dept, count=4,
                                   period=SlotPeriod.AM, reserved_for_primary=2, acting_user=None)  # fmt: skip
    services.create_template_entry(county.home, weekday=6, kind=PoolKind.BED, department=dept, count=2,
                                   acting_user=None)  # fmt: skip

    publication = services.publish_week(county.home, week_start=monday, acting_user=None)

    assert marks(publication) == [
        (county.alliance.pk, month_of(monday), "referrals.poolpublication", publication.pk),
        (county.alliance.pk, month_of(sunday), "referrals.poolpublication", publication.pk),
    ]


def test_a_week_published_twice_is_a_conflict_and_marks_nothing_more(county):
    dept = department(county.home, code="04", name="儿科")
    services.create_template_entry(county.home, weekday=2, kind=PoolKind.BED, department=dept, count=2,
                                   acting_user=None)  # fmt: skip
    monday = _monday_of_a_week_across_two_months()
    services.publish_week(county.home, week_start=monday, acting_user=None)
    before = marks()

    with pytest.raises(Conflict):
        services.publish_week(county.home, week_start=monday, acting_user=None)

    assert marks() == before


def test_returning_unbooked_slots_to_the_public_pool_marks_nothing(county, lead_dept):
    published = slots(lead_dept, count=3, reserved=3)
    before = marks()

    returned = services.return_unbooked_slots(published[0].release_at + datetime.timedelta(minutes=1))

    assert returned == 3
    assert Slot.objects.filter(returned_at__isnull=False).count() == 3
    assert marks() == before
