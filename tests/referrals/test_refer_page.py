"""The refer-up and refer-down pages (issue 7 point 2): receivers follow the hierarchy, the
department and calendar fragments, calendar counts in one GROUP BY, the out-of-county reason,
service errors on the form, the one-time token, and scope."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.choices import PlacementRole
from alliance.querysets import today
from core.identity import patient_key
from referrals import services
from referrals.choices import Direction, OutOfCountyReason, ReferralState, SlotPeriod
from referrals.forms.refer import may_refer
from referrals.models import Bed, Referral, Slot
from referrals.querysets import receivers_on
from referrals.services.common import placement_on
from tests.alliance.factories import InstitutionFactory, place
from tests.members.factories import resident_id
from tests.referrals.factories import beds, department, member, next_week, referral, slots
from tests.world import ROLES, user_with_role

pytestmark = pytest.mark.django_db

UP, DOWN = "/referrals/new/up/", "/referrals/new/down/"
CHECKSUM_ERROR = "该居民身份证号码的校验码不正确，请核对号码。"
SLOT_TAKEN = "该号源或床位刚被其他转诊单预约，或已不再可约，请另选。"
OTHER_INSTITUTION_SLOT = "请预约转入机构的号源或床位。"


@pytest.fixture
def partner(county):
    """A hospital outside the county, a partner (协作单位) of the alliance."""
    hospital = InstitutionFactory(name="省人民医院")
    place(hospital, county.alliance, PlacementRole.PARTNER)
    return hospital


@pytest.fixture
def village_doctor(county):
    return member("clinician", county.villages[0], username="village_doctor")  # under branches[0]


def receiver_ids(client, url):
    form = client.get(url).context["form"]
    inside = {pk for pk, placement in form.receivers.items() if not placement.outside}
    outside = {pk for pk, placement in form.receivers.items() if placement.outside}
    return inside, outside


def form_data(sender_institution, to_institution, *, token="t1", n=1, **extra):
    data = {
        "token": token,
        "from_institution": sender_institution.pk,
        "patient_name": "张三",
        "id_number": resident_id(n),
        "insurance_number": "INS000001",
        "diagnosis": "i10",
        "reason": "血压控制不佳",
        "urgency": "routine",
        "to_institution": to_institution.pk,
    }
    data.update({key: getattr(value, "pk", value) for key, value in extra.items()})
    return data


# --- Receivers follow the hierarchy ----------------------------------------------------------
def test_village_doctor_refers_up_to_its_own_branch_and_the_hospitals(
    client, county, village_doctor, partner
):
    client.force_login(village_doctor)

    inside, outside = receiver_ids(client, UP)

    assert inside == {county.branches[0].pk, county.lead.pk, county.collaborating.pk}
    assert outside == {partner.pk}
    assert county.branches[1].pk not in inside and county.villages[1].pk not in inside


def test_branch_doctor_refers_up_to_the_hospitals_and_out_of_the_county_apart(
    client, county, sender, partner
):
    client.force_login(sender)

    inside, outside = receiver_ids(client, UP)
    html = client.get(UP).content.decode()

    assert inside == {county.lead.pk, county.collaborating.pk}
    assert outside == {partner.pk}
    assert html.count("<optgroup") == 2 and html.index(county.lead.name) < html.index(partner.name)


def test_refer_down_lists_the_lower_ranks_of_the_alliance(client, county, sender, partner):
    lead_doctor = member("clinician", county.lead)
    client.force_login(lead_doctor)
    inside, outside = receiver_ids(client, DOWN)
    assert inside == {b.pk for b in county.branches} | {v.pk for v in county.villages}
    assert outside == set()

    client.force_login(sender)
    assert receiver_ids(client, DOWN) == ({v.pk for v in county.villages}, set())


def test_other_countys_institutions_are_never_offered(client, world, sender):
    _mine, other, _users = world
    client.force_login(sender)

    inside, outside = receiver_ids(client, UP)

    assert not ({other.lead.pk, other.collaborating.pk} & (inside | outside))


@pytest.mark.parametrize("direction", [Direction.UP, Direction.DOWN])
@pytest.mark.parametrize("where", ["lead", "branch", "village"])
def test_every_receiver_offered_is_classified_so_by_the_service(county, partner, direction, where):
    institution = {"lead": county.lead, "branch": county.branches[0], "village": county.villages[0]}[where]
    day = today()

    offered = list(receivers_on(day, placement_on(institution, day), direction))

    assert offered or (where, direction) in {("village", Direction.DOWN)}
    for placement in offered:
        computed, _alliance, outside = services.classify(institution, placement.institution, day)
        assert (computed, outside) == (direction, placement.outside)


def test_receivers_are_one_query(county, partner, sender, django_assert_num_queries):
    day = today()
    sending = placement_on(county.villages[0], day)
    scope = type(sending).objects.for_user(sender)
    list(scope)  # the user's access facts, read once per request, are not the candidates' cost

    with django_assert_num_queries(1):
        assert len(list(receivers_on(day, sending, Direction.UP, scope))) == 4


# --- Departments and the out-of-county reason ------------------------------------------------
def test_choosing_a_receiver_loads_its_active_departments(client, county, sender, lead_dept):
    closed = department(county.lead, code="04", name="外科")
    closed.active = False
    closed.save()
    department(county.collaborating, code="05", name="妇产科")
    client.force_login(sender)

    response = client.get(
        "/referrals/new/up/receiver/", {"from_institution": county.home.pk, "to_institution": county.lead.pk}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["form"].fields["to_department"].queryset) == [lead_dept]
    assert "内科" in html and "外科" not in html and "妇产科" not in html
    assert 'name="reason_code"' not in html


def test_an_out_of_county_receiver_shows_the_reason_in_place(client, county, sender, partner):
    client.force_login(sender)

    html = client.get(
        "/referrals/new/up/receiver/", {"from_institution": county.home.pk, "to_institution": partner.pk}
    ).content.decode()

    assert 'name="reason_code"' in html
    for code in OutOfCountyReason.values:
        assert f'value="{code}"' in html


def test_a_receiver_the_hierarchy_does_not_allow_loads_nothing(client, county, sender):
    client.force_login(sender)

    html = client.get(
        "/referrals/new/up/receiver/",
        {"from_institution": county.home.pk, "to_institution": county.villages[1].pk},
    ).content.decode()

    assert "to_department" not in html


def test_the_out_of_county_reason_is_required_then_recorded(client, county, sender, partner):
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, partner))

    assert response.status_code == 200
    assert "reason_code" in response.context["form"].errors
    assert "转往县外的上转须选择转出原因。" in response.content.decode()
    assert not Referral.objects.exists()

    response = client.post(UP, form_data(county.home, partner, reason_code=OutOfCountyReason.RARE_DISEASE))

    created = Referral.objects.get()
    assert response.status_code == 302
    assert (created.out_of_county, created.reason_code, created.direction) == (True, "rare_disease", "up")


# --- The calendar ------------------------------------------------------------------------------
def _hand_made_slots(county, lead_dept, sender):
    """In one cell (next week, morning): 3 free for 李医生 and 1 for 王医生; besides them one
    booked, one returned, one unreserved; a past session today; another department's slot."""
    day = next_week()
    slots(lead_dept, count=3, reserved=3, date=day)
    slots(lead_dept, count=1, reserved=1, date=day, doctor="王医生")
    booked, returned = slots(lead_dept, count=2, reserved=2, date=day, doctor="赵医生")
    referral(county.home, county.lead, to_department=lead_dept, slot=booked, acting_user=sender)
    Slot.objects.filter(pk=returned.pk).update(returned_at=timezone.now())
    slots(lead_dept, count=3, reserved=1, date=day, doctor="钱医生")  # one free, two unreserved
    past = slots(lead_dept, count=1, reserved=1, date=today(), period=SlotPeriod.AM, doctor="孙医生")[0]
    Slot.objects.filter(pk=past.pk).update(starts_at=timezone.now() - datetime.timedelta(hours=1))
    slots(department(county.lead, code="04", name="外科"), count=5, reserved=5, date=day)
    return day


