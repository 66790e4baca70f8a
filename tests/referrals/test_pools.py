"""Slot and bed pools from a stored weekly template (issue 6 point 1): the template's rules, the
lead hospital's shares (1/3 of each session's slots, 1/4 of its open beds every day) refused
with the weekday and the shortfall named, a week published once (also by two clerks at once, on
PostgreSQL), all or nothing; each session's slots numbered 1 … n with their expected times, a
top-up numbering on (a number never twice, also under contention: issue 13 point 5); the shares
and pool counts the indicators and pages reuse, against hand-made data; and the API
(`/api/v1/pool-templates/`, `/api/v1/slots/publish-week/`)."""

import datetime
import threading
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alliance.models import Institution
from core.exceptions import Conflict
from referrals import services
from referrals.choices import PoolKind, SlotPeriod, Weekday
from referrals.models import Bed, PoolPublication, PoolTemplateEntry, Slot
from tests.referrals.factories import department, member, referral

DAY = datetime.timedelta(days=1)
LEAD_BEDS_A_DAY = 12  # a quarter of the lead's 45 open beds (tests/alliance/factories.py), rounded up


def monday_ahead(weeks=1):
    """A Monday to come (the week after this one, or later)."""
    today = timezone.localdate()
    return today + datetime.timedelta(days=7 - today.weekday()) + (weeks - 1) * 7 * DAY


def line(institution, dept, *, kind=PoolKind.SLOT, count=9, reserved=3, period=SlotPeriod.AM, **more):
    """A template line through the service (the system acting unless `acting_user` is given)."""
    fields = {"period": period, "reserved_for_primary": reserved} if kind == PoolKind.SLOT else {}
    more.setdefault("weekday", 0)
    more.setdefault("acting_user", None)
    return services.create_template_entry(
        institution, kind=kind, department=dept, count=count, **fields, **more
    )


def lead_template(lead, dept, beds_a_day=LEAD_BEDS_A_DAY):
    """A valid week at the lead hospital: a morning session on Monday and Wednesday, beds every day."""
    line(lead, dept, weekday=0, count=9, reserved=3)
    line(lead, dept, weekday=2, count=6, reserved=2, period=SlotPeriod.PM, doctor="李医生")
    for weekday in Weekday.values:
        line(lead, dept, weekday=weekday, kind=PoolKind.BED, count=beds_a_day)


def nothing_published():
    return (Slot.objects.count(), Bed.objects.count(), PoolPublication.objects.count()) == (0, 0, 0)


def codes(error):
    """The codes of a service's ValidationError, field by field."""
    exc = error.value
    found = (
        [e for errors in exc.error_dict.values() for e in errors]
        if hasattr(exc, "error_dict")
        else exc.error_list
    )
    return sorted(e.code for e in found if e.code)


# --- Template lines -------------------------------------------------------------------------------------
def test_a_slot_line_and_a_bed_line_are_stored(county, lead_dept):
    slot_line = line(county.lead, lead_dept, weekday=3, count=12, reserved=4, doctor=" 王医生 ")
    bed_line = line(county.lead, lead_dept, weekday=3, kind=PoolKind.BED, count=5)

    assert PoolTemplateEntry.objects.filter(institution=county.lead).count() == 2
    assert (slot_line.weekday, slot_line.period, slot_line.count, slot_line.reserved_for_primary) == (
        3,
        "am",
        12,
        4,
    )
    assert slot_line.doctor == "王医生"
    assert (bed_line.kind, bed_line.period, bed_line.doctor, bed_line.reserved_for_primary) == (
        "bed",
        "",
        "",
        0,
    )


def test_the_lead_hospital_reserves_a_third_of_a_slot_line(county, lead_dept):
    with pytest.raises(ValidationError) as error:
        line(county.lead, lead_dept, count=10, reserved=3)

    assert "reserved_for_primary" in error.value.message_dict
    assert codes(error) == ["slot_release_share"]
    assert not PoolTemplateEntry.objects.exists()
    assert line(county.lead, lead_dept, count=9, reserved=3).reserved_for_primary == 3  # exactly a third


