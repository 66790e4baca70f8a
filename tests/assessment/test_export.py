"""The .xlsx of the indicator table (issue 15 point 4): every stored figure of the alliance from
January to the month, each scope and period with numerator and denominator, as the user may read
them, marked provisional until published; two queries whatever the rows."""

import datetime
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from assessment import services
from assessment.models import IndicatorValue
from assessment.services import indicators
from encounters import services as encounters
from tests.encounters.factories import alliance_client, department, visit

pytestmark = pytest.mark.django_db

JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
MONTH, ALLIANCE = "月份", "医共体"  # the period "month" and the scope "alliance" in Chinese


@pytest.fixture
def computed(world):
    mine, other, users = world
    department(mine.lead)
    records = [
        visit(1, mine.lead, visit_date="2026-01-05"),
        visit(2, mine.home, visit_date="2026-01-06"),
        visit(3, mine.home, visit_date="2026-02-03"),
    ]
    answer = encounters.ingest(
        "visits", records, client=alliance_client(mine.alliance, role="alliance_admin"), source="HIS"
    )
    assert answer["rejected"] == 0, answer["errors"]
    for county in (mine, other):
        indicators.compute_indicators(county.alliance, [JAN, FEB])
    services.publish_month(mine.alliance, JAN, acting_user=users["bureau"])
    return world


def exported(client, user, alliance, month="2026-02"):
    client.force_login(user)
    response = client.get("/indicators/export/", {"alliance": alliance.pk, "month": month})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    header, *rows = sheet.iter_rows(values_only=True)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


def test_the_committee_exports_the_year_to_the_month_with_numerators_and_denominators(client, computed):
    mine, _other, users = computed

    header, rows = exported(client, users["committee"], mine.alliance)

    assert header[:3] == ("指标代码", "指标", "范围")
    assert len(rows) == IndicatorValue.objects.filter(alliance=mine.alliance).count()
    share = next(
        r
        for r in rows
        if r["指标代码"] == "primary_visit_share" and r["月份"] == "2026-01" and r["期间"] == MONTH
    )
    assert (share["分子"], share["分母"], share["数值"]) == (1, 2, 50)
    assert share["范围"] == ALLIANCE and share["暂定"] == "否"
    february = {r["暂定"] for r in rows if r["月份"] == "2026-02"}
    assert february == {"是"}  # February is not published


def test_an_institutions_own_roles_export_only_its_figures(client, computed):
    mine, _other, users = computed

    _header, rows = exported(client, users["institution_admin"], mine.alliance)

    assert rows and {r["机构代码"] for r in rows} == {mine.home.code}


def test_the_export_costs_the_same_queries_for_one_month_or_two(client, computed):
    mine, _other, users = computed
    client.force_login(users["committee"])
    client.get("/indicators/export/", {"alliance": mine.alliance.pk, "month": "2026-01"})
    with CaptureQueriesContext(connection) as one:
        client.get("/indicators/export/", {"alliance": mine.alliance.pk, "month": "2026-01"})
    with CaptureQueriesContext(connection) as two:
        client.get("/indicators/export/", {"alliance": mine.alliance.pk, "month": "2026-02"})
    assert len(one) == len(two)


@pytest.mark.parametrize("role", ["api_client", "insurance_feed"])
def test_a_role_without_figures_gets_403_and_404_for_an_alliance(client, computed, role):
    mine, _other, users = computed
    client.force_login(users[role])

    assert client.get("/indicators/export/", {"month": "2026-02"}).status_code == 403
    assert client.get("/indicators/export/", {"alliance": mine.alliance.pk}).status_code == 404


@pytest.mark.parametrize("month", ["2026-13", "not a month"])
def test_another_countys_alliance_or_a_bad_month_is_404_never_another_file(client, computed, month):
    _mine, other, users = computed
    client.force_login(users["committee"])

    assert client.get("/indicators/export/", {"alliance": other.alliance.pk}).status_code == 404
    assert client.get("/indicators/export/", {"month": month}).status_code == 404
