"""The pure generators behind seed_demo: the same seed gives the same plan, staff roster and
residents (tests/demo/test_seed_demo.py checks that the database holds exactly these)."""

import datetime
import re

from core.identity import validate_credit_code, validate_resident_id
from demo.services.context import step_random
from demo.services.county import county_plan, village_names
from demo.services.identifiers import credit_code, licence_number, organisation_code, resident_id
from demo.services.staff import staff_roster
from demo.services.teams import resident_roster
from members.models import LICENCE_NUMBER
from tests.demo.conftest import SEED


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
    roster = resident_roster(SEED, 2000)
    staff = staff_roster(SEED, county_plan(SEED))

    assert len({r["id_number"] for r in roster}) == 2000
    assert all(r["signed_on"] <= datetime.date(2026, 6, 30) for r in roster)
    licences = [f["licence_number"] for _c, f, _d in staff if f["licence_number"]]
    assert all(re.fullmatch(r"[0-9A-Z]{9,30}", licence) for licence in licences)
    assert len(set(licences)) == len(licences)