def test_other_hospitals_may_reserve_nothing(county):
    assert line(county.collaborating, department(county.collaborating), count=10, reserved=0).pk


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "slot", "period": ""}, "period"),
        ({"kind": "slot", "count": 0}, "count"),
        ({"kind": "slot", "count": 501, "reserved_for_primary": 200}, "count"),
        ({"kind": "slot", "count": 3, "reserved_for_primary": 4}, "reserved_for_primary"),
        ({"kind": "bed", "period": "am"}, None),
        ({"kind": "bed", "doctor": "李医生"}, None),
        ({"kind": "bed", "reserved_for_primary": 1}, None),
        ({"kind": "chair"}, "kind"),
        ({"kind": "slot", "weekday": 7}, "weekday"),
        ({"kind": "slot", "interval_minutes": 61}, "interval_minutes"),
        ({"kind": "bed", "interval_minutes": 61}, "interval_minutes"),
    ],
)
def test_a_malformed_line_is_refused(county, fields, field):
    dept = department(county.collaborating)
    data = {"weekday": 0, "period": "am", "count": 3, "reserved_for_primary": 1, **fields}
    if data["kind"] == "bed":
        data = {"period": "", "doctor": "", "reserved_for_primary": 0, "weekday": 0, "count": 3, **fields}

    with pytest.raises(ValidationError) as error:
        services.create_template_entry(county.collaborating, department=dept, acting_user=None, **data)

    if field is None:  # the line as a whole
        assert codes(error) == ["bed_fields"]
    else:
        assert field in error.value.message_dict
    assert not PoolTemplateEntry.objects.exists()


def test_a_department_of_another_institution_or_closed_is_refused(county, lead_dept):
    closed = department(county.lead, code="05", name="外科")
    closed.active = False
    closed.save()
    for dept in (department(county.home), closed):
        with pytest.raises(ValidationError) as error:
            line(county.lead, dept)
        assert "department" in error.value.message_dict
    assert not PoolTemplateEntry.objects.exists()


def test_the_same_line_twice_is_refused(county, lead_dept):
    line(county.lead, lead_dept, doctor="李医生")

    with pytest.raises(ValidationError) as error:
        line(county.lead, lead_dept, doctor="李医生", count=12, reserved=4)

    assert codes(error) == ["duplicate_entry"]
    assert PoolTemplateEntry.objects.get().count == 9
    assert line(county.lead, lead_dept, doctor="王医生").pk  # another doctor's session is another line


def test_the_database_refuses_what_the_service_would(county, lead_dept):
    common = {"institution": county.lead, "department": lead_dept, "weekday": 0}
    bad_rows = [
        {"kind": "slot", "period": "am", "count": 0},
        {"kind": "slot", "period": "am", "count": 3, "reserved_for_primary": 4},
        {"kind": "slot", "period": "", "count": 3},
        {"kind": "bed", "period": "am", "count": 3},
        {"kind": "bed", "count": 3, "reserved_for_primary": 1},
        {"kind": "slot", "period": "am", "count": 3, "weekday": 7},
    ]
    for row in bad_rows:
        with pytest.raises(IntegrityError), transaction.atomic():
            PoolTemplateEntry.objects.create(**{**common, **row})
    assert not PoolTemplateEntry.objects.exists()


def test_update_checks_the_same_rules_and_changes_nothing_when_refused(county, lead_dept):
    entry = line(county.lead, lead_dept, count=9, reserved=3)

    with pytest.raises(ValidationError):
        services.update_template_entry(entry, count=12, acting_user=None)
    with pytest.raises(ValidationError) as error:
        services.update_template_entry(entry, institution=county.collaborating, acting_user=None)
    assert "institution" in error.value.message_dict

    entry.refresh_from_db()
    assert (entry.count, entry.reserved_for_primary) == (9, 3)
    changed = services.update_template_entry(
        entry, count=12, reserved_for_primary=4, weekday=5, acting_user=None
    )
    assert (changed.count, changed.reserved_for_primary, changed.weekday) == (12, 4, 5)


