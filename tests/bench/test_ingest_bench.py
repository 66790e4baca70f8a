"""Benchmark of encounter ingestion through the HTTP bulk API (issue 5 point 8; `make bench`).

Pushes 200,000 outpatient visits through `POST /api/v1/encounters/visits/bulk/` in batches of
5,000 (token authentication, the whole Django stack: middleware, DRF's JSON parser, validation,
the PostgreSQL upsert, one commit per batch), then replays the same batches (all unchanged),
then loads the same rows into a table of the same shape with PostgreSQL COPY: the limit
(DESIGN §7). It counts and copies only its own alliance's rows, so the full demo county in the
same table (seeded by the other benchmarks) changes nothing but the index sizes. Prints
rows per second for each. Target: the API at least 20,000 rows/s on 2 cores, the replay at least
as fast. PostgreSQL only: under CI=true it fails when PostgreSQL is missing (tests/conftest.py).
"""

import datetime
import io
import json
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from alliance.choices import InstitutionLevel, PlacementRole
from alliance.models import Department
from encounters.models import OutpatientVisit
from tests.alliance.factories import AllianceFactory, InstitutionFactory, place
from tests.encounters.factories import alliance_client, resident_id

TOTAL = 200_000
BATCH = 5_000
TARGET_ROWS_PER_SECOND = 20_000
BRANCHES, VILLAGES_PER_BRANCH = 15, 10
DEPARTMENTS = ["02", "03", "04", "05", "07", "50"]
DIAGNOSES = ["J06.9", "I10", "E11.900", "K29.7", "M54.5", "J18.9", "N39.0", "R51"]
FIRST_DAY = datetime.date(2026, 1, 1)
URL = "/api/v1/encounters/visits/bulk/"


def _county():
    """A county the size of DESIGN §7's lower end: a lead hospital, a collaborating one, 15
    branches with 10 village clinics each; six departments everywhere."""
    alliance = AllianceFactory(name="基准县医共体", region_code="330782")
    lead = InstitutionFactory(code="B-LEAD", level=InstitutionLevel.SECONDARY)
    place(lead, alliance, PlacementRole.LEAD)
    institutions = [lead]
    for b in range(BRANCHES):
        branch = InstitutionFactory(code=f"B-{b:02d}")
        place(branch, alliance, PlacementRole.BRANCH)
        institutions.append(branch)
        for v in range(VILLAGES_PER_BRANCH):
            village = InstitutionFactory(code=f"B-{b:02d}-{v:02d}")
            place(village, alliance, PlacementRole.VILLAGE, parent=branch)
            institutions.append(village)
    Department.objects.bulk_create(
        [
            Department(institution=i, code=code, name=f"科室{code}")
            for i in institutions
            for code in DEPARTMENTS
        ]
    )
    return alliance, [i.code for i in institutions]


def _records(codes):
    """200,000 valid visit records, deterministic: spread over the institutions, days and
    departments; one in three from the lead hospital."""
    records = []
    for n in range(TOTAL):
        code = codes[0] if n % 3 == 0 else codes[1 + n % (len(codes) - 1)]
        cost = 20 + (n * 37) % 2000
        records.append(
            {
                "external_id": f"HIS-{n:08d}",
                "institution": code,
                "visit_date": (FIRST_DAY + datetime.timedelta(days=n % 300)).isoformat(),
                "department": DEPARTMENTS[n % len(DEPARTMENTS)],
                "patient_id_number": resident_id(n % 150_000),
                "resident_region": "330782" if n % 10 else "330783",
                "diagnosis": DIAGNOSES[n % len(DIAGNOSES)],
                "total_cost": f"{cost}.{n % 100:02d}",
                "insurance_paid": f"{cost * 6 // 10}.00",
                "tcm": n % 7 == 0,
            }
        )
    return records


def _post_all(client, bodies, token):
    started = time.perf_counter()
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for body in bodies:
        response = client.post(
            URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
        )
        assert response.status_code == 200, response.content[:500]
        answer = response.json()
        for key in totals:
            totals[key] += answer[key]
    return time.perf_counter() - started, totals


def _copy(table, columns, alliance):
    """The limit: dump the rows the API wrote for this benchmark's alliance and COPY them into
    an empty table shaped like the real one (its indexes and unique constraints included). The
    real table keeps its rows, and whatever else it holds (the full demo county) is left alone."""
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        mine = f"SELECT {columns} FROM {table} WHERE alliance_id = {int(alliance.pk)}"
        cursor.copy_expert(f"COPY ({mine}) TO STDOUT WITH (FORMAT csv)", buffer)
        cursor.execute(f"CREATE TEMP TABLE bench_copy (LIKE {table} INCLUDING ALL)")
        buffer.seek(0)
        started = time.perf_counter()
        cursor.copy_expert(f"COPY bench_copy ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
        elapsed = time.perf_counter() - started
        cursor.execute("SELECT COUNT(*) FROM bench_copy")
        assert cursor.fetchone()[0] == TOTAL
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def _line(label, seconds, rows=TOTAL):
    rate = rows / seconds
    print(f"  {label:<44} {seconds:7.2f} s   {rate:10,.0f} rows/s")
    return rate


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_api_ingests_200k_visits(client):
    alliance, codes = _county()
    sender = alliance_client(alliance, role="alliance_admin")
    token = Token.objects.create(user=sender).key
    records = _records(codes)
    bodies = [
        json.dumps({"source": "bench-his", "records": records[i : i + BATCH]}, ensure_ascii=False)
        for i in range(0, TOTAL, BATCH)
    ]
    print(f"\n{TOTAL:,} visits in {len(bodies)} batches of {BATCH:,} ({len(bodies[0]) / 1e6:.1f} MB each)")

    first, first_counts = _post_all(client, bodies, token)
    replay, replay_counts = _post_all(client, bodies, token)
    model = OutpatientVisit._meta
    columns = ", ".join(f.column for f in model.concrete_fields if not f.primary_key)
    copied = _copy(model.db_table, columns, alliance)
    assert OutpatientVisit.objects.filter(alliance=alliance).count() == TOTAL

    api_rate = _line("HTTP bulk API, first send", first)
    replay_rate = _line("HTTP bulk API, replay (all unchanged)", replay)
    copy_rate = _line("PostgreSQL COPY of the same rows (limit)", copied)
    print(f"  API / COPY: {api_rate / copy_rate:.0%}; replay / first: {replay_rate / api_rate:.2f}")
    assert first_counts == {"created": TOTAL, "updated": 0, "unchanged": 0, "rejected": 0}
    assert replay_counts == {"created": 0, "updated": 0, "unchanged": TOTAL, "rejected": 0}
    if api_rate < TARGET_ROWS_PER_SECOND:
        print(f"  SHORTFALL: {api_rate:,.0f} rows/s is below the {TARGET_ROWS_PER_SECOND:,} rows/s target")
    assert api_rate >= TARGET_ROWS_PER_SECOND
    assert replay_rate >= api_rate * 0.9  # "at least as fast", with room for timing noise
