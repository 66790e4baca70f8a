"""Measures of slots, reserved beds and referrals (issue 14 point 1), hand-counted: per
institution and month, only while the institution is placed in the alliance on the month's last
day, the lead's shares as restricted measures, referrals in the (local) month of each event at
the sender, by pathway."""

import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from alliance import services as hierarchy
from alliance.choices import PlacementRole
from core import measures
from referrals import services
from referrals.choices import OutOfCountyReason
from tests.alliance.factories import AllianceFactory, InstitutionFactory, build_alliance, place
from tests.referrals.factories import beds, department, referral, slots

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
JAN, FEB, MAR, DEC = (datetime.date(2026, month, 1) for month in (1, 2, 3, 12))
POOL_CODES = [
    "slots.published",
    "slots.reserved",
    "slots.lead.published",
    "slots.lead.reserved",
    "beds.reserved_days",
    "beds.lead.reserved_days",
    "beds.open_days",
    "beds.lead.open_days",
]


def at(day, hour=10, minute=0):
    return datetime.datetime(2026, *day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def county():
    return build_alliance(branches=2, villages_per_branch=1)


@pytest.fixture
def other():
    return build_alliance(alliance=AllianceFactory(region_code="330783"), branches=1)


@pytest.fixture
def pools(county, other):
    """January: the lead 9 slots (3 reserved) and 3 + 2 beds; the collaborating hospital 4 slots
    (none reserved); a branch 2 slots (1 reserved). February: the lead 6 slots (2 reserved), the
    collaborating hospital 1 bed, and the branch 2 slots before it moves to the other alliance on
    14 February. The other alliance's lead: 3 slots in January."""
    lead, collaborating = department(county["lead"]), department(county["collaborating"])
    mover = InstitutionFactory(name="移出的卫生院")
    place(mover, county["alliance"], PlacementRole.BRANCH)
    moving = department(mover)
    slots(lead, count=9, reserved=3, date=datetime.date(2026, 1, 15))
    slots(lead, count=6, reserved=2, date=datetime.date(2026, 2, 10))
    slots(collaborating, count=4, reserved=0, date=datetime.date(2026, 1, 20))
    slots(moving, count=2, reserved=1, date=datetime.date(2026, 1, 5))
    slots(moving, count=2, reserved=0, date=datetime.date(2026, 2, 10))
    beds(lead, count=3, date=datetime.date(2026, 1, 15))
    beds(lead, count=2, date=datetime.date(2026, 1, 31))
    beds(collaborating, count=1, date=datetime.date(2026, 2, 1))
    slots(department(other["lead"]), count=3, reserved=1, date=datetime.date(2026, 1, 15))
    hierarchy.move_institution(
        mover,
        on=datetime.date(2026, 2, 14),
        alliance=other["alliance"],
        role=PlacementRole.BRANCH,
        acting_user=None,
    )
    return mover


def test_slots_and_beds_per_institution_and_month(county, other, pools):
    lead, collaborating = county["lead"].pk, county["collaborating"].pk

    values = measures.compute(county["alliance"], JAN, FEB, POOL_CODES)

    open_days = {  # 45 open beds (the factory's) × the days of the month
        (institution.pk, month): {"beds.open_days": 45 * days}
        for institution in [county["lead"], county["collaborating"], *county["branches"], *county["villages"]]
        for month, days in ((JAN, 31), (FEB, 28))
    }
    for month, days in ((JAN, 31), (FEB, 28)):
        open_days[lead, month]["beds.lead.open_days"] = 45 * days
    open_days[pools.pk, JAN] = {"beds.open_days": 45 * 31}  # in the alliance on 31 January only
    assert values == open_days | {
        (lead, JAN): {
            "slots.published": 9,
            "slots.reserved": 3,
            "slots.lead.published": 9,
            "slots.lead.reserved": 3,
            "beds.reserved_days": 5,
            "beds.lead.reserved_days": 5,
            "beds.open_days": 1395,
            "beds.lead.open_days": 1395,
        },
        (lead, FEB): {
            "slots.published": 6,
            "slots.reserved": 2,
            "slots.lead.published": 6,
            "slots.lead.reserved": 2,
            "beds.open_days": 1260,
            "beds.lead.open_days": 1260,
        },
        (collaborating, JAN): {"slots.published": 4, "slots.reserved": 0, "beds.open_days": 1395},
        (collaborating, FEB): {"beds.reserved_days": 1, "beds.open_days": 1260},
        # the branch's February slots count where it stood on 28 February: the other alliance
        (pools.pk, JAN): {"slots.published": 2, "slots.reserved": 1, "beds.open_days": 1395},
    }


def test_the_institution_that_moved_counts_in_its_new_alliance_for_the_month(county, other, pools):
    values = measures.compute(other["alliance"], JAN, FEB, ["slots.published", "slots.lead.published"])

    assert values == {
        (other["lead"].pk, JAN): {"slots.published": 3, "slots.lead.published": 3},
        (pools.pk, FEB): {"slots.published": 2},
    }


def test_pools_cost_one_query_per_table_and_one_for_the_hierarchy(county, pools, django_assert_num_queries):
    with django_assert_num_queries(4):  # slots, beds, placements (open beds), the hierarchy
        measures.compute(county["alliance"], JAN, DEC, POOL_CODES)


@pytest.fixture
def referrals(county, other):
    """The referrals of the test below; returns nothing, the test counts by hand."""
    lead, collaborating = county["lead"], county["collaborating"]
    (branch, branch2), (village, _village2) = county["branches"], county["villages"]
    outside = InstitutionFactory(name="浙大一院", region_code="330106")  # in no alliance

    def move(r, verb, when):
        getattr(services, verb)(
            r, acting_user=None, now=when, **({"summary": "好转"} if verb == "complete_referral" else {})
        )

    def through(r, accepted=None, completed=None):
        if accepted:
            move(r, "accept_referral", accepted)
        if completed:
            move(r, "record_arrival", completed)
            move(r, "complete_referral", completed)

    # up 村→乡: submitted and accepted in January, completed in February
    through(referral(village, branch, n=1, now=at((1, 10))), accepted=at((1, 11)), completed=at((2, 2)))
    # up 乡→县: accepted at 00:30 on 1 February in Shanghai (still 31 January in UTC), completed in March
    through(referral(branch, lead, n=2, now=at((1, 20))), accepted=at((2, 1), 0, 30), completed=at((3, 5)))
    # up out of the county (县→县外), never answered
    referral(lead, outside, n=3, now=at((1, 25)), reason_code=OutOfCountyReason.BEYOND_CAPABILITY)
    # down 县→乡, all in February; down 乡→村, submitted in February
    through(referral(lead, branch2, n=4, now=at((2, 3))), accepted=at((2, 4)), completed=at((2, 10)))
    referral(branch, village, n=5, now=at((2, 5)))
    # up from a village clinic straight to the lead (村→县)
    referral(village, lead, n=6, now=at((2, 6)))
    # not counted: a draft, a lateral referral, the other alliance's
    referral(branch2, lead, n=7, now=at((1, 12)), submit=False)
    referral(branch, branch2, n=8, now=at((1, 13)))
    referral(other["branches"][0], other["lead"], n=9, now=at((1, 14)))
    # submitted in December 2025, completed in January: January's completed only
    late = referral(branch2, collaborating, n=10, now=datetime.datetime(2025, 12, 20, 10, tzinfo=SHANGHAI))
    through(late, accepted=datetime.datetime(2025, 12, 21, 10, tzinfo=SHANGHAI), completed=at((1, 15)))


def test_referrals_count_at_the_sender_in_the_month_of_each_event(county, referrals):
    lead, collaborating = county["lead"].pk, county["collaborating"].pk
    (branch, branch2), (village, _village2) = (
        (b.pk for b in county["branches"]),
        (v.pk for v in county["villages"]),
    )
    codes = [m.code for m in measures.measures() if m.source == "referrals.referrals"]

    values = measures.compute(county["alliance"], JAN, MAR, codes)

    assert values == {
        (village, JAN): {
            "referrals.up.submitted": 1,
            "referrals.up.village_township.submitted": 1,
            "referrals.up.accepted": 1,
            "referrals.up.village_township.accepted": 1,
        },
        (village, FEB): {
            "referrals.up.completed": 1,
            "referrals.up.village_township.completed": 1,
            "referrals.up.submitted": 1,  # straight to the lead
            "referrals.up.village_county.submitted": 1,
        },
        (branch, JAN): {"referrals.up.submitted": 1, "referrals.up.township_county.submitted": 1},
        (branch, FEB): {
            "referrals.up.accepted": 1,
            "referrals.up.township_county.accepted": 1,
            "referrals.down.submitted": 1,
            "referrals.down.township_village.submitted": 1,
        },
        (branch, MAR): {"referrals.up.completed": 1, "referrals.up.township_county.completed": 1},
        (lead, JAN): {"referrals.up.submitted": 1, "referrals.up.out_of_county.submitted": 1},
        (lead, FEB): {
            "referrals.down.submitted": 1,
            "referrals.down.county_township.submitted": 1,
            "referrals.down.accepted": 1,
            "referrals.down.county_township.accepted": 1,
            "referrals.down.completed": 1,
            "referrals.down.county_township.completed": 1,
        },
        (branch2, JAN): {"referrals.up.completed": 1, "referrals.up.township_county.completed": 1},
    }
    assert collaborating not in {institution for institution, _month in values}


def test_the_pathways_of_a_direction_add_up_to_its_total(county, referrals):
    codes = [m.code for m in measures.measures() if m.source == "referrals.referrals"]

    values = measures.compute(county["alliance"], JAN, MAR, codes)

    for row in values.values():
        totals, ways = Counter(), Counter()
        for code, n in row.items():
            _referrals, direction, *way, event = code.split(".")
            (ways if way else totals)[direction, event] += n
        assert ways == totals


def test_referrals_cost_one_query_for_a_year(county, referrals, django_assert_num_queries):
    with django_assert_num_queries(1):
        values = measures.compute(
            county["alliance"], JAN, DEC, ["referrals.up.submitted", "referrals.down.completed"]
        )

    assert sum(row.get("referrals.up.submitted", 0) for row in values.values()) == 4  # 2025's not


# --- Records (issue 14 point 6): each figure lists the rows it counted ------------------------------
def placed(county, *more):
    return {
        i.pk
        for i in (county["lead"], county["collaborating"], *county["branches"], *county["villages"], *more)
    }


def test_the_records_of_each_pool_figure_add_up_to_it(county, other, pools):
    every = placed(county, pools)

    for code in ["slots.published", "slots.reserved", "beds.reserved_days"]:
        values = measures.compute(county["alliance"], JAN, FEB, [code])
        for (institution_id, month), row in values.items():
            rows = measures.records(county["alliance"], month, month, code, {institution_id})
            assert len(rows) == row[code], (code, institution_id, month)
            assert {(r.record_institution, r.record_month) for r in rows} <= {(institution_id, month)}
        total = len(measures.records(county["alliance"], JAN, FEB, code, every))
        assert total == sum(row[code] for row in values.values()), code


def test_pool_records_are_the_days_they_are_for_while_placed(county, other, pools):
    every = placed(county, pools)

    slots_ = measures.records(county["alliance"], JAN, FEB, "slots.reserved", every)
    moved = measures.records(other["alliance"], JAN, FEB, "slots.published", {pools.pk})

    assert [(s.record_institution, s.record_date) for s in slots_] == [
        (pools.pk, datetime.date(2026, 1, 5)),  # the branch's January slot: here until 14 February
        *[(county["lead"].pk, datetime.date(2026, 1, 15))] * 3,
        *[(county["lead"].pk, datetime.date(2026, 2, 10))] * 2,
    ]
    assert [(s.record_date, s.record_month) for s in moved] == [(datetime.date(2026, 2, 10), FEB)] * 2


def test_the_lead_share_lists_the_leads_rows_only(county, other, pools, django_assert_num_queries):
    every = placed(county, pools)

    with django_assert_num_queries(2):  # the hierarchy, then the page with its institutions
        rows = measures.records(county["alliance"], JAN, FEB, "slots.lead.published", every)
        labels = [(s.institution.name, str(s)) for s in rows]

    assert {s.record_institution for s in rows} == {county["lead"].pk}
    assert len(labels) == 15 and {name for name, _label in labels} == {"县人民医院"}
    beds_ = measures.records(county["alliance"], JAN, FEB, "beds.lead.reserved_days", every)
    assert [b.record_date for b in beds_] == [datetime.date(2026, 1, 15)] * 3 + [
        datetime.date(2026, 1, 31)
    ] * 2


def test_the_institutions_asked_restrict_the_pool_records(county, pools):
    collaborating = county["collaborating"].pk

    rows = measures.records(county["alliance"], JAN, FEB, "slots.published", {collaborating, None})

    assert [s.record_institution for s in rows] == [collaborating] * 4


REFERRAL_CODES = [m.code for m in measures.measures() if m.source == "referrals.referrals"]


@pytest.mark.parametrize("code", REFERRAL_CODES)
def test_the_records_of_each_referral_figure_add_up_to_it(county, referrals, code):
    values = measures.compute(county["alliance"], JAN, MAR, [code])

    for (institution_id, month), row in values.items():
        rows = measures.records(county["alliance"], month, month, code, {institution_id})
        assert len(rows) == row[code], (institution_id, month)
        assert {(r.record_institution, r.record_month) for r in rows} == {(institution_id, month)}
    total = len(measures.records(county["alliance"], JAN, MAR, code, placed(county)))
    assert total == sum(row[code] for row in values.values())


def test_referral_records_are_dated_by_the_event_of_the_code(county, referrals):
    branch, lead = county["branches"][0], county["lead"]

    sent = measures.records(
        county["alliance"], JAN, MAR, "referrals.up.township_county.submitted", {branch.pk}
    )
    accepted = measures.records(
        county["alliance"], JAN, MAR, "referrals.up.township_county.accepted", {branch.pk}
    )
    completed = measures.records(county["alliance"], JAN, MAR, "referrals.up.completed", {branch.pk})

    assert [(r.to_institution, r.record_date, r.record_month) for r in sent] == [
        (lead, datetime.date(2026, 1, 20), JAN)
    ]
    # accepted at 00:30 on 1 February in Shanghai (31 January in UTC): February's
    assert [(r.record_date, r.record_month) for r in accepted] == [(datetime.date(2026, 2, 1), FEB)]
    assert [(r.record_date, r.record_month) for r in completed] == [(datetime.date(2026, 3, 5), MAR)]


def test_referral_records_follow_the_pathway_and_the_sender(county, referrals):
    village, lead = county["villages"][0].pk, county["lead"].pk

    village_up = measures.records(county["alliance"], JAN, MAR, "referrals.up.submitted", {village})
    to_county = measures.records(
        county["alliance"], JAN, MAR, "referrals.up.village_county.submitted", placed(county)
    )
    out = measures.records(
        county["alliance"], JAN, MAR, "referrals.up.out_of_county.submitted", placed(county)
    )

    assert [(r.record_institution, r.to_institution.name) for r in village_up] == [
        (village, county["branches"][0].name),
        (village, "县人民医院"),
    ]
    assert [(r.record_institution, r.to_institution_id) for r in to_county] == [(village, lead)]
    assert [(r.record_institution, r.to_institution.name) for r in out] == [(lead, "浙大一院")]
    # drafts, lateral referrals and the other alliance's are never listed
    every = measures.records(county["alliance"], JAN, MAR, "referrals.up.submitted", placed(county))
    assert len(every) == 4 and not measures.records(
        county["alliance"], JAN, MAR, "referrals.up.submitted", set()
    )