def test_removing_a_line_keeps_what_was_published(county, lead_dept):
    lead_template(county.lead, lead_dept)
    services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None)
    entry = PoolTemplateEntry.objects.filter(kind="slot").first()

    services.delete_template_entry(entry, acting_user=None)

    assert not PoolTemplateEntry.objects.filter(pk=entry.pk).exists()
    assert Slot.objects.count() == 15


def test_only_the_pools_writers_of_the_institution_change_its_template(county, lead_dept, users):
    lead_admin, lead_clinician = member("institution_admin", county.lead), member("clinician", county.lead)
    entry = line(county.lead, lead_dept)
    for user in (lead_clinician, users["institution_admin"], users["bureau"]):  # the home branch's admin
        with pytest.raises(PermissionDenied):
            line(county.lead, lead_dept, weekday=1, acting_user=user)
        with pytest.raises(PermissionDenied):
            services.update_template_entry(entry, count=3, reserved_for_primary=1, acting_user=user)
        with pytest.raises(PermissionDenied):
            services.delete_template_entry(entry, acting_user=user)
    assert PoolTemplateEntry.objects.get().count == 9

    assert line(county.lead, lead_dept, weekday=1, acting_user=lead_admin).pk
    assert line(county.lead, lead_dept, weekday=2, acting_user=users["alliance_admin"]).pk


# --- Publishing a week ------------------------------------------------------------------------------------
def test_a_week_is_published_from_the_stored_template(county, lead_dept, users):
    lead_template(county.lead, lead_dept)
    monday = monday_ahead()

    publication = services.publish_week(county.lead, week_start=monday, acting_user=users["alliance_admin"])

    assert (publication.slots, publication.beds) == (15, 7 * LEAD_BEDS_A_DAY)
    assert (publication.week_start, publication.published_by) == (monday, users["alliance_admin"])
    sessions = sorted(
        Slot.objects.values_list("date", "period", "doctor").annotate(n=models_count()).order_by()
    )
    assert sessions == [(monday, "am", "", 9), (monday + 2 * DAY, "pm", "李医生", 6)]
    assert Slot.objects.filter(reserved=True).count() == 5
    assert Slot.objects.filter(date=monday, reserved=True).count() == 3
    assert sorted(set(Bed.objects.values_list("date", flat=True))) == [monday + n * DAY for n in range(7)]
    assert Bed.objects.filter(date=monday + 6 * DAY).count() == LEAD_BEDS_A_DAY
    starts = timezone.make_aware(datetime.datetime.combine(monday, datetime.time(8)))
    assert set(Slot.objects.filter(date=monday).values_list("starts_at", "release_at")) == {
        (starts, starts - datetime.timedelta(hours=24))
    }


def models_count():
    from django.db.models import Count

    return Count("pk")


def numbered(**session):
    """`(number, expected time "HH:MM", reserved)` of one session's slots, by number."""
    rows = Slot.objects.filter(**session).order_by("number")
    return [(row.number, timezone.localtime(row.expected_at).strftime("%H:%M"), row.reserved) for row in rows]


