"""Measures of encounters (issue 14 point 1), hand-counted on a small county: per institution and
month, non-residents in the visit totals but not in the residents' measures, an admission in the
month of discharge, the insurance feed's rows at facilities outside the alliance counted for the
alliance only (institution None), the month's role deciding "primary" and "lead"."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from alliance import services as hierarchy
from alliance.choices import PlacementRole
from core import measures
from encounters import services
from encounters.measures import ADMISSION_FILTERS, ADMISSIONS, VISIT_FILTERS, VISITS
from tests.alliance.factories import AllianceFactory, InstitutionFactory, build_alliance, place
from tests.encounters.factories import admission, alliance_client, department, outside, visit

pytestmark = pytest.mark.django_db

JAN, FEB, MAR, DEC = (datetime.date(2026, month, 1) for month in (1, 2, 3, 12))
ELSEWHERE = "330106"  # 杭州市西湖区: a patient insured outside the county
VISIT_CODES = [m.code for m in measures.measures() if m.source == "encounters.visits"]
ADMISSION_CODES = [m.code for m in measures.measures() if m.source == "encounters.admissions"]


def send(kind, records, client):
    answer = services.ingest(kind, records, client=client, source="HIS")
    assert answer["rejected"] == 0, answer["errors"]


@pytest.fixture
def county():
    parts = build_alliance(branches=2, villages_per_branch=1)
    county = SimpleNamespace(**parts, admin=alliance_client(parts["alliance"], role="alliance_admin"))
    county.feed = alliance_client(county.alliance)
    for institution in (county.lead, county.collaborating, *county.branches, *county.villages):
        department(institution)
    return county


@pytest.fixture
def activity(county):
    """January: the lead 2 residents' visits (one TCM) and a non-resident's; branch 1 two
    residents'; its village clinic a resident's TCM visit; the collaborating hospital a
    non-resident's; the insurance feed a resident's visit in Hangzhou and one at a private clinic in
    the county. February: no visits. March: branch 2 one resident's visit.
    Admissions: at the lead a resident admitted 28 January, discharged 3 February, and a
    non-resident discharged in February; at branch 1 a resident discharged in January; from the
    insurance feed a resident discharged from a Hangzhou hospital in February."""
    c = county
    paid = {"total_cost": "200.00", "insurance_paid": "100.00"}
    send("visits", [
        visit(1, c.lead, visit_date="2026-01-05", tcm=True, **paid),
        visit(2, c.lead, visit_date="2026-01-06", **paid),
        visit(3, c.lead, visit_date="2026-01-07", resident_region=ELSEWHERE, **paid),
        visit(4, c.branches[0], visit_date="2026-01-08", insurance_paid="30.00"),
        visit(5, c.branches[0], visit_date="2026-01-31", insurance_paid="20.00"),
        visit(6, c.villages[0], visit_date="2026-01-09", tcm=True, insurance_paid="10.00"),
        visit(7, c.collaborating, visit_date="2026-01-10", resident_region=ELSEWHERE),
        visit(8, c.branches[1], visit_date="2026-03-02", insurance_paid="5.00"),
    ], c.admin)  # fmt: skip
    send("visits", [
        outside(9, visit_date="2026-01-11", total_cost="500.00", insurance_paid="300.00"),
        outside(10, facility_code="YW-PRIVATE-01", region="330782", visit_date="2026-01-12", insurance_paid="40.00"),
    ], c.feed)  # fmt: skip
    send("admissions", [
        admission(11, c.lead, admit_date="2026-01-28", discharge_date="2026-02-03",
                  total_cost="8000.00", insurance_paid="5000.00"),
        admission(12, c.lead, admit_date="2026-02-01", discharge_date="2026-02-10", resident_region=ELSEWHERE,
                  total_cost="6000.00", insurance_paid="1000.00"),
        admission(13, c.branches[0], admit_date="2026-01-02", discharge_date="2026-01-06",
                  total_cost="1500.00", insurance_paid="1200.00"),
    ], c.admin)  # fmt: skip
    hangzhou = outside(14, total_cost="30000.00", insurance_paid="18000.00")
    hangzhou.pop("visit_date")
    hangzhou |= {"admit_date": "2026-02-01", "discharge_date": "2026-02-15", "external_id": "A0000014"}
    send("admissions", [hangzhou], c.feed)


@pytest.fixture
def other_county():
    """Another alliance's January visit and admission at its own lead: never counted here."""
    other = build_alliance(alliance=AllianceFactory(region_code="330783"), branches=1)
    department(other["lead"])
    admin = alliance_client(other["alliance"], role="alliance_admin")
    send("visits", [visit(21, other["lead"], visit_date="2026-01-05", resident_region="330783")], admin)
    send("admissions", [admission(22, other["lead"], resident_region="330783",
                                  admit_date="2026-01-02", discharge_date="2026-01-04")], admin)  # fmt: skip
    return other


