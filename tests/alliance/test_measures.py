"""The hierarchy of each month (issue 14 points 1–2; alliance.measures): the placement in force on
the month's last day decides, so a clinic that moved in June counts under its old branch up to
May; and the open bed-days measured from it."""

import datetime

import pytest

from alliance import services
from alliance.choices import PlacementRole
from alliance.measures import roles_by_month
from alliance.models import Placement
from core import measures
from tests.alliance.factories import InstitutionFactory, build_alliance, place

pytestmark = pytest.mark.django_db

D = datetime.date
MAY, JUN, JUL = D(2026, 5, 1), D(2026, 6, 1), D(2026, 7, 1)


@pytest.fixture
def county():
    """Village clinic 1 moves from branch 1 to branch 2 on 30 June (the month's last day); branch
    2's village clinic leaves on 1 July; a third branch becomes a collaborating hospital on 1 June."""
    parts = build_alliance(branches=2, villages_per_branch=1)
    (_branch, branch2), (village, village2) = parts["branches"], parts["villages"]
    services.move_institution(village, on=D(2026, 6, 30), parent=branch2, acting_user=None)
    services.leave_alliance(village2, on=D(2026, 7, 1), acting_user=None)
    parts["upgraded"] = InstitutionFactory()
    place(parts["upgraded"], parts["alliance"], PlacementRole.BRANCH)
    services.move_institution(parts["upgraded"], on=JUN, role=PlacementRole.COLLABORATING, acting_user=None)
    return parts


def test_the_placement_on_the_months_last_day_decides(county):
    (_branch, branch2), (village, village2) = county["branches"], county["villages"]

    places = Placement.objects.filter(alliance=county["alliance"]).by_month(MAY, JUL)

    assert places[village.pk, MAY].parent_id == county["branches"][0].pk
    assert places[village.pk, JUN].parent_id == branch2.pk  # moved on 30 June: June is the new branch's
    assert (village2.pk, JUN) in places and (village2.pk, JUL) not in places  # left on 1 July


def test_on_last_day_of_a_month_in_sql(county):
    _branch, branch2 = county["branches"]
    village, village2 = county["villages"]
    in_force = Placement.objects.filter(alliance=county["alliance"])

    june = {(p.institution_id, p.parent_id) for p in in_force.on_last_day_of(JUN) if p.role == "village"}
    july = {(p.institution_id, p.parent_id) for p in in_force.on_last_day_of(JUL) if p.role == "village"}

    assert june == {(village.pk, branch2.pk), (village2.pk, branch2.pk)}
    assert july == {(village.pk, branch2.pk)}


def test_the_roles_of_each_month_come_in_one_query(county, django_assert_num_queries):
    upgraded = county["upgraded"].pk

    with django_assert_num_queries(1):
        roles = roles_by_month(county["alliance"], MAY, JUL)

    assert (roles[upgraded, MAY], roles[upgraded, JUN], roles[upgraded, JUL]) == (
        "branch",
        "collaborating",
        "collaborating",
    )
    assert roles[county["lead"].pk, MAY] == "lead"


def test_open_bed_days_are_the_open_beds_times_the_days_of_the_month(county):
    lead, village2 = county["lead"], county["villages"][1]
    lead.open_beds = 120
    lead.save()

    values = measures.compute(county["alliance"], JUN, JUL, ["beds.open_days", "beds.lead.open_days"])

    assert values[lead.pk, JUN] == {"beds.open_days": 3600, "beds.lead.open_days": 3600}
    assert values[lead.pk, JUL] == {"beds.open_days": 3720, "beds.lead.open_days": 3720}
    assert values[village2.pk, JUN] == {"beds.open_days": 45 * 30} and (village2.pk, JUL) not in values