def test_a_published_week_numbers_each_session_with_its_expected_times(county, lead_dept):
    """号序 1 … n per session, the reserved share first; number n expected (n − 1) × the line's
    minutes after the session's start (08:00, 14:00, 18:00)."""
    line(county.lead, lead_dept, weekday=0, count=4, reserved=2, doctor="李医生")  # 10 minutes by default
    line(county.lead, lead_dept, weekday=0, count=3, reserved=1, doctor="王医生", interval_minutes=15)
    line(county.lead, lead_dept, weekday=1, count=3, reserved=1, period=SlotPeriod.NIGHT, interval_minutes=5)
    for weekday in Weekday.values:
        line(county.lead, lead_dept, weekday=weekday, kind=PoolKind.BED, count=LEAD_BEDS_A_DAY)
    monday = monday_ahead()

    services.publish_week(county.lead, week_start=monday, acting_user=None)

    assert numbered(date=monday, doctor="李医生") == [
        (1, "08:00", True), (2, "08:10", True), (3, "08:20", False), (4, "08:30", False),
    ]  # fmt: skip
    assert numbered(date=monday, doctor="王医生") == [
        (1, "08:00", True),
        (2, "08:15", False),
        (3, "08:30", False),
    ]
    assert numbered(date=monday + DAY, period="night") == [
        (1, "18:00", True), (2, "18:05", False), (3, "18:10", False),
    ]  # fmt: skip


def test_a_top_up_numbers_on_from_the_session(county, lead_dept):
    day = monday_ahead()
    publish(lead_dept, day, count=3, reserved=1)
    publish(lead_dept, day, count=2, reserved=2, interval_minutes=20)  # added later, at its own pace
    services.publish_slots(
        institution=county.lead, department=lead_dept, date=day, period=SlotPeriod.AM, count=2,
        reserved_for_primary=1, doctor="李医生", acting_user=None,
    )  # fmt: skip

    assert numbered(date=day, doctor="") == [
        (1, "08:00", True), (2, "08:10", False), (3, "08:20", False), (4, "09:00", True), (5, "09:20", True),
    ]  # fmt: skip
    assert numbered(date=day, doctor="李医生") == [(1, "08:00", True), (2, "08:10", False)]  # its own session


def test_a_week_published_after_a_top_up_numbers_on_from_it(county):
    dept = department(county.collaborating)
    monday = monday_ahead()
    publish(dept, monday, count=2)
    line(county.collaborating, dept, weekday=0, count=3, reserved=0)

    services.publish_week(county.collaborating, week_start=monday, acting_user=None)

    assert [number for number, _at, _reserved in numbered(date=monday)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("minutes", [0, 61])
def test_a_top_up_needs_a_sensible_interval(county, lead_dept, minutes):
    with pytest.raises(ValidationError) as error:
        publish(lead_dept, monday_ahead(), count=3, reserved=1, interval_minutes=minutes)

    assert list(error.value.message_dict) == ["interval_minutes"]
    assert not Slot.objects.exists()


def test_a_number_taken_at_the_same_moment_is_a_conflict_and_writes_nothing(county, lead_dept):
    """Two top-ups of one session racing read the same last number: the unique constraint lets one
    through, the other gets Conflict `session_numbers_taken` (on PostgreSQL: the thread test)."""
    day = monday_ahead()
    publish(lead_dept, day, count=2, reserved=1)

    with (
        mock.patch("referrals.services.pools._last_numbers", return_value={}),  # as if read before
        pytest.raises(Conflict) as error,
    ):
        publish(lead_dept, day, count=3, reserved=1)

    assert error.value.code == "session_numbers_taken"
    assert [number for number, _at, _reserved in numbered(date=day)] == [1, 2]


def test_the_database_refuses_a_number_twice_in_a_session(county, lead_dept):
    first = publish(lead_dept, monday_ahead(), count=1, reserved=1)[0]
    twin = Slot(
        **{name: getattr(first, name) for name in ("institution", "department", "date", "period", "doctor")},
        number=1, starts_at=first.starts_at, expected_at=first.expected_at, release_at=first.release_at,
    )  # fmt: skip

    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_the_lead_hospital_is_refused_a_week_short_of_beds_naming_the_day(county, lead_dept, settings):
    settings.LANGUAGE_CODE = "en"
    lead_template(county.lead, lead_dept)
    sunday_beds = PoolTemplateEntry.objects.get(kind="bed", weekday=6)
    services.update_template_entry(sunday_beds, count=10, acting_user=None)
    PoolTemplateEntry.objects.filter(kind="bed", weekday=2).delete()

    with pytest.raises(ValidationError) as error:
        services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None)

    messages = error.value.messages
    assert messages == [
        "Wednesday: 0 beds reserved for referrals; the lead hospital reserves at least a quarter of its 45 "
        "open beds every day (12), 12 more.",
        "Sunday: 10 beds reserved for referrals; the lead hospital reserves at least a quarter of its 45 "
        "open beds every day (12), 2 more.",
    ]
    assert codes(error) == ["bed_release_share", "bed_release_share"]
    assert nothing_published()


