"""Submission control (issue 5 point 4): per institution and month, records received and when the
latest arrived; an institution silent longer than its alliance allows is flagged."""

import datetime

import pytest
from django.utils import timezone

from alliance.choices import PlacementRole
from alliance.models import Institution
from encounters import services
from encounters.models import OutpatientVisit
from encounters.querysets import submission_institutions, submission_summary
from tests.alliance.factories import InstitutionFactory, place
from tests.encounters.factories import admission, department, visit

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2026, 3, 1)
URL = "/api/v1/encounters/submissions/"


@pytest.fixture
def sent(world):
    """home: two visits and an admission in March, a visit in April, just now; the lead hospital:
    one March visit received five days ago; nothing from the others."""
    mine, _other, users = world
    department(mine.lead)
    his = users["api_client"]
    services.ingest("visits", [visit(1, mine.home), visit(2, mine.home), visit(3, mine.home, visit_date="2026-04-01")],
                    client=his, source="HIS")  # fmt: skip
    services.ingest("admissions", [admission(4, mine.home)], client=his, source="HIS")
    services.ingest("visits", [visit(5, mine.lead)], client=users["alliance_admin"], source="HIS")
    five_days_ago = timezone.now() - datetime.timedelta(days=5)
    OutpatientVisit.objects.filter(institution=mine.lead).update(received_at=five_days_ago)
    return five_days_ago


def by_code(rows):
    return {row["institution_code"]: row for row in rows}


def test_the_summary_counts_the_months_records_and_flags_silent_institutions(world, sent):
    mine, _other, _users = world
    now = timezone.now()

    rows = by_code(submission_summary(Institution.objects.all(), MARCH, now))

    home, lead, collaborating = rows[mine.home.code], rows[mine.lead.code], rows[mine.collaborating.code]
    assert (home["visits"], home["admissions"], home["received"], home["silent"]) == (2, 1, 3, False)
    assert now - home["last_received"] < datetime.timedelta(minutes=1)
    assert (lead["received"], lead["last_received"], lead["silent"], lead["silence_days"]) == (
        1,
        sent,
        True,
        3,
    )
    assert (collaborating["received"], collaborating["last_received"], collaborating["silent"]) == (
        0,
        None,
        True,
    )
    assert home["alliance"] == mine.alliance.pk and home["role"] == PlacementRole.BRANCH


def test_the_silence_allowed_is_the_alliances_setting(world, sent):
    mine, _other, _users = world
    mine.alliance.submission_silence_days = 7
    mine.alliance.save()

    rows = by_code(submission_summary(Institution.objects.all(), MARCH, timezone.now()))

    assert rows[mine.lead.code]["silent"] is False
    assert rows[mine.collaborating.code]["silent"] is True  # never sent anything


def test_another_month_counts_its_own_records(world, sent):
    mine, _other, _users = world

    rows = by_code(submission_summary(Institution.objects.all(), datetime.date(2026, 4, 15), timezone.now()))

    assert (rows[mine.home.code]["visits"], rows[mine.home.code]["admissions"]) == (1, 0)
    assert rows[mine.home.code]["silent"] is False  # silence is about the latest record of any month


def test_the_summary_is_one_query_and_leaves_out_partners(world, sent, django_assert_num_queries):
    mine, _other, _users = world
    partner = InstitutionFactory()
    place(partner, mine.alliance, PlacementRole.PARTNER)

    with django_assert_num_queries(1):
        rows = submission_summary(Institution.objects.all(), MARCH, timezone.now())

    assert partner.code not in by_code(rows)
    assert len(rows) == 12  # six institutions in each county


def test_the_scope_follows_the_encounter_read_rules(world):
    mine, other, users = world

    admin = set(submission_institutions(users["alliance_admin"], MARCH))
    his = set(submission_institutions(users["api_client"], MARCH))
    committee = set(submission_institutions(users["committee"], MARCH))

    assert admin == {mine.lead, mine.collaborating, *mine.branches, *mine.villages}
    assert his == {mine.home}
    assert committee == set()
    assert not admin & {other.home}


def test_the_api_lists_the_callers_institutions(world, sent, client_for):
    mine, _other, users = world

    admin = client_for(users["alliance_admin"]).get(URL, {"month": "2026-03"}).json()
    his = client_for(users["api_client"]).get(URL, {"month": "2026-03"}).json()

    assert admin["count"] == 6
    assert {row["institution_code"]: row["silent"] for row in admin["results"]}[mine.lead.code] is True
    assert [
        (row["institution"], row["visits"], row["admissions"], row["received"]) for row in his["results"]
    ] == [(mine.home.pk, 2, 1, 3)]
    assert set(his["results"][0]) == {
        "institution", "institution_code", "institution_name", "alliance", "role", "parent", "visits",
        "admissions", "received", "last_received", "silence_days", "silent",
    }  # fmt: skip


def test_the_api_defaults_to_this_month_and_checks_the_month(world, client_for, zh_hans):
    _mine, _other, users = world
    client = client_for(users["alliance_admin"])

    this_month = client.get(URL)
    bad = client.get(URL, {"month": "March"})

    assert this_month.status_code == 200 and this_month.json()["count"] == 6
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"month": [zh_hans("Enter a month as YYYY-MM, e.g. 2026-03.")]}


def test_the_api_needs_authentication(api_client):
    assert api_client.get(URL).status_code == 401
