"""The one door to the access policy (issue 12 point 1): `core.access` answers what pages, the
API, imports, measures and tasks need (a queryset restricted for an action, the institutions a
user reaches for a model on a date, the reach itself), and the committee's "aggregates only"
rule of DESIGN §5 is expressed through it."""

import datetime
import tomllib
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from alliance import services as alliance_services
from alliance.choices import PlacementRole
from alliance.models import Institution
from core import access
from encounters import services as encounter_services
from encounters.models import OutpatientVisit
from referrals.models import Referral, Slot
from tests.alliance.factories import InstitutionFactory, place
from tests.encounters.factories import client_of, visit
from tests.referrals.factories import department, referral, slots

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _visits(county):
    his = client_of(county.home)
    encounter_services.ingest("visits", [visit(1, county.home)], client=his, source="HIS")


def test_committee_may_aggregate_encounters_it_may_not_read(world):
    mine, other, users = world
    _visits(mine)
    _visits(other)
    committee = users["committee"]

    rows = OutpatientVisit.objects.all()
    assert list(access.scope(rows, committee)) == []
    assert [v.alliance_id for v in access.scope(rows, committee, access.AGGREGATE)] == [mine.alliance.pk]
    assert [v.alliance_id for v in OutpatientVisit.objects.for_user(committee, access.AGGREGATE)] == [
        mine.alliance.pk
    ]
    assert access.can_read(committee, OutpatientVisit) is False
    assert access.can_read(committee, OutpatientVisit, access.AGGREGATE) is True


def test_committee_aggregates_referrals_and_slots_but_lists_none(world):
    mine, _, users = world
    slots(department(mine.lead), count=2, reserved=1)
    made = referral(mine.home, mine.lead)
    committee = users["committee"]

    assert list(Referral.objects.for_user(committee)) == []
    assert list(Referral.objects.for_user(committee, access.AGGREGATE)) == [made]
    assert Slot.objects.for_user(committee).count() == 0
    assert Slot.objects.for_user(committee, access.AGGREGATE).count() == 2


def test_aggregating_is_open_to_every_reader_with_its_own_reach(world):
    mine, _, users = world
    _visits(mine)
    clinician = users["clinician"]

    assert set(OutpatientVisit.objects.for_user(clinician, access.AGGREGATE)) == set(
        OutpatientVisit.objects.for_user(clinician)
    )
    assert OutpatientVisit.objects.for_user(clinician).count() == 1


def test_finance_may_neither_read_nor_aggregate_encounters(world):
    mine, _, users = world
    _visits(mine)

    assert OutpatientVisit.objects.for_user(users["finance"], access.AGGREGATE).count() == 0


def test_write_action_restricts_to_the_rows_a_user_may_change(world):
    mine, _, users = world
    made = referral(mine.home, mine.lead)

    assert list(Referral.objects.for_user(users["bureau"])) == [made]
    assert list(Referral.objects.for_user(users["bureau"], access.WRITE)) == []
    assert list(Referral.objects.for_user(users["clinician"], access.WRITE)) == [made]


def test_institutions_on_a_date_follow_that_days_hierarchy(world):
    mine, _, users = world
    newcomer = InstitutionFactory(name="新建卫生院")
    place(newcomer, mine.alliance, PlacementRole.BRANCH, valid_from=datetime.date(2026, 6, 1))
    bureau = users["bureau"]

    before = access.institutions(bureau, OutpatientVisit, on=datetime.date(2026, 5, 31))
    after = access.institutions(bureau, OutpatientVisit, on=datetime.date(2026, 6, 30))
    ever = access.institutions(bureau, OutpatientVisit)

    assert newcomer not in before
    assert newcomer in after
    assert newcomer in ever
    assert mine.home in before


def test_institutions_keep_a_left_member_in_history_not_on_later_dates(world):
    mine, _, users = world
    leaving = mine.villages[1]
    alliance_services.leave_alliance(leaving, on=datetime.date(2026, 1, 1), acting_user=None)

    assert leaving in access.institutions(users["bureau"], OutpatientVisit)
    assert leaving not in access.institutions(users["bureau"], OutpatientVisit, on=datetime.date(2026, 2, 1))


def test_institutions_for_writing_are_the_ones_a_user_may_change(world):
    mine, _, users = world

    assert set(access.institutions(users["clinician"], Referral, access.WRITE)) == {mine.home}
    assert access.institutions(users["bureau"], Referral, access.WRITE).count() == 0
    assert access.institutions(users["committee"], OutpatientVisit).count() == 0


def test_interactive_reach_leaves_out_machine_roles(world):
    mine, _, users = world
    his = users["api_client"]

    assert access.reach(his, Referral, access.WRITE).institutions == {mine.home.pk}
    assert not access.reach(his, Referral, access.WRITE, interactive=True)
    assert access.reach(users["clinician"], Referral, access.WRITE, interactive=True).institutions == {
        mine.home.pk
    }
    assert access.institutions(his, Referral, access.WRITE, interactive=True).count() == 0


def test_reach_names_one_institution_or_many(world):
    mine, _, users = world

    assert access.reach(users["clinician"], Referral).single_institution == mine.home.pk
    bureau = access.reach(users["bureau"], Referral)
    assert bureau.single_institution is None
    assert bureau.alliances == {mine.alliance.pk}


def test_insurance_feed_reaches_the_rows_it_sent_for_its_alliance(world):
    mine, _, users = world
    feed = access.reach(users["insurance_feed"], OutpatientVisit, access.WRITE)

    assert feed.sender == users["insurance_feed"].pk
    assert feed.sent_alliances == {mine.alliance.pk}
    assert not feed.alliances and not feed.institutions


def test_the_door_is_shut_for_anonymous_and_inactive_users(world):
    _, _, users = world
    inactive = users["bureau"]
    inactive.is_active = False

    for user in (AnonymousUser(), None, inactive):
        assert access.reach(user, Referral) == access.NOWHERE
        assert not access.reach(user, Referral)
        assert access.institutions(user, Referral).count() == 0
        assert access.scope(Institution.objects.all(), user, access.AGGREGATE).count() == 0
        assert access.can_read(user, Referral, access.AGGREGATE) is False


def test_an_unknown_action_is_a_programming_error(world):
    _, _, users = world

    with pytest.raises(ValueError, match="unknown access action"):
        access.scope(Referral.objects.all(), users["bureau"], "delete")


def test_reach_is_read_once_per_request_user(world, django_assert_num_queries):
    _, _, users = world
    bureau = users["bureau"]
    access.reach(bureau, Referral)

    with django_assert_num_queries(0):
        access.reach(bureau, Referral)
        access.reach(bureau, Referral, access.AGGREGATE)
        access.can_read(bureau, OutpatientVisit)


def test_only_members_and_config_may_import_the_policy_itself():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    door = [c for c in contracts if c.get("forbidden_modules") == ["members.access"]]

    assert len(door) == 1
    assert set(door[0]["source_modules"]) == {
        "core", "alliance", "referrals", "encounters", "pharmacy", "finance", "assessment", "demo"
    }  # fmt: skip
