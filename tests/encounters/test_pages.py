"""Encounter pages (issue 5 point 6): scoped lists with a masked patient key, filters by month,
institution and department, and the submission-control page."""

import datetime

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override

from encounters import services
from encounters.models import OutpatientVisit
from tests.encounters.factories import admission, client_of, department, visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(world):
    """The first county's home branch HIS sent 3 visits and 1 admission in March 2026."""
    mine, _other, _users = world
    department(mine.home)
    his = client_of(mine.home)
    result = services.ingest("visits", [visit(n, mine.home) for n in range(1, 4)], client=his, source="HIS")
    services.ingest("admissions", [admission(9, mine.home)], client=his, source="HIS")
    assert result["created"] == 3
    return his


def login(client, user):
    client.force_login(user)
    return client


def test_visit_list_shows_a_short_masked_key_and_never_the_id(client, world, sent):
    mine, _other, users = world

    response = login(client, users["bureau"]).get("/encounters/visits/?month=2026-03")

    html = response.content.decode()
    keys = list(OutpatientVisit.objects.values_list("patient_key", flat=True))
    assert response.status_code == 200
    assert response.context["paginator"].count == 3
    assert all(key[:8] + "…" in html and key not in html for key in keys)
    assert visit(1, mine.home)["patient_id_number"] not in html


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("month=2026-03", 3),
        ("month=2026-04", 0),
        ("month=2026-03&department_code=02", 3),
        ("month=2026-03&department_code=03", 0),
    ],
)
def test_visit_filters(client, world, sent, query, count):
    _mine, _other, users = world

    response = login(client, users["alliance_admin"]).get(f"/encounters/visits/?{query}")

    assert response.context["paginator"].count == count


def test_committee_sees_no_patient_rows_and_no_menu_entry(client, world, sent):
    _mine, _other, users = world

    response = login(client, users["committee"]).get("/encounters/visits/")
    home = client.get("/").content.decode()

    assert response.context["paginator"].count == 0
    assert "/encounters/visits/" not in home


def test_another_county_sees_nothing(client, world, sent):
    _mine, other, _users = world
    outsider = client_of(other.home, role="institution_admin")

    response = login(client, outsider).get("/encounters/admissions/")

    assert response.context["paginator"].count == 0


def test_visit_list_query_count_does_not_grow(client, world, sent):
    mine, _other, users = world
    login(client, users["bureau"])

    few = _queries(client, "/encounters/visits/?month=2026-03")
    services.ingest("visits", [visit(n, mine.home) for n in range(10, 60)], client=sent, source="HIS")
    many = _queries(client, "/encounters/visits/?month=2026-03")

    # session, user, memberships, guardian grants (both modes at once), filter choices, count,
    # rows, menu checks
    assert few == many == QUERIES


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured.captured_queries)


QUERIES = 9  # including the unread count in the header (issue 6.5)


def test_export_has_the_masked_key_only(client, world, sent):
    from io import BytesIO

    from openpyxl import load_workbook

    _mine, _other, users = world

    response = login(client, users["bureau"]).get("/encounters/visits/?month=2026-03&export=xlsx")

    sheet = load_workbook(BytesIO(response.content)).active
    cells = [str(cell.value) for row in sheet.iter_rows() for cell in row]
    assert sheet.max_row == 4
    assert not any(len(value) == 64 for value in cells)


def test_submission_page_flags_the_silent_institutions(client, world, sent):
    mine, _other, users = world
    OutpatientVisit.objects.update(received_at=timezone.now() - datetime.timedelta(days=1))

    response = login(client, users["alliance_admin"]).get("/encounters/submissions/?month=2026-03")

    rows = {row["institution"]: row for row in response.context["rows"]}
    assert (rows[mine.home.pk]["received"], rows[mine.home.pk]["silent"]) == (4, False)
    assert rows[mine.lead.pk]["silent"] is True
    assert response.context["silent_count"] == len(rows) - 1


def test_submission_page_rejects_a_bad_month_in_chinese(client, world):
    _mine, _other, users = world

    response = login(client, users["alliance_admin"]).get("/encounters/submissions/?month=2026-13")

    with override("zh-hans"):
        expected = gettext("Enter a month as YYYY-MM, e.g. 2026-03.")
    assert response.status_code == 200
    assert response.context["error"] == expected
    assert any("\u4e00" <= ch <= "\u9fff" for ch in expected)


def test_lists_open_on_the_last_full_month(client, world, sent, monkeypatch):
    _mine, _other, users = world
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2026, 4, 10))

    response = login(client, users["bureau"]).get("/encounters/visits/")
    cleared = client.get("/encounters/visits/?month=")

    assert response.context["filter"].form.cleaned_data["month"] == datetime.date(2026, 3, 1)
    assert response.context["paginator"].count == 3
    assert cleared.context["paginator"].count == 3
