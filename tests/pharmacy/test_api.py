"""The catalogue through the API (issue 16 point 5, DESIGN §8): `/api/v1/drugs/?search=` and
`/api/v1/formularies/`, codes in and ids out; every role of an alliance reads its catalogue,
the alliance office writes it (the permission matrix, written out from DESIGN §5)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.querysets import today
from pharmacy.models import DrugCatalogueEntry, Formulary
from tests.pharmacy.factories import CHINESE, WESTERN, drug, western
from tests.world import ROLES

pytestmark = pytest.mark.django_db

WRITERS = {"alliance_admin"}
BODY = {
    "nhsa_code": "XC08CAN051A001010100002", "generic_name": "硝苯地平片", "dosage_form": "片剂",
    "specification": "10mg", "pack_quantity": 100, "dispensing_unit": "片", "pack_unit": "瓶",
    "manufacturer": "上海信谊药厂有限公司", "insurance_class": "A", "is_essential": True, "essential_edition": "2018",
    "approval_number": "国药准字H31021642", "purchase_price": "3.20", "retail_price": "3.68",
    "price_from": "2026-01-01",
}  # fmt: skip


@pytest.fixture
def catalogue(world):
    mine, other, users = world
    return mine, other, users, drug(mine.alliance), drug(other.alliance, CHINESE, generic_name="连花清瘟胶囊",
                                                          standard_code="")  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_the_catalogue_as_design_5_says(catalogue, client_for, role):
    mine, other, users, entry, theirs = catalogue
    client = client_for(users[role])

    listed = client.get("/api/v1/drugs/").json()["results"]
    created = client.post("/api/v1/drugs/", {**BODY, "alliance": mine.alliance.pk}, format="json")
    updated = client.patch(f"/api/v1/drugs/{entry.pk}/", {"trade_name": "阿莫灵"}, format="json")
    priced = client.post(
        f"/api/v1/drugs/{entry.pk}/prices/", {"purchase_price": "9", "retail_price": "10"}, format="json"
    )

    assert [row["id"] for row in listed] == [entry.pk]  # never the other county's
    assert client.get(f"/api/v1/drugs/{theirs.pk}/").status_code == 404
    expected = (201, 200, 201) if role in WRITERS else (403, 403, 403)
    assert (created.status_code, updated.status_code, priced.status_code) == expected, (
        created.content,
        updated.content,
    )
    assert DrugCatalogueEntry.objects.filter(nhsa_code=BODY["nhsa_code"]).exists() is (role in WRITERS)
    entry.refresh_from_db()
    assert (entry.trade_name == "阿莫灵") is (role in WRITERS)


def test_a_drug_row_carries_ids_codes_and_the_days_prices(catalogue, client_for):
    mine, _other, users, entry, _theirs = catalogue
    client = client_for(users["clinician"])
    row = client.get("/api/v1/drugs/", {"search": "amxl"}).json()["results"][0]
    assert (row["id"], row["nhsa_code"], row["alliance"]) == (entry.pk, WESTERN, mine.alliance.pk)
    assert (row["retail_price"], row["purchase_price"], row["insurance_class"]) == ("12.5000", "10.8000", "A")
    assert client.get("/api/v1/drugs/", {"on": "2025-12-31"}).json()["results"][0]["retail_price"] is None
    assert client.get("/api/v1/drugs/", {"on": "2025-13-01"}).status_code == 400
    detail = client.get(f"/api/v1/drugs/{entry.pk}/").json()
    assert detail["prices"] == [
        {"purchase_price": "10.8000", "retail_price": "12.5000", "valid_from": "2026-01-01", "valid_to": None}
    ]


def test_bad_codes_answer_400_naming_the_field_in_chinese(catalogue, client_for):
    mine, _other, users, _entry, _theirs = catalogue
    client = client_for(users["alliance_admin"])
    answer = client.post("/api/v1/drugs/", {**BODY, "alliance": mine.alliance.pk, "nhsa_code": "X123",
                                            "standard_code": "123"}, format="json")  # fmt: skip
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert set(errors) >= {"nhsa_code", "standard_code"}
    assert "医保药品编码" in errors["nhsa_code"][0]
    assert not DrugCatalogueEntry.objects.filter(nhsa_code="X123").exists()


def test_a_price_change_through_the_api_keeps_yesterday(catalogue, client_for):
    _mine, _other, users, entry, _theirs = catalogue
    client = client_for(users["alliance_admin"])
    answer = client.post(
        f"/api/v1/drugs/{entry.pk}/prices/", {"purchase_price": "9.5", "retail_price": "11"}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["valid_from"] == today().isoformat()
    yesterday = (today() - datetime.timedelta(days=1)).isoformat()
    rows = {on: client.get("/api/v1/drugs/", {"on": on}).json()["results"][0]["retail_price"]
            for on in (yesterday, today().isoformat())}  # fmt: skip
    assert rows == {yesterday: "12.5000", today().isoformat(): "11.0000"}
    past = client.post(f"/api/v1/drugs/{entry.pk}/prices/", {"purchase_price": "1", "retail_price": "2",
                                                             "valid_from": yesterday}, format="json")  # fmt: skip
    assert past.status_code == 400 and "valid_from" in past.json()["errors"]


def test_the_list_costs_the_same_queries_for_one_drug_or_many(catalogue, client_for):
    mine, _other, users, _entry, _theirs = catalogue
    client = client_for(users["clinician"])
    client.get("/api/v1/drugs/")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/drugs/")
    for n in range(2, 12):
        drug(mine.alliance, western(n), price_from=datetime.date(2026, 1, n))
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/drugs/").json()["count"] == 11
    assert len(one) == len(many)


# --- Formularies ----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_formularies_as_design_5_says(catalogue, client_for, role):
    mine, _other, users, entry, _theirs = catalogue
    client = client_for(users[role])
    answer = client.post("/api/v1/formularies/", {"alliance": mine.alliance.pk, "tier": "township",
                                                  "drugs": [WESTERN]}, format="json")  # fmt: skip
    assert answer.status_code == (201 if role in WRITERS else 403), answer.content
    assert Formulary.objects.filter(alliance=mine.alliance, tier="township").exists() is (role in WRITERS)


def test_a_formulary_is_set_by_codes_and_shows_its_essential_share(catalogue, client_for):
    mine, other, users, entry, theirs = catalogue
    second = drug(
        mine.alliance, western(7), generic_name="头孢克洛胶囊", is_essential=False, essential_edition=""
    )
    client = client_for(users["alliance_admin"])
    made = client.post("/api/v1/formularies/", {"alliance": mine.alliance.pk, "tier": "village",
                                                "drugs": [WESTERN, second.nhsa_code]}, format="json")  # fmt: skip
    assert made.status_code == 201
    row = made.json()
    assert (row["tier"], row["drug_count"], row["essential_count"], row["essential_share"]) == (
        "village",
        2,
        1,
        50.0,
    )
    foreign = client.patch(f"/api/v1/formularies/{row['id']}/", {"drugs": [CHINESE]}, format="json")
    assert foreign.status_code == 400 and CHINESE in foreign.json()["errors"]["drugs"][0]
    narrowed = client.patch(f"/api/v1/formularies/{row['id']}/", {"drugs": [WESTERN]}, format="json")
    assert (narrowed.json()["drug_count"], narrowed.json()["essential_share"]) == (1, 100.0)
    detail = client.get(f"/api/v1/formularies/{row['id']}/").json()
    assert detail["entries"] == [{"id": entry.pk, "nhsa_code": WESTERN}]
    listed = client_for(users["clinician"]).get("/api/v1/formularies/", {"tier": "village"}).json()["results"]
    assert [r["id"] for r in listed] == [row["id"]]


def test_each_drug_added_or_removed_is_the_formularys_history(catalogue, client_for):
    from pharmacy.models import FormularyChange

    mine, _other, users, entry, _theirs = catalogue
    client = client_for(users["alliance_admin"])
    row = client.post("/api/v1/formularies/", {"alliance": mine.alliance.pk, "tier": "county", "drugs": [WESTERN]},
                      format="json").json()  # fmt: skip
    client.patch(f"/api/v1/formularies/{row['id']}/", {"drugs": []}, format="json")
    client.patch(f"/api/v1/formularies/{row['id']}/", {"drugs": []}, format="json")  # nothing changes
    changes = FormularyChange.objects.filter(formulary=row["id"]).order_by("pk")
    assert list(changes.values_list("action", "entry", "acting_user")) == [
        ("added", entry.pk, users["alliance_admin"].pk), ("removed", entry.pk, users["alliance_admin"].pk),
    ]  # fmt: skip


def test_an_api_write_is_audited_with_its_caller(catalogue, client_for):
    from auditlog.models import LogEntry

    _mine, _other, users, entry, _theirs = catalogue
    client_for(users["alliance_admin"]).patch(
        f"/api/v1/drugs/{entry.pk}/", {"trade_name": "阿莫灵"}, format="json"
    )
    log = LogEntry.objects.get_for_object(entry).filter(action=LogEntry.Action.UPDATE).get()
    assert log.actor == users["alliance_admin"] and "trade_name" in log.changes_dict
