"""The change of the encounter key (issue 13 point 1): records that two senders of one
institution stored twice under the old key are merged, the last received kept."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("encounters", "0001_initial")]
AFTER = [("encounters", "0002_key_by_place_not_sender")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def visit(model, *, client, external_id, received_at, institution=1, cost="10.00"):
    return model.objects.create(
        client_id=client,
        source="HIS",
        external_id=external_id,
        alliance_id=1,
        month=datetime.date(2026, 10, 1),
        institution_id=institution,
        patient_key="k" * 64,
        resident_region="330782",
        is_resident=True,
        in_county=True,
        diagnosis="I10",
        total_cost=cost,
        insurance_paid="0",
        received_at=received_at,
        visit_date=datetime.date(2026, 10, 5),
    )


def test_records_stored_twice_by_two_senders_are_merged_keeping_the_last_received():
    apps = migrate(BEFORE)
    Visit = apps.get_model("encounters", "OutpatientVisit")
    earlier, later = timezone.now() - datetime.timedelta(hours=1), timezone.now()
    visit(Visit, client=1, external_id="V1", received_at=earlier, cost="10.00")
    visit(Visit, client=2, external_id="V1", received_at=later, cost="12.00")
    visit(Visit, client=1, external_id="V2", received_at=earlier)
    visit(Visit, client=3, external_id="V1", received_at=earlier, institution=2)  # another institution

    try:
        apps = migrate(AFTER)
        Visit = apps.get_model("encounters", "OutpatientVisit")
        rows = sorted(Visit.objects.values_list("institution_id", "external_id", "client_id", "total_cost"))
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert [(i, e, c, str(t)) for i, e, c, t in rows] == [
        (1, "V1", 2, "12.00"),
        (1, "V2", 1, "10.00"),
        (2, "V1", 3, "10.00"),
    ]
