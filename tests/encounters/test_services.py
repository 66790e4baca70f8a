"""Ingestion (issue 5 points 2 and 7): idempotent upserts by (client, source, external_id), whole
records or nothing, one transaction per batch, one audit entry per batch, no raw ID anywhere."""

import datetime
import logging

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection

from encounters import services
from encounters.models import Admission, IngestBatch, OutpatientVisit, OutsideFacility
from tests.encounters.factories import admission, alliance_client, department, outside, resident_id, visit

pytestmark = pytest.mark.django_db

COUNTS = ("created", "updated", "unchanged", "rejected")


def counts(result):
    return tuple(result[key] for key in COUNTS)


def snapshot(model=OutpatientVisit):
    return list(model.objects.order_by("pk").values())


def test_the_same_batch_three_times_leaves_the_same_rows(world):
    mine, _other, users = world
    his = users["api_client"]
    records = [visit(n, mine.home) for n in range(5)]

    first = services.ingest("visits", records, client=his, source="HIS-A")
    rows = snapshot()
    second = services.ingest("visits", records, client=his, source="HIS-A")
    third = services.ingest("visits", records, client=his, source="HIS-A")

    assert counts(first) == (5, 0, 0, 0)
    assert counts(second) == counts(third) == (0, 0, 5, 0)
    assert snapshot() == rows  # received_at included: unchanged rows are not touched


def test_a_changed_record_is_updated_and_received_again(world):
    mine, _other, users = world
    his = users["api_client"]
    services.ingest("visits", [visit(1, mine.home), visit(2, mine.home)], client=his, source="HIS-A")
    before = {row.external_id: row for row in OutpatientVisit.objects.all()}

    result = services.ingest(
        "visits", [visit(1, mine.home, total_cost="300.00"), visit(2, mine.home)], client=his, source="HIS-A"
    )

    assert counts(result) == (0, 1, 1, 0)
    after = {row.external_id: row for row in OutpatientVisit.objects.all()}
    assert str(after["V0000001"].total_cost) == "300.00"
    assert after["V0000001"].received_at > before["V0000001"].received_at
    assert after["V0000002"].received_at == before["V0000002"].received_at


def test_a_batch_mixing_good_and_bad_records_writes_exactly_the_good_ones(world):
    mine, _other, users = world
    records = [visit(1, mine.home), visit(2, mine.home, diagnosis="?"), visit(3, mine.home),
               visit(4, mine.lead), visit(5, mine.home, visit_date="2026-13-01")]  # fmt: skip

    result = services.ingest("visits", records, client=users["api_client"], source="HIS-A")

    assert counts(result) == (2, 0, 0, 3)
    assert [e["index"] for e in result["errors"]] == [1, 3, 4]
    assert sorted(OutpatientVisit.objects.values_list("external_id", flat=True)) == ["V0000001", "V0000003"]


def test_a_client_cannot_write_another_institutions_records(world):
    mine, other, users = world
    department(mine.lead)

    result = services.ingest(
        "visits", [visit(1, mine.lead), visit(2, other.home)], client=users["api_client"], source="HIS-A"
    )

    assert counts(result) == (0, 0, 0, 2)
    assert not OutpatientVisit.objects.exists()


def test_the_same_record_from_another_sender_of_the_institution_is_one_row(world):
    """Issue 13 point 1: two clerks (or the HIS and a clerk) sending the same record under one
    source name update one row; the second sender of the same values changes nothing."""
    mine, _other, users = world
    services.ingest("visits", [visit(1, mine.home)], client=users["api_client"], source="HIS-A")

    again = services.ingest(
        "visits", [visit(1, mine.home)], client=users["institution_admin"], source="HIS-A"
    )
    corrected = services.ingest(
        "visits", [visit(1, mine.home, total_cost="999.00")], client=users["alliance_admin"], source="HIS-A"
    )

    assert (counts(again), counts(corrected)) == ((0, 0, 1, 0), (0, 1, 0, 0))
    (row,) = OutpatientVisit.objects.all()
    assert (str(row.total_cost), row.client) == ("999.00", users["alliance_admin"])  # who sent the values


def test_the_same_external_id_at_another_institution_is_a_separate_row(world):
    from tests.encounters.factories import department

    mine, _other, users = world
    department(mine.lead)
    services.ingest("visits", [visit(1, mine.home)], client=users["alliance_admin"], source="HIS-A")

    result = services.ingest("visits", [visit(1, mine.lead)], client=users["alliance_admin"], source="HIS-A")

    assert counts(result) == (1, 0, 0, 0)
    assert OutpatientVisit.objects.count() == 2


def test_the_same_external_id_from_another_source_is_a_separate_row(world):
    mine, _other, users = world
    services.ingest("visits", [visit(1, mine.home)], client=users["api_client"], source="HIS-A")

    result = services.ingest("visits", [visit(1, mine.home)], client=users["api_client"], source="LIS")

    assert counts(result) == (1, 0, 0, 0)


