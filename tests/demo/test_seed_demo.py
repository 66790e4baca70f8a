"""seed_demo at the small scale: the hierarchy, the accounts, idempotence, valid identifiers,
determinism (the database holds exactly what the pure generators give for the seed), and the
anchor: the day the demo is made (issue 13 point 5), pinned with --today or else today."""

import datetime
import io
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max, Min

from alliance.choices import PlacementRole
from alliance.models import (
    AlliancePopulation,
    Department,
    GovernanceDocument,
    Institution,
    Meeting,
    Placement,
)
from alliance.querysets import today
from core.identity import decrypt, mask_resident_id, validate_credit_code, validate_resident_id
from demo.services import DEFAULT_PASSWORD, seed_demo
from demo.services.context import FOUNDED
from demo.services.county import county_plan
from demo.services.staff import staff_roster
from demo.services.teams import resident_roster
from encounters.models import Admission, OutpatientVisit
from members.choices import ChronicCondition, SecondmentKind, TeamRole
from members.models import (
    FamilyDoctorTeam,
    Membership,
    Secondment,
    SignedResident,
    StaffMember,
    StaffPosting,
    TeamMembership,
)
from referrals.models import Bed, PoolPublication, Referral, ReferralEvent, Slot
from tests.demo.conftest import ANCHOR, DATES, SEED

D = datetime.date
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))

ACCOUNTS = {
    ("bureau", "bureau", "浦江县医共体", None),
    ("alliance_admin", "alliance_admin", "浦江县医共体", None),
    ("committee", "committee", "浦江县医共体", None),
    ("finance", "finance", "浦江县医共体", None),
    ("insurance", "insurance_feed", "浦江县医共体", None),
    ("lead_admin", "institution_admin", None, "H0001"),
    ("his_lead", "api_client", None, "H0001"),
    ("township_admin", "institution_admin", None, "H0106"),
    ("township_doctor", "clinician", None, "H0106"),
    ("his_township", "api_client", None, "H0106"),
    ("village_doctor", "clinician", None, "H1077"),
}
USERNAMES = ["admin"] + sorted(account[0] for account in ACCOUNTS)


def _roles_today(alliance):
    return {
        role: Institution.objects.placed_on(today(), alliance=alliance, role=role).count()
        for role in PlacementRole.values
    }


def _row_counts():
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def test_the_small_county_has_the_whole_hierarchy(county):
    alliance = county.alliance

    assert (alliance.name, alliance.region_code, alliance.charter_date) == (
        "浦江县医共体",
        "330726",
        datetime.date(2019, 10, 1),
    )
    assert _roles_today(alliance) == {
        "lead": 1,
        "collaborating": 2,
        "branch": 15,
        "village": 200,
        "partner": 2,  # the city and the provincial hospital: out-of-county receivers
    }
    assert (Institution.objects.count(), Placement.objects.count(), Department.objects.count()) == (
        220,
        221,
        361,
    )
    assert list(AlliancePopulation.objects.order_by("year").values_list("year", flat=True)) == list(
        range(2020, 2027)
    )
    assert Institution.objects.get(code="H0001").name == "浦江县人民医院"
    assert StaffMember.objects.count() == 3000
    assert SignedResident.objects.count() == 300


def test_hospitals_and_branches_have_valid_credit_codes_and_village_clinics_none(county):
    codes = dict(Institution.objects.values_list("code", "credit_code"))

    with_code = {code: credit for code, credit in codes.items() if credit}
    assert sorted(with_code) == [f"H{n:04d}" for n in (1, 2, 3, *range(101, 116))]
    assert all(validate_credit_code(credit) == credit for credit in with_code.values())
    assert all(credit.startswith("12330726") for credit in with_code.values())


