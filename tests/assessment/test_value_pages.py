"""The indicator value pages (issue 14 points 2, 4–6): a month's figures per role, the bureau's
compute and publish buttons, the computation's Job page, a figure's measures per institution and
its records for those who may read them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessment.models import IndicatorMonth, IndicatorValue
from assessment.services import indicators
from core.models import Job
from tests.assessment.test_values_api import JAN, send_visits
from tests.encounters.factories import department

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(world):
    mine, other, users = world
    department(mine.home)
    department(mine.lead)
    send_visits(mine, [1, 2], tcm=True)
    indicators.compute_indicators(mine.alliance, [JAN])
    return world


def page(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_the_committee_reads_the_month_with_its_marks(county, client):
    mine, _other, users = county

    response = page(client, users["committee"], "/indicators/", alliance=mine.alliance.pk, month="2026-01")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-indicator="tcm_visit_share"' in html and "66.67%" in html
    assert '<span class="badge provisional">暂定</span>' in html
    assert 'action="/indicators/compute/"' not in html  # read-only role: no buttons


def test_the_bureau_computes_from_the_page_and_follows_the_job(
    county, client, django_capture_on_commit_callbacks
):
    mine, _other, users = county
    client.force_login(users["bureau"])

    listing = client.get("/indicators/", {"alliance": mine.alliance.pk, "month": "2026-01"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/indicators/compute/", {"alliance": mine.alliance.pk, "month": "2026-02", "year_to_date": "on"}
        )

    assert 'action="/indicators/compute/"' in listing
    job = Job.objects.get(kind="indicators.compute")
    assert response.status_code == 302 and response.url == f"/indicators/jobs/{job.pk}/"
    assert job.state == "succeeded" and job.result["months"] == ["2026-01", "2026-02"]
    assert client.get(response.url).status_code == 200


def test_a_read_only_role_cannot_compute_or_publish(county, client):
    mine, _other, users = county
    client.force_login(users["committee"])

    computed = client.post("/indicators/compute/", {"alliance": mine.alliance.pk, "month": "2026-01"})
    published = client.post("/indicators/publish/", {"alliance": mine.alliance.pk, "month": "2026-01"})

    assert computed.status_code == 403 and published.status_code == 403
    assert not Job.objects.exists()
    assert not IndicatorMonth.objects.filter(published_at__isnull=False).exists()


def test_publishing_twice_says_why_in_the_clerks_language(county, client, zh_hans):
    mine, _other, users = county
    client.force_login(users["bureau"])
    data = {"alliance": mine.alliance.pk, "month": "2026-01"}

    first = client.post("/indicators/publish/", data)
    second = client.post("/indicators/publish/", data)

    assert first.status_code == 302
    assert second.status_code == 200 and "已经发布" in second.content.decode()


def test_todays_hierarchy_is_labelled(county, client):
    mine, _other, users = county

    html = page(
        client, users["bureau"], "/indicators/", alliance=mine.alliance.pk, month="2026-01", hierarchy="today"
    ).content.decode()

    assert 'class="message hierarchy-today"' in html and "66.67%" in html


def test_a_figure_shows_its_measures_per_institution_and_records_only_to_readers(county, client):
    mine, _other, users = county
    value = IndicatorValue.objects.get(
        alliance=mine.alliance, indicator="tcm_visit_share", month=JAN, scope="alliance", period="month"
    )

    as_bureau = page(client, users["bureau"], f"/indicators/values/{value.pk}/").content.decode()
    records = page(
        client, users["bureau"], f"/indicators/values/{value.pk}/records/", measure="visits.in_county.tcm"
    )
    as_committee = page(client, users["committee"], f"/indicators/values/{value.pk}/").content.decode()
    refused = page(
        client, users["committee"], f"/indicators/values/{value.pk}/records/", measure="visits.in_county.tcm"
    )

    assert 'data-measure="visits.in_county.tcm"' in as_bureau and mine.home.name in as_bureau
    assert "records-link" in as_bureau and "records-link" not in as_committee
    assert mine.home.name in as_committee  # counts by institution, never records
    assert records.status_code == 200 and records.content.decode().count("<tr>") == 3  # head + 2 records
    assert refused.status_code == 403


def test_another_countys_figure_is_404(county, client):
    mine, other, users = county
    indicators.compute_indicators(other.alliance, [JAN])
    theirs = IndicatorValue.objects.filter(alliance=other.alliance).first()

    assert page(client, users["bureau"], f"/indicators/values/{theirs.pk}/").status_code == 404


def test_the_month_page_costs_a_handful_of_queries(county, client):
    mine, _other, users = county
    client.force_login(users["bureau"])
    url = f"/indicators/?alliance={mine.alliance.pk}&month=2026-01"
    client.get(url)

    with CaptureQueriesContext(connection) as alliance_scope:
        client.get(url)
    with CaptureQueriesContext(connection) as institutions:
        client.get(url + "&scope=institution")

    assert len(alliance_scope) == len(institutions) <= 14


def test_nothing_to_show_yet_is_said(world, client, zh_hans):
    _mine, _other, users = world

    html = page(client, users["clinician"], "/indicators/").content.decode()

    assert "目前还没有可以向您显示的指标数值。" in html
