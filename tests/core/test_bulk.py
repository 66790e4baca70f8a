"""core.bulk: many rows in one statement (PostgreSQL's unnest of array literals, bulk_create
elsewhere) arrive exactly as given: texts with quotes, backslashes and separators, NULLs,
dates, timestamps, decimals and JSON."""

import datetime
from decimal import Decimal

import pytest

from assessment.models import MeasureSnapshot
from core import bulk
from core.models import MeasureChange
from tests.alliance.factories import build_alliance

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)


def test_insert_keeps_every_value_as_given():
    rows = [
        (7, datetime.date(2026, 1, 1), 'a "quoted", \\ back\x1fslash', None, AT),
        (8, datetime.date(2026, 2, 1), "", 42, AT + datetime.timedelta(hours=9)),
        (9, datetime.date(2026, 3, 1), "{NULL}", 2**40, AT),
    ]

    assert (
        bulk.insert(MeasureChange, ("alliance_id", "month", "cause_type", "cause_id", "changed_at"), rows)
        == 3
    )

    stored = MeasureChange.objects.order_by("alliance_id").values_list(
        "alliance_id", "month", "cause_type", "cause_id", "changed_at"
    )
    assert list(stored) == rows


def test_insert_writes_json_and_nothing_for_no_rows():
    parts = build_alliance(branches=1)
    alliance, lead = parts["alliance"], parts["lead"]
    values = {"visits.in_county": "12.50", "名称": 'say "hi"'}
    columns = ("alliance_id", "month", "institution_id", "values", "rows")

    assert bulk.insert(MeasureSnapshot, columns, []) == 0
    bulk.insert(
        MeasureSnapshot, columns, [(alliance.pk, datetime.date(2026, 1, 1), lead.pk, values, {"visits": 3})]
    )

    snapshot = MeasureSnapshot.objects.get()
    assert (snapshot.values, snapshot.rows) == (values, {"visits": 3})
    assert Decimal(snapshot.values["visits.in_county"]) == Decimal("12.5")


def test_array_literal_quotes_texts_only_when_needed():
    assert bulk.array_literal(["a", "b"]) == '{"a","b"}'
    assert bulk.array_literal(['x"y', None]) == '{"x\\"y",NULL}'
    assert bulk.array_literal([True, False]) == "{t,f}"
    assert bulk.array_literal([Decimal("1.50"), Decimal("2")]) == "{1.50,2}"