def test_every_demo_account_has_its_role_scope_and_the_demo_password(county):
    # The other HIS clients (his_h0002, …) of the activity step: test_activity.py.
    memberships = set(
        Membership.objects.exclude(user__username__startswith="his_h").values_list(
            "user__username", "role", "alliance__name", "institution__code"
        )
    )
    users = get_user_model().objects.filter(username__in=USERNAMES).order_by("username")

    assert memberships == ACCOUNTS
    assert [user.username for user in users] == sorted(USERNAMES)
    # The accounts share one hash of the one demo password (hashed once per run, see PasswordKeeper).
    assert len({user.password for user in users}) == 1
    assert users[0].check_password(DEFAULT_PASSWORD)
    assert users.get(username="admin").is_superuser
    assert [login[0] for login in county.logins] == ["admin"] + [
        "bureau", "alliance_admin", "committee", "finance", "lead_admin", "township_admin",
        "township_doctor", "village_doctor", "his_lead", "his_township", "insurance",
    ]  # fmt: skip


def test_the_clinician_accounts_are_doctors_of_their_institution(county):
    linked = StaffMember.objects.filter(user__isnull=False).order_by("user__username")

    assert [(s.user.username, s.institution.code, s.profession) for s in linked] == [
        ("township_doctor", "H0106", "doctor"),
        ("village_doctor", "H1077", "doctor"),
    ]
    assert linked[0].is_general_practitioner


def test_a_second_run_changes_nothing_and_prints_the_logins(county):
    counts, log_entries = _row_counts(), LogEntry.objects.count()
    passwords = dict(get_user_model().objects.values_list("username", "password"))
    out = io.StringIO()

    call_command("seed_demo", "--seed", str(SEED), "--scale", "small", stdout=out)

    assert _row_counts() == counts
    assert LogEntry.objects.count() == log_entries
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    output = out.getvalue()
    assert "demo county already loaded" in output
    assert f"登录账号 / logins (password: {DEFAULT_PASSWORD}):" in output
    assert [line.split()[0] for line in output.splitlines() if line.startswith("  ")] == [
        login[0] for login in county.logins
    ]


