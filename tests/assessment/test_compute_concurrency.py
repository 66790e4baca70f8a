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


def test_two_acknowledgements_at_once_keep_one_note(indicator_catalogue):
    """The bureau and the alliance office acknowledge the same warning at the same moment: the
    row's lock lets one through, the other is a conflict, and the note kept is the winner's."""
    from assessment.models import IndicatorWarning
    from assessment.services import acknowledge_warning
    from core.exceptions import Conflict
    from tests.assessment.test_warnings import Sender
    from tests.world import build_world

    mine, _other, users = build_world()
    Sender(mine).month(MONTHS[0], home=1, lead=2)
    indicators.compute_indicators(mine.alliance, [MONTHS[0]])
    warning = IndicatorWarning.objects.get(
        alliance=mine.alliance, kind="off_target", subject="primary_visit_share"
    )

    outcomes = run_together(
        lambda: acknowledge_warning(warning, note="局：已约谈", acting_user=users["bureau"]),
        lambda: acknowledge_warning(warning, note="办：整改中", acting_user=users["alliance_admin"]),
    )

    won = [o for o in outcomes if isinstance(o, IndicatorWarning)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    warning.refresh_from_db()
    assert (warning.state, warning.note) == ("acknowledged", won[0].note)
