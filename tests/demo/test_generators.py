"""The pure generators behind seed_demo: the dates of the demo's anchor, and the same seed gives
the same plan, staff roster and residents (tests/demo/test_seed_demo.py checks that the database
holds exactly these)."""

import datetime
import re

import pytest

from core.identity import validate_credit_code, validate_resident_id
from demo.services.activity import Site
from demo.services.activity_rows import drawn_weights
from demo.services.casemix import BRANCH, HOSPITAL, VILLAGE, holidays
from demo.services.context import DemoDates, step_random
from demo.services.county import county_plan, village_names
from demo.services.identifiers import credit_code, licence_number, organisation_code, resident_id
from demo.services.staff import staff_roster
from demo.services.teams import resident_roster
from members.models import LICENCE_NUMBER
from tests.demo.conftest import DATES, SEED

D = datetime.date


def test_the_county_plan_is_a_function_of_the_seed():
    plan = county_plan(SEED)

    assert plan == county_plan(SEED)
    assert [spec.name for spec in plan] != [spec.name for spec in county_plan(SEED + 1)]
    assert len(plan) == 218
    assert len({spec.code for spec in plan}) == 218
    assert len({spec.name for spec in plan}) == 218
    assert sum(spec.staff for spec in plan) == 3000


def test_village_names_are_unique_and_keep_the_known_villages():
    names = village_names(step_random(SEED, "plan"))

    assert len(set(names.values())) == 200
    assert names[("白马镇", 0)] == "嵩溪村"
    assert names[("虞宅乡", 0)] == "新光村"
    assert all(name.endswith("村") for name in names.values())


def test_generated_identifiers_pass_the_validators():
    assert validate_credit_code(credit_code("330726", 1)) == credit_code("330726", 1)
    assert organisation_code("47000001") == "470000013"
    number = resident_id("330726", datetime.date(1956, 3, 9), 123)
    assert validate_resident_id(number) == number
    for kind in ("doctor", "assistant", "village", "nurse", "pharmacist"):
        assert LICENCE_NUMBER.match(licence_number(kind, region_code="330726", year=2001, serial=42))


def test_licence_numbers_and_resident_ids_of_a_roster_are_well_formed():
    roster = resident_roster(SEED, 2000, DATES)
    staff = staff_roster(SEED, county_plan(SEED))

    assert len({r["id_number"] for r in roster}) == 2000
    assert D(2026, 7, 1) <= max(r["signed_on"] for r in roster) <= D(2026, 7, 31)  # up to the move's eve
    licences = [f["licence_number"] for _c, f, _d in staff if f["licence_number"]]
    assert all(re.fullmatch(r"[0-9A-Z]{9,30}", licence) for licence in licences)
    assert len(set(licences)) == len(licences)


# (anchor, first and last month of activity, move day, last year, age reference, first week)
ANCHORS = [
    # The day this demo was first made: the dates it used to fix, but for the first month of
    # activity, a month earlier now that the last month has its same month a year before.
    (D(2026, 11, 22), (D(2025, 10, 1), D(2026, 10, 1)), D(2026, 7, 1), 2026, D(2026, 1, 1), D(2026, 11, 16)),
    (D(2026, 12, 3), (D(2025, 11, 1), D(2026, 11, 1)), D(2026, 8, 1), 2026, D(2026, 1, 1), D(2026, 11, 30)),
    (D(2027, 3, 15), (D(2026, 2, 1), D(2027, 2, 1)), D(2026, 11, 1), 2027, D(2026, 1, 1), D(2027, 3, 15)),
    (D(2027, 7, 4), (D(2026, 6, 1), D(2027, 6, 1)), D(2027, 3, 1), 2027, D(2027, 1, 1), D(2027, 6, 28)),
]


@pytest.mark.parametrize("anchor, period, move_on, last_year, age_reference, pool_start", ANCHORS)
def test_every_date_of_the_demo_derives_from_its_anchor(
    anchor, period, move_on, last_year, age_reference, pool_start
):
    dates = DemoDates(anchor)

    assert (dates.period_start, dates.last_month) == period  # thirteen whole months before the anchor's
    assert dates.period_end == anchor.replace(day=1)
    assert dates.move_on == move_on and dates.last_signing == move_on - datetime.timedelta(days=1)
    assert dates.years == tuple(range(2020, last_year + 1))
    assert dates.age_reference == age_reference
    assert dates.pool_start == pool_start and pool_start.weekday() == 0
    assert pool_start <= anchor < pool_start + datetime.timedelta(days=7)


def test_an_anchor_before_the_fixed_history_is_refused():
    with pytest.raises(ValueError, match="on or after 2026-01-01"):
        DemoDates(D(2025, 12, 31))


def test_the_holidays_follow_the_year_of_activity():
    factors = holidays([2026, 2027])

    assert [day for day in factors if day.month == 2] == [
        *(D(2026, 2, day) for day in range(15, 24)),  # 春节 2026-02-17
        *(D(2027, 2, day) for day in range(4, 13)),  # 春节 2027-02-06
    ]
    assert factors[D(2027, 10, 1)] == 0.6 and factors[D(2027, 9, 15)] == 0.75  # 国庆, 中秋
    assert holidays([2028])[D(2028, 10, 3)] == 0.6  # 中秋 inside 国庆: the lower factor


def _site(code, tier, visit_weight):
    return Site(code, 0, tier, True, {}, (), visit_weight, 0, 0.0, None)


def test_the_lead_hospital_draws_a_share_of_primary_cares_visits_and_no_more():
    sites = [_site("H0001", HOSPITAL, 24), _site("H0002", HOSPITAL, 16), _site("H0101", BRANCH, 38)]
    sites.append(_site("H1001", VILLAGE, 22))

    assert drawn_weights(sites, "visit_weight", 0.0, "H0001") == [24, 16, 38, 22]
    weights = drawn_weights(sites, "visit_weight", 0.1, "H0001")
    assert [round(weight, 6) for weight in weights] == [30, 16, 34.2, 19.8]  # the same 100 visits
