"""Each role's home page (issue 15 point 5): the panels of what it must act on, each read through
the access door, at a query count that does not grow with the rows."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.querysets import today
from assessment.models import IndicatorMonth
from assessment.services import indicators
from encounters import services as encounters
from referrals.models import Slot
from tests.encounters.factories import alliance_client, department, visit
from tests.referrals.factories import department as referral_department
from tests.referrals.factories import member, referral, slots

pytestmark = pytest.mark.django_db

PANELS = {
    "bureau": ["figures", "warnings", "silent-sources", "inbox"],
    "alliance_admin": ["figures", "warnings", "silent-sources", "inbox"],
    "committee": ["figures", "warnings", "inbox"],
    "finance": ["inbox"],
    "institution_admin": ["referrals", "inbox"],
    "clinician": ["referrals", "inbox"],
    "api_client": ["api-account", "inbox"],
    "insurance_feed": ["api-account", "inbox"],
}


def panels(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return re.findall(r'data-panel="([a-z-]+)"', response.content.decode()), response


@pytest.mark.parametrize("role", PANELS)
def test_after_logging_in_only_the_committee_lands_on_the_dashboard(client, world, role):
    client.force_login(world[2][role])
    response = client.get("/start/")
    assert (response.status_code, response.url) == (
        302, "/indicators/dashboard/" if role == "committee" else "/",
    )  # fmt: skip


@pytest.mark.parametrize(("role", "expected"), PANELS.items())
def test_each_role_sees_the_panels_of_its_work(client, world, role, expected):
    shown, _response = panels(client, world[2][role])

    assert shown == expected


def test_referrals_waiting_and_todays_bookings_are_the_users_institutions_only(client, world):
    mine, other, users = world
    waiting = referral(mine.villages[0], mine.home, n=1)  # up to the home branch: waits for it
    theirs = referral(other.villages[0], other.branches[0], n=2)  # another county's
    lead_dept = referral_department(mine.lead)
    sent = referral(mine.home, mine.lead, n=3)
    booked = slots(lead_dept, count=2, reserved=2, date=today())[0]
    Slot.objects.filter(pk=booked.pk).update(referral=sent)  # booked for today (setup)

    _names, home = panels(client, users["institution_admin"])
    html = home.content.decode()
    assert f"#{waiting.pk} " in html and html.count('href="/referrals/') >= 1
    assert f"#{theirs.pk} " not in html
    assert f"#{sent.pk} " not in html  # the branch sent it: it waits for the lead, not for them

    lead_admin = member("institution_admin", mine.lead, username="lead_admin_home")
    _names, lead_home = panels(client, lead_admin)
    lead_html = lead_home.content.decode()
    assert f"#{sent.pk} " in lead_html  # waiting for the lead's answer, and booked today
    assert f"{booked.expected_at.astimezone().strftime('%H:%M')} · " in lead_html


def test_the_api_account_sees_its_own_last_batches(client, world):
    mine, _other, users = world
    account = users["api_client"]
    answer = encounters.ingest(
        "visits", [visit(1, mine.home, visit_date=f"{today():%Y-%m-%d}")], client=account, source="HIS"
    )
    assert answer["created"] == 1

    _names, response = panels(client, account)

    batches = response.context["panels"][0][1]["batches"]
    assert [batch.client_id for batch in batches] == [account.pk]
    assert "/api/docs/" in response.content.decode()


def test_the_committee_sees_the_latest_month_off_target_first(client, world):
    mine, _other, users = world
    month = today().replace(day=1)
    department(mine.lead)
    office = alliance_client(mine.alliance, role="alliance_admin")
    lead_visit = [visit(1, mine.lead, visit_date=f"{month:%Y-%m-%d}")]
    assert encounters.ingest("visits", lead_visit, client=office, source="HIS")["created"] == 1
    indicators.compute_indicators(mine.alliance, [month])

    _names, response = panels(client, users["committee"])

    figures = response.context["panels"][0][1]
    assert figures["state"] == IndicatorMonth.objects.get(alliance=mine.alliance, month=month)
    met = [row["met"] for row in figures["rows"]]
    assert False in met  # one visit at the lead hospital: 0% primary care, off its ≥ 65% target
    assert met == sorted(met, key=lambda m: m is not False)  # off target first
    assert figures["off_target"] == met.count(False)


def test_the_home_costs_the_same_queries_with_more_rows(client, world):
    mine, _other, users = world
    user = users["institution_admin"]
    client.force_login(user)
    client.get("/")
    referral(mine.villages[0], mine.home, n=1)
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(2, 6):
        referral(mine.villages[0], mine.home, n=n)
    with CaptureQueriesContext(connection) as many:
        client.get("/")
    assert len(many) == len(few)
