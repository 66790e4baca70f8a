"""The referral engine (issue 6 points 1-4): publishing, directions, every transition and its
refusals, booking and release, expiry and the return of slots on a frozen clock."""

import datetime
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.exceptions import Conflict
from core.identity import decrypt
from core.models import Notification
from referrals import services, tasks
from referrals.choices import Direction, OutOfCountyReason, ReferralState, SlotPeriod, Urgency
from referrals.models import Bed, Referral, ReferralEvent, ReferralSettings, Slot
from tests.members.factories import resident_id
from tests.referrals.factories import beds, department, next_week, patient, referral, slots

S = ReferralState
HOUR = datetime.timedelta(hours=1)


def states(referral_):
    return list(referral_.events.values_list("from_state", "to_state"))


# --- publishing ---------------------------------------------------------------------------------
def test_publish_reserves_the_first_slots_and_sets_the_cutoff(county, lead_dept):
    day = next_week()
    published = services.publish_slots(
        institution=county.lead, department=lead_dept, date=day, period=SlotPeriod.PM,
        count=6, reserved_for_primary=2, doctor="李医生", acting_user=None,
    )  # fmt: skip
    assert [slot.reserved for slot in published] == [True, True, False, False, False, False]
    starts = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14)))
    assert {(slot.starts_at, slot.release_at) for slot in published} == {(starts, starts - 24 * HOUR)}


def test_lead_hospital_must_reserve_a_third(county, lead_dept):
    with pytest.raises(ValidationError) as error:
        slots(lead_dept, count=7, reserved=2)
    assert "reserved_for_primary" in error.value.message_dict
    assert not Slot.objects.exists()


def test_other_hospitals_may_reserve_less(county):
    assert len(slots(department(county.collaborating), count=7, reserved=0)) == 7


def test_cutoff_follows_the_alliance_setting(county, lead_dept):
    ReferralSettings.objects.create(alliance=county.alliance, slot_cutoff_hours=6)
    slot = slots(lead_dept, count=1, reserved=1)[0]
    assert slot.starts_at - slot.release_at == 6 * HOUR


def test_publish_refuses_a_department_of_another_institution(county):
    with pytest.raises(ValidationError) as error:
        services.publish_slots(
            institution=county.lead, department=department(county.home), date=next_week(),
            period=SlotPeriod.AM, count=1, reserved_for_primary=1, acting_user=None,
        )  # fmt: skip
    assert "department" in error.value.message_dict
    assert not Slot.objects.exists()


def test_clinician_may_not_publish(county, lead_dept, receiver):
    with pytest.raises(PermissionDenied):
        services.publish_slots(
            institution=county.lead, department=lead_dept, date=next_week(), period=SlotPeriod.AM,
            count=3, reserved_for_primary=1, acting_user=receiver,
        )  # fmt: skip
    assert not Slot.objects.exists()


def test_publish_week_from_template(county):
    """The stored template of a collaborating hospital (no shares enforced there) becomes a
    week of slots and beds; the full rules are in test_pools.py."""
    dept = department(county.collaborating)
    monday = next_week() - datetime.timedelta(days=next_week().weekday())
    for weekday, period, count, reserved in ((0, SlotPeriod.AM, 3, 1), (2, SlotPeriod.NIGHT, 6, 2)):
        services.create_template_entry(
            county.collaborating, weekday=weekday, kind="slot", department=dept, period=period,
            count=count, reserved_for_primary=reserved, acting_user=None,
        )  # fmt: skip
    services.create_template_entry(
        county.collaborating, weekday=4, kind="bed", department=dept, count=2, acting_user=None
    )
    publication = services.publish_week(county.collaborating, week_start=monday, acting_user=None)
    assert (publication.slots, publication.beds) == (9, 2)
    assert sorted(set(Slot.objects.values_list("date", "period"))) == [
        (monday, SlotPeriod.AM),
        (monday + datetime.timedelta(days=2), SlotPeriod.NIGHT),
    ]
    assert Slot.objects.filter(reserved=True).count() == 3
    assert list(Bed.objects.values_list("date", flat=True)) == [monday + datetime.timedelta(days=4)] * 2