def test_a_role_that_may_not_send_encounters_is_refused_the_whole_batch(world):
    mine, _other, users = world

    for role in ("clinician", "bureau", "committee", "finance"):
        with pytest.raises(PermissionDenied):
            services.ingest("visits", [visit(1, mine.home)], client=users[role], source="HIS-A")
    assert not OutpatientVisit.objects.exists()
    assert not IngestBatch.objects.exists()


def test_a_missing_source_is_a_validation_error(world):
    mine, _other, users = world

    with pytest.raises(ValidationError) as raised:
        services.ingest("visits", [visit(1, mine.home)], client=users["api_client"], source="  ")

    assert "source" in raised.value.message_dict


def test_admissions_are_upserted_like_visits(world):
    mine, _other, users = world
    records = [admission(n, mine.home) for n in range(3)]

    first = services.ingest("admissions", records, client=users["api_client"], source="HIS-A")
    again = services.ingest("admissions", records, client=users["api_client"], source="HIS-A")

    assert counts(first) == (3, 0, 0, 0)
    assert counts(again) == (0, 0, 3, 0)
    assert set(Admission.objects.values_list("month", flat=True)) == {datetime.date(2026, 3, 1)}


# --- The insurance feed -------------------------------------------------------------------------------
def test_the_insurance_path_writes_outside_facilities_of_the_countys_residents(world):
    mine, _other, _users = world
    feed = alliance_client(mine.alliance)
    records = [outside(1), outside(2, facility_code="YW-PRIVATE", region="330782"),
               outside(3, resident_region="330783"), visit(4, mine.home)]  # fmt: skip

    result = services.ingest("visits", records, client=feed, source="医保")

    assert counts(result) == (2, 0, 0, 2)
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (2, "resident_region"),
        (3, "institution"),
    ]
    rows = OutpatientVisit.objects.order_by("external_id").values_list(
        "outside_facility__code", "institution", "alliance", "is_resident", "in_county"
    )
    assert list(rows) == [("ZJ-HZ-001", None, mine.alliance.pk, True, False),
                          ("YW-PRIVATE", None, mine.alliance.pk, True, True)]  # fmt: skip


def test_an_outside_facility_is_created_once_and_keeps_its_latest_name(world):
    mine, _other, _users = world
    feed = alliance_client(mine.alliance)
    services.ingest("visits", [outside(1)], client=feed, source="医保")
    renamed = outside(2)
    renamed["outside_facility"]["name"] = "浙大一院"

    services.ingest("visits", [renamed], client=feed, source="医保")

    assert list(OutsideFacility.objects.values_list("code", "name", "region_code", "level")) == [
        ("ZJ-HZ-001", "浙大一院", "330106", "tertiary")
    ]
    assert OutpatientVisit.objects.filter(outside_facility__code="ZJ-HZ-001").count() == 2


