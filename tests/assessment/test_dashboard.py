"""The dashboard, a tile's detail and the monthly report (issue 15 points 2–4): what the
committee reads, through the access door, in a constant number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment import dashboard
from assessment.models import IndicatorValue
from assessment.services import indicators
from tests.assessment.test_warnings import Sender

pytestmark = pytest.mark.django_db

D = datetime.date
MONTHS = [D(2026, m, 1) for m in (1, 2, 3, 4)]


@pytest.fixture
def months(world):
    """Four computed months of the first county, the first two published."""
    mine, other, users = world
    sender = Sender(mine)
    for month, (home, lead) in zip(MONTHS, ((3, 1), (3, 2), (4, 2), (2, 2)), strict=True):
        sender.month(month, home=home, lead=lead)
    indicators.compute_indicators(mine.alliance, MONTHS)
    for month in MONTHS[:2]:
        indicators.publish_month(mine.alliance, month, acting_user=users["bureau"])
    Sender(other).month(MONTHS[0], home=1, lead=1)
    indicators.compute_indicators(other.alliance, MONTHS[:1])
    return world


def page(client, user, **query):
    client.force_login(user)
    return client.get("/indicators/dashboard/", query)


def test_the_dashboard_opens_on_the_latest_published_month(months, client):
    mine, _other, users = months
    response = page(client, users["committee"])
    assert response.status_code == 200
    data = response.context["data"]
    assert data["month"] == "2026-02" and data["provisional"] is False
    tile = next(t for t in data["tiles"] if t["code"] == "primary_visit_share")
    assert tile["value"] == 60.0 and tile["value_text"] == "60.00" and tile["light"] == "amber"
    assert tile["last_month"] == -15.0 and tile["last_month_text"] == "-15.00"
    assert tile["last_year"] is None and tile["last_year_text"] == "—"
    assert len(tile["sparkline"]) == 12 and tile["sparkline"][-2:] == [75.0, 60.0]
    assert tile["ytd"] == pytest.approx(66.67) and tile["target"] == 65.0
    assert data["completeness"] == {"sent": 2, "expected": 6, "percent": 33}
    html = response.content.decode()
    assert 'id="dashboard-data"' in html and "vendor/echarts/echarts.min.js" in html
    assert 'data-code="primary_visit_share"' in html and "基层诊疗人次占比" in html


def test_the_month_picker_changes_the_month_and_marks_provisional_months(months, client):
    _mine, _other, users = months
    response = page(client, users["bureau"], month="2026-04")
    data = response.context["data"]
    assert data["month"] == "2026-04" and data["provisional"] is True
    assert [text for text, _published in response.context["months"]] == [
        "2026-04",
        "2026-03",
        "2026-02",
        "2026-01",
    ]
    html = response.content.decode()
    assert '<option value="2026-04" selected>2026-04 (暂定)</option>' in html
    tile = next(t for t in data["tiles"] if t["code"] == "primary_visit_share")
    assert tile["value"] == 50.0 and tile["light"] == "red"
    kinds = {w["kind"] for w in data["warnings"]}
    assert "off_target" in kinds


def test_bad_or_foreign_months_and_alliances_are_404_and_staff_403(months, client):
    mine, other, users = months
    assert page(client, users["committee"], month="2025-13").status_code == 404
    assert page(client, users["committee"], month="2025-01").status_code == 404  # never computed
    assert page(client, users["committee"], alliance=other.alliance.pk).status_code == 404
    assert page(client, users["committee"], alliance="x").status_code == 404
    assert page(client, users["clinician"]).status_code == 403
    assert page(client, users["api_client"]).status_code == 403
    tile = client.get("/indicators/dashboard/tile/", {"month": "2026-01", "indicator": "primary_visit_share",
                                                      "alliance": other.alliance.pk})  # fmt: skip
    assert tile.status_code == 403  # the API client is logged in: no dashboard at all
    client.force_login(users["committee"])
    tile = client.get("/indicators/dashboard/tile/", {"month": "2026-01", "indicator": "primary_visit_share",
                                                      "alliance": other.alliance.pk})  # fmt: skip
    assert tile.status_code == 404
    missing = client.get("/indicators/dashboard/tile/", {"month": "2026-01", "indicator": "nonsense"})
    assert missing.status_code == 404


def test_the_screen_costs_the_same_queries_for_one_month_or_four(months, client):
    _mine, _other, users = months
    committee = users["committee"]
    page(client, committee)  # warm the memberships and the session
    counts = []
    for month in ("2026-01", "2026-04"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/indicators/dashboard/", {"month": month}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- A tile's detail --------------------------------------------------------------------------------
def tile(client, user, code, month="2026-04"):
    client.force_login(user)
    response = client.get("/indicators/dashboard/tile/", {"month": month, "indicator": code})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_tile_has_24_months_with_the_target(months, client):
    _mine, _other, users = months
    detail = tile(client, users["committee"], "primary_visit_share")
    assert len(detail["trend"]["months"]) == 24 and detail["trend"]["months"][-1] == "2026-04"
    assert detail["trend"]["values"][-4:] == [75.0, 60.0, pytest.approx(66.67), 50.0]
    assert detail["trend"]["target"] == 65.0
    assert detail["branches"] == []  # computed for the alliance only


def test_the_branches_are_ranked_and_drill_down_to_their_institutions(months, client):
    mine, _other, users = months
    detail = tile(client, users["committee"], "tcm_visit_share")
    names = [branch["name"] for branch in detail["branches"]]
    assert mine.home.name in names
    home = next(branch for branch in detail["branches"] if branch["id"] == mine.home.pk)
    assert [row["id"] for row in home["institutions"]] == [mine.home.pk]
    row = IndicatorValue.objects.get(
        alliance=mine.alliance, indicator="tcm_visit_share", scope="institution", institution=mine.home,
        month=MONTHS[3], period="month",
    )  # fmt: skip
    assert home["institutions"][0]["url"] == f"/indicators/values/{row.pk}/"


def test_which_members_moved_it_adds_up_to_the_change(months, client):
    mine, _other, users = months
    moved = tile(client, users["committee"], "primary_visit_share")["movers"]
    assert moved["splittable"] is True
    assert moved["from"] == pytest.approx(66.67) and moved["to"] == 50.0
    assert sum(m["change"] for m in moved["members"]) == pytest.approx(moved["to"] - moved["from"], abs=0.01)
    # March 4 home / 2 lead → April 2 / 2: the branch's drop explains the fall.
    first = moved["members"][0]
    assert first["id"] == mine.home.pk and first["change"] < 0


def test_contributions_split_numerator_and_denominator_shifts():
    """r = ΣN/ΣD: member A 30/100 → 20/100, member B 30/100 → 30/100: r 30% → 25%, all A's."""
    from types import SimpleNamespace

    from assessment import dashboard as module

    definition = SimpleNamespace(unit="percent", denominator="#{x}")
    now = SimpleNamespace(
        value=Decimal(25), numerator=Decimal(50), denominator=Decimal(200), definition=definition
    )
    before = SimpleNamespace(
        value=Decimal(30), numerator=Decimal(60), denominator=Decimal(200), definition=definition
    )
    parts = {now.value: {1: (Decimal(20), Decimal(100)), 2: (Decimal(30), Decimal(100))},
             before.value: {1: (Decimal(30), Decimal(100)), 2: (Decimal(30), Decimal(100))}}  # fmt: skip
    original = module._parts
    module._parts = lambda value: parts[value.value]
    try:
        moved = module.contributions(now, before)
    finally:
        module._parts = original
    assert [(m["id"], m["change"]) for m in moved["members"]] == [(1, -5.0)]