def test_release_shares_are_querysets(county, lead_dept):
    slots(lead_dept, count=6, reserved=2)
    slots(department(county.collaborating), count=4, reserved=0)
    beds(lead_dept, count=3)
    lead_slots = Slot.objects.at_role("lead", next_week(), alliance=county.alliance)
    assert lead_slots.release_share() == {"published": 6, "reserved": 2}
    assert list(Slot.objects.release_share_by_institution()) == [
        {"institution": county.lead.pk, "published": 6, "reserved": 2},
        {"institution": county.collaborating.pk, "published": 4, "reserved": 0},
    ]
    assert list(Bed.objects.at_role("lead", next_week()).bed_days_by_institution()) == [
        {"institution": county.lead.pk, "bed_days": 3}
    ]


# --- directions and the patient -------------------------------------------------------------------
def test_create_up_referral(county, lead_dept, sender):
    now = timezone.now()
    made = referral(county.home, county.lead, to_department=lead_dept, acting_user=sender, now=now,
                    patient=patient(7, name="欧阳娜娜"))  # fmt: skip
    made.refresh_from_db()
    assert (made.state, made.direction, made.deductible_continuity, made.out_of_county) == (
        S.SUBMITTED, Direction.UP, True, False,
    )  # fmt: skip
    assert (made.patient_name_masked, made.patient_id_masked) == (
        "欧阳**",
        "330782********007" + resident_id(7)[-1],
    )
    assert decrypt(made.patient_name_encrypted) == "欧阳娜娜"
    assert "欧阳娜娜" not in made.patient_name_encrypted
    assert made.answer_due_at == now + 48 * HOUR
    assert states(made) == [("", S.DRAFT), (S.DRAFT, S.SUBMITTED)]
    assert made.events.last().acting_user == sender


@pytest.mark.parametrize(
    "sender_attr, receiver_attr, direction",
    [
        ("home", "lead", Direction.UP),
        ("village", "home", Direction.UP),
        ("lead", "home", Direction.DOWN),
        ("home", "village", Direction.DOWN),
        ("home", "other_branch", Direction.LATERAL),
        ("lead", "collaborating", Direction.LATERAL),
    ],
)
def test_direction_follows_the_hierarchy(county, sender_attr, receiver_attr, direction):
    named = {
        "home": county.home, "lead": county.lead, "collaborating": county.collaborating,
        "other_branch": county.branches[1], "village": county.villages[0],
    }  # fmt: skip
    assert referral(named[sender_attr], named[receiver_attr]).direction == direction


def test_direction_sent_must_agree(county):
    with pytest.raises(ValidationError) as error:
        referral(county.lead, county.home, direction=Direction.UP)
    assert "direction" in error.value.message_dict
    assert not Referral.objects.exists()


def test_out_of_county_needs_a_coded_reason(county, world):
    outside = world[1].lead
    with pytest.raises(ValidationError) as error:
        referral(county.home, outside)
    assert "reason_code" in error.value.message_dict
    made = referral(county.home, outside, reason_code=OutOfCountyReason.BEYOND_CAPABILITY)
    assert (made.direction, made.out_of_county, made.deductible_continuity) == (Direction.UP, True, False)


def test_signed_resident_found_by_key_gets_team_and_priority(county):
    made = referral(county.home, county.lead, patient=patient(1, name="王1", signed=True))
    assert (made.signed_resident, made.team, made.priority) == (True, county.rows["teams"], True)


def test_unsigned_patient_has_no_priority(county):
    made = referral(county.home, county.lead, patient=patient(5))
    assert (made.signed_resident, made.team, made.priority) == (False, None, False)


def test_bad_resident_id_is_refused(county):
    with pytest.raises(ValidationError) as error:
        referral(county.home, county.lead, patient={"name": "张三", "id_number": "330782196503150010"})
    assert "patient" in error.value.message_dict


def test_sender_side_only_may_create(county, receiver):
    with pytest.raises(PermissionDenied):
        referral(county.home, county.lead, acting_user=receiver)
    assert not Referral.objects.exists()


# --- booking -----------------------------------------------------------------------------------------
def test_booking_at_creation_and_slot_taken(county, lead_dept):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    first = referral(county.home, county.lead, to_department=lead_dept, slot=slot)
    assert Slot.objects.get(pk=slot.pk).referral == first
    with pytest.raises(Conflict) as error:
        referral(county.home, county.lead, n=2, to_department=lead_dept, slot=slot)
    assert error.value.code == "slot_taken"
    assert Referral.objects.count() == 1
    assert Slot.objects.get(pk=slot.pk).referral == first


