"""The numbering of slots published before numbers existed (issue 13 point 5): every session's
slots get 1 … n in the order they were published and their expected times 10 minutes apart, on
PostgreSQL and SQLite alike; the template lines get the default 10 minutes per slot."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("referrals", "0003_diagnosis_official_icd10")]
AFTER = [("referrals", "0004_slot_number_and_expected_time")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_slots_published_before_are_numbered_per_session_with_expected_times():
    apps = migrate(BEFORE)
    Institution = apps.get_model("alliance", "Institution")
    Department = apps.get_model("alliance", "Department")
    Slot = apps.get_model("referrals", "Slot")
    Entry = apps.get_model("referrals", "PoolTemplateEntry")
    lead = Institution.objects.create(code="H9001", name="县人民医院", level="tertiary", region_code="330726")
    medicine = Department.objects.create(institution=lead, code="03", name="内科")
    surgery = Department.objects.create(institution=lead, code="04", name="外科")
    Entry.objects.create(institution=lead, weekday=0, kind="slot", department=medicine, period="am", count=3)
    day = timezone.localdate() + datetime.timedelta(days=7)
    morning = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))
    sessions = [
        (medicine, "李医生", "am"),
        (medicine, "王医生", "am"),
        (surgery, "李医生", "am"),
        (medicine, "李医生", "pm"),
    ]
    for _round in range(3):  # interleaved, as top-ups come: ids do not run session by session
        for department, doctor, period in sessions:
            starts_at = morning if period == "am" else morning + datetime.timedelta(hours=6)
            Slot.objects.create(
                institution=lead, department=department, doctor=doctor, date=day, period=period,
                starts_at=starts_at, release_at=starts_at - datetime.timedelta(hours=24),
            )  # fmt: skip

    try:
        apps = migrate(AFTER)
        Slot = apps.get_model("referrals", "Slot")
        numbered = {
            session: [
                (row.number, timezone.localtime(row.expected_at).strftime("%H:%M"))
                for row in Slot.objects.filter(
                    department_id=session[0].pk, doctor=session[1], period=session[2]
                ).order_by("pk")
            ]
            for session in sessions
        }
        minutes = apps.get_model("referrals", "PoolTemplateEntry").objects.get().interval_minutes
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert numbered == {
        (medicine, "李医生", "am"): [(1, "08:00"), (2, "08:10"), (3, "08:20")],
        (medicine, "王医生", "am"): [(1, "08:00"), (2, "08:10"), (3, "08:20")],
        (surgery, "李医生", "am"): [(1, "08:00"), (2, "08:10"), (3, "08:20")],
        (medicine, "李医生", "pm"): [(1, "14:00"), (2, "14:10"), (3, "14:20")],
    }
    assert minutes == 10