def test_the_lead_hospital_is_refused_a_slot_line_under_a_third_naming_it(county, lead_dept, settings):
    """A line saved before the hospital became the lead (here: written past the service)."""
    settings.LANGUAGE_CODE = "en"
    lead_template(county.lead, lead_dept)
    PoolTemplateEntry.objects.filter(kind="slot", weekday=2).update(count=10, reserved_for_primary=1)

    with pytest.raises(ValidationError) as error:
        services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None)

    assert error.value.messages == [
        "Wednesday Afternoon, 内科: 1 of 10 slots reserved for referrals; the lead hospital reserves at "
        "least a third (4), 3 more."
    ]
    assert nothing_published()


def test_other_hospitals_publish_without_the_lead_shares(county):
    dept = department(county.collaborating)
    line(county.collaborating, dept, count=10, reserved=0)
    line(county.collaborating, dept, kind=PoolKind.BED, count=1, weekday=4)

    publication = services.publish_week(county.collaborating, week_start=monday_ahead(), acting_user=None)

    assert (publication.slots, publication.beds) == (10, 1)


def test_a_lead_hospital_without_open_beds_owes_no_beds(county, lead_dept):
    Institution.objects.filter(pk=county.lead.pk).update(open_beds=0)
    county.lead.refresh_from_db()
    line(county.lead, lead_dept)

    assert services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None).beds == 0


def test_a_week_is_published_once(county, lead_dept):
    lead_template(county.lead, lead_dept)
    monday = monday_ahead()
    services.publish_week(county.lead, week_start=monday, acting_user=None)

    with pytest.raises(Conflict) as error:
        services.publish_week(county.lead, week_start=monday, acting_user=None)

    assert error.value.code == "week_published"
    assert (Slot.objects.count(), Bed.objects.count(), PoolPublication.objects.count()) == (15, 84, 1)
    assert services.publish_week(county.lead, week_start=monday_ahead(2), acting_user=None).slots == 15


@pytest.mark.parametrize(
    ("week_start", "code"),
    [
        (lambda: monday_ahead() + DAY, "not_monday"),
        (lambda: monday_ahead() - 7 * DAY - 7 * DAY, "week_begun"),
    ],
)
def test_a_week_starts_on_a_monday_to_come(county, lead_dept, week_start, code):
    lead_template(county.lead, lead_dept)

    with pytest.raises(ValidationError) as error:
        services.publish_week(county.lead, week_start=week_start(), acting_user=None)

    assert "week_start" in error.value.message_dict and codes(error) == [code]
    assert nothing_published()


def test_an_empty_template_publishes_nothing(county):
    with pytest.raises(ValidationError) as error:
        services.publish_week(county.collaborating, week_start=monday_ahead(), acting_user=None)
    assert codes(error) == ["empty_template"]
    assert nothing_published()


def test_publishing_is_all_or_nothing(county, lead_dept):
    """The slots are written, then the beds fail: nothing of the week remains, nor its record."""
    lead_template(county.lead, lead_dept)

    with (
        mock.patch.object(Bed.objects, "bulk_create", side_effect=IntegrityError("disk full")),
        pytest.raises(IntegrityError),
    ):
        services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None)

    assert nothing_published()
    assert services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None).slots == 15