def test_public_slot_cannot_be_booked(county, lead_dept):
    public = slots(lead_dept, count=3, reserved=1)[2]
    with pytest.raises(Conflict):
        referral(county.home, county.lead, slot=public)


def test_slot_of_another_institution_is_refused(county, lead_dept):
    other = slots(department(county.collaborating), count=1, reserved=1)[0]
    with pytest.raises(ValidationError) as error:
        referral(county.home, county.lead, slot=other)
    assert "slot" in error.value.message_dict


def test_bed_booked_and_taken(county, lead_dept):
    bed_a, _bed_b = beds(lead_dept)
    referral(county.home, county.lead, bed=bed_a)
    with pytest.raises(Conflict):
        referral(county.home, county.lead, n=2, bed=bed_a)


def test_accept_books_or_swaps(county, lead_dept, receiver):
    slot_a, slot_b, _ = slots(lead_dept)
    made = referral(county.home, county.lead, slot=slot_a)
    accepted = services.accept_referral(made, acting_user=receiver, slot=slot_b)
    assert accepted.state == S.ACCEPTED and accepted.accepted_at is not None
    assert Slot.objects.get(pk=slot_a.pk).referral is None
    assert Slot.objects.get(pk=slot_b.pk).referral == made


def test_failed_swap_keeps_the_old_slot(county, lead_dept, receiver):
    slot_a, slot_b, _ = slots(lead_dept)
    made = referral(county.home, county.lead, slot=slot_a)
    referral(county.home, county.lead, n=2, slot=slot_b)
    with pytest.raises(Conflict):
        services.accept_referral(made, acting_user=receiver, slot=slot_b)
    assert Slot.objects.get(pk=slot_a.pk).referral == made
    assert Referral.objects.get(pk=made.pk).state == S.SUBMITTED


# --- transitions --------------------------------------------------------------------------------------
def test_full_path_and_refer_back(county, lead_dept, sender, receiver):
    slot = slots(lead_dept)[0]
    made = referral(county.home, county.lead, slot=slot, acting_user=sender)
    services.accept_referral(made, acting_user=receiver)
    services.record_arrival(made, acting_user=receiver)
    done = services.complete_referral(made, acting_user=receiver, summary="血压平稳，出院")
    assert (done.state, done.summary) == (S.COMPLETED, "血压平稳，出院")
    assert states(done)[2:] == [
        (S.SUBMITTED, S.ACCEPTED), (S.ACCEPTED, S.ARRIVED), (S.ARRIVED, S.COMPLETED),
    ]  # fmt: skip
    assert Slot.objects.get(pk=slot.pk).referral == made  # a completed referral keeps its slot
    back = services.refer_back(done, acting_user=receiver)
    assert (back.direction, back.state, back.from_institution, back.to_institution) == (
        Direction.DOWN, S.SUBMITTED, county.lead, county.home,
    )  # fmt: skip
    assert (back.return_of, back.summary, back.patient_key) == (done, "血压平稳，出院", done.patient_key)


def test_refer_back_needs_a_completed_up_referral(county, receiver):
    made = referral(county.home, county.lead)
    with pytest.raises(Conflict):
        services.refer_back(made, acting_user=receiver, summary="x")


def test_refer_back_once_while_the_down_referral_is_under_way(county, lead_dept, sender, receiver):
    made = referral(county.home, county.lead, acting_user=sender)
    services.accept_referral(made, acting_user=receiver)
    services.record_arrival(made, acting_user=receiver)
    done = services.complete_referral(made, acting_user=receiver, summary="出院")
    assert services.allowed_actions(done, receiver) == ["refer_back"]
    back = services.refer_back(done, acting_user=receiver)
    with pytest.raises(Conflict) as refused:
        services.refer_back(done, acting_user=receiver)  # a double click or a second tab
    assert refused.value.code == "already_referred_back"
    assert "refer_back" not in services.allowed_actions(done, receiver)
    assert Referral.objects.filter(return_of=done).count() == 1
    services.reject_referral(back, acting_user=sender, reason="患者已转往他院")  # the sender declines it
    assert services.allowed_actions(done, receiver) == ["refer_back"]
    assert services.refer_back(done, acting_user=receiver).return_of == done