# --- Whole batches or nothing -------------------------------------------------------------------------
def test_a_database_error_in_the_middle_of_a_batch_leaves_nothing_of_it(world, monkeypatch):
    mine, _other, users = world
    services.ingest("visits", [visit(0, mine.home)], client=users["api_client"], source="HIS-A")
    before = snapshot()
    real_upsert = services._upsert

    def half_then_fail(kind, rows, **kwargs):
        real_upsert(kind, rows[: len(rows) // 2], **kwargs)
        assert OutpatientVisit.objects.count() > 1  # the first half is in the table…
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(services, "_upsert", half_then_fail)
    records = [visit(0, mine.home, total_cost="1.00")] + [visit(n, mine.home) for n in range(1, 10)]

    with pytest.raises(DatabaseError):
        services.ingest("visits", records, client=users["api_client"], source="HIS-A")

    assert snapshot() == before  # …and gone with the rest: the update of record 0 too
    assert IngestBatch.objects.count() == 1


def test_a_failing_audit_entry_rolls_the_batch_back(world, monkeypatch):
    mine, _other, users = world

    def fail(*args, **kwargs):
        raise DatabaseError("audit log unavailable")

    monkeypatch.setattr(services, "_record_batch", fail)
    with pytest.raises(DatabaseError):
        services.ingest(
            "visits", [visit(n, mine.home) for n in range(4)], client=users["api_client"], source="H"
        )

    assert not OutpatientVisit.objects.exists()


def test_a_dry_run_counts_what_would_happen_and_writes_nothing(world):
    mine, _other, users = world
    his = users["api_client"]
    services.ingest("visits", [visit(1, mine.home), visit(2, mine.home)], client=his, source="HIS-A")
    before, batches = snapshot(), IngestBatch.objects.count()
    records = [visit(1, mine.home), visit(2, mine.home, tcm=True), visit(3, mine.home), visit(4, mine.lead)]

    result = services.ingest("visits", records, client=his, source="HIS-A", dry_run=True)

    assert counts(result) == (1, 1, 1, 1)
    assert snapshot() == before
    assert IngestBatch.objects.count() == batches


def test_a_dry_run_of_the_insurance_feed_writes_no_facility(world):
    mine, _other, _users = world

    result = services.ingest(
        "visits", [outside(1)], client=alliance_client(mine.alliance), source="医保", dry_run=True
    )

    assert counts(result) == (1, 0, 0, 0)
    assert not OutsideFacility.objects.exists()


# --- Audit and the resident ID -----------------------------------------------------------------------
def test_each_batch_is_one_audit_entry_with_who_what_and_how_many(world):
    mine, _other, users = world
    his = users["api_client"]
    entries_before = LogEntry.objects.count()

    services.ingest(
        "visits", [visit(1, mine.home), visit(2, mine.home, diagnosis="?")], client=his, source="HIS-A"
    )

    batch = IngestBatch.objects.get()
    assert (
        batch.client,
        batch.kind,
        batch.source,
        batch.created,
        batch.updated,
        batch.unchanged,
        batch.rejected,
    ) == (his, "visits", "HIS-A", 1, 0, 0, 1)
    entry = LogEntry.objects.get_for_object(batch).get()
    assert entry.actor == his
    assert entry.changes_dict["source"][1] == "HIS-A"
    assert entry.changes_dict["created"][1] == "1"
    assert LogEntry.objects.count() == entries_before + 1  # the records themselves are not audited one by one


def test_the_raw_resident_id_is_never_stored_returned_or_logged(world, caplog):
    mine, _other, users = world
    number = resident_id(77)
    bad = number[:17] + ("1" if number[17] == "0" else "0")
    records = [visit(1, mine.home, patient_id_number=number), visit(2, mine.home, patient_id_number=bad)]
    caplog.set_level(logging.DEBUG)

    result = services.ingest("visits", records, client=users["api_client"], source="HIS-A")

    assert counts(result) == (1, 0, 0, 1)
    for text in (number, bad, number[6:14] + number[14:]):
        assert text not in repr(result)
        assert text not in caplog.text
        assert text not in _database_text()


def _database_text():
    """Every text column of the encounter tables and the audit log, as one string."""
    with connection.cursor() as cursor:
        parts = []
        for table in ("encounters_outpatientvisit", "encounters_ingestbatch", "auditlog_logentry"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


def test_text_with_quotes_backslashes_and_separators_round_trips(world):
    """The PostgreSQL path sends each column as one array literal: quoting must be exact."""
    mine, _other, users = world
    odd = ['a"b', "c\\d", "e,f}{", "NULL", "中文 编号", "g\x1fh"]

    result = services.ingest("visits", [visit(n, mine.home, external_id=e) for n, e in enumerate(odd)],
                             client=users["api_client"], source='源"\\')  # fmt: skip
    again = services.ingest("visits", [visit(n, mine.home, external_id=e) for n, e in enumerate(odd)],
                            client=users["api_client"], source='源"\\')  # fmt: skip

    assert (counts(result), counts(again)) == ((6, 0, 0, 0), (0, 0, 6, 0))
    assert sorted(OutpatientVisit.objects.values_list("external_id", flat=True)) == sorted(odd)
    assert set(OutpatientVisit.objects.values_list("source", flat=True)) == {'源"\\'}


# --- PostgreSQL: the one-statement upsert -----------------------------------------------------------
def _xmins():
    with connection.cursor() as cursor:
        cursor.execute("SELECT external_id, xmin::text FROM encounters_outpatientvisit ORDER BY external_id")
        return dict(cursor.fetchall())


@pytest.mark.postgres
def test_a_replay_rewrites_no_row_and_an_update_rewrites_only_its_own(world):
    mine, _other, users = world
    his = users["api_client"]
    records = [visit(n, mine.home) for n in range(4)]
    services.ingest("visits", records, client=his, source="HIS-A")
    written = _xmins()

    services.ingest("visits", records, client=his, source="HIS-A")
    replayed = _xmins()
    records[2] = visit(2, mine.home, diagnosis="I10")
    services.ingest("visits", records, client=his, source="HIS-A")
    updated = _xmins()

    assert replayed == written  # no new row versions: nothing written, no dead tuples
    assert [key for key in written if updated[key] != written[key]] == ["V0000002"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_of_one_batch_write_each_record_once(world):
    import threading

    from django.db import connections

    mine, _other, users = world
    records = [visit(n, mine.home) for n in range(200)]
    results, barrier = [], threading.Barrier(2)

    def send():
        try:
            barrier.wait()
            results.append(services.ingest("visits", records, client=users["api_client"], source="HIS-A"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert OutpatientVisit.objects.count() == 200
    assert sorted(counts(result) for result in results) == [(0, 0, 200, 0), (200, 0, 0, 0)]