def _calendar(client, lead_dept, **params):
    return client.get("/referrals/new/calendar/", {"to_department": lead_dept.pk, **params})


def test_calendar_counts_only_bookable_reserved_slots(client, county, sender, lead_dept):
    day = _hand_made_slots(county, lead_dept, sender)
    client.force_login(sender)

    response = _calendar(client, lead_dept)

    calendar = response.context["calendar"]
    cells = {(d, period): found for d, row in calendar["lines"] for period, found in row if found}
    assert list(cells) == [(day, SlotPeriod.AM)]
    found = cells[(day, SlotPeriod.AM)]
    assert found["free"] == 5
    assert [(row["doctor"], row["free"]) for row in found["doctors"]] == [
        ("李医生", 3),
        ("王医生", 1),
        ("钱医生", 1),
    ]
    assert calendar["days"][0] == today() and len(calendar["days"]) == 14
    html = response.content.decode()
    assert "李医生、王医生、钱医生" in html and "赵医生" not in html and "孙医生" not in html


def test_calendar_costs_the_same_queries_however_many_slots(
    client, county, sender, lead_dept, django_assert_num_queries, django_assert_max_num_queries
):
    slots(lead_dept, count=1, reserved=1)
    client.force_login(sender)
    _calendar(client, lead_dept)  # warm the session

    with django_assert_max_num_queries(8) as few:  # session, user, access facts (4), department, calendar
        _calendar(client, lead_dept)
    for offset in range(10):
        for period in SlotPeriod.values:
            slots(
                lead_dept,
                count=4,
                reserved=4,
                date=today() + datetime.timedelta(days=offset + 1),
                period=period,
                doctor=f"医生{offset}",
            )
    with django_assert_num_queries(len(few.captured_queries)):
        response = _calendar(client, lead_dept)

    assert (
        sum(found["free"] for _d, row in response.context["calendar"]["lines"] for _p, found in row if found)
        == 121
    )