def test_submit_a_draft(county, sender):
    draft = referral(county.home, county.lead, submit=False)
    assert draft.state == S.DRAFT and draft.answer_due_at is None
    assert services.submit_referral(draft, acting_user=sender).state == S.SUBMITTED


@pytest.mark.parametrize("verb", ["reject", "cancel", "no_show"])
def test_closing_moves_release_slot_and_bed(county, lead_dept, sender, receiver, verb):
    slot, bed = slots(lead_dept)[0], beds(lead_dept)[0]
    made = referral(county.home, county.lead, slot=slot, bed=bed)
    if verb == "reject":
        closed = services.reject_referral(made, acting_user=receiver, reason="本院无床")
    elif verb == "cancel":
        closed = services.cancel_referral(made, acting_user=sender, reason="患者改变主意")
    else:
        services.accept_referral(made, acting_user=receiver)
        closed = services.record_no_show(made, acting_user=receiver)
    assert closed.closed_at is not None
    assert Slot.objects.get(pk=slot.pk).referral is None and Bed.objects.get(pk=bed.pk).referral is None


@pytest.mark.parametrize("verb", ["reject", "cancel"])
def test_reason_required(county, sender, receiver, verb):
    made = referral(county.home, county.lead)
    service, user = {
        "reject": (services.reject_referral, receiver),
        "cancel": (services.cancel_referral, sender),
    }[verb]
    with pytest.raises(ValidationError):
        service(made, acting_user=user, reason="  ")
    assert Referral.objects.get(pk=made.pk).state == S.SUBMITTED


def _in_state(county, state, receiver):
    made = referral(county.home, county.lead, submit=state != S.DRAFT)
    path = {
        S.ACCEPTED: [services.accept_referral],
        S.ARRIVED: [services.accept_referral, services.record_arrival],
        S.COMPLETED: [services.accept_referral, services.record_arrival, services.complete_referral],
        S.REJECTED: [lambda r, acting_user: services.reject_referral(r, acting_user=acting_user, reason="x")],
    }.get(state, [])
    for step in path:
        made = step(made, acting_user=receiver)
    return made


VERBS = {
    "submit": lambda r, s, rc: services.submit_referral(r, acting_user=s),
    "accept": lambda r, s, rc: services.accept_referral(r, acting_user=rc),
    "reject": lambda r, s, rc: services.reject_referral(r, acting_user=rc, reason="x"),
    "arrive": lambda r, s, rc: services.record_arrival(r, acting_user=rc),
    "complete": lambda r, s, rc: services.complete_referral(r, acting_user=rc),
    "cancel": lambda r, s, rc: services.cancel_referral(r, acting_user=s, reason="x"),
    "no_show": lambda r, s, rc: services.record_no_show(r, acting_user=rc),
}


@pytest.mark.parametrize(
    "state, verb",
    [
        (S.DRAFT, "accept"), (S.SUBMITTED, "submit"), (S.SUBMITTED, "arrive"), (S.SUBMITTED, "no_show"),
        (S.ACCEPTED, "accept"), (S.ACCEPTED, "complete"), (S.ARRIVED, "cancel"), (S.ARRIVED, "no_show"),
        (S.COMPLETED, "cancel"), (S.REJECTED, "accept"), (S.REJECTED, "reject"),
    ],
)  # fmt: skip
def test_illegal_transition_is_a_conflict(county, sender, receiver, state, verb):
    made = _in_state(county, state, receiver)
    before = made.events.count()
    with pytest.raises(Conflict) as error:
        VERBS[verb](made, sender, receiver)
    assert error.value.code == "illegal_transition"
    assert Referral.objects.get(pk=made.pk).state == state
    assert made.events.count() == before


@pytest.mark.parametrize("verb", ["accept", "reject", "arrive", "complete", "no_show"])
def test_sender_may_not_answer(county, sender, receiver, verb):
    made = _in_state(
        county,
        S.ARRIVED if verb == "complete" else S.ACCEPTED if verb in ("arrive", "no_show") else S.SUBMITTED,
        receiver,
    )
    before = (made.state, made.events.count())
    with pytest.raises(PermissionDenied):
        VERBS[verb](made, sender, sender)
    fresh = Referral.objects.get(pk=made.pk)
    assert (fresh.state, fresh.events.count()) == before