def test_only_the_pools_writers_publish_a_week(county, lead_dept, users):
    lead_template(county.lead, lead_dept)
    for user in (member("clinician", county.lead), users["institution_admin"], users["bureau"]):
        with pytest.raises(PermissionDenied):
            services.publish_week(county.lead, week_start=monday_ahead(), acting_user=user)
    assert nothing_published()
    lead_admin = member("institution_admin", county.lead)
    assert services.publish_week(county.lead, week_start=monday_ahead(), acting_user=lead_admin).beds == 84


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_publishing_the_same_week_at_once(world):
    """Five threads publish one week: one wins, the others get `week_published`, one week of rows."""
    county = world[0]
    dept = department(county.lead)
    lead_template(county.lead, dept)
    monday, threads_count = monday_ahead(), 5
    start, outcomes, lock = threading.Barrier(threads_count), [], threading.Lock()

    def publish():
        try:
            start.wait()
            services.publish_week(
                Institution.objects.get(pk=county.lead.pk), week_start=monday, acting_user=None
            )
            outcome = "published"
        except Conflict as error:
            outcome = error.code
        except Exception as error:  # noqa: BLE001 - any other failure is reported by the assertion
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=publish) for _n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["published"] + ["week_published"] * (threads_count - 1)
    assert (Slot.objects.count(), Bed.objects.count(), PoolPublication.objects.count()) == (15, 84, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clerks_topping_up_one_session_at_once_never_share_a_number(world):
    """Five threads add three slots each to one session: each gets its numbers or Conflict
    `session_numbers_taken` (nothing written); the session stays numbered 1 … n without a gap."""
    county = world[0]
    dept = department(county.collaborating)
    day, threads_count = monday_ahead(), 5
    start, outcomes, lock = threading.Barrier(threads_count), [], threading.Lock()

    def top_up():
        try:
            start.wait()
            publish(dept, day, count=3)
            outcome = "published"
        except Conflict as error:
            outcome = error.code
        except Exception as error:  # noqa: BLE001 - any other failure is reported by the assertion
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=top_up) for _n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(outcomes) <= {"published", "session_numbers_taken"} and "published" in outcomes
    numbers = list(Slot.objects.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, 3 * outcomes.count("published") + 1))


# --- The shares and counts the indicators and pages reuse --------------------------------------------------
def publish(dept, day, *, count, reserved=0, period=SlotPeriod.AM, **more):
    return services.publish_slots(
        institution=dept.institution, department=dept, date=day, period=period, count=count,
        reserved_for_primary=reserved, acting_user=None, **more,
    )  # fmt: skip


def test_slot_release_ratio_per_institution_over_a_period(county, lead_dept, django_assert_num_queries):
    first = monday_ahead()
    last = first + 6 * DAY
    collab = department(county.collaborating)
    publish(lead_dept, first, count=9, reserved=3)
    publish(lead_dept, last, count=6, reserved=3)
    publish(lead_dept, last + DAY, count=30, reserved=10)  # outside the period
    publish(collab, first + DAY, count=8, reserved=1)
    publish(collab, first - DAY, count=8, reserved=8)  # outside the period

    with django_assert_num_queries(1):
        rows = list(Slot.objects.release_ratio_by_institution(first, last))

    assert rows == [
        {"institution": county.lead.pk, "published": 15, "reserved": 6, "ratio": pytest.approx(0.4)},
        {
            "institution": county.collaborating.pk,
            "published": 8,
            "reserved": 1,
            "ratio": pytest.approx(0.125),
        },
    ]
    lead_only = Slot.objects.at_role("lead", first, alliance=county.alliance)
    assert list(lead_only.release_ratio_by_institution(first, last).values_list("reserved", "published")) == [
        (6, 15)
    ]