def test_clicking_a_cell_lists_one_choice_per_doctor_and_its_first_free_slot(
    client, county, sender, lead_dept
):
    day = _hand_made_slots(county, lead_dept, sender)
    first_li = Slot.objects.filter(doctor="李医生").order_by("pk").first()
    client.force_login(sender)

    response = client.get(
        "/referrals/new/slots/", {"to_department": lead_dept.pk, "date": day.isoformat(), "period": "am"}
    )

    rows = response.context["cell"]["rows"]
    assert [(row["doctor"], row["free"]) for row in rows] == [("李医生", 3), ("王医生", 1), ("钱医生", 1)]
    assert f'name="slot" value="{first_li.pk}"' in response.content.decode()


def _cell(client, lead_dept, day):
    return client.get(
        "/referrals/new/slots/", {"to_department": lead_dept.pk, "date": day.isoformat(), "period": "am"}
    )


def test_a_cell_offers_the_lowest_free_number_with_its_expected_time(client, county, sender, lead_dept):
    """Taken numbers are skipped, also a number in the middle booked through the API by its id."""
    day = next_week()
    first, second, third, _fourth = slots(lead_dept, count=4, reserved=4, date=day)
    referral(county.branches[1], county.lead, to_department=lead_dept, slot=second, n=5)  # a given id
    client.force_login(sender)

    offered = _cell(client, lead_dept, day)
    referral(county.branches[1], county.lead, to_department=lead_dept, slot=first, n=6)
    then = _cell(client, lead_dept, day)

    row = offered.context["cell"]["rows"][0]
    assert (row["doctor"], row["free"], row["first"], row["first_number"]) == ("李医生", 3, first.pk, 1)
    assert timezone.localtime(row["first_at"]).strftime("%H:%M") == "08:00"
    assert f'name="slot" value="{first.pk}"' in offered.content.decode()
    assert "第 1 号，约 08:00" in offered.content.decode()
    row = then.context["cell"]["rows"][0]
    assert (row["free"], row["first"], row["first_number"]) == (2, third.pk, 3)
    assert "第 3 号，约 08:20" in then.content.decode()


