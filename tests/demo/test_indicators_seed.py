"""The demo's indicators (issue 14): the year of activity computed, published but for the last
months, and figures that agree with the activity seeded."""

from decimal import Decimal

from assessment.models import IndicatorMonth, IndicatorValue, MeasureSnapshot
from core.measures import month_range
from core.models import MeasureChange
from encounters.models import OutpatientVisit
from tests.demo.conftest import DATES


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