def test_visits_per_institution_and_month(county, activity, other_county):
    c = county

    values = measures.compute(c.alliance, JAN, MAR, VISIT_CODES)

    assert values == {
        (c.lead.pk, JAN): {
            "visits.in_county": 3,
            "visits.in_county.tcm": 1,
            "visits.residents.in_county": 2,
            "visits.residents.all": 2,
            "visits.insurance.residents.in_county": Decimal("200.00"),
            "visits.insurance.residents.all": Decimal("200.00"),
            "visits.in_county.lead": 3,
        },
        (c.branches[0].pk, JAN): {
            "visits.in_county": 2,
            "visits.in_county.tcm": 0,
            "visits.residents.in_county": 2,
            "visits.residents.all": 2,
            "visits.insurance.residents.in_county": Decimal("50.00"),
            "visits.insurance.residents.all": Decimal("50.00"),
            "visits.in_county.primary": 2,
            "visits.insurance.residents.primary": Decimal("50.00"),
        },
        (c.villages[0].pk, JAN): {
            "visits.in_county": 1,
            "visits.in_county.tcm": 1,
            "visits.residents.in_county": 1,
            "visits.residents.all": 1,
            "visits.insurance.residents.in_county": Decimal("10.00"),
            "visits.insurance.residents.all": Decimal("10.00"),
            "visits.in_county.primary": 1,
            "visits.insurance.residents.primary": Decimal("10.00"),
        },
        # a non-resident's visit: in the totals, in no resident or insurance measure
        (c.collaborating.pk, JAN): {
            "visits.in_county": 1,
            "visits.in_county.tcm": 0,
            "visits.residents.in_county": 0,
            "visits.residents.all": 0,
            "visits.insurance.residents.in_county": Decimal("0.00"),
            "visits.insurance.residents.all": Decimal("0.00"),
        },
        # the insurance feed: Hangzhou (anywhere only) and the private clinic in the county
        (None, JAN): {
            "visits.in_county": 1,
            "visits.in_county.tcm": 0,
            "visits.residents.in_county": 1,
            "visits.residents.all": 2,
            "visits.insurance.residents.in_county": Decimal("40.00"),
            "visits.insurance.residents.all": Decimal("340.00"),
        },
        (c.branches[1].pk, MAR): {
            "visits.in_county": 1,
            "visits.in_county.tcm": 0,
            "visits.residents.in_county": 1,
            "visits.residents.all": 1,
            "visits.insurance.residents.in_county": Decimal("5.00"),
            "visits.insurance.residents.all": Decimal("5.00"),
            "visits.in_county.primary": 1,
            "visits.insurance.residents.primary": Decimal("5.00"),
        },
    }  # February has no visits: no row