def test_the_lowest_number_is_offered_not_the_lowest_id(client, sender, lead_dept):
    day = next_week()
    early, late = slots(lead_dept, count=2, reserved=2, date=day)
    # the numbers swapped (through a free number: one number once per session)
    Slot.objects.filter(pk=early.pk).update(number=3)
    Slot.objects.filter(pk=late.pk).update(number=1)
    client.force_login(sender)

    row = _cell(client, lead_dept, day).context["cell"]["rows"][0]

    assert (row["first"], row["first_number"]) == (late.pk, 1)


def test_a_cell_is_one_query_however_many_doctors_and_slots(
    client, county, sender, lead_dept, django_assert_num_queries
):
    day = _hand_made_slots(county, lead_dept, sender)
    client.force_login(sender)
    _cell(client, lead_dept, day)
    with CaptureQueriesContext(connection) as few:
        _cell(client, lead_dept, day)
    for n in range(4):
        slots(lead_dept, count=5, reserved=5, date=day, doctor=f"医生{n}")

    with django_assert_num_queries(len(few.captured_queries)):
        response = _cell(client, lead_dept, day)

    assert len(response.context["cell"]["rows"]) == 7


def test_weeks_move_in_place_from_today_and_never_before(client, sender, lead_dept):
    client.force_login(sender)
    later = today() + datetime.timedelta(days=7)

    moved = _calendar(client, lead_dept, start=later.isoformat()).context["calendar"]
    clamped = _calendar(client, lead_dept, start=(today() - datetime.timedelta(days=30)).isoformat()).context[
        "calendar"
    ]

    assert moved["days"][0] == later and f"start={today().isoformat()}" in moved["urls"]["previous"]
    assert clamped["days"][0] == today() and clamped["urls"]["previous"] == ""


def test_the_bed_tab_counts_free_reserved_beds_per_day(client, county, sender, lead_dept):
    taken, *_free = beds(lead_dept, count=3)
    referral(county.home, county.lead, to_department=lead_dept, bed=taken, acting_user=sender, n=9)
    client.force_login(sender)

    calendar = _calendar(client, lead_dept, tab="beds").context["calendar"]

    counted = {day: row["free"] for day, row in calendar["lines"] if row}
    assert counted == {next_week(): 2}


def test_a_new_department_clears_the_slot_list_out_of_band(client, sender, lead_dept):
    client.force_login(sender)

    html = _calendar(client, lead_dept, reset="1").content.decode()

    assert 'id="refer-slots" hx-swap-oob="innerHTML"' in html


# --- Sending -----------------------------------------------------------------------------------
def test_a_referral_is_created_with_its_slot_booked_and_the_page_redirects(client, county, sender, lead_dept):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, slot=slot))

    created = Referral.objects.get()
    slot.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == f"/referrals/{created.pk}/"
    assert slot.referral_id == created.pk
    assert (created.state, created.direction, created.from_institution, created.to_institution) == (
        ReferralState.SUBMITTED,
        "up",
        county.home,
        county.lead,
    )
    assert (created.diagnosis, created.created_by, created.patient_name_masked) == ("I10", sender, "张*")


def test_a_bed_can_be_booked_instead_of_a_slot(client, county, sender, lead_dept):
    bed = beds(lead_dept, count=1)[0]
    client.force_login(sender)

    client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, bed=bed))

    assert Bed.objects.get(pk=bed.pk).referral == Referral.objects.get()


def test_a_slot_taken_meanwhile_comes_back_on_the_form_and_nothing_is_created(
    client, county, sender, lead_dept
):
    slot, other = slots(lead_dept, count=2, reserved=2)
    client.force_login(sender)
    rival = referral(county.branches[1], county.lead, to_department=lead_dept, slot=slot, n=5)

    response = client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, slot=slot))

    html = response.content.decode()
    assert response.status_code == 200 and SLOT_TAKEN in html
    assert list(Referral.objects.all()) == [rival]
    assert response.context["cell"]["rows"][0]["first"] == other.pk  # the calendar as it is now
    assert f'name="slot" value="{slot.pk}"' not in html and resident_id(1) not in html