def test_demo_password_from_the_environment_replaces_the_default(county, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass-9")

    result = seed_demo(seed=SEED, scale="small")

    users = get_user_model().objects.filter(username__in=USERNAMES)
    assert not result.built
    assert users.count() == 12
    assert len({user.password for user in users}) == 1
    assert users[0].check_password("another-demo-pass-9")


def test_every_signed_resident_has_a_valid_resident_id_of_the_county(county):
    residents = list(SignedResident.objects.all())

    numbers = [decrypt(resident.id_number_encrypted) for resident in residents]
    assert len(numbers) == 300
    assert all(validate_resident_id(number) == number for number in numbers)
    assert {number[:6] for number in numbers} == {"330726"}
    assert all(
        resident.birth_date.strftime("%Y%m%d") == number[6:14] for resident, number in zip(residents, numbers)
    )
    assert all(set(resident.chronic_conditions) <= set(ChronicCondition.values) for resident in residents)
    assert any(resident.chronic_conditions for resident in residents)


def test_the_moved_village_clinic_keeps_both_placements(county):
    placements = Placement.objects.filter(institution__code="H1113").order_by("valid_from")

    assert [(p.valid_from, p.valid_to, p.parent.code) for p in placements] == [
        (datetime.date(2019, 10, 1), datetime.date(2026, 8, 1), "H0108"),  # four months before the anchor's
        (datetime.date(2026, 8, 1), None, "H0106"),
    ]


def test_county_doctors_are_stationed_at_branches_every_year(county):
    secondments = Secondment.objects.all()
    six_months = {year: Secondment.objects.reaching_six_months(year).count() for year in range(2020, 2027)}

    assert secondments.count() == 308
    assert six_months == {2020: 8, 2021: 15, 2022: 15, 2023: 15, 2024: 15, 2025: 15, 2026: 15}
    assert secondments.filter(kind=SecondmentKind.PATROL).count() == 105
    assert set(secondments.values_list("from_institution__code", flat=True)) <= {"H0001", "H0002", "H0003"}
    assert set(secondments.values_list("to_institution__code", flat=True)) == {
        f"H{n:04d}" for n in range(101, 116)
    }


def test_some_branch_staff_were_transferred_to_another_branch(county):
    transferred = StaffPosting.objects.filter(valid_to__isnull=False)

    assert StaffPosting.objects.count() == 3024
    assert transferred.count() == 24


def test_every_team_combines_general_practitioners_with_one_county_specialist(county):
    teams = FamilyDoctorTeam.objects.all()
    specialists = TeamMembership.objects.filter(role=TeamRole.SPECIALIST)

    assert teams.count() == 249
    assert teams.filter(institution__code__startswith="H01").count() == 49
    assert set(teams.with_composition().values_list("specialist_count", flat=True)) == {1}
    assert min(teams.with_composition().values_list("gp_count", flat=True)) >= 1
    assert set(specialists.values_list("staff__institution__code", flat=True)) <= {"H0001", "H0002", "H0003"}
    assert all(team.leader_id for team in teams)
    # Places held since the hierarchy and postings of today hold: the founding for most, the
    # move day for the moved clinic's team; none ended, none after the anchor.
    places = TeamMembership.objects.select_related("team__institution")
    assert {place.valid_to for place in places} == {None}
    assert max(place.valid_from for place in places) <= ANCHOR
    moved = {place.valid_from for place in places if place.team.institution.code == "H1113"}
    assert moved == {DATES.move_on}
    assert places.filter(valid_from=FOUNDED).count() > places.count() / 2


def test_governance_records_show_a_year_with_too_few_government_meetings(county):
    alliance = county.alliance
    government = {row["year"]: row["count"] for row in Meeting.objects.government_count_by_year()}

    assert government == {2020: 2, 2021: 2, 2022: 3, 2023: 1, 2024: 2, 2025: 2, 2026: 2}
    assert not Meeting.objects.government_rule_met(alliance, 2023)
    assert Meeting.objects.government_rule_met(alliance, 2024)
    assert alliance.committee_members.count() == 12
    assert list(GovernanceDocument.objects.order_by("kind", "version").values_list("kind", "version")) == [
        ("charter", 1),
        ("charter", 2),
        ("charter", 3),
        ("responsibility_list", 1),
        ("responsibility_list", 2),
    ]


def test_staff_in_the_database_are_the_roster_of_the_seed(county):
    roster = staff_roster(SEED, county_plan(SEED))

    hired = list(StaffMember.objects.order_by("employee_number").values_list("employee_number", "name"))
    assert hired == [(fields["employee_number"], fields["name"]) for _code, fields, _department in roster]
    names = [fields["name"] for _code, fields, _department in roster]
    assert [fields["name"] for _code, fields, _department in staff_roster(SEED, county_plan(SEED))] == names
    other = staff_roster(SEED + 1, county_plan(SEED + 1))
    assert [fields["name"] for _code, fields, _department in other] != names


def test_signed_residents_in_the_database_are_the_roster_of_the_seed(county):
    roster = resident_roster(SEED, 300, DATES)

    stored = sorted(SignedResident.objects.values_list("id_number_masked", "name"))
    assert stored == sorted((mask_resident_id(r["id_number"]), r["name"]) for r in roster)
    assert resident_roster(SEED, 300, DATES) == roster
    assert resident_roster(SEED + 1, 300, DATES) != roster


def test_the_lead_hospitals_refer_up_page_offers_the_out_of_county_partners(county, client):
    """Issue 13 point 5: at the top of the county an up-referral leaves it, with a coded reason."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    client.force_login(get_user_model().objects.get(username="lead_admin"))

    page = client.get(reverse("referrals:refer-up")).content.decode()

    assert "金华市中心医院" in page and "浙江省人民医院" in page
    assert "此方向没有可转诊的机构" not in page


# --- The anchor ------------------------------------------------------------------------------------
def _forget_the_last_year():
    """Remove the activity, the referrals and the published weeks (the templates stay): the next
    run loads them again for its own anchor, on the county as it stands."""
    Admission.objects.update(referral_id=None)
    Slot.objects.update(referral=None)
    Bed.objects.update(referral=None)
    ReferralEvent.objects.all().delete()
    Referral.objects.filter(return_of__isnull=False).delete()
    for model in (Referral, Slot, Bed, PoolPublication, OutpatientVisit, Admission):
        model.objects.all().delete()


def _what_the_anchor_moves(anchor):
    """The months of activity, the weeks published, the days of the open referrals' slots and
    beds, and whether the history or the encounters reach the anchor day."""
    open_referrals = Referral.objects.filter(submitted_at__date=anchor, return_of__isnull=True)
    booked = sorted(
        {*Slot.objects.filter(referral__in=open_referrals).values_list("date", flat=True)}
        | {*Bed.objects.filter(referral__in=open_referrals).values_list("date", flat=True)}
    )
    history = ReferralEvent.objects.filter(referral__submitted_at__date__lt=anchor)
    return {
        "months": tuple(OutpatientVisit.objects.aggregate(first=Min("month"), last=Max("month")).values()),
        "weeks": sorted(set(PoolPublication.objects.values_list("week_start", flat=True))),
        "open": open_referrals.count(),
        "booked from": booked[0] >= anchor and booked[-1] < anchor + datetime.timedelta(weeks=4),
        "history after": history.filter(at__date__gte=anchor).exists(),
        "received after": OutpatientVisit.objects.filter(
            received_at__gte=datetime.datetime.combine(anchor, datetime.time(6), SHANGHAI)
        ).exists(),
    }


def _weeks(monday):
    return [monday + datetime.timedelta(weeks=n) for n in range(4)]


def test_another_day_moves_the_activity_the_pools_and_the_open_referrals(county):
    before = _what_the_anchor_moves(ANCHOR)
    _forget_the_last_year()

    call_command(
        "seed_demo", "--seed", str(SEED), "--scale", "small", "--today", "2027-03-15", stdout=io.StringIO()
    )

    after = _what_the_anchor_moves(D(2027, 3, 15))
    same = {"open": 6, "booked from": True, "history after": False, "received after": False}
    assert before == {"months": (D(2025, 11, 1), D(2026, 11, 1)), "weeks": _weeks(D(2026, 11, 30)), **same}
    assert after == {"months": (D(2026, 2, 1), D(2027, 2, 1)), "weeks": _weeks(D(2027, 3, 15)), **same}
    # The county keeps its history: its village clinic moved on the day of the first load.
    moved = OutpatientVisit.objects.filter(institution__code="H1113")
    assert set(moved.filter(visit_date__lt=D(2026, 8, 1)).values_list("client__username", flat=True)) == {
        "his_h0108"
    }
    assert set(moved.filter(visit_date__gte=D(2026, 8, 1)).values_list("client__username", flat=True)) == {
        "his_township"
    }


def test_without_a_day_the_demo_is_anchored_to_todays_local_date(county):
    _forget_the_last_year()
    out = io.StringIO()
    morning = datetime.datetime(2027, 1, 5, 7, 30, tzinfo=SHANGHAI)  # still 4 January in UTC

    with mock.patch("django.utils.timezone.now", return_value=morning):
        call_command("seed_demo", "--seed", str(SEED), "--scale", "small", stdout=out)

    figures = _what_the_anchor_moves(D(2027, 1, 5))
    assert (figures["months"], figures["weeks"], figures["open"]) == (
        (D(2025, 12, 1), D(2026, 12, 1)),
        _weeks(D(2027, 1, 4)),
        6,
    )
    assert "demo day 2027-01-05: activity 2025-12-01 to 2026-12-31, pools from 2027-01-04" in out.getvalue()


@pytest.mark.parametrize("value", ["2025-12-31", "3 December"])
def test_a_day_before_the_fixed_history_or_no_date_is_refused(county, value):
    counts = _row_counts()

    with pytest.raises(CommandError, match="--today"):
        call_command("seed_demo", "--scale", "small", "--today", value)

    assert _row_counts() == counts
