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
from core.measures import month_end
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


# --- Records (issue 14 point 6): the placements whose open beds a figure counted ---------------------
def everyone(county):
    return {
        i.pk
        for i in (
            county["lead"],
            county["collaborating"],
            *county["branches"],
            *county["villages"],
            county["upgraded"],
        )
    }


def test_the_records_of_each_month_are_the_placements_it_counted(county):
    values = measures.compute(county["alliance"], MAY, JUL, ["beds.open_days"])

    for (institution_id, month), row in values.items():
        rows = measures.records(county["alliance"], month, month, "beds.open_days", {institution_id})
        assert [(p.record_institution, p.record_month) for p in rows] == [(institution_id, month)]
        assert rows[0].institution.open_beds * month_end(month).day == row["beds.open_days"]
    for month in (MAY, JUN, JUL):
        rows = measures.records(county["alliance"], month, month, "beds.open_days", everyone(county))
        assert len(rows) == sum(1 for _institution, counted in values if counted == month)


def test_a_placement_is_listed_once_in_the_last_month_it_counts_in(county):
    (_branch, branch2), (village, village2) = county["branches"], county["villages"]
    upgraded = county["upgraded"]
    asked = {village.pk, village2.pk, upgraded.pk}

    rows = measures.records(county["alliance"], MAY, JUL, "beds.open_days", asked)

    assert [(p.institution, p.role, p.parent_id, p.record_month) for p in rows] == [
        (village, "village", county["branches"][0].pk, MAY),  # moved on 30 June
        (village2, "village", branch2.pk, JUN),  # left on 1 July
        (upgraded, "branch", None, MAY),
        (upgraded, "collaborating", None, JUL),
        (village, "village", branch2.pk, JUL),
    ]
    assert [p.record_date for p in rows] == sorted(p.valid_from for p in rows)


def test_the_leads_open_bed_days_list_the_lead_only(county, django_assert_num_queries):
    with django_assert_num_queries(3):  # the placements counted, the hierarchy, the page
        rows = measures.records(county["alliance"], MAY, JUL, "beds.lead.open_days", everyone(county))
        names = [(p.institution.name, str(p)) for p in rows]

    assert [name for name, _label in names] == ["县人民医院"]
    assert not measures.records(county["alliance"], MAY, JUL, "beds.open_days", {None})