def test_after_a_taken_slot_the_doctor_picks_another_without_typing_the_id_again(
    client, county, sender, lead_dept
):
    slot, other = slots(lead_dept, count=2, reserved=2)
    referral(county.branches[1], county.lead, to_department=lead_dept, slot=slot, n=5)
    client.force_login(sender)
    back = client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, slot=slot))
    sealed, masked = back.context["form"].kept_id
    assert masked in back.content.decode()

    data = form_data(
        county.home, county.lead, to_department=lead_dept, slot=other, id_number="", id_sealed=sealed
    )
    response = client.post(UP, data)

    created = Referral.objects.get(slot=other)
    assert response.status_code == 302
    assert created.patient_key == patient_key(resident_id(1)) and created.patient_id_masked == masked


def test_an_invalid_resident_id_is_refused_in_chinese_and_not_shown_back(client, county, sender):
    typo = resident_id(1)[:-1] + ("0" if resident_id(1)[-1] != "0" else "1")
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, county.lead, id_number=typo))

    html = response.content.decode()
    assert CHECKSUM_ERROR in html and typo not in html
    assert not Referral.objects.exists()


def test_a_missing_resident_id_is_required(client, county, sender):
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, county.lead, id_number="", id_sealed="forged"))

    assert response.context["form"].errors["id_number"] == ["此项为必填。"]
    assert not Referral.objects.exists()


def test_the_same_form_sent_twice_creates_one_referral(client, county, sender, lead_dept):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    client.force_login(sender)
    data = form_data(county.home, county.lead, to_department=lead_dept, slot=slot, token="abc")

    first = client.post(UP, data)
    second = client.post(UP, data)

    assert Referral.objects.count() == 1
    assert first.status_code == second.status_code == 302 and first["Location"] == second["Location"]


def test_a_sent_token_with_other_details_creates_nothing_and_gets_a_new_token(client, county, sender):
    client.force_login(sender)
    client.post(UP, form_data(county.home, county.lead, token="abc"))

    response = client.post(UP, form_data(county.home, county.lead, token="abc", reason="另一个原因"))

    assert Referral.objects.count() == 1
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert response.context["form"]["token"].value() != "abc"


def test_a_failed_attempt_leaves_the_token_usable(client, county, sender, lead_dept):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    client.force_login(sender)
    client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, slot=slot, diagnosis="bad"))

    response = client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, slot=slot))

    assert response.status_code == 302 and Referral.objects.count() == 1


# --- The signed resident -----------------------------------------------------------------------
def test_finding_a_signed_resident_fills_the_flag_and_the_team(client, county, users):
    client.force_login(users["clinician"])
    home_team = county.rows["teams"]

    html = client.post("/referrals/new/find-resident/", {"id_number": resident_id(1)}).content.decode()

    assert f'name="team" value="{home_team.pk}"' in html and "checked" in html
    assert home_team.name in html and "王*" in html
    assert resident_id(1) not in html and "王1" not in html


def test_finding_works_with_the_number_the_form_kept(client, county, sender):
    from core.identity import encrypt

    client.force_login(sender)

    html = client.post(
        "/referrals/new/find-resident/", {"id_number": "", "id_sealed": encrypt(resident_id(1))}
    ).content.decode()

    assert f'name="team" value="{county.rows["teams"].pk}"' in html


def test_a_resident_outside_the_users_scope_is_not_found(client, sender):
    client.force_login(sender)

    html = client.post("/referrals/new/find-resident/", {"id_number": resident_id(2)}).content.decode()

    assert "在您可查看的签约居民中没有该身份证号。" in html and 'name="team"' not in html


