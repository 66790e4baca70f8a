"""The catalogue's and the formularies' pages (issue 16 points 3–5): one search box, the Excel
export of a search, a drug's price history, the office's formulary editor with its history."""

import io

import openpyxl
import pytest

from pharmacy.models import Formulary, FormularyChange
from tests.pharmacy.factories import CHINESE, WESTERN, drug

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(world):
    mine, other, users = world
    entries = [
        drug(mine.alliance),
        drug(mine.alliance, CHINESE, generic_name="连花清瘟胶囊", trade_name="", standard_code="", is_essential=False,
             essential_edition=""),
    ]  # fmt: skip
    drug(other.alliance, generic_name="他县阿莫西林")
    return mine, users, entries


def test_the_catalogue_page_searches_by_pinyin_and_exports_the_search(catalogue, client):
    mine, users, (amoxicillin, lianhua) = catalogue
    client.force_login(users["clinician"])
    page = client.get("/pharmacy/drugs/", {"search": "lhqw"})
    html = page.content.decode()
    assert page.status_code == 200 and f'data-code="{CHINESE}"' in html and WESTERN not in html
    assert "他县" not in client.get("/pharmacy/drugs/").content.decode()
    export = client.get("/pharmacy/drugs/", {"search": "amxl", "export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "国家医保药品编码" and [row[0] for row in rows[1:]] == [WESTERN]


def test_a_drug_page_shows_its_prices(catalogue, client):
    _mine, users, (amoxicillin, _lianhua) = catalogue
    client.force_login(users["committee"])
    html = client.get(f"/pharmacy/drugs/{amoxicillin.pk}/").content.decode()
    assert "2026-01-01" in html and "12.5" in html and "国药准字H44021351" in html


def test_the_office_opens_and_edits_a_formulary_with_its_history(catalogue, client):
    mine, users, (amoxicillin, lianhua) = catalogue
    client.force_login(users["alliance_admin"])
    opened = client.post("/pharmacy/formularies/open/", {"alliance": mine.alliance.pk, "tier": "village"})
    formulary = Formulary.objects.get(alliance=mine.alliance, tier="village", institution=None)
    assert opened.url == f"/pharmacy/formularies/{formulary.pk}/"
    found = client.get(opened.url, {"search": "amxl"}).content.decode()
    assert f'name="add" value="{amoxicillin.pk}"' in found and f'value="{lianhua.pk}"' not in found
    client.post(opened.url, {"add": [amoxicillin.pk, lianhua.pk]})
    page = client.get(opened.url).content.decode()
    assert 'class="essential-share">50.0%' in page
    client.post(opened.url, {"remove": [lianhua.pk]})
    assert list(formulary.entries.all()) == [amoxicillin]
    assert list(FormularyChange.objects.filter(formulary=formulary).order_by("pk").values_list("action", flat=True)) == [
        "added", "added", "removed",
    ]  # fmt: skip
    assert "连花清瘟胶囊" in client.get(opened.url).content.decode()  # in the history


@pytest.mark.parametrize("role", ["bureau", "committee", "clinician", "institution_admin"])
def test_only_the_office_edits_formularies(catalogue, client, role):
    mine, users, _entries = catalogue
    client.force_login(users[role])
    formulary = Formulary.objects.create(alliance=mine.alliance, tier="county")
    assert client.get("/pharmacy/formularies/").status_code == 200
    assert client.get(f"/pharmacy/formularies/{formulary.pk}/").status_code == 403
    assert (
        client.post(
            "/pharmacy/formularies/open/", {"alliance": mine.alliance.pk, "tier": "village"}
        ).status_code
        == 403
    )
