"""Reads of people (issue 3 point 2): the six-months-in-a-year aggregate agrees with the Python rule
on every boundary, secondments in force, team composition, contracts in force, own memberships."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from members import services
from members.choices import MembershipRole, SecondmentKind, TeamRole
from members.models import Membership, Secondment, SignedResident
from tests.alliance.factories import build_alliance
from tests.core.factories import UserFactory
from tests.members.factories import resident, resident_id, staff, team

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def county():
    return build_alliance(branches=1, villages_per_branch=1)


def _second(county, start, end, kind=SecondmentKind.STATIONED):
    return services.second_staff(
        staff(county["lead"]),
        to_institution=county["branches"][0],
        start_date=start,
        end_date=end,
        kind=kind,
        acting_user=None,
    )


SIX_MONTH_CASES = [
    # (start, end (exclusive), kind, year, reaches)
    (D(2024, 1, 1), D(2024, 7, 1), SecondmentKind.STATIONED, 2024, False),  # 182 days
    (D(2024, 1, 1), D(2024, 7, 2), SecondmentKind.STATIONED, 2024, True),  # 183 days
    (D(2023, 1, 1), D(2023, 7, 3), SecondmentKind.STATIONED, 2023, True),  # 183 days, not a leap year
    (D(2023, 1, 1), D(2023, 7, 2), SecondmentKind.STATIONED, 2023, False),  # 182 days
    (D(2024, 7, 2), None, SecondmentKind.STATIONED, 2024, True),  # open-ended: 183 days to year end
    (D(2024, 7, 3), None, SecondmentKind.STATIONED, 2024, False),  # open-ended: 182 days
    (D(2023, 9, 1), D(2024, 6, 30), SecondmentKind.STATIONED, 2023, False),  # 303 days, 122 in 2023
    (D(2023, 9, 1), D(2024, 6, 30), SecondmentKind.STATIONED, 2024, False),  # … and 181 in 2024
    (D(2023, 6, 1), D(2024, 12, 31), SecondmentKind.STATIONED, 2023, True),  # 214 in 2023
    (D(2023, 6, 1), D(2024, 12, 31), SecondmentKind.STATIONED, 2024, True),  # 365 in 2024
    (D(2023, 6, 1), None, SecondmentKind.STATIONED, 2025, True),  # still stationed a year later
    (D(2024, 1, 1), None, SecondmentKind.PATROL, 2024, False),  # visiting rounds never count
    (D(2025, 1, 1), None, SecondmentKind.STATIONED, 2024, False),  # begins after the year
    (D(2023, 1, 1), D(2024, 1, 1), SecondmentKind.STATIONED, 2024, False),  # ended as the year began
]


@pytest.mark.parametrize(("start", "end", "kind", "year", "reaches"), SIX_MONTH_CASES)
def test_reaching_six_months_in_sql_agrees_with_the_python_rule(county, start, end, kind, year, reaches):
    secondment = _second(county, start, end, kind)

    in_sql = Secondment.objects.reaching_six_months(year).filter(pk=secondment.pk).exists()

    assert secondment.reaches_six_months(year) is reaches
    assert in_sql is reaches


def test_days_in_year_in_sql_agrees_with_python_for_every_case(county):
    rows = [_second(county, start, end, kind) for start, end, kind, _year, _reaches in SIX_MONTH_CASES]

    for year in (2023, 2024, 2025):
        annotated = dict(Secondment.objects.with_days_in_year(year).values_list("pk", "days_inside_year"))
        for row in rows:
            expected = row.days_in_year(year)
            assert annotated.get(row.pk, datetime.timedelta(0)) == datetime.timedelta(days=expected), (
                row,
                year,
            )


def test_reaching_six_months_counts_each_secondment_of_a_year_once(county):
    long_ = _second(county, D(2024, 1, 1), None)
    _second(county, D(2024, 1, 1), D(2024, 3, 1))
    _second(county, D(2024, 1, 1), None, SecondmentKind.PATROL)

    assert list(Secondment.objects.reaching_six_months(2024)) == [long_]


@pytest.mark.parametrize(
    ("day", "in_force"),
    [(D(2023, 12, 31), False), (D(2024, 1, 1), True), (D(2024, 6, 30), True), (D(2024, 7, 1), False)],
)
def test_in_force_on_treats_the_end_date_as_exclusive(county, day, in_force):
    secondment = _second(county, D(2024, 1, 1), D(2024, 7, 1))

    assert Secondment.objects.in_force_on(day).filter(pk=secondment.pk).exists() is in_force


def test_with_composition_counts_gps_specialists_and_everyone(county):
    branch = county["branches"][0]
    branch_team, empty_team = team(branch), team(branch)
    for member, role in [
        (staff(branch, is_general_practitioner=True), TeamRole.GENERAL_PRACTITIONER),
        (staff(branch, is_general_practitioner=True), TeamRole.GENERAL_PRACTITIONER),
        (staff(county["lead"]), TeamRole.SPECIALIST),
        (staff(branch, profession="nurse"), TeamRole.NURSE),
    ]:
        services.add_team_member(branch_team, staff=member, role=role, acting_user=None)

    counts = {
        row.pk: (row.member_count, row.gp_count, row.specialist_count)
        for row in type(branch_team).objects.with_composition()
    }

    assert counts == {branch_team.pk: (4, 2, 1), empty_team.pk: (0, 0, 0)}


@pytest.mark.parametrize(
    ("day", "under_contract"),
    [(D(2023, 12, 31), False), (D(2024, 1, 1), True), (D(2024, 12, 30), True), (D(2024, 12, 31), False)],
)
def test_under_contract_on_treats_the_contract_end_as_exclusive(county, day, under_contract):
    signed = resident(team(county["branches"][0]), signed_on=D(2024, 1, 1), valid_to=D(2024, 12, 31))

    assert SignedResident.objects.under_contract_on(day).filter(pk=signed.pk).exists() is under_contract


def test_with_id_number_finds_nobody_for_an_unknown_number(county):
    resident(team(county["branches"][0]), id_number=resident_id(1))

    assert not SignedResident.objects.with_id_number(resident_id(2)).exists()


def test_a_user_sees_only_their_own_memberships(county):
    user, other = UserFactory(), UserFactory()
    mine = services.grant_membership(
        user, role=MembershipRole.BUREAU, alliance=county["alliance"], acting_user=None
    )
    services.grant_membership(
        other, role=MembershipRole.BUREAU, alliance=county["alliance"], acting_user=None
    )

    assert list(Membership.objects.for_user(user)) == [mine]
    assert not Membership.objects.for_user(AnonymousUser()).exists()
    assert not Membership.objects.for_user(None).exists()