def test_bed_release_ratio_is_bed_days_over_days_times_open_beds(
    county, lead_dept, django_assert_num_queries
):
    Institution.objects.filter(pk=county.lead.pk).update(open_beds=40)
    Institution.objects.filter(pk=county.collaborating.pk).update(open_beds=0)
    first = monday_ahead()
    last = first + 6 * DAY
    for n in range(7):
        services.publish_beds(
            institution=county.lead, department=lead_dept, date=first + n * DAY, count=8 if n < 5 else 15,
            acting_user=None,
        )  # fmt: skip
    services.publish_beds(
        institution=county.lead, department=lead_dept, date=last + DAY, count=99, acting_user=None
    )
    collab = department(county.collaborating)
    services.publish_beds(
        institution=county.collaborating, department=collab, date=first, count=2, acting_user=None
    )

    with django_assert_num_queries(1):
        rows = list(Bed.objects.release_ratio_by_institution(first, last))

    assert rows == [
        {"institution": county.lead.pk, "open_beds": 40, "bed_days": 70, "ratio": pytest.approx(0.25)},
        {"institution": county.collaborating.pk, "open_beds": 0, "bed_days": 2, "ratio": None},
    ]


def test_pool_status_per_department_and_day_in_one_query(county, lead_dept, django_assert_num_queries):
    day = monday_ahead()
    surgery = department(county.lead, code="04", name="外科")
    morning = publish(lead_dept, day, count=5, reserved=3)
    publish(lead_dept, day, count=2, reserved=1, period=SlotPeriod.PM)
    publish(surgery, day + DAY, count=4, reserved=2)
    referral(county.home, county.lead, n=1, slot=morning[0])
    # the second reserved morning slot passes its cut-off unbooked and returns to the public pool
    Slot.objects.filter(pk=morning[1].pk).update(release_at=timezone.now() - DAY)
    services.return_unbooked_slots(timezone.now())
    beds = services.publish_beds(
        institution=county.lead, department=surgery, date=day, count=3, acting_user=None
    )
    referral(county.home, county.lead, n=2, bed=beds[0])

    with django_assert_num_queries(2):
        slot_rows = list(Slot.objects.filter(institution=county.lead).status_by_department_and_day())
        bed_rows = list(Bed.objects.filter(institution=county.lead).status_by_department_and_day())

    common = {"department__code": "03", "department__name": "内科", "department": lead_dept.pk}
    assert slot_rows == [
        {"date": day, **common, "published": 7, "reserved": 4, "booked": 1, "returned": 1, "free": 6,
         "reserved_free": 2},
        {"date": day + DAY, "department": surgery.pk, "department__code": "04", "department__name": "外科",
         "published": 4, "reserved": 2, "booked": 0, "returned": 0, "free": 4, "reserved_free": 2},
    ]  # fmt: skip
    assert bed_rows == [
        {"date": day, "department": surgery.pk, "department__code": "04", "department__name": "外科",
         "reserved": 3, "booked": 1, "free": 2},
    ]  # fmt: skip


# --- API --------------------------------------------------------------------------------------------------
def test_api_template_lines_codes_in_ids_out(client_for, county, lead_dept, users):
    client = client_for(users["alliance_admin"])
    body = {
        "institution": county.lead.code, "weekday": 1, "kind": "slot", "department": lead_dept.code,
        "period": "pm", "doctor": "李医生", "count": 9, "reserved_for_primary": 3,
    }  # fmt: skip

    created = client.post("/api/v1/pool-templates/", body, format="json")

    assert created.status_code == 201, created.json()
    row = created.json()
    entry = PoolTemplateEntry.objects.get()
    assert row == {
        "id": entry.pk, "institution": county.lead.pk, "institution_code": county.lead.code, "weekday": 1,
        "kind": "slot", "department": lead_dept.pk, "department_code": "03", "department_name": "内科",
        "period": "pm", "doctor": "李医生", "count": 9, "reserved_for_primary": 3, "interval_minutes": 10,
    }  # fmt: skip
    listed = client.get(f"/api/v1/pool-templates/?institution_code={county.lead.code}&kind=slot").json()
    assert [line["id"] for line in listed["results"]] == [entry.pk]

    patched = client.patch(
        f"/api/v1/pool-templates/{entry.pk}/", {"count": 12, "reserved_for_primary": 4, "interval_minutes": 5}
    )
    assert patched.status_code == 200
    assert (patched.json()["count"], patched.json()["interval_minutes"]) == (12, 5)
    deleted = client.delete(f"/api/v1/pool-templates/{entry.pk}/")
    assert deleted.status_code == 204
    assert not PoolTemplateEntry.objects.exists()


