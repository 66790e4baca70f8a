"""Late data restated visibly (issue 14 point 5): an ingested batch marks the (alliance, month) of
every record it created or updated, before and after, in its own transaction, the audited batch
as the cause; unchanged, rejected and dry-run records mark nothing."""

import datetime

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from encounters import services
from encounters.models import IngestBatch, OutpatientVisit
from tests.core.factories import UserFactory
from tests.core.marks import marks, months_marked
from tests.encounters.factories import admission, alliance_client, outside, visit

pytestmark = pytest.mark.django_db

MARCH, APRIL, MAY = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1), datetime.date(2026, 5, 1)
BATCH = "encounters.ingestbatch"


def send(records, client, kind="visits", **options):
    return services.ingest(kind, records, client=client, source="HIS-A", **options)


def latest_batch():
    return IngestBatch.objects.latest("pk")


def test_a_batch_marks_the_months_of_the_records_it_created_with_itself_as_cause(world):
    mine, _other, users = world
    records = [visit(1, mine.home), visit(2, mine.home, visit_date="2026-04-02"), visit(3, mine.home)]

    send(records, users["api_client"])

    batch = latest_batch()
    assert marks(batch) == [
        (mine.alliance.pk, MARCH, BATCH, batch.pk),
        (mine.alliance.pk, APRIL, BATCH, batch.pk),
    ]


def test_admissions_mark_their_discharge_month(world):
    mine, _other, users = world

    send([admission(1, mine.home, admit_date="2026-03-28", discharge_date="2026-04-03")], users["api_client"],
         kind="admissions")  # fmt: skip

    assert months_marked(mine.alliance, latest_batch()) == [APRIL]


def test_unchanged_records_sent_again_mark_nothing(world):
    mine, _other, users = world
    records = [visit(n, mine.home) for n in range(3)]
    send(records, users["api_client"])
    before = marks()

    result = send(records, users["api_client"])

    assert result["unchanged"] == 3
    assert marks(latest_batch()) == []
    assert marks() == before


def test_an_updated_record_marks_its_month_and_only_the_changed_records_count(world):
    mine, _other, users = world
    send([visit(1, mine.home), visit(2, mine.home, visit_date="2026-04-02")], users["api_client"])

    send([visit(1, mine.home, total_cost="300.00"), visit(2, mine.home, visit_date="2026-04-02")],
         users["api_client"])  # fmt: skip

    assert months_marked(mine.alliance, latest_batch()) == [MARCH]  # April's record is unchanged


def test_a_corrected_date_marks_the_month_it_left_and_the_month_it_joined(world):
    mine, _other, users = world
    send([visit(1, mine.home, visit_date="2026-03-31")], users["api_client"])

    result = send([visit(1, mine.home, visit_date="2026-05-04")], users["api_client"])

    assert result["updated"] == 1
    assert months_marked(mine.alliance, latest_batch()) == [MARCH, MAY]


def test_rejected_records_mark_nothing(world):
    mine, _other, users = world
    records = [visit(1, mine.home), visit(2, mine.home, visit_date="2026-04-02", diagnosis="?"),
               visit(3, mine.lead, visit_date="2026-05-06")]  # fmt: skip

    result = send(records, users["api_client"])

    assert (result["created"], result["rejected"]) == (1, 2)
    assert months_marked(mine.alliance, latest_batch()) == [MARCH]


def test_a_batch_rejected_whole_marks_nothing(world):
    mine, _other, users = world
    before = marks()

    result = send([visit(1, mine.home, diagnosis="?")], users["api_client"])

    assert result["rejected"] == 1
    assert marks() == before


def test_a_dry_run_marks_nothing(world):
    mine, _other, users = world
    send([visit(1, mine.home)], users["api_client"])
    before = marks()

    result = send([visit(1, mine.home, tcm=True), visit(2, mine.home, visit_date="2026-04-02")],
                  users["api_client"], dry_run=True)  # fmt: skip

    assert (result["created"], result["updated"]) == (1, 1)
    assert marks() == before


def test_a_dry_run_through_the_api_marks_nothing(world, client_for):
    mine, _other, users = world
    before = marks()

    response = client_for(users["api_client"]).post(
        "/api/v1/encounters/visits/bulk/?dry_run=true",
        {"source": "HIS-A", "records": [visit(1, mine.home)]},
        format="json",
    )

    assert (response.status_code, response.json()["created"]) == (200, 1)
    assert marks() == before


def test_a_batch_rolled_back_leaves_no_mark(world, monkeypatch):
    mine, _other, users = world
    before = marks()
    real = services._mark_changed

    def mark_then_fail(months, batch):
        real(months, batch)
        assert len(marks()) > len(before)  # the marks are written in the batch's transaction…
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(services, "_mark_changed", mark_then_fail)
    with pytest.raises(DatabaseError):
        send([visit(1, mine.home), visit(2, mine.home, visit_date="2026-04-02")], users["api_client"])

    assert marks() == before  # …and gone with it
    assert not OutpatientVisit.objects.exists()


def test_the_insurance_feed_marks_its_alliance(world):
    mine, _other, _users = world

    send([outside(1), outside(2, visit_date="2026-04-09")], alliance_client(mine.alliance))

    assert months_marked(mine.alliance, latest_batch()) == [MARCH, APRIL]


def test_a_batch_of_two_alliances_marks_each_its_own_months(world):
    mine, other, _users = world

    send([visit(1, mine.home), visit(2, other.home, visit_date="2026-04-02")],
         UserFactory(is_superuser=True))  # fmt: skip

    batch = latest_batch()
    assert (months_marked(mine.alliance, batch), months_marked(other.alliance, batch)) == ([MARCH], [APRIL])


def _queries(records, client):
    with CaptureQueriesContext(connection) as captured:
        send(records, client)
    return [query["sql"] for query in captured.captured_queries]


def test_the_marks_are_one_insert_whatever_the_size_of_the_batch(world):
    mine, _other, users = world
    days = ["2026-03-02", "2026-04-02", "2026-05-02"]
    send([visit(99, mine.home)], users["api_client"])  # the client's memberships, read once and kept
    small = _queries([visit(n, mine.home, visit_date=days[n % 3]) for n in range(3)], users["api_client"])
    large = _queries(
        [visit(n, mine.home, visit_date=days[n % 3]) for n in range(100, 145)], users["api_client"]
    )

    # 45 records: the plain path's bulk INSERT splits at SQLite's parameter limit from 52 on
    for queries in (small, large):
        assert [sql.split(" (")[0] for sql in queries if "core_measurechange" in sql] == [
            'INSERT INTO "core_measurechange"'
        ]
    assert len(large) == len(small)
    assert len(marks(latest_batch())) == 3