@pytest.mark.parametrize("verb", ["submit", "cancel"])
def test_receiver_may_not_act_for_the_sender(county, receiver, verb):
    made = _in_state(county, S.DRAFT, receiver)
    with pytest.raises(PermissionDenied):
        VERBS[verb](made, receiver, receiver)
    assert Referral.objects.get(pk=made.pk).state == S.DRAFT


# --- expiry and slot return on a frozen clock -------------------------------------------------------
@pytest.mark.parametrize(
    "urgency, hours", [(Urgency.ROUTINE, 48), (Urgency.URGENT, 4), (Urgency.EMERGENCY, 1)]
)
def test_expiry_after_the_limit(county, lead_dept, urgency, hours):
    now = timezone.now()
    slot = slots(lead_dept)[0]
    made = referral(county.home, county.lead, urgency=urgency, slot=slot, now=now)
    assert services.expire_referrals(now + hours * HOUR - datetime.timedelta(seconds=1)) == 0
    assert services.expire_referrals(now + hours * HOUR) == 1
    made.refresh_from_db()
    assert (made.state, made.closed_at) == (S.EXPIRED, now + hours * HOUR)
    assert states(made)[-1] == (S.SUBMITTED, S.EXPIRED)
    assert made.events.last().acting_user is None
    assert Slot.objects.get(pk=slot.pk).referral is None


def test_expiry_limit_from_alliance_settings(county):
    ReferralSettings.objects.create(alliance=county.alliance, routine_limit_hours=2)
    now = timezone.now()
    referral(county.home, county.lead, now=now)
    assert services.expire_referrals(now + 2 * HOUR) == 1


def test_answered_referrals_do_not_expire(county, receiver):
    now = timezone.now()
    made = referral(county.home, county.lead, now=now)
    services.accept_referral(made, acting_user=receiver, now=now)
    assert services.expire_referrals(now + 100 * HOUR) == 0


def test_expire_task_uses_the_python_clock(county):
    now = timezone.now()
    made = referral(county.home, county.lead, urgency=Urgency.URGENT, now=now)
    with mock.patch("django.utils.timezone.now", return_value=now + 3 * HOUR):
        assert tasks.expire_referrals_task.delay().get() == 0
    with mock.patch("django.utils.timezone.now", return_value=now + 4 * HOUR):
        assert tasks.expire_referrals_task.delay().get() == 1
    assert Referral.objects.get(pk=made.pk).state == S.EXPIRED


def test_unbooked_reserved_slots_return_at_the_cutoff(county, lead_dept):
    booked, free, _ = slots(lead_dept, count=3, reserved=2)
    referral(county.home, county.lead, slot=booked)
    cutoff = free.release_at
    with mock.patch("django.utils.timezone.now", return_value=cutoff - datetime.timedelta(seconds=1)):
        assert tasks.return_unbooked_slots_task.delay().get() == 0
    with mock.patch("django.utils.timezone.now", return_value=cutoff):
        assert tasks.return_unbooked_slots_task.delay().get() == 1
    assert Slot.objects.get(pk=free.pk).returned_at == cutoff
    assert Slot.objects.get(pk=booked.pk).returned_at is None
    assert list(Slot.objects.reserved_now()) == [booked]
    with pytest.raises(Conflict):
        referral(county.home, county.lead, n=3, slot=free, now=cutoff)
    assert Slot.objects.filter(reserved=True).count() == 2  # the released share still counts


# --- notifications ------------------------------------------------------------------------------------
def test_receiver_notified_on_commit(county, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = referral(county.home, county.lead)
    note = Notification.objects.get(user=receiver)
    assert (note.event, note.payload["referral"], note.payload["state"]) == (
        "referral.submitted",
        made.pk,
        "submitted",
    )


def test_sender_notified_of_rejection(county, sender, receiver, django_capture_on_commit_callbacks):
    made = referral(county.home, county.lead)
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_referral(made, acting_user=receiver, reason="无床位")
    assert list(Notification.objects.filter(user=sender).values_list("event", flat=True)) == [
        "referral.rejected"
    ]


def test_nothing_scheduled_when_refused(county, sender, django_capture_on_commit_callbacks):
    made = referral(county.home, county.lead)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(PermissionDenied):
        services.accept_referral(made, acting_user=sender)
    assert callbacks == []
    assert ReferralEvent.objects.filter(referral=made).count() == 2
