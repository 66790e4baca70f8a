"""The monthly computation (issue 14 points 2, 4, 5 and 8), hand-counted on a small county.

The county: a lead hospital, a collaborating hospital, branches B1 and B2, village clinic V1 under
B1 until it moves to B2 on 15 June 2026 (so June is B2's: the hierarchy of the month's last day)
and V2 under B2. Visits (all of county residents unless said):
- January: the lead 1 visit and 1 of a non-resident; B1 2 visits; V1 1 TCM visit.
- July: V1 1 visit, B2 1 visit.
Admissions: a resident at the lead admitted 28 January, discharged 3 February (a February
admission); a non-resident at the lead discharged in February; the insurance feed: a resident
discharged from a Hangzhou hospital in February.
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from alliance import services as hierarchy
from assessment import services
from assessment.models import IndicatorMonth, IndicatorValue, MeasureSnapshot, Restatement
from assessment.services import indicators
from core import measures
from core.exceptions import Conflict
from core.models import MeasureChange
from encounters import services as encounters
from encounters.models import IngestBatch, OutpatientVisit
from tests.alliance.factories import build_alliance
from tests.encounters.factories import admission, alliance_client, department, outside, visit
from tests.members.factories import MembershipFactory

pytestmark = pytest.mark.django_db

D = datetime.date
JAN, FEB, MAR, JUN, JUL = (D(2026, m, 1) for m in (1, 2, 3, 6, 7))
MONTHS = measures.month_range(JAN, JUL)
ELSEWHERE = "330106"


def send(kind, records, client):
    answer = encounters.ingest(kind, records, client=client, source="HIS")
    assert answer["rejected"] == 0, answer["errors"]
    return answer


@pytest.fixture
def county():
    parts = build_alliance(branches=2, villages_per_branch=1)
    c = SimpleNamespace(**parts)
    c.b1, c.b2 = c.branches
    c.v1, c.v2 = c.villages
    c.admin = alliance_client(c.alliance, role="alliance_admin")
    c.feed = alliance_client(c.alliance)
    for institution in (c.lead, c.collaborating, *c.branches, *c.villages):
        department(institution)
    hierarchy.move_institution(c.v1, on=D(2026, 6, 15), parent=c.b2, acting_user=None)
    return c


@pytest.fixture
def activity(county):
    c = county
    send("visits", [
        visit(1, c.lead, visit_date="2026-01-05"),
        visit(2, c.lead, visit_date="2026-01-06", resident_region=ELSEWHERE),
        visit(3, c.b1, visit_date="2026-01-07"),
        visit(4, c.b1, visit_date="2026-01-08"),
        visit(5, c.v1, visit_date="2026-01-09", tcm=True),
        visit(6, c.v1, visit_date="2026-07-02"),
        visit(7, c.b2, visit_date="2026-07-03"),
    ], c.admin)  # fmt: skip
    send("admissions", [
        admission(11, c.lead, admit_date="2026-01-28", discharge_date="2026-02-03", total_cost="8000.00"),
        admission(12, c.lead, admit_date="2026-02-01", discharge_date="2026-02-10", resident_region=ELSEWHERE,
                  total_cost="6000.00"),
    ], c.admin)  # fmt: skip
    hangzhou = outside(14, total_cost="30000.00", insurance_paid="18000.00")
    hangzhou.pop("visit_date")
    hangzhou |= {"admit_date": "2026-02-01", "discharge_date": "2026-02-15", "external_id": "A0000014"}
    send("admissions", [hangzhou], c.feed)
    return c


def value(county, code, month, scope="alliance", institution=None, period="month"):
    return IndicatorValue.objects.get(
        alliance=county.alliance,
        indicator=code,
        month=month,
        scope=scope,
        institution=institution,
        period=period,
    )


def rows(county):
    fields = (
        "id",
        "indicator",
        "scope",
        "institution",
        "month",
        "period",
        "numerator",
        "denominator",
        "value",
    )
    return sorted(IndicatorValue.objects.filter(alliance=county.alliance).values_list(*fields))


# --- Hand-counted figures ---------------------------------------------------------------------------
def test_non_residents_count_in_visit_denominators(activity):
    indicators.compute_indicators(activity.alliance, MONTHS)

    share = value(activity, "primary_visit_share", JAN)
    # primary: B1 2 + V1 1; every in-county visit: those 3 + the lead's 2 (one a non-resident's)
    assert (share.numerator, share.denominator, share.value) == (3, 5, Decimal("60.00"))
    assert share.input_rows == 5
    assert share.definition.code == "primary_visit_share" and share.definition.version == 1


def test_a_clinic_moved_in_mid_year_counts_under_the_branch_of_each_month(activity):
    c = activity
    indicators.compute_indicators(c.alliance, MONTHS)

    b1_january = value(c, "tcm_visit_share", JAN, "township", c.b1)
    assert (b1_january.numerator, b1_january.denominator, b1_january.value) == (1, 3, Decimal("33.33"))
    b2_january = value(c, "tcm_visit_share", JAN, "township", c.b2)
    assert (b2_january.denominator, b2_january.value, b2_january.null_reason) == (0, None, "zero_denominator")
    b2_july = value(c, "tcm_visit_share", JUL, "township", c.b2)
    assert (b2_july.numerator, b2_july.denominator, b2_july.value) == (0, 2, Decimal("0.00"))
    b1_july = value(c, "tcm_visit_share", JUL, "township", c.b1)
    assert (b1_july.denominator, b1_july.value) == (0, None)


def test_an_admission_counts_in_the_month_of_discharge_and_out_of_county_care_for_residents_only(activity):
    indicators.compute_indicators(activity.alliance, MONTHS)

    february = value(activity, "county_inpatient_share", FEB)
    # residents discharged in the county (the lead's, admitted in January) ÷ residents anywhere
    # (that one and Hangzhou's); the non-resident's discharge counts in neither
    assert (february.numerator, february.denominator, february.value) == (1, 2, Decimal("50.00"))
    january = value(activity, "county_inpatient_share", JAN)
    assert (january.denominator, january.value, january.null_reason) == (0, None, "zero_denominator")
    cost = value(activity, "inpatient_cost_per_case", FEB)
    assert (cost.numerator, cost.denominator, cost.value) == (14000, 2, Decimal("7000.00"))


def test_year_to_date_sums_the_months_each_on_its_own_hierarchy(activity):
    c = activity
    indicators.compute_indicators(c.alliance, MONTHS)

    share = value(c, "primary_visit_share", JUL, period="ytd")
    assert (share.numerator, share.denominator, share.value) == (5, 7, Decimal("71.43"))
    b2 = value(c, "tcm_visit_share", JUL, "township", c.b2, period="ytd")
    assert (b2.numerator, b2.denominator) == (0, 2)  # V1's January TCM visit stays B1's
    b1 = value(c, "tcm_visit_share", JUL, "township", c.b1, period="ytd")
    assert (b1.numerator, b1.denominator, b1.value) == (1, 3, Decimal("33.33"))


def test_institutions_without_records_of_the_sources_get_no_row(activity):
    c = activity
    indicators.compute_indicators(c.alliance, [JAN])

    tcm = IndicatorValue.objects.filter(
        indicator="tcm_visit_share", month=JAN, scope="institution", period="month"
    )
    assert set(tcm.values_list("institution", flat=True)) == {c.lead.pk, c.b1.pk, c.v1.pk}
    assert value(c, "tcm_visit_share", JAN, "institution", c.v1).value == Decimal("100.00")


def test_one_month_computed_alone_reads_the_year_to_date_from_earlier_snapshots(activity):
    c = activity
    indicators.compute_indicators(c.alliance, MONTHS)
    before = value(c, "primary_visit_share", JUL, period="ytd")

    indicators.compute_indicators(c.alliance, [JUL])

    after = value(c, "primary_visit_share", JUL, period="ytd")
    assert (after.pk, after.numerator, after.denominator) == (before.pk, 5, 7)


def test_a_month_never_computed_is_read_from_the_tables_for_the_year_to_date(activity):
    indicators.compute_indicators(activity.alliance, [JUL])

    share = value(activity, "primary_visit_share", JUL, period="ytd")
    assert (share.numerator, share.denominator) == (5, 7)
    assert set(IndicatorMonth.objects.values_list("month", flat=True)) == {JUL}
    assert set(MeasureSnapshot.objects.values_list("month", flat=True)) == {JUL}


# --- Idempotence, isolation, failure -------------------------------------------------------------
def test_a_repeated_computation_gives_identical_rows(activity):
    indicators.compute_indicators(activity.alliance, MONTHS)
    first = rows(activity)

    indicators.compute_indicators(activity.alliance, MONTHS)

    assert rows(activity) == first
    assert not Restatement.objects.exists()


def test_a_recompute_rewrites_only_the_figures_and_snapshots_that_changed(activity):
    c = activity
    first, later = (datetime.datetime(2026, 8, day, tzinfo=datetime.UTC) for day in (1, 2))
    indicators.compute_indicators(c.alliance, [JAN], now=first)
    snapshots = dict(MeasureSnapshot.objects.values_list("institution_id", "pk"))
    send("visits", [visit(30, c.b2, visit_date="2026-01-30")], c.admin)  # B2 had none in January

    indicators.compute_indicators(c.alliance, [JAN], now=later)

    assert value(c, "primary_visit_share", JAN).computed_at == later  # 5 of 7 now
    assert value(c, "tcm_visit_share", JAN, "institution", c.lead).computed_at == first
    assert IndicatorMonth.objects.get(alliance=c.alliance, month=JAN).computed_at == later
    kept = dict(MeasureSnapshot.objects.values_list("institution_id", "pk"))
    assert {i: pk for i, pk in kept.items() if i != c.b2.pk} == {
        i: pk for i, pk in snapshots.items() if i != c.b2.pk
    }
    assert kept[c.b2.pk] != snapshots.get(c.b2.pk)  # B2's measures changed: a new snapshot


def test_computing_one_month_never_touches_another(activity):
    c = activity
    indicators.compute_indicators(c.alliance, [JAN, FEB])
    february = rows(c)
    february = [row for row in february if row[4] == FEB]
    IndicatorValue.objects.filter(month=FEB).update(value=Decimal("99"))

    indicators.compute_indicators(c.alliance, [JAN])

    assert set(IndicatorValue.objects.filter(month=FEB).values_list("value", flat=True)) == {Decimal("99")}
    assert len(february) == IndicatorValue.objects.filter(month=FEB).count()


def test_a_failure_leaves_the_month_being_written_as_it_was(activity, monkeypatch):
    c = activity
    indicators.compute_indicators(c.alliance, [JAN, FEB])
    before = rows(c)
    send(
        "visits",
        [visit(20, c.b1, visit_date="2026-02-04"), visit(21, c.b1, visit_date="2026-01-20")],
        c.admin,
    )
    original = indicators._replace_snapshots

    def fail_in_february(alliance, month, snapshots):
        if month == FEB:
            raise RuntimeError("the database went away")
        original(alliance, month, snapshots)

    monkeypatch.setattr(indicators, "_replace_snapshots", fail_in_february)
    with pytest.raises(RuntimeError):
        indicators.compute_indicators(c.alliance, [JAN, FEB])

    after = rows(c)
    assert [row for row in after if row[4] == FEB] == [row for row in before if row[4] == FEB]
    assert value(c, "primary_visit_share", JAN).numerator == 4  # January was written and kept
    assert MeasureChange.objects.filter(month=FEB).exists()  # February stays dirty


# --- Late data and publication ------------------------------------------------------------------
def test_late_data_marks_the_month_and_restates_a_published_value(activity):
    c = activity
    bureau = MembershipFactory(role="bureau", alliance=c.alliance).user
    indicators.compute_indicators(c.alliance, MONTHS)
    services.publish_month(c.alliance, JAN, acting_user=bureau)
    published = value(c, "primary_visit_share", JAN)

    answer = send("visits", [visit(30, c.b1, visit_date="2026-01-30")], c.admin)

    batch = IngestBatch.objects.latest("pk")
    assert answer["created"] == 1
    assert indicators.dirty_months()[c.alliance.pk][0] == JAN
    indicators.compute_indicators(c.alliance, indicators.dirty_months()[c.alliance.pk])
    restated = value(c, "primary_visit_share", JAN)
    assert restated.pk == published.pk and restated.restated
    assert (restated.numerator, restated.denominator, restated.value) == (4, 6, Decimal("66.67"))
    restatement = Restatement.objects.get(value=restated)
    assert (restatement.old_value, restatement.new_value) == (Decimal("60.00"), Decimal("66.67"))
    assert restatement.causes[0]["type"] == "encounters.ingestbatch"
    assert restatement.causes[0]["id"] == batch.pk
    assert indicators.dirty_months() == {}


def test_a_later_months_year_to_date_restated_by_an_earlier_correction_names_it(activity):
    c = activity
    bureau = MembershipFactory(role="bureau", alliance=c.alliance).user
    indicators.compute_indicators(c.alliance, MONTHS)
    for month in MONTHS:
        services.publish_month(c.alliance, month, acting_user=bureau)

    send("visits", [visit(31, c.b1, visit_date="2026-01-29")], c.admin)
    batch = IngestBatch.objects.latest("pk")
    indicators.compute_indicators(c.alliance, indicators.dirty_months()[c.alliance.pk])

    later = [m for m in MONTHS if m > JAN]
    restatements = Restatement.objects.filter(month__in=later, value__period="ytd")
    assert restatements.exists()
    assert all(r.causes and r.causes[0]["id"] == batch.pk for r in restatements)


def test_a_published_figure_whose_records_are_withdrawn_is_restated_not_deleted(activity):
    c = activity
    bureau = MembershipFactory(role="bureau", alliance=c.alliance).user
    indicators.compute_indicators(c.alliance, [JAN])
    services.publish_month(c.alliance, JAN, acting_user=bureau)
    published = value(c, "tcm_visit_share", JAN, "institution", c.v1)  # V1's one TCM visit
    assert published.value == Decimal("100.00")
    OutpatientVisit.objects.filter(institution=c.v1, month=JAN).delete()  # a correction of the HIS
    measures.mark_changed(c.alliance, [JAN], published)

    indicators.compute_indicators(c.alliance, [JAN])

    kept = value(c, "tcm_visit_share", JAN, "institution", c.v1)
    assert kept.pk == published.pk and kept.restated
    assert (kept.numerator, kept.denominator, kept.value, kept.input_rows) == (0, 0, None, 0)
    restatement = Restatement.objects.get(value=kept)
    assert (restatement.old_value, restatement.new_value) == (Decimal("100.00"), None)
    indicators.compute_indicators(c.alliance, [JAN])  # and it stays so, restated once
    assert Restatement.objects.filter(value=kept).count() == 1


def test_a_provisional_month_changes_without_a_restatement(activity):
    c = activity
    indicators.compute_indicators(c.alliance, [JAN])
    send("visits", [visit(30, c.b1, visit_date="2026-01-30")], c.admin)

    indicators.compute_indicators(c.alliance, [JAN])

    assert value(c, "primary_visit_share", JAN).value == Decimal("66.67")
    assert not value(c, "primary_visit_share", JAN).restated
    assert not Restatement.objects.exists()


def test_a_definition_edited_after_values_exist(activity):
    c = activity
    bureau = MembershipFactory(role="bureau", alliance=c.alliance).user
    indicators.compute_indicators(c.alliance, [JAN])
    services.publish_month(c.alliance, JAN, acting_user=bureau)
    old = value(c, "primary_visit_share", JAN).definition
    revised = services.revise_definition(
        old, acting_user=bureau, numerator="#{visits.in_county.primary} + #{visits.in_county.lead}",
        effective_from=D(2025, 1, 1),
    )  # fmt: skip
    assert value(c, "primary_visit_share", JAN).definition == old  # kept until recomputed

    indicators.compute_indicators(c.alliance, [JAN])

    now = value(c, "primary_visit_share", JAN)
    assert now.definition == revised and (now.numerator, now.value) == (5, Decimal("100.00"))
    restatement = Restatement.objects.get(value=now)
    assert (restatement.old_version, restatement.new_version) == (1, 2)
    assert restatement.causes == [{"type": "assessment.indicatordefinition", "id": revised.pk, "version": 2}]


def test_publishing_needs_the_bureau_and_a_computed_month(activity):
    c = activity
    bureau = MembershipFactory(role="bureau", alliance=c.alliance).user
    committee = MembershipFactory(role="committee", alliance=c.alliance).user
    with pytest.raises(Conflict) as error:
        services.publish_month(c.alliance, JAN, acting_user=bureau)
    assert error.value.code == "month_not_computed"
    indicators.compute_indicators(c.alliance, [JAN])
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.publish_month(c.alliance, JAN, acting_user=committee)
    services.publish_month(c.alliance, JAN, acting_user=bureau)
    with pytest.raises(Conflict) as again:
        services.publish_month(c.alliance, JAN, acting_user=bureau)
    assert again.value.code == "month_already_published"


def test_dirty_months_bring_the_later_months_of_the_year_and_a_year_later(activity):
    c = activity
    indicators.compute_indicators(c.alliance, MONTHS)
    MeasureChange.objects.all().delete()
    measures.mark_changed(c.alliance, [MAR], IngestBatch.objects.first())

    assert indicators.dirty_months() == {c.alliance.pk: [MAR, D(2026, 4, 1), D(2026, 5, 1), JUN, JUL]}


def test_the_schedule_takes_last_year_in_january_and_february():
    assert indicators.schedule_months(D(2026, 2, 2))[0] == D(2025, 1, 1)
    assert indicators.schedule_months(D(2026, 3, 2)) == [JAN, FEB, MAR]


# --- Today's hierarchy, the labelled alternative ------------------------------------------------
def test_todays_hierarchy_rolls_every_month_up_by_todays_branches(activity):
    from assessment.figures import values_on_todays_hierarchy

    c = activity
    indicators.compute_indicators(c.alliance, MONTHS)

    today_rows = {
        (row.scope, row.institution_id, row.period): row
        for row in values_on_todays_hierarchy(c.alliance, JAN, codes=["tcm_visit_share"], on=D(2026, 12, 1))
    }

    b2 = today_rows["township", c.b2.pk, "month"]
    assert (b2.numerator, b2.denominator, b2.value, b2.hierarchy) == (1, 1, Decimal("100.00"), "today")
    b1 = today_rows["township", c.b1.pk, "month"]
    assert (b1.numerator, b1.denominator, b1.value) == (0, 2, Decimal("0.00"))
    # the default stays the hierarchy of the month, and nothing was stored for today's view
    assert value(c, "tcm_visit_share", JAN, "township", c.b1).denominator == 3
    assert not IndicatorValue.objects.filter(
        month=JAN, scope="township", institution=c.b2, numerator=1
    ).exists()


def test_marks_of_months_never_computed_are_forgotten_by_the_nightly_run(activity):
    from assessment.tasks import recompute_dirty_months_task

    c = activity
    indicators.compute_indicators(c.alliance, [JAN])
    batch = IngestBatch.objects.first()
    measures.mark_changed(c.alliance, [D(2019, 10, 1), JAN], batch)

    recompute_dirty_months_task.delay()

    assert not MeasureChange.objects.exists()  # JAN recomputed and taken in, 2019-10 forgotten
    assert set(IndicatorMonth.objects.values_list("month", flat=True)) == {JAN}
