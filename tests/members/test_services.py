"""Writes of people (issue 3 points 2 and 3): memberships, staff and their posting history,
secondments downwards, family-doctor teams (全专结合) and signed residents whose ID number is
kept only encrypted and as its keyed hash."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext, override

from alliance.choices import PlacementRole
from alliance.querysets import today
from core.identity import decrypt, patient_key
from members import services
from members.choices import Gender, MembershipRole, SecondmentKind, TeamRole
from members.models import (
    FamilyDoctorTeam,
    Membership,
    Secondment,
    SignedResident,
    StaffMember,
    StaffPosting,
    TeamMembership,
)
from tests.alliance.factories import FOUNDED, DepartmentFactory, InstitutionFactory, build_alliance, place
from tests.core.factories import UserFactory
from tests.members.factories import resident, resident_id, staff, team

pytestmark = pytest.mark.django_db

D = datetime.date
POST_DAY = D(2023, 7, 1)


def message(msgid, **params):
    return gettext(msgid) % params if params else gettext(msgid)


def rejected(call, *args, **kwargs):
    with pytest.raises(ValidationError) as caught:
        call(*args, acting_user=None, **kwargs)
    return caught.value.message_dict


@pytest.fixture
def county():
    return build_alliance(branches=2, villages_per_branch=1)


@pytest.fixture
def other_county():
    return build_alliance(branches=1, villages_per_branch=0)


# --- Memberships -----------------------------------------------------------------------------------------
def test_grant_membership_is_idempotent(county):
    user = UserFactory()

    first = services.grant_membership(
        user, role=MembershipRole.BUREAU, alliance=county["alliance"], acting_user=None
    )
    again = services.grant_membership(
        user, role=MembershipRole.BUREAU, alliance=county["alliance"], acting_user=None
    )

    assert first == again
    assert Membership.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("role", "scope"),
    [(MembershipRole.FINANCE, "institution"), (MembershipRole.INSTITUTION_ADMIN, "alliance")],
)
def test_grant_membership_rejects_a_scope_that_does_not_fit_the_role(county, role, scope):
    user = UserFactory()
    where = {"alliance": county["alliance"]} if scope == "alliance" else {"institution": county["lead"]}

    errors = rejected(services.grant_membership, user, role=role, **where)

    assert errors == {
        "__all__": [
            message(
                "Alliance roles need an alliance and no institution; institution roles need an institution."
            )
        ]
    }
    assert not Membership.objects.filter(user=user).exists()


def test_a_user_may_hold_several_roles(county):
    user = UserFactory()

    services.grant_membership(
        user, role=MembershipRole.CLINICIAN, institution=county["lead"], acting_user=None
    )
    services.grant_membership(
        user, role=MembershipRole.COMMITTEE, alliance=county["alliance"], acting_user=None
    )

    assert sorted(Membership.objects.filter(user=user).values_list("role", flat=True)) == [
        "clinician",
        "committee",
    ]


# --- Staff and postings ----------------------------------------------------------------------------------------
def postings(member):
    return list(
        StaffPosting.objects.filter(staff=member)
        .order_by("valid_from")
        .values_list("institution", "valid_from", "valid_to")
    )


def test_hire_staff_opens_the_first_posting(county):
    member = staff(county["lead"], n=101)

    assert postings(member) == [(county["lead"].pk, FOUNDED, None)]
    assert (member.alliance, member.institution) == (county["alliance"], county["lead"])


def test_staff_are_posted_only_to_institutions_of_their_alliance(county, other_county):
    errors = rejected(
        services.hire_staff,
        alliance=county["alliance"],
        institution=other_county["lead"],
        valid_from=FOUNDED,
        employee_number="E90001",
        name="外单位",
        gender=Gender.MALE,
        profession="doctor",
    )

    assert errors == {
        "institution": [message("Staff can only be posted to a member institution of their alliance.")]
    }
    assert not StaffMember.objects.exists()


def test_a_staff_members_department_belongs_to_the_institution(county):
    elsewhere = DepartmentFactory(institution=county["collaborating"], code="03")

    errors = rejected(
        services.hire_staff,
        alliance=county["alliance"],
        institution=county["lead"],
        department=elsewhere,
        valid_from=FOUNDED,
        employee_number="E90002",
        name="李四",
        gender=Gender.MALE,
        profession="doctor",
    )

    assert errors == {"department": [message("The department belongs to another institution.")]}
    assert not StaffMember.objects.exists()


def test_a_malformed_licence_number_is_rejected_on_hiring(county):
    errors = rejected(
        services.hire_staff,
        alliance=county["alliance"],
        institution=county["lead"],
        valid_from=FOUNDED,
        employee_number="E90003",
        name="王五",
        gender=Gender.MALE,
        profession="doctor",
        licence_number="1103-3010",
    )

    assert errors == {
        "licence_number": [
            message("A practising licence number is 9 to 30 digits or capital letters, without spaces.")
        ]
    }
    assert not StaffPosting.objects.exists()


def test_post_staff_closes_the_old_posting_and_opens_the_new_one_on_the_same_day(county):
    member, branch = staff(county["lead"], n=102), county["branches"][0]
    department = DepartmentFactory(institution=branch, code="03")

    services.post_staff(member, institution=branch, department=department, on=POST_DAY, acting_user=None)

    assert postings(member) == [(county["lead"].pk, FOUNDED, POST_DAY), (branch.pk, POST_DAY, None)]
    member.refresh_from_db()
    assert (member.institution, member.department) == (branch, department)


def test_posting_history_grows_with_each_posting(county):
    member = staff(county["lead"], n=103)
    services.post_staff(member, institution=county["branches"][0], on=POST_DAY, acting_user=None)

    services.post_staff(member, institution=county["collaborating"], on=D(2024, 1, 1), acting_user=None)

    assert postings(member) == [
        (county["lead"].pk, FOUNDED, POST_DAY),
        (county["branches"][0].pk, POST_DAY, D(2024, 1, 1)),
        (county["collaborating"].pk, D(2024, 1, 1), None),
    ]


@pytest.mark.parametrize(
    ("on", "field"),
    [(FOUNDED, "on"), (D(2019, 1, 1), "institution")],  # before the alliance, the branch was no member
)
def test_a_posting_not_after_the_current_one_is_rejected_and_changes_nothing(county, on, field):
    member = staff(county["lead"], n=104)

    errors = rejected(services.post_staff, member, institution=county["branches"][0], on=on)

    assert list(errors) == [field]
    assert postings(member) == [(county["lead"].pk, FOUNDED, None)]
    member.refresh_from_db()
    assert member.institution == county["lead"]


def test_the_current_posting_date_is_named_when_the_new_one_is_too_early(county):
    member = staff(county["lead"], n=105)

    errors = rejected(services.post_staff, member, institution=county["branches"][0], on=FOUNDED)

    assert errors == {
        "on": [message("The new posting must begin after the current one (%(date)s).", date=FOUNDED)]
    }


def test_posting_to_another_alliance_is_rejected_and_changes_nothing(county, other_county):
    member = staff(county["lead"], n=106)

    errors = rejected(services.post_staff, member, institution=other_county["lead"], on=POST_DAY)

    assert errors == {
        "institution": [message("Staff can only be posted to a member institution of their alliance.")]
    }
    assert postings(member) == [(county["lead"].pk, FOUNDED, None)]


# --- Secondments --------------------------------------------------------------------------------------------------
DOWNWARDS = "A secondment goes from a higher-level institution to a lower-level one."


@pytest.mark.parametrize(
    ("home", "host"),
    [("lead", "branch"), ("collaborating", "village"), ("branch", "village"), ("lead", "village")],
)
def test_a_secondment_goes_downwards(county, home, host):
    pick = {
        "lead": county["lead"],
        "collaborating": county["collaborating"],
        "branch": county["branches"][0],
        "village": county["villages"][0],
    }
    doctor = staff(pick[home])

    secondment = services.second_staff(
        doctor, to_institution=pick[host], start_date=D(2024, 1, 1), end_date=D(2024, 7, 2), acting_user=None
    )

    row = Secondment.objects.get(pk=secondment.pk)
    assert (row.from_institution, row.to_institution, row.kind) == (
        pick[home],
        pick[host],
        SecondmentKind.STATIONED,
    )
    assert (row.start_date, row.end_date) == (D(2024, 1, 1), D(2024, 7, 2))


@pytest.mark.parametrize(
    ("home", "host"),
    [("branch", "lead"), ("village", "branch"), ("lead", "collaborating"), ("branch", "other_branch")],
)
def test_a_secondment_upwards_or_sideways_is_rejected(county, home, host):
    pick = {
        "lead": county["lead"],
        "collaborating": county["collaborating"],
        "branch": county["branches"][0],
        "other_branch": county["branches"][1],
        "village": county["villages"][0],
    }
    doctor = staff(pick[home])

    errors = rejected(services.second_staff, doctor, to_institution=pick[host], start_date=D(2024, 1, 1))

    assert errors == {"to_institution": [message(DOWNWARDS)]}
    assert not Secondment.objects.exists()


def test_a_secondment_stays_within_one_alliance(county, other_county):
    doctor = staff(county["lead"])

    errors = rejected(
        services.second_staff, doctor, to_institution=other_county["branches"][0], start_date=D(2024, 1, 1)
    )

    assert errors == {
        "to_institution": [message("Both institutions must belong to the same alliance on the start date.")]
    }
    assert not Secondment.objects.exists()


def test_a_secondment_must_end_after_it_starts(county):
    doctor = staff(county["lead"])

    errors = rejected(
        services.second_staff,
        doctor,
        to_institution=county["branches"][0],
        start_date=D(2024, 3, 1),
        end_date=D(2024, 2, 1),
    )

    assert errors == {"__all__": [message("The end date must be after the start date.")]}
    assert not Secondment.objects.exists()


def test_the_end_of_a_stationing_is_recorded_by_update(county):
    doctor = staff(county["lead"])
    secondment = services.second_staff(
        doctor, to_institution=county["branches"][0], start_date=D(2024, 1, 1), acting_user=None
    )

    services.update_secondment(secondment, end_date=D(2024, 9, 1), acting_user=None)

    assert Secondment.objects.get(pk=secondment.pk).end_date == D(2024, 9, 1)


@pytest.mark.parametrize(
    ("start", "end", "clashes"),
    [
        (D(2024, 3, 1), D(2024, 4, 1), True),  # inside the first
        (D(2023, 12, 1), D(2024, 1, 2), True),  # ends on its second day
        (D(2024, 6, 30), None, True),  # open-ended, starts on its last day
        (D(2024, 7, 1), None, False),  # starts the day the first ends: [start, end)
        (D(2023, 6, 1), D(2024, 1, 1), False),  # ends the day the first starts
    ],
)
def test_secondments_of_one_doctor_may_not_overlap(county, start, end, clashes):
    """Issue 13 point 5: a doctor is stationed in one place at a time."""
    doctor = staff(county["lead"])
    services.second_staff(
        doctor, to_institution=county["branches"][0], start_date=D(2024, 1, 1), end_date=D(2024, 7, 1),
        acting_user=None,
    )  # fmt: skip

    if clashes:
        errors = rejected(
            services.second_staff,
            doctor,
            to_institution=county["branches"][1],
            start_date=start,
            end_date=end,
        )
        assert list(errors) == ["start_date"] and county["branches"][0].name in errors["start_date"][0]
        assert Secondment.objects.count() == 1
    else:
        services.second_staff(
            doctor, to_institution=county["branches"][1], start_date=start, end_date=end, acting_user=None
        )
        assert Secondment.objects.count() == 2


def test_extending_a_secondment_into_the_next_is_rejected(county):
    doctor = staff(county["lead"])
    first = services.second_staff(
        doctor, to_institution=county["branches"][0], start_date=D(2024, 1, 1), end_date=D(2024, 7, 1),
        acting_user=None,
    )  # fmt: skip
    services.second_staff(
        doctor, to_institution=county["branches"][1], start_date=D(2024, 7, 1), acting_user=None
    )

    errors = rejected(services.update_secondment, first, end_date=D(2024, 8, 1))

    assert list(errors) == ["start_date"]
    assert Secondment.objects.get(pk=first.pk).end_date == D(2024, 7, 1)


# --- Family-doctor teams --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["branch", "village"])
def test_a_team_belongs_to_a_branch_or_village_clinic(county, where):
    institution = county["branches"][0] if where == "branch" else county["villages"][0]

    created = services.create_team(institution=institution, name="第一团队", acting_user=None)

    assert FamilyDoctorTeam.objects.get(pk=created.pk).institution == institution


@pytest.mark.parametrize("where", ["lead", "collaborating", "unplaced"])
def test_a_team_cannot_belong_to_a_hospital_or_an_unplaced_institution(county, where):
    institution = InstitutionFactory() if where == "unplaced" else county[where]

    errors = rejected(services.create_team, institution=institution, name="第一团队")

    assert errors == {
        "institution": [message("Family-doctor teams belong to a township branch or a village clinic.")]
    }
    assert not FamilyDoctorTeam.objects.exists()


def test_a_specialist_of_a_higher_level_joins_a_branch_team(county):
    branch_team = team(county["branches"][0])
    cardiologist = staff(county["lead"])

    services.add_team_member(branch_team, staff=cardiologist, role=TeamRole.SPECIALIST, acting_user=None)

    assert list(branch_team.memberships.values_list("staff", "role")) == [(cardiologist.pk, "specialist")]


@pytest.mark.parametrize("home", ["branch", "other_branch", "village"])
def test_a_specialist_must_come_from_a_higher_level(county, home):
    branch_team = team(county["branches"][0])
    pick = {
        "branch": county["branches"][0],
        "other_branch": county["branches"][1],
        "village": county["villages"][0],
    }
    doctor = staff(pick[home])

    errors = rejected(services.add_team_member, branch_team, staff=doctor, role=TeamRole.SPECIALIST)

    assert errors == {
        "role": [message("A specialist in a family-doctor team comes from a higher-level institution.")]
    }
    assert not TeamMembership.objects.exists()


def test_a_general_practitioner_must_be_registered_as_one(county):
    branch = county["branches"][0]
    branch_team = team(branch)
    registered = staff(branch, is_general_practitioner=True)
    not_registered = staff(branch, is_general_practitioner=False)

    services.add_team_member(
        branch_team, staff=registered, role=TeamRole.GENERAL_PRACTITIONER, acting_user=None
    )
    errors = rejected(
        services.add_team_member, branch_team, staff=not_registered, role=TeamRole.GENERAL_PRACTITIONER
    )

    assert errors == {"role": [message("This staff member is not registered as a general practitioner.")]}
    assert list(branch_team.memberships.values_list("staff", flat=True)) == [registered.pk]


def test_team_members_come_from_the_teams_alliance(county, other_county):
    branch_team = team(county["branches"][0])
    outsider = staff(other_county["lead"])

    errors = rejected(services.add_team_member, branch_team, staff=outsider, role=TeamRole.SPECIALIST)

    assert errors == {"staff": [message("The staff member works outside this team's alliance.")]}
    assert not TeamMembership.objects.exists()


def test_a_village_team_takes_its_branchs_general_practitioner(county):
    village, branch = county["villages"][0], county["branches"][0]
    village_team = team(village)
    gp = staff(branch, is_general_practitioner=True)

    services.add_team_member(village_team, staff=gp, role=TeamRole.GENERAL_PRACTITIONER, acting_user=None)

    assert village_team.memberships.get().staff == gp


def test_non_specialists_work_at_the_teams_institution_or_its_branch(county):
    branch_team = team(county["branches"][0])
    nurse_elsewhere = staff(county["branches"][1], profession="nurse")

    errors = rejected(services.add_team_member, branch_team, staff=nurse_elsewhere, role=TeamRole.NURSE)

    assert errors == {
        "staff": [
            message("Apart from specialists, team members work at the team's institution or its branch.")
        ]
    }
    assert not TeamMembership.objects.exists()


def test_a_person_is_in_a_team_once(county):
    branch_team = team(county["branches"][0])
    cardiologist = staff(county["lead"])
    services.add_team_member(branch_team, staff=cardiologist, role=TeamRole.SPECIALIST, acting_user=None)

    errors = rejected(services.add_team_member, branch_team, staff=cardiologist, role=TeamRole.SPECIALIST)

    assert errors == {"staff": [message("This person is already in the team on this day or later.")]}
    assert TeamMembership.objects.count() == 1


# --- Team changes as of a past day (issue 13 point 5) ----------------------------------------------------------------
def test_a_member_joins_as_of_a_past_day_checked_on_the_hierarchy_of_that_day(county):
    first, second = county["branches"]
    branch_team = team(first)
    nurse = staff(second, profession="nurse")
    services.post_staff(nurse, institution=first, on=datetime.date(2026, 3, 1), acting_user=None)

    too_early = rejected(
        services.add_team_member,
        branch_team,
        staff=nurse,
        role=TeamRole.NURSE,
        valid_from=datetime.date(2026, 2, 1),
    )
    joined = services.add_team_member(
        branch_team, staff=nurse, role=TeamRole.NURSE, valid_from=datetime.date(2026, 3, 2), acting_user=None
    )

    assert too_early == {
        "staff": [
            message("Apart from specialists, team members work at the team's institution or its branch.")
        ]
    }
    assert (joined.valid_from, joined.valid_to) == (datetime.date(2026, 3, 2), None)


def test_a_team_change_is_never_dated_ahead(county):
    branch_team = team(county["branches"][0])
    cardiologist = staff(county["lead"])
    ahead = today() + datetime.timedelta(days=1)

    errors = rejected(
        services.add_team_member, branch_team, staff=cardiologist, role=TeamRole.SPECIALIST, valid_from=ahead
    )

    assert errors == {"valid_from": [message("A team change cannot be dated after today.")]}
    assert not TeamMembership.objects.exists()


def test_leaving_as_of_a_past_day_keeps_the_place_as_history(county):
    branch_team = team(county["branches"][0])
    cardiologist = staff(county["lead"])
    place = services.add_team_member(
        branch_team,
        staff=cardiologist,
        role=TeamRole.SPECIALIST,
        valid_from=datetime.date(2025, 1, 1),
        acting_user=None,
    )

    services.remove_team_member(place, valid_to=datetime.date(2025, 9, 1), acting_user=None)

    place.refresh_from_db()
    assert place.valid_to == datetime.date(2025, 9, 1)
    assert list(TeamMembership.objects.on(datetime.date(2025, 8, 31))) == [place]
    assert not TeamMembership.objects.on(datetime.date(2025, 9, 1)).exists()
    counted = type(branch_team).objects.with_composition().get(pk=branch_team.pk)
    assert (counted.member_count, counted.specialist_count) == (0, 0)
    assert LogEntry.objects.get_for_object(place).count() == 2  # joined, then left


def test_a_person_may_rejoin_after_leaving_but_not_overlap_their_old_place(county):
    branch_team = team(county["branches"][0])
    cardiologist = staff(county["lead"])
    place = services.add_team_member(
        branch_team,
        staff=cardiologist,
        role=TeamRole.SPECIALIST,
        valid_from=datetime.date(2025, 1, 1),
        acting_user=None,
    )
    services.remove_team_member(place, valid_to=datetime.date(2025, 9, 1), acting_user=None)

    overlapping = rejected(
        services.add_team_member,
        branch_team,
        staff=cardiologist,
        role=TeamRole.SPECIALIST,
        valid_from=datetime.date(2025, 8, 1),
    )
    again = services.add_team_member(
        branch_team,
        staff=cardiologist,
        role=TeamRole.SPECIALIST,
        valid_from=datetime.date(2025, 9, 1),
        acting_user=None,
    )

    assert overlapping == {"staff": [message("This person is already in the team on this day or later.")]}
    assert list(branch_team.memberships.values_list("valid_from", "valid_to")) == [
        (datetime.date(2025, 1, 1), datetime.date(2025, 9, 1)),
        (datetime.date(2025, 9, 1), None),
    ]
    assert again.valid_to is None


def test_leaving_is_after_joining_and_only_once(county):
    branch_team = team(county["branches"][0])
    cardiologist, pharmacist = staff(county["lead"]), staff(county["lead"])
    place = services.add_team_member(
        branch_team,
        staff=cardiologist,
        role=TeamRole.SPECIALIST,
        valid_from=datetime.date(2025, 6, 1),
        acting_user=None,
    )

    before = rejected(services.remove_team_member, place, valid_to=datetime.date(2025, 5, 31))
    services.remove_team_member(place, valid_to=datetime.date(2025, 7, 1), acting_user=None)
    twice = rejected(services.remove_team_member, place, valid_to=datetime.date(2025, 8, 1))
    mistaken = services.add_team_member(
        branch_team, staff=pharmacist, role=TeamRole.SPECIALIST, acting_user=None
    )
    services.remove_team_member(mistaken, acting_user=None)

    assert before == {
        "valid_to": [
            message("The person joined the team on %(date)s: they cannot leave before.", date="2025-06-01")
        ]
    }
    assert twice == {"valid_to": [message("This person has already left the team.")]}
    assert not TeamMembership.objects.filter(staff=pharmacist).exists()  # left the day they joined


# --- Signed residents -------------------------------------------------------------------------------------------------
RAW_ID = resident_id(16, birth="19650315")  # 330782 19650315 016 + check digit


def _texts_of_every_column():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {SignedResident._meta.db_table}")
        return [str(value) for row in cursor.fetchall() for value in row]


def test_sign_resident_stores_no_raw_id_number_anywhere(county):
    branch_team = team(county["branches"][0])

    signed = resident(branch_team, id_number=RAW_ID.lower(), name="张三")

    row = SignedResident.objects.get(pk=signed.pk)
    stored = [str(getattr(row, field.attname)) for field in SignedResident._meta.concrete_fields]
    assert not any(RAW_ID in text or RAW_ID[:17] in text for text in stored)
    assert not any(RAW_ID in text or RAW_ID[:17] in text for text in _texts_of_every_column())
    entries = LogEntry.objects.get_for_object(row)
    assert entries.count() == 1
    for entry in entries:
        logged = " ".join(str(getattr(entry, field.attname)) for field in LogEntry._meta.concrete_fields)
        assert RAW_ID not in logged and RAW_ID[:17] not in logged
        assert "id_number_encrypted" not in entry.changes_dict and "patient_key" not in entry.changes_dict


def test_sign_resident_keeps_the_number_encrypted_masked_and_hashed(county):
    branch_team = team(county["branches"][0])

    row = SignedResident.objects.get(pk=resident(branch_team, id_number=RAW_ID).pk)

    assert row.id_number_masked == RAW_ID[:6] + "********" + RAW_ID[-4:]
    assert decrypt(row.id_number_encrypted) == RAW_ID
    assert row.patient_key == patient_key(RAW_ID)
    assert (row.birth_date, row.gender) == (D(1965, 3, 15), Gender.FEMALE)  # 17th digit 6: even
    assert (row.institution, row.team) == (county["branches"][0], branch_team)


def test_gender_comes_from_the_seventeenth_digit(county):
    branch_team = team(county["branches"][0])

    row = resident(branch_team, id_number=resident_id(17))

    assert row.gender == Gender.MALE


@pytest.mark.parametrize("typed", [RAW_ID, RAW_ID.lower(), " ".join([RAW_ID[:6], RAW_ID[6:14], RAW_ID[14:]])])
def test_a_resident_is_found_by_id_number_however_it_is_typed(county, typed):
    branch_team = team(county["branches"][0])
    signed = resident(branch_team, id_number=RAW_ID)
    resident(branch_team, id_number=resident_id(99))

    assert list(SignedResident.objects.with_id_number(typed)) == [signed]


def test_a_second_open_contract_for_the_same_id_is_rejected(county):
    first_team, second_team = team(county["branches"][0]), team(county["branches"][1])
    resident(first_team, id_number=RAW_ID)

    errors = rejected(
        services.sign_resident,
        team=second_team,
        name="张三",
        id_number=RAW_ID.lower(),
        signed_on=D(2024, 6, 1),
    )

    assert errors == {"id_number": [message("This resident already has a family-doctor contract.")]}
    assert SignedResident.objects.count() == 1


def test_a_new_contract_may_follow_an_ended_one(county):
    first_team, second_team = team(county["branches"][0]), team(county["branches"][1])
    resident(first_team, id_number=RAW_ID, valid_to=D(2024, 12, 31))

    services.sign_resident(
        team=second_team, name="张三", id_number=RAW_ID, signed_on=D(2025, 1, 1), acting_user=None
    )

    assert SignedResident.objects.with_id_number(RAW_ID).count() == 2


@pytest.mark.parametrize(
    ("typed", "msgid"),
    [
        ("330782196503150", "A resident ID number has 18 characters; this one has %(n)d."),
        (
            RAW_ID[:-1] + ("0" if RAW_ID[-1] != "0" else "1"),
            "The check digit of this resident ID number is wrong; please check the number.",
        ),
        (
            "330782196502300010",
            "The check digit of this resident ID number is wrong; please check the number.",
        ),
    ],
)
def test_an_invalid_id_number_is_rejected_on_the_id_number_field(county, typed, msgid):
    branch_team = team(county["branches"][0])

    errors = rejected(
        services.sign_resident, team=branch_team, name="张三", id_number=typed, signed_on=D(2024, 1, 1)
    )

    assert errors == {"id_number": [message(msgid, n=15) if "%(n)d" in msgid else message(msgid)]}
    assert not SignedResident.objects.exists()


def test_an_impossible_birth_date_is_rejected(county):
    branch_team = team(county["branches"][0])

    errors = rejected(
        services.sign_resident,
        team=branch_team,
        name="张三",
        id_number=resident_id(1, birth="19650230"),
        signed_on=D(2024, 1, 1),
    )

    assert errors == {"id_number": [message("The birth date in this resident ID number is not a real date.")]}


def test_chronic_condition_tags_are_kept_once_each(county):
    branch_team = team(county["branches"][0])

    row = resident(branch_team, chronic_conditions=["hypertension", "diabetes", "hypertension"])

    assert SignedResident.objects.get(pk=row.pk).chronic_conditions == ["hypertension", "diabetes"]


def test_an_unknown_chronic_condition_is_rejected(county):
    branch_team = team(county["branches"][0])

    errors = rejected(
        services.sign_resident,
        team=branch_team,
        name="张三",
        id_number=RAW_ID,
        signed_on=D(2024, 1, 1),
        chronic_conditions=["hypertension", "flu"],
    )

    assert errors == {"chronic_conditions": [message("Unknown chronic condition: %(codes)s.", codes="flu")]}
    assert not SignedResident.objects.exists()


def test_update_resident_validates_tags_and_moves_the_institution_with_the_team(county):
    first_team, second_team = team(county["branches"][0]), team(county["villages"][0])
    row = resident(first_team, chronic_conditions=["copd"])

    errors = rejected(services.update_resident, row, chronic_conditions=["cancer"])
    services.update_resident(row, team=second_team, chronic_conditions=["ckd"], acting_user=None)

    assert errors == {
        "chronic_conditions": [message("Unknown chronic condition: %(codes)s.", codes="cancer")]
    }
    row.refresh_from_db()
    assert (row.team, row.institution, row.chronic_conditions) == (
        second_team,
        county["villages"][0],
        ["ckd"],
    )


def test_contract_dates_must_be_in_order(county):
    branch_team = team(county["branches"][0])

    errors = rejected(
        services.sign_resident,
        team=branch_team,
        name="张三",
        id_number=RAW_ID,
        signed_on=D(2024, 1, 1),
        valid_to=D(2023, 12, 31),
    )

    assert errors == {"__all__": [message("The end date must be after the start date.")]}
    assert not SignedResident.objects.exists()


# --- Chinese messages ----------------------------------------------------------------------------------------------
def test_a_rejected_secondment_is_explained_in_chinese(zh_hans, county):
    expected = zh_hans(DOWNWARDS)
    doctor = staff(county["branches"][0])

    with override("zh-hans"):
        errors = rejected(
            services.second_staff, doctor, to_institution=county["lead"], start_date=D(2024, 1, 1)
        )

    assert errors == {"to_institution": [expected]}


def test_a_second_contract_is_explained_in_chinese(zh_hans, county):
    expected = zh_hans("This resident already has a family-doctor contract.")
    branch_team = team(county["branches"][0])
    resident(branch_team, id_number=RAW_ID)

    with override("zh-hans"):
        errors = rejected(
            services.sign_resident, team=branch_team, name="张三", id_number=RAW_ID, signed_on=D(2024, 6, 1)
        )

    assert errors == {"id_number": [expected]}


def test_a_branch_placed_in_the_alliance_later_hosts_no_earlier_secondment(county):
    late_branch = InstitutionFactory()
    place(late_branch, county["alliance"], PlacementRole.BRANCH, valid_from=D(2024, 1, 1))
    doctor = staff(county["lead"])

    errors = rejected(services.second_staff, doctor, to_institution=late_branch, start_date=D(2023, 12, 1))
    services.second_staff(doctor, to_institution=late_branch, start_date=D(2024, 1, 1), acting_user=None)

    assert list(errors) == ["to_institution"]
    assert Secondment.objects.count() == 1


def test_a_secondment_starts_from_where_the_doctor_was_posted_on_its_start_date(county):
    doctor = staff(county["lead"])
    services.post_staff(
        doctor, institution=county["collaborating"], on=datetime.date(2026, 1, 1), acting_user=None
    )

    secondment = services.second_staff(
        doctor, to_institution=county["branches"][0], start_date=datetime.date(2025, 3, 1), acting_user=None
    )

    assert secondment.from_institution == county["lead"]


def test_a_team_leader_from_another_institution_is_rejected(county):
    outsider = staff(county["branches"][1])

    with pytest.raises(ValidationError) as error:
        services.create_team(
            institution=county["branches"][0], name="甲队", leader=outsider, acting_user=None
        )

    assert list(error.value.message_dict) == ["leader"]
    assert not FamilyDoctorTeam.objects.filter(name="甲队").exists()


def test_a_village_team_may_be_led_by_a_doctor_of_its_branch(county):
    branch, village = county["branches"][0], county["villages"][0]
    branch_doctor = staff(branch)

    led = services.create_team(institution=village, name="乙队", leader=branch_doctor, acting_user=None)

    assert led.leader == branch_doctor
