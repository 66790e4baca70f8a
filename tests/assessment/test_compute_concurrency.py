"""Two computations of the same months at once (issue 14 point 8), PostgreSQL only: SQLite
ignores row locks (DESIGN §6). Each month's IndicatorMonth row is the lock, so the second writes
after the first and both leave identical rows: no duplicate figure, no lost snapshot."""

import pytest

from assessment.models import IndicatorMonth, IndicatorValue, MeasureSnapshot
from assessment.services import indicators
from tests.alliance.test_concurrency import run_together
from tests.assessment.test_compute import MONTHS, activity, county, rows  # noqa: F401 - fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_computations_leave_the_rows_of_one(indicator_catalogue, activity):  # noqa: F811
    c = activity
    indicators.compute_indicators(c.alliance, MONTHS)
    alone = [row[1:] for row in rows(c)]
    snapshots = MeasureSnapshot.objects.count()
    IndicatorValue.objects.all().delete()
    MeasureSnapshot.objects.all().delete()
    IndicatorMonth.objects.all().delete()

    outcomes = run_together(
        lambda: indicators.compute_indicators(c.alliance, MONTHS),
        lambda: indicators.compute_indicators(c.alliance, MONTHS),
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert [row[1:] for row in rows(c)] == alone
    assert MeasureSnapshot.objects.count() == snapshots
    assert IndicatorMonth.objects.count() == len(MONTHS)
