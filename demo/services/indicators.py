"""The demo's indicators (issue 14): every month of the year of activity computed through the
assessment service, as the early-month run would, and published up to two months before the
last one, so the latest months read as provisional and a late record would show a restatement."""

from assessment.models import IndicatorMonth
from assessment.services import indicators
from core.measures import month_range

from .context import add_months

PROVISIONAL_MONTHS = 2  # the last months left unpublished, as a bureau would


def compute_indicators(context):
    dates = context.dates
    months = month_range(dates.period_start, dates.period_end)  # the anchor's month too, so far
    indicators.compute_indicators(context.alliance, months)
    indicators.forget_marks_of_uncomputed_months()
    for month in months:
        if month <= add_months(dates.last_month, -PROVISIONAL_MONTHS):
            indicators.publish_month(context.alliance, month, acting_user=context.acting_user)


def recorded(alliance):
    return IndicatorMonth.objects.filter(alliance=alliance, computed_at__isnull=False).exists()