def test_api_template_errors(client_for, county, lead_dept, users):
    client = client_for(member("institution_admin", county.lead))
    body = {
        "institution": county.lead.code, "weekday": 0, "kind": "slot", "department": lead_dept.code,
        "period": "am", "count": 10, "reserved_for_primary": 3,
    }  # fmt: skip

    under = client.post("/api/v1/pool-templates/", body, format="json")
    unknown = client.post("/api/v1/pool-templates/", {**body, "department": "99"}, format="json")
    entry = line(county.lead, lead_dept)
    moved = client.patch(
        f"/api/v1/pool-templates/{entry.pk}/", {"institution": county.collaborating.code}, format="json"
    )
    duplicate = client.post("/api/v1/pool-templates/", {**body, "count": 9}, format="json")

    assert under.status_code == 400 and list(under.json()["errors"]) == ["reserved_for_primary"]
    assert unknown.status_code == 400 and list(unknown.json()["errors"]) == ["department"]
    assert moved.status_code == 400 and list(moved.json()["errors"]) == ["institution"]
    assert duplicate.status_code == 400 and list(duplicate.json()["errors"]) == ["non_field_errors"]
    assert PoolTemplateEntry.objects.count() == 1


def test_api_template_list_query_count_does_not_grow(
    client_for, county, lead_dept, users, django_assert_num_queries
):
    client = client_for(users["alliance_admin"])
    line(county.lead, lead_dept)
    client.get("/api/v1/pool-templates/")  # warm the per-process caches (content types, …)

    def queries():
        from django.db import connection as conn
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(conn) as captured:
            assert client.get("/api/v1/pool-templates/").status_code == 200
        return len(captured)

    few = queries()
    for weekday in range(1, 7):
        line(county.lead, lead_dept, weekday=weekday)
        line(county.lead, lead_dept, weekday=weekday, kind=PoolKind.BED, count=3)
    assert queries() == few


def test_api_publish_week(client_for, county, lead_dept, users):
    client = client_for(users["alliance_admin"])
    lead_template(county.lead, lead_dept)
    monday = monday_ahead()
    body = {"institution": county.lead.code, "week_start": monday.isoformat()}

    first = client.post("/api/v1/slots/publish-week/", body, format="json")
    again = client.post("/api/v1/slots/publish-week/", body, format="json")

    assert first.status_code == 201, first.json()
    publication = PoolPublication.objects.get()
    assert first.json() == {
        "id": publication.pk, "institution": county.lead.pk, "institution_code": county.lead.code,
        "week_start": monday.isoformat(), "slots": 15, "beds": 84,
        "published_at": first.json()["published_at"],
    }  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "week_published"
    assert Slot.objects.count() == 15


def test_api_publish_week_refusals(client_for, county, lead_dept, users):
    client = client_for(users["alliance_admin"])
    lead_template(county.lead, lead_dept, beds_a_day=11)

    short = client.post(
        "/api/v1/slots/publish-week/",
        {"institution": county.lead.code, "week_start": monday_ahead().isoformat()},
        format="json",
    )
    tuesday = client.post(
        "/api/v1/slots/publish-week/",
        {"institution": county.lead.code, "week_start": (monday_ahead() + DAY).isoformat()},
        format="json",
    )

    assert short.status_code == 400 and len(short.json()["errors"]["non_field_errors"]) == 7
    assert tuesday.status_code == 400 and list(tuesday.json()["errors"]) == ["week_start"]
    assert nothing_published()
