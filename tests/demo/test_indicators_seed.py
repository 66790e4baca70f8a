"""The demo's indicators (issue 14): the year of activity computed, published but for the last
months, figures that agree with the activity seeded, the latest published month restated by
the lead hospital's corrected admissions, and warnings of every kind, raised by the computation
from the activity as generated (issue 15 point 7)."""

import datetime
from decimal import Decimal

from django.db.models import Count, Q

from assessment.models import (
    IndicatorMonth,
    IndicatorValue,
    IndicatorWarning,
    MeasureSnapshot,
    Restatement,
    WarningKind,
)
from assessment.services.warnings import SIPHONING_POINTS
from core.measures import month_range
from core.models import MeasureChange
from demo.services.activity import CLOSED
from demo.services.context import add_months
from encounters.models import Admission, IngestBatch, OutpatientVisit
from tests.demo.conftest import DATES

RESTATED = datetime.date(2026, 9, 1)  # the latest published month: two before the last (2026-11)
# The correction came in the anchor's night batch, 00:40 in Shanghai.
NIGHT_BATCH = datetime.datetime(2026, 12, 3, 0, 40, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def test_every_month_of_the_year_is_computed_and_the_last_two_are_provisional(county):
    months = month_range(DATES.period_start, DATES.period_end)
    states = {state.month: state for state in IndicatorMonth.objects.filter(alliance=county.alliance)}

    assert set(states) == set(months)
    provisional = sorted(month for month, state in states.items() if not state.is_published)
    assert provisional == months[-3:]  # the last two whole months and the anchor's month so far
    assert not MeasureChange.objects.filter(alliance_id=county.alliance.pk).exists()


def test_the_in_county_visits_of_a_month_are_the_visits_seeded(county):
    month = DATES.last_month
    share = IndicatorValue.objects.get(
        alliance=county.alliance,
        indicator="primary_visit_share",
        month=month,
        scope="alliance",
        period="month",
    )
    seeded = OutpatientVisit.objects.filter(alliance=county.alliance, month=month, in_county=True).count()

    assert share.denominator == seeded > 0
    assert Decimal(0) < share.value < Decimal(100)
    assert MeasureSnapshot.objects.filter(alliance=county.alliance, month=month).exists()


def test_the_latest_published_month_is_restated_by_the_lead_hospitals_corrected_admissions(county):
    batch = IngestBatch.objects.get()  # the demo's one batch through the ingest service: the correction
    restatements = Restatement.objects.filter(alliance=county.alliance).select_related("value")
    figures = {(r.value.indicator, r.value.period): r for r in restatements}
    corrected = Admission.objects.filter(received_at=NIGHT_BATCH)

    assert IndicatorMonth.objects.get(alliance=county.alliance, month=RESTATED).is_published
    assert (batch.kind, batch.client.username, batch.source, batch.received_at) == (
        "admissions",
        "his_lead",
        "HIS-WINNING",
        NIGHT_BATCH,
    )
    assert (batch.created, batch.updated, batch.unchanged, batch.rejected) == (0, 5, 0, 0)
    assert set(corrected.values_list("month", "institution__code")) == {(RESTATED, "H0001")}
    assert corrected.count() == 5
    # Only that month's insurance-fund shares changed, at the alliance, the month and its year to date.
    assert {r.month for r in restatements} == {RESTATED}
    assert set(figures) == {
        (indicator, period)
        for indicator in ("hi_fund_in_county_share", "primary_hi_fund_share")
        for period in ("month", "ytd")
    }
    assert [r.causes for r in restatements] == [
        [{"type": "encounters.ingestbatch", "id": batch.pk, "at": "2026-12-02T16:40:00+00:00"}]
    ] * 4
    assert all(r.value.restated and r.value.scope == "alliance" for r in restatements)
    assert all(r.old_value != r.new_value == r.value.value for r in restatements)
    assert IndicatorValue.objects.filter(restated=True).count() == 4


def test_the_audit_cut_lowers_the_fund_paid_in_the_county_in_both_shares(county):
    """The fund's payment in the county fell by the audit's cut: the in-county share's numerator
    and denominator by the same amount, the primary share's denominator alone."""
    restated = {
        r.value.indicator: r
        for r in Restatement.objects.filter(alliance=county.alliance, value__period="month").select_related(
            "value"
        )
    }
    in_county, primary = restated["hi_fund_in_county_share"], restated["primary_hi_fund_share"]

    cut = in_county.old_numerator - in_county.new_numerator
    assert cut > 0
    assert in_county.old_denominator - in_county.new_denominator == cut
    assert (primary.old_numerator, primary.old_denominator - primary.new_denominator) == (
        primary.new_numerator,
        cut,
    )
    assert in_county.new_value < in_county.old_value and primary.new_value > primary.old_value


# --- Warnings ----------------------------------------------------------------------------------------
def test_the_seeded_year_has_warnings_of_every_kind(county):
    kinds = set(IndicatorWarning.objects.filter(alliance=county.alliance).values_list("kind", flat=True))

    assert kinds == set(WarningKind.values)


def _shares_of_visits(month):
    """(lead, primary care) in percent of the in-county visits of `month`, from the rows seeded
    (primary care: the branches H01xx and the village clinics H1xxx)."""
    counts = OutpatientVisit.objects.filter(month=month, in_county=True).aggregate(
        total=Count("pk"),
        lead=Count("pk", filter=Q(institution__code="H0001")),
        primary=Count("pk", filter=Q(institution__code__gte="H0101")),
    )
    return tuple(
        (Decimal(100) * counts[part] / counts["total"]).quantize(Decimal("0.01"))
        for part in ("lead", "primary")
    )


def test_the_last_month_warns_of_siphoning_as_the_lead_hospitals_new_building_draws_visits(county):
    """The lead hospital's new outpatient building opened three months before the anchor's: in
    the last month its share of the visits is up, and primary care's down, against both the
    month before it opened and the same month a year before."""
    warning = IndicatorWarning.objects.get(kind=WarningKind.SIPHONING, subject="visits")
    compared = [add_months(DATES.last_month, -12), add_months(DATES.last_month, -3), DATES.last_month]
    lead, primary = ([Decimal(v) for v in warning.detail[part]] for part in ("lead", "primary"))

    assert (warning.month, warning.scope, warning.light) == (DATES.last_month, "alliance", "red")
    assert warning.detail["months"] == ["2025-11", "2026-08", "2026-11"]
    assert [_shares_of_visits(month) for month in compared] == list(zip(lead, primary, strict=True))
    assert min(lead[2] - lead[0], lead[2] - lead[1]) >= 4 * SIPHONING_POINTS  # the lead's share rose
    assert min(primary[0] - primary[2], primary[1] - primary[2]) >= 4 * SIPHONING_POINTS
    # Only the last month has visits of its own and of its same month a year before.
    assert set(
        IndicatorWarning.objects.filter(kind=WarningKind.SIPHONING).values_list("month", flat=True)
    ) == {DATES.last_month}


def test_a_month_a_village_clinic_sent_nothing_is_incomplete(county):
    """One clinic closed for its renovation, another's doctor at training: a whole month
    without a record of theirs, the months around it as usual."""
    incomplete = {
        warning.month: {item["code"] for item in warning.detail["missing"]}
        for warning in IndicatorWarning.objects.filter(kind=WarningKind.INCOMPLETE_MONTH)
    }

    assert len(CLOSED) == 2
    for code, months_back in CLOSED.items():
        month = add_months(DATES.period_end, -months_back)
        visits = OutpatientVisit.objects.filter(institution__code=code)
        assert not visits.filter(month=month).exists()
        assert visits.filter(month__lt=month).exists() and visits.filter(month__gt=month).exists()
        assert code in incomplete[month]
