"""The indicator values through the API (issue 14 points 4–7, DESIGN §8): who sees which figures
(the permission matrix, written out from DESIGN §5), the compute and publish requests, today's
hierarchy, the trace to the records, the restatements."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.models import IndicatorMonth, IndicatorValue, Restatement
from assessment.services import indicators
from core.models import Job
from encounters import services as encounters
from tests.encounters.factories import alliance_client, department, visit
from tests.world import ROLES

pytestmark = pytest.mark.django_db

JAN = datetime.date(2026, 1, 1)
WATCHERS = {"bureau", "alliance_admin", "committee", "finance"}
# DESIGN §5: the committee reads aggregates; an institution's staff its own institution's figures.
OWN_FIGURES = {"institution_admin", "clinician"}
RECORD_READERS = {"bureau", "alliance_admin"}  # patient-level rows: not the committee nor finance


def send_visits(county, numbers, **fields):
    admin = alliance_client(county.alliance, role="alliance_admin")
    records = [visit(n, county.home, visit_date="2026-01-10", **fields) for n in numbers]
    records.append(visit(numbers[-1] + 1, county.lead, visit_date="2026-01-11"))
    answer = encounters.ingest("visits", records, client=admin, source="HIS")
    assert answer["rejected"] == 0, answer["errors"]


@pytest.fixture
def figures(world):
    mine, other, users = world
    for county, start in ((mine, 1), (other, 100)):
        department(county.home)
        department(county.lead)
        send_visits(county, [start, start + 1], tcm=True)
        indicators.compute_indicators(county.alliance, [JAN])
    return world


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def alliance_row(county, code="tcm_visit_share"):
    return IndicatorValue.objects.get(
        alliance=county.alliance, indicator=code, month=JAN, scope="alliance", period="month"
    )


def home_row(county, code="tcm_visit_share"):
    return IndicatorValue.objects.get(
        alliance=county.alliance, indicator=code, month=JAN, scope="institution", institution=county.home,
        period="month",
    )  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_values_are_seen_as_design_5_says(figures, client_for, role):
    mine, other, users = figures

    response = client_for(users[role]).get("/api/v1/indicator-values/?page_size=500")

    assert response.status_code == 200
    seen = ids(response)
    assert (alliance_row(mine).pk in seen) == (role in WATCHERS)
    assert (home_row(mine).pk in seen) == (role in WATCHERS | OWN_FIGURES)
    assert alliance_row(other).pk not in seen and home_row(other).pk not in seen
    if role in OWN_FIGURES:
        assert {row["institution"] for row in response.json()["results"]} == {mine.home.pk}


@pytest.mark.parametrize("role", ROLES)
def test_a_value_outside_the_reach_is_404(figures, client_for, role):
    mine, other, users = figures
    client = client_for(users[role])

    assert client.get(f"/api/v1/indicator-values/{alliance_row(other).pk}/").status_code == 404
    mine_status = client.get(f"/api/v1/indicator-values/{alliance_row(mine).pk}/").status_code
    assert mine_status == (200 if role in WATCHERS else 404)


def test_a_value_row_carries_the_contract_fields(figures, client_for):
    mine, _other, users = figures

    response = client_for(users["bureau"]).get(
        "/api/v1/indicator-values/",
        {"indicator": "tcm_visit_share", "alliance": mine.alliance.pk, "month": "2026-01", "period": "month"},
    )

    [row] = [r for r in response.json()["results"] if r["scope"] == "alliance"]
    assert row | {"id": 0, "computed_at": ""} == {
        "id": 0, "indicator": "tcm_visit_share", "alliance": mine.alliance.pk, "scope": "alliance",
        "institution": None, "institution_code": None, "month": "2026-01", "period": "month",
        "numerator": "2", "denominator": "3", "value": "66.67", "unit": "percent", "null_reason": "",
        "definition_version": 1, "input_rows": 3, "computed_at": "", "restated": False, "provisional": True,
        "hierarchy": "of_month",
    }  # fmt: skip


def test_the_list_costs_the_same_queries_for_one_row_or_a_page(figures, client_for):
    mine, _other, users = figures
    client = client_for(users["bureau"])

    client.get("/api/v1/indicator-values/?page_size=1")  # the memberships, cached on the user
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/indicator-values/?scope=institution&page_size=1")
    with CaptureQueriesContext(connection) as page:
        client.get("/api/v1/indicator-values/?page_size=500")

    assert len(page) == len(one) == 4  # count, page, institutions' codes, months published


def test_todays_hierarchy_is_a_labelled_view_needing_alliance_and_month(figures, client_for):
    mine, _other, users = figures
    client = client_for(users["bureau"])

    refused = client.get("/api/v1/indicator-values/", {"hierarchy": "today"})
    answered = client.get(
        "/api/v1/indicator-values/",
        {
            "hierarchy": "today",
            "alliance": mine.alliance.pk,
            "month": "2026-01",
            "indicator": "tcm_visit_share",
        },
    )

    assert refused.status_code == 400 and "hierarchy" in refused.json()["errors"]
    rows = answered.json()["results"]
    assert rows and {row["hierarchy"] for row in rows} == {"today"} and {row["id"] for row in rows} == {None}
    [alliance] = [r for r in rows if r["scope"] == "alliance" and r["period"] == "month"]
    assert (alliance["numerator"], alliance["denominator"]) == ("2", "3")


def test_todays_hierarchy_shows_an_institution_role_its_own_rows_only(figures, client_for):
    mine, _other, users = figures

    rows = client_for(users["clinician"]).get(
        "/api/v1/indicator-values/", {"hierarchy": "today", "alliance": mine.alliance.pk, "month": "2026-01"}
    )

    assert rows.status_code == 200
    assert {row["institution"] for row in rows.json()["results"]} == {mine.home.pk}


def test_the_detail_names_the_measures_behind_the_value_per_institution(figures, client_for):
    mine, _other, users = figures

    detail = client_for(users["committee"]).get(f"/api/v1/indicator-values/{alliance_row(mine).pk}/").json()

    inputs = {item["measure"]: item for item in detail["inputs"]}
    assert set(inputs) == {"visits.in_county.tcm", "visits.in_county"}
    tcm = inputs["visits.in_county.tcm"]
    assert tcm["total"] == "2.00"
    assert tcm["institutions"] == [
        {"institution": mine.home.pk, "institution_code": mine.home.code, "value": "2.00"}
    ]


# --- Compute and publish ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_only_the_bureau_computes(figures, client_for, role, django_capture_on_commit_callbacks):
    mine, _other, users = figures
    before = Job.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users[role]).post(
            "/api/v1/indicators/compute/", {"alliance": mine.alliance.pk, "month": "2026-01"}, format="json"
        )

    if role == "bureau":
        assert response.status_code == 202, response.json()
        job = Job.objects.get(pk=response.json()["id"])
        assert job.state == "succeeded" and job.result["months"] == ["2026-01"]
    else:
        assert response.status_code in (403, 404)
        assert Job.objects.count() == before


def test_compute_takes_several_months_and_refuses_a_future_one(
    figures, client_for, django_capture_on_commit_callbacks
):
    mine, _other, users = figures
    client = client_for(users["bureau"])

    future = client.post(
        "/api/v1/indicators/compute/", {"alliance": mine.alliance.pk, "month": "2099-01"}, format="json"
    )
    bad = client.post(
        "/api/v1/indicators/compute/", {"alliance": mine.alliance.pk, "month": "2026-13"}, format="json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        several = client.post(
            "/api/v1/indicators/compute/",
            {"alliance": mine.alliance.pk, "months": ["2026-01", "2026-02"]},
            format="json",
        )

    assert future.status_code == 409 and future.json()["code"] == "month_in_future"
    assert bad.status_code == 400 and "month" in bad.json()["errors"]
    assert several.status_code == 202
    assert IndicatorMonth.objects.filter(alliance=mine.alliance, month=datetime.date(2026, 2, 1)).exists()


def test_compute_for_another_county_is_404(figures, client_for):
    _mine, other, users = figures

    response = client_for(users["bureau"]).post(
        "/api/v1/indicators/compute/", {"alliance": other.alliance.pk, "month": "2026-01"}, format="json"
    )

    assert response.status_code == 400 and "alliance" in response.json()["errors"]


def test_publish_then_late_data_gives_a_restatement(figures, client_for):
    mine, _other, users = figures
    bureau = client_for(users["bureau"])

    published = bureau.post(
        "/api/v1/indicators/publish/", {"alliance": mine.alliance.pk, "month": "2026-01"}, format="json"
    )
    again = bureau.post(
        "/api/v1/indicators/publish/", {"alliance": mine.alliance.pk, "month": "2026-01"}, format="json"
    )
    send_visits(mine, [50])  # a late non-TCM visit at the branch, and one at the lead
    indicators.compute_indicators(mine.alliance, indicators.dirty_months()[mine.alliance.pk])

    assert published.status_code == 200 and published.json()["published_at"]
    assert again.status_code == 409 and again.json()["code"] == "month_already_published"
    restated = (
        client_for(users["committee"])
        .get("/api/v1/indicator-restatements/", {"alliance": mine.alliance.pk, "month": "2026-01"})
        .json()["results"]
    )
    tcm = [
        r
        for r in restated
        if r["indicator"] == "tcm_visit_share" and r["scope"] == "alliance" and r["period"] == "month"
    ]
    assert [(r["old_value"], r["new_value"]) for r in tcm] == [("66.670000", "40.000000")]
    assert tcm[0]["causes"][0]["type"] == "encounters.ingestbatch"
    row = client_for(users["committee"]).get(f"/api/v1/indicator-values/{alliance_row(mine).pk}/").json()
    assert row["restated"] is True and row["provisional"] is False
    assert Restatement.objects.count() >= 1


@pytest.mark.parametrize("role", [r for r in ROLES if r != "bureau"])
def test_only_the_bureau_publishes(figures, client_for, role):
    mine, _other, users = figures

    response = client_for(users[role]).post(
        "/api/v1/indicators/publish/", {"alliance": mine.alliance.pk, "month": "2026-01"}, format="json"
    )

    assert response.status_code in (400, 403)
    assert not IndicatorMonth.objects.filter(published_at__isnull=False).exists()


# --- Records -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["bureau", "alliance_admin", "committee", "finance", "institution_admin"])
def test_records_for_readers_of_patient_rows_counts_for_the_committee(figures, client_for, role):
    mine, _other, users = figures
    row = alliance_row(mine) if role != "institution_admin" else home_row(mine)

    response = client_for(users[role]).get(
        f"/api/v1/indicator-values/{row.pk}/records/", {"measure": "visits.in_county.tcm"}
    )

    if role in RECORD_READERS | {"institution_admin"}:
        assert response.status_code == 200, response.json()
        records = response.json()["results"]
        assert len(records) == 2 and {r["institution"] for r in records} == {mine.home.pk}
        assert {r["kind"] for r in records} == {"encounters.outpatientvisit"}
    else:
        assert response.status_code == 403


def test_records_of_a_measure_the_value_does_not_read_is_400(figures, client_for):
    mine, _other, users = figures

    response = client_for(users["bureau"]).get(
        f"/api/v1/indicator-values/{alliance_row(mine).pk}/records/", {"measure": "slots.published"}
    )

    assert response.status_code == 400 and "measure" in response.json()["errors"]
