"""Concurrent changes of one institution's placement (issue 3 points 1 and 8), PostgreSQL only:
SQLite ignores row locks (DESIGN §6). Two threads join or move the same institution at once;
exactly one wins and no overlap exists afterwards, whether the row lock or the exclusion
constraint `placement_no_overlap` stops the other."""

import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from alliance import services
from alliance.choices import PlacementRole
from alliance.models import Institution, Placement
from core.exceptions import Conflict
from tests.alliance.factories import AllianceFactory, InstitutionFactory, place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = datetime.date
MOVE_DAY = D(2023, 7, 1)


@pytest.fixture
def slow_validation(monkeypatch):
    """Widen the race: every placement check takes a moment, so without serialisation both
    threads would pass their checks before either inserts."""
    original = services._validate_placement

    def slow(placement):
        time.sleep(0.3)
        original(placement)

    monkeypatch.setattr(services, "_validate_placement", slow)


def run_together(*calls):
    """Run `calls` in threads released at the same moment; return each one's result or exception."""
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
        thread.join(timeout=30)
    return outcomes


def assert_no_overlap(institution):
    rows = list(Placement.objects.filter(institution=institution).order_by("valid_from"))
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert earlier.valid_to is not None and earlier.valid_to <= later.valid_from
    return rows


def test_two_concurrent_joins_of_one_institution_leave_exactly_one_placement(slow_validation):
    first, second, institution = AllianceFactory(), AllianceFactory(), InstitutionFactory()

    def join(alliance):
        fresh = Institution.objects.get(pk=institution.pk)  # each thread its own object
        return lambda: services.join_alliance(
            fresh,
            alliance=alliance,
            role=PlacementRole.COLLABORATING,
            valid_from=D(2024, 1, 1),
            acting_user=None,
        )

    outcomes = run_together(join(first), join(second))

    winners = [o for o in outcomes if isinstance(o, Placement)]
    losers = [o for o in outcomes if isinstance(o, (ValidationError, Conflict))]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    rows = assert_no_overlap(institution)
    assert [(row.pk, row.alliance_id) for row in rows] == [(winners[0].pk, winners[0].alliance_id)]


def test_two_concurrent_moves_of_one_institution_close_one_period_and_open_one(slow_validation):
    home, first, second, institution = (
        AllianceFactory(),
        AllianceFactory(),
        AllianceFactory(),
        InstitutionFactory(),
    )
    place(institution, home, PlacementRole.COLLABORATING)

    def move(alliance):
        fresh = Institution.objects.get(pk=institution.pk)
        return lambda: services.move_institution(fresh, on=MOVE_DAY, alliance=alliance, acting_user=None)

    outcomes = run_together(move(first), move(second))

    winners = [o for o in outcomes if isinstance(o, Placement)]
    losers = [o for o in outcomes if isinstance(o, (ValidationError, Conflict))]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    rows = assert_no_overlap(institution)
    assert [(row.alliance_id, row.valid_from, row.valid_to) for row in rows] == [
        (home.pk, D(2019, 10, 1), MOVE_DAY),
        (winners[0].alliance_id, MOVE_DAY, None),
    ]


def test_a_concurrent_join_and_move_of_one_institution_leave_no_overlap(slow_validation):
    home, other, institution = AllianceFactory(), AllianceFactory(), InstitutionFactory()
    place(institution, home, PlacementRole.COLLABORATING, valid_from=D(2023, 1, 1))

    def move():
        fresh = Institution.objects.get(pk=institution.pk)
        return lambda: services.move_institution(fresh, on=MOVE_DAY, alliance=other, acting_user=None)

    def join():
        fresh = Institution.objects.get(pk=institution.pk)
        return lambda: services.join_alliance(
            fresh, alliance=other, role=PlacementRole.PARTNER, valid_from=D(2023, 9, 1), acting_user=None
        )

    outcomes = run_together(move(), join())

    assert isinstance(outcomes[0], Placement), outcomes  # the move can always proceed
    assert isinstance(outcomes[1], (ValidationError, Conflict)), outcomes
    assert len(assert_no_overlap(institution)) == 2


def test_the_service_reports_a_constraint_caught_overlap_as_a_conflict(monkeypatch):
    # Should the Python check ever miss an overlap, the exclusion constraint answers, as a 409.
    first, second, institution = AllianceFactory(), AllianceFactory(), InstitutionFactory()
    kept = place(institution, first, PlacementRole.COLLABORATING)
    monkeypatch.setattr(services, "_validate_placement", lambda placement: None)

    with pytest.raises(Conflict) as caught:
        services.join_alliance(
            institution,
            alliance=second,
            role=PlacementRole.COLLABORATING,
            valid_from=MOVE_DAY,
            acting_user=None,
        )

    assert caught.value.code == "placement_overlap"
    assert list(Placement.objects.filter(institution=institution)) == [kept]