def test_a_ratio_that_does_not_add_up_over_the_members_is_not_split(world, client):
    from tests.assessment.factories import definition

    mine, _other, users = world
    definition("visits_per_lead_share", numerator="#{visits.in_county} ÷ #{visits.in_county.lead}",
               denominator="", unit="ratio", for_township=False, for_institution=False)  # fmt: skip
    sender = Sender(mine)
    sender.month(MONTHS[2], home=4, lead=2)
    sender.month(MONTHS[3], home=2, lead=2)
    indicators.compute_indicators(mine.alliance, MONTHS[2:])
    moved = tile(client, users["committee"], "visits_per_lead_share")["movers"]
    assert moved["splittable"] is False and moved["reason"]


def test_the_tile_costs_the_same_queries_whatever_the_rows(months, client):
    """A month with more figures and more members costs what a month with fewer does; every
    indicator at most MAX_TILE_QUERIES (fewer when its figure does not split over members)."""
    from tests.bench.test_dashboard_bench import MAX_TILE_QUERIES

    _mine, _other, users = months
    tile(client, users["committee"], "tcm_visit_share")  # warm
    counts = {}
    for code in ("tcm_visit_share", "primary_visit_share", "up_referrals", "inpatient_cost_growth"):
        for month in ("2026-02", "2026-04"):
            with CaptureQueriesContext(connection) as queries:
                client.get("/indicators/dashboard/tile/", {"month": month, "indicator": code})
            counts[code, month] = len(queries)
    for code in ("tcm_visit_share", "primary_visit_share", "up_referrals"):
        assert counts[code, "2026-02"] == counts[code, "2026-04"], counts
    assert max(counts.values()) <= MAX_TILE_QUERIES, counts


