"""The measure of doctors stationed six months (issue 14 point 1), hand-counted: per home
institution and month, the intermediate-or-higher doctors whose stationed days in the year up to
the month's end reach 183; a month's value is the year so far (OverMonths.LAST)."""

import datetime

import pytest

from core import measures
from members import services
from members.choices import Profession, SecondmentKind, TitleLevel
from tests.alliance.factories import AllianceFactory, build_alliance
from tests.members.factories import staff

pytestmark = pytest.mark.django_db

CODE = "secondments.six_months"
D = datetime.date


def station(doctor, to, start, end=None, kind=SecondmentKind.STATIONED):
    return services.second_staff(
        doctor, to_institution=to, start_date=start, end_date=end, kind=kind, acting_user=None
    )


@pytest.fixture
def county():
    """At the lead: A stationed since 1 October 2025 (2026: 181 days by 30 June, 212 by 31 July);
    B twice in 2026, 90 + 93 days (182 by 31 July, 183 by 31 August); C from 1 March 2025 to
    1 February 2026 (184 days of 2025 by 31 August 2025, 31 of 2026). Never counted: a junior
    doctor and a nurse stationed all year, a doctor on visiting rounds, the other alliance's."""
    parts = build_alliance(branches=2)
    lead, (branch, branch2) = parts["lead"], parts["branches"]
    station(staff(lead, name="甲"), branch, D(2025, 10, 1))
    b = staff(lead, name="乙", title_level=TitleLevel.SENIOR)
    station(b, branch, D(2026, 1, 1), D(2026, 4, 1))
    station(b, branch2, D(2026, 5, 1), D(2026, 8, 2))
    station(
        staff(lead, name="丙", title_level=TitleLevel.DEPUTY_SENIOR), branch2, D(2025, 3, 1), D(2026, 2, 1)
    )
    station(staff(lead, name="丁", title_level=TitleLevel.JUNIOR), branch, D(2026, 1, 1))
    station(staff(lead, name="戊", profession=Profession.NURSE, title="主管护师"), branch, D(2026, 1, 1))
    station(staff(lead, name="己"), branch2, D(2026, 1, 1), kind=SecondmentKind.PATROL)
    other = build_alliance(alliance=AllianceFactory(region_code="330783"), branches=1)
    station(staff(other["lead"], name="庚"), other["branches"][0], D(2026, 1, 1))
    return parts


def test_doctors_count_from_the_month_their_year_reaches_six_months(county):
    lead = county["lead"].pk

    values = measures.compute(county["alliance"], D(2026, 1, 1), D(2026, 12, 1), [CODE])

    expected = {7: 1} | dict.fromkeys(range(8, 13), 2)  # A from July, B too from August
    assert values == {(lead, D(2026, month, 1)): {CODE: n} for month, n in expected.items()}


def test_the_count_starts_again_each_january(county):
    lead = county["lead"].pk

    values = measures.compute(county["alliance"], D(2025, 7, 1), D(2026, 6, 1), [CODE])

    assert values == {(lead, D(2025, month, 1)): {CODE: 1} for month in range(8, 13)}  # C in 2025 only


def test_the_measure_is_a_state_of_the_year_and_costs_one_query(county, django_assert_num_queries):
    assert measures.measure(CODE).over_months == measures.OverMonths.LAST

    with django_assert_num_queries(1):
        measures.compute(county["alliance"], D(2026, 1, 1), D(2026, 12, 1), [CODE])


# --- Records (issue 14 point 6): each figure lists the doctors it counted ---------------------------
def test_the_records_of_each_month_are_the_doctors_it_counted(county):
    lead, everyone = county["lead"].pk, {county["lead"].pk, *(b.pk for b in county["branches"])}

    values = measures.compute(county["alliance"], D(2025, 1, 1), D(2026, 12, 1), [CODE])

    for year, month in [(2025, m) for m in range(1, 13)] + [(2026, m) for m in range(1, 13)]:
        asked = D(year, month, 1)
        rows = measures.records(county["alliance"], asked, asked, CODE, everyone)
        assert len(rows) == values.get((lead, asked), {}).get(CODE, 0), asked
        assert {(r.record_institution, r.record_month) for r in rows} <= {(lead, asked)}


def test_a_periods_records_are_its_last_months_one_row_per_doctor(county):
    lead = county["lead"].pk

    rows = measures.records(county["alliance"], D(2026, 1, 1), D(2026, 12, 1), CODE, {lead})

    # B's two stationings count once, by the latest; A's began in 2025
    assert [(r.staff.name, r.to_institution.name, r.record_date, r.record_month) for r in rows] == [
        ("甲", county["branches"][0].name, D(2025, 10, 1), D(2026, 12, 1)),
        ("乙", county["branches"][1].name, D(2026, 5, 1), D(2026, 12, 1)),
    ]
    july = measures.records(county["alliance"], D(2026, 1, 1), D(2026, 7, 1), CODE, {lead})
    assert [r.staff.name for r in july] == ["甲"]  # B's 182 days by 31 July do not yet count


def test_the_homes_asked_restrict_the_doctors(county, django_assert_num_queries):
    branch = county["branches"][0].pk

    assert not measures.records(county["alliance"], D(2026, 12, 1), D(2026, 12, 1), CODE, {branch, None})
    with django_assert_num_queries(2):  # the doctors' days, then the page with its names
        rows = measures.records(county["alliance"], D(2026, 12, 1), D(2026, 12, 1), CODE, {county["lead"].pk})
        names = [(str(r), r.from_institution.name) for r in rows]
    assert len(names) == 2
