"""Two computations of the same months at once (issue 14 point 8), PostgreSQL only: SQLite
ignores row locks (DESIGN §6). Each month's IndicatorMonth row is the lock, so the second writes
after the first and both leave identical rows: no duplicate figure, no lost snapshot."""

import threading

import pytest
from django.db import connection

from assessment.models import IndicatorMonth, IndicatorValue, MeasureSnapshot
from assessment.services import indicators
from tests.assessment.test_compute import MONTHS, activity, county, rows  # noqa: F401 - fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


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