# --- Home and report --------------------------------------------------------------------------------
def test_the_committee_lands_on_the_dashboard_and_the_bureau_sees_its_warnings(months, client):
    _mine, _other, users = months
    client.force_login(users["committee"])
    assert client.get("/start/").url == "/indicators/dashboard/"
    client.force_login(users["bureau"])
    home = client.get("/")
    html = home.content.decode()
    assert home.status_code == 200 and 'data-panel="warnings"' in html and "/indicators/dashboard/" in html


def test_the_monthly_report_prints_indicators_warnings_and_restatements(months, client):
    mine, _other, users = months
    client.force_login(users["committee"])
    response = client.get("/indicators/report/", {"alliance": mine.alliance.pk, "month": "2026-04"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "assessment/report.css" in html and 'class="report-chart" data-code="primary_visit_share"' in html
    assert response.context["warnings"] and "基层诊疗人次占比" in html
    assert client.get("/indicators/report/", {"month": "2030-01"}).status_code == 404


def test_screen_reads_only_the_users_alliance(months):
    mine, other, users = months
    data = dashboard.screen(users["committee"], other.alliance, MONTHS[0])
    assert data["tiles"] == []  # the committee of the first county sees none of the other's figures


@pytest.mark.parametrize("role", ["bureau", "alliance_admin", "committee", "finance", "insurance_feed",
                                  "institution_admin", "clinician", "api_client"])  # fmt: skip
def test_the_dashboard_pages_as_design_5_says(months, client, role):
    """Those who watch the alliance read the screen, the tiles and the report; no other role."""
    mine, _other, users = months
    client.force_login(users[role])
    query = {"alliance": mine.alliance.pk, "month": "2026-04"}
    answers = [
        client.get("/indicators/dashboard/", query).status_code,
        client.get("/indicators/dashboard/tile/", {**query, "indicator": "primary_visit_share"}).status_code,
        client.get("/indicators/report/", query).status_code,
        client.get("/indicators/warnings/", query).status_code,
    ]
    watcher = role in {"bureau", "alliance_admin", "committee", "finance"}
    assert answers == ([200] * 4 if watcher else [403, 403, 403, 200]), answers