def test_a_signed_residents_referral_carries_the_team_and_priority(client, county, sender):
    client.force_login(sender)
    home_team = county.rows["teams"]

    client.post(UP, form_data(county.home, county.lead, signed_resident="on", team=home_team))

    created = Referral.objects.get()
    assert (created.signed_resident, created.team, created.priority) == (True, home_team, True)


def test_a_team_the_patient_has_no_contract_with_is_refused(client, county, sender):
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, county.lead, n=3, team=county.rows["teams"]))

    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not Referral.objects.exists()


# --- Scope -------------------------------------------------------------------------------------
def test_nobody_sends_from_an_institution_they_do_not_work_at(client, county, sender):
    client.force_login(sender)

    response = client.post(UP, form_data(county.branches[1], county.lead))

    assert "from_institution" in response.context["form"].errors
    assert not Referral.objects.exists()


def test_a_slot_of_another_institution_cannot_be_booked(client, world, county, sender, lead_dept):
    _mine, other, _users = world
    theirs = slots(department(county.collaborating, code="05"), count=1, reserved=1)[0]
    other_county = slots(department(other.lead), count=1, reserved=1)[0]
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, county.lead, to_department=lead_dept, slot=theirs))
    assert OTHER_INSTITUTION_SLOT in response.content.decode()

    response = client.post(
        UP, form_data(county.home, county.lead, to_department=lead_dept, slot=other_county)
    )
    assert "slot" in response.context["form"].errors

    assert not Referral.objects.exists()
    assert not Slot.objects.filter(referral__isnull=False).exists()


def test_a_receiver_outside_the_hierarchy_is_refused(client, county, sender):
    client.force_login(sender)

    response = client.post(UP, form_data(county.home, county.villages[1]))

    assert "to_institution" in response.context["form"].errors
    assert not Referral.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_only_institution_administrators_and_clinicians_refer(client, county, role):
    user = user_with_role(role, county, username=f"refer_{role}")
    allowed = role in {"institution_admin", "clinician"}
    client.force_login(user)

    response = client.get(UP)
    home = client.get("/")

    assert may_refer(user) is allowed
    assert response.status_code == (200 if allowed else 403)
    urls = [url for _label, url in home.context["navigation"]]
    assert (UP in urls, DOWN in urls) == (allowed, allowed)
    assert client.get("/referrals/new/calendar/").status_code == (200 if allowed else 403)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(UP)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_user_working_at_two_institutions_chooses_the_sender(client, county, sender):
    from tests.members.factories import MembershipFactory

    MembershipFactory(user=sender, role="clinician", institution=county.villages[1])
    client.force_login(sender)

    form = client.get(UP).context["form"]
    html = client.get(
        "/referrals/new/up/receivers/", {"from_institution": county.villages[1].pk}
    ).content.decode()

    assert form.several_senders and set(form.senders) == {county.home.pk, county.villages[1].pk}
    assert county.branches[1].name in html and county.branches[0].name not in html


def test_the_page_costs_a_fixed_number_of_queries(
    client, county, sender, partner, django_assert_num_queries, django_assert_max_num_queries
):
    client.force_login(sender)
    client.get(UP)

    with django_assert_max_num_queries(9) as captured:  # … the sender, the receivers, the unread count
        client.get(UP)
    for n in range(5):
        place(InstitutionFactory(), county.alliance, PlacementRole.PARTNER)
        department(county.lead, code=f"0{n + 4}", name=f"科室{n}")
    with django_assert_num_queries(len(captured.captured_queries)):
        client.get(UP)


def test_the_pages_speak_chinese(client, county, sender, lead_dept, zh_hans):
    slots(lead_dept, count=1, reserved=1)
    client.force_login(sender)

    page = client.get(UP).content.decode()
    calendar = _calendar(client, lead_dept).content.decode()

    assert zh_hans("Refer up") in page and zh_hans("Refer down") in page and zh_hans("Send referral") in page
    assert zh_hans("Within the alliance") in page and zh_hans("Find signed resident") in page
    assert zh_hans("Outpatient slots") in calendar and zh_hans("%(n)s free") % {"n": 1} in calendar