def test_admissions_count_in_the_month_of_discharge(county, activity, other_county):
    c = county

    values = measures.compute(c.alliance, JAN, MAR, ADMISSION_CODES)

    assert values == {
        (c.branches[0].pk, JAN): {
            "admissions.in_county": 1,
            "admissions.in_county.cost": Decimal("1500.00"),
            "admissions.residents.in_county": 1,
            "admissions.residents.all": 1,
            "admissions.insurance.residents.in_county": Decimal("1200.00"),
            "admissions.insurance.residents.all": Decimal("1200.00"),
            "admissions.residents.primary": 1,
            "admissions.insurance.residents.primary": Decimal("1200.00"),
        },
        # admitted 28 January, discharged 3 February; and a non-resident's (cost and count only)
        (c.lead.pk, FEB): {
            "admissions.in_county": 2,
            "admissions.in_county.cost": Decimal("14000.00"),
            "admissions.residents.in_county": 1,
            "admissions.residents.all": 1,
            "admissions.insurance.residents.in_county": Decimal("5000.00"),
            "admissions.insurance.residents.all": Decimal("5000.00"),
            "admissions.residents.lead": 1,
        },
        # out of the county from the insurance feed: anywhere, not in the county
        (None, FEB): {
            "admissions.in_county": 0,
            "admissions.in_county.cost": Decimal("0.00"),
            "admissions.residents.in_county": 0,
            "admissions.residents.all": 1,
            "admissions.insurance.residents.in_county": Decimal("0.00"),
            "admissions.insurance.residents.all": Decimal("18000.00"),
        },
    }


def test_the_county_inpatient_share_adds_up_by_hand(county, activity):
    """县域内住院人次占比 of February over the alliance: 1 of the residents' 2 discharges."""
    values = measures.compute(
        county.alliance, FEB, FEB, ["admissions.residents.in_county", "admissions.residents.all"]
    )

    in_county = sum(row.get("admissions.residents.in_county", 0) for row in values.values())
    anywhere = sum(row.get("admissions.residents.all", 0) for row in values.values())
    assert (in_county, anywhere) == (1, 2)


def test_another_alliance_sees_only_its_own_records(county, activity, other_county):
    values = measures.compute(
        other_county["alliance"], JAN, DEC, ["visits.in_county", "admissions.in_county"]
    )

    lead = other_county["lead"].pk
    assert values == {(lead, JAN): {"visits.in_county": 1, "admissions.in_county": 1}}


def test_a_year_costs_one_query_per_table_and_one_for_the_hierarchy(
    county, activity, django_assert_num_queries
):
    with django_assert_num_queries(2):
        unrestricted = measures.compute(
            county.alliance, JAN, DEC, ["visits.in_county", "admissions.in_county"]
        )
    with django_assert_num_queries(3):
        everything = measures.compute(county.alliance, JAN, DEC, VISIT_CODES + ADMISSION_CODES)

    assert (
        everything[county.lead.pk, JAN]["visits.in_county"]
        == unrestricted[county.lead.pk, JAN]["visits.in_county"]
    )


def test_each_table_is_read_by_alliance_and_month_first(county):
    """The WHERE clause names the alliance-month index's leading columns."""
    from encounters.measures import _records
    from encounters.models import OutpatientVisit

    sql = str(_records(OutpatientVisit, county.alliance, JAN, DEC).query)

    assert '"encounters_outpatientvisit"."alliance_id" = ' in sql
    assert (
        '"encounters_outpatientvisit"."month" >= ' in sql
        and '"encounters_outpatientvisit"."month" <= ' in sql
    )


# --- Records (issue 14 point 6): each figure lists the rows it counted ------------------------------
BASE_CODES = [m.code for source in (VISITS, ADMISSIONS) for m in source.base_measures()]
FILTERS = VISIT_FILTERS | ADMISSION_FILTERS


def figure(code, rows):
    """What `rows` add up to for `code`: how many, or the sum of the column the measure sums."""
    summed = FILTERS[code][1]
    return sum((getattr(row, summed) for row in rows), Decimal("0.00")) if summed else len(rows)


def everyone(county):
    return {None, *(i.pk for i in (county.lead, county.collaborating, *county.branches, *county.villages))}


@pytest.mark.parametrize("code", BASE_CODES)
def test_the_records_of_each_figure_add_up_to_it(county, activity, other_county, code):
    values = measures.compute(county.alliance, JAN, MAR, [code])

    for (institution_id, month), row in values.items():
        rows = list(measures.records(county.alliance, month, month, code, {institution_id}))
        assert figure(code, rows) == row[code], (institution_id, month)
        assert {(r.record_institution, r.record_month) for r in rows} <= {(institution_id, month)}
    every = list(measures.records(county.alliance, JAN, MAR, code, everyone(county)))
    assert figure(code, every) == sum((row[code] for row in values.values()), figure(code, []))


def test_records_are_dated_by_the_visit_and_the_discharge(county, activity):
    lead = county.lead.pk

    visits = measures.records(county.alliance, JAN, MAR, "visits.in_county", {lead})
    admissions = measures.records(county.alliance, JAN, MAR, "admissions.in_county", {lead})

    assert [(v.external_id, v.record_date, v.record_month) for v in visits] == [
        (f"V{n:07d}", datetime.date(2026, 1, day), JAN) for n, day in ((1, 5), (2, 6), (3, 7))
    ]
    # admitted 28 January, discharged 3 February: February's, by its discharge
    assert [(a.record_date, a.record_month) for a in admissions] == [
        (datetime.date(2026, 2, 3), FEB),
        (datetime.date(2026, 2, 10), FEB),
    ]


def test_the_institutions_asked_restrict_the_records(county, activity):
    branch = county.branches[0].pk

    rows = measures.records(county.alliance, JAN, MAR, "visits.residents.all", {branch})

    assert [(r.institution_id, r.record_institution) for r in rows] == [(branch, branch)] * 2
    assert not measures.records(county.alliance, JAN, MAR, "visits.residents.all", set()).exists()


def test_none_brings_the_insurance_feeds_rows_outside_the_alliance(county, activity):
    visits = measures.records(county.alliance, JAN, MAR, "visits.residents.all", {None})
    admissions = measures.records(
        county.alliance, JAN, MAR, "admissions.residents.all", {None, county.lead.pk}
    )

    assert [(v.record_institution, v.outside_facility.code) for v in visits] == [
        (None, "ZJ-HZ-001"),  # in Hangzhou
        (None, "YW-PRIVATE-01"),  # a private clinic in the county
    ]
    assert [(a.record_institution, a.insurance_paid) for a in admissions] == [
        (county.lead.pk, Decimal("5000.00")),
        (None, Decimal("18000.00")),
    ]


@pytest.fixture
def upgraded(county):
    """A township health centre that became a collaborating hospital on 1 February: a visit in
    January (primary then) and one in March (not)."""
    institution = InstitutionFactory()
    place(institution, county.alliance, PlacementRole.BRANCH)
    department(institution)
    hierarchy.move_institution(institution, on=FEB, role=PlacementRole.COLLABORATING, acting_user=None)
    send("visits", [
        visit(31, institution, visit_date="2026-01-20"),
        visit(32, institution, visit_date="2026-03-20"),
    ], county.admin)  # fmt: skip
    return institution


def test_a_restricted_figure_lists_the_rows_at_the_roles_of_each_month(county, activity, upgraded):
    everywhere = everyone(county) | {upgraded.pk}

    rows = measures.records(county.alliance, JAN, MAR, "visits.in_county.primary", everywhere)

    primary = {county.branches[0].pk, county.villages[0].pk, county.branches[1].pk}
    assert [(r.record_institution, r.record_month) for r in rows] == [
        (county.branches[0].pk, JAN),
        (county.villages[0].pk, JAN),
        (upgraded.pk, JAN),  # a branch on 31 January; its March visit is a collaborating hospital's
        (county.branches[0].pk, JAN),
        (county.branches[1].pk, MAR),
    ]
    values = measures.compute(county.alliance, JAN, MAR, ["visits.in_county.primary"])
    assert len(rows) == sum(row["visits.in_county.primary"] for row in values.values()) == 5
    assert {i for i, _month in values} == primary | {upgraded.pk}


def test_a_page_of_records_costs_one_query(county, activity, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = measures.records(county.alliance, JAN, MAR, "visits.residents.all", everyone(county))
        names = [(r.institution or r.outside_facility).name for r in rows[:20]]

    assert len(names) == 8
