"""The hierarchy API of DESIGN §8: institutions with their place as of a date, codes in and ids
out, join/move/leave through the services, Chinese errors, pinned query counts."""

import datetime

import pytest
from stdnum.cn import uscc

from alliance import services
from alliance.choices import PlacementRole
from alliance.models import Institution, Placement
from tests.alliance.factories import DepartmentFactory, InstitutionFactory

pytestmark = pytest.mark.django_db
MOVED_ON = datetime.date(2026, 7, 1)


def has_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def moved_village(world):
    """The first village clinic moves from the first branch to the second on 2026-07-01."""
    mine, _other, _users = world
    village = mine.villages[0]
    services.move_institution(village, on=MOVED_ON, parent=mine.branches[1], acting_user=None)
    return village


def test_institution_row_carries_its_place_today(world, client_for):
    mine, _other, users = world

    row = client_for(users["clinician"]).get(f"/api/v1/institutions/{mine.villages[0].pk}/").json()

    assert row["code"] == mine.villages[0].code
    assert row["region"] == "330782"
    assert (row["alliance"], row["role"]) == (mine.alliance.pk, "village")
    assert (row["parent"], row["parent_code"]) == (mine.branches[0].pk, mine.branches[0].code)
    assert (row["valid_from"], row["valid_to"]) == ("2019-10-01", None)


def test_as_of_shows_the_place_as_it_stood_on_that_date(world, client_for, moved_village):
    mine, _other, users = world
    client = client_for(users["bureau"])

    before = client.get(f"/api/v1/institutions/{moved_village.pk}/?as_of=2026-06-30").json()
    on_the_day = client.get(f"/api/v1/institutions/{moved_village.pk}/?as_of=2026-07-01").json()

    assert (before["parent"], before["valid_to"]) == (mine.branches[0].pk, "2026-07-01")
    assert (on_the_day["parent"], on_the_day["valid_from"]) == (mine.branches[1].pk, "2026-07-01")


def test_parent_filter_uses_the_as_of_date(world, client_for, moved_village):
    mine, _other, users = world
    client = client_for(users["bureau"])
    old_branch = mine.branches[0]

    june = client.get(f"/api/v1/institutions/?parent={old_branch.pk}&as_of=2026-06-30").json()
    today = client.get(f"/api/v1/institutions/?parent_code={old_branch.code}").json()

    assert [row["id"] for row in june["results"]] == [moved_village.pk]
    assert today["results"] == []


def test_role_and_alliance_filters(world, client_for):
    mine, _other, users = world

    response = client_for(users["bureau"]).get(
        f"/api/v1/institutions/?alliance={mine.alliance.pk}&role=branch"
    )

    assert sorted(row["id"] for row in response.json()["results"]) == sorted(b.pk for b in mine.branches)


def test_an_institution_that_left_has_no_place_but_the_bureau_still_sees_it(world, client_for):
    mine, _other, users = world
    village = mine.villages[1]
    services.leave_alliance(village, on=datetime.date(2026, 1, 1), acting_user=None)

    row = client_for(users["bureau"]).get(f"/api/v1/institutions/{village.pk}/").json()
    then = client_for(users["bureau"]).get(f"/api/v1/institutions/{village.pk}/?as_of=2025-12-31").json()

    assert (row["alliance"], row["role"], row["parent"]) == (None, None, None)
    assert then["alliance"] == mine.alliance.pk


def test_bad_as_of_is_400_in_chinese(world, client_for):
    _mine, _other, users = world

    response = client_for(users["bureau"]).get("/api/v1/institutions/?as_of=2026-13-01")

    assert response.status_code == 400
    assert "as_of" in response.json()["errors"]
    assert has_chinese(response.json()["message"])


def test_register_with_placement_returns_201_with_ids_out(world, client_for):
    mine, _other, users = world
    payload = {
        "code": "B9001", "name": "新建镇卫生院", "level": "primary", "region": "330782",
        "credit_code": _valid_credit_code(), "licensed_beds": 30, "open_beds": 28,
        "alliance": mine.alliance.pk, "role": "branch", "parent": mine.lead.code, "valid_from": "2026-01-01",
    }  # fmt: skip

    response = client_for(users["alliance_admin"]).post("/api/v1/institutions/", payload, format="json")

    assert response.status_code == 201, response.json()
    row = response.json()
    assert (row["code"], row["alliance"], row["role"]) == ("B9001", mine.alliance.pk, "branch")
    assert (row["parent"], row["parent_code"]) == (mine.lead.pk, mine.lead.code)
    placement = Placement.objects.get(institution__code="B9001")
    assert (placement.valid_from, placement.parent) == (datetime.date(2026, 1, 1), mine.lead)


def _valid_credit_code():
    body = "12330782MB1234567"
    return body + uscc.calc_check_digit(body)


def test_register_with_a_bad_parent_writes_nothing(world, client_for):
    mine, _other, users = world
    payload = {
        "code": "V9001", "name": "新村卫生室", "level": "primary", "region": "330782",
        "alliance": mine.alliance.pk, "role": "village", "parent": mine.lead.code, "valid_from": "2026-01-01",
    }  # fmt: skip

    response = client_for(users["bureau"]).post("/api/v1/institutions/", payload, format="json")

    assert response.status_code == 400
    assert "parent" in response.json()["errors"]
    assert has_chinese(response.json()["errors"]["parent"][0])
    assert not Institution.objects.filter(code="V9001").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("credit_code", "91110000600037341A"), ("region", "99"), ("code", "the lead's")],
)
def test_register_rejects_bad_identifiers_with_a_chinese_message(world, client_for, field, value):
    mine, _other, users = world
    value = mine.lead.code if value == "the lead's" else value
    payload = {"code": "N1", "name": "某诊所", "level": "primary", "region": "330782"} | {field: value}

    response = client_for(users["bureau"]).post("/api/v1/institutions/", payload, format="json")

    assert response.status_code == 400
    messages = response.json()["errors"].get(field) or response.json()["errors"].get("region_code")
    assert messages and has_chinese(messages[0])
    assert not Institution.objects.filter(name="某诊所").exists()


def test_place_fields_cannot_be_patched(world, client_for):
    mine, _other, users = world

    response = client_for(users["bureau"]).patch(
        f"/api/v1/institutions/{mine.villages[0].pk}/", {"parent": mine.branches[1].code}, format="json"
    )

    assert response.status_code == 400
    assert Placement.objects.get(institution=mine.villages[0]).parent == mine.branches[0]


def test_move_closes_the_old_period_and_opens_the_new_one(world, client_for):
    mine, _other, users = world
    village = mine.villages[0]
    client = client_for(users["alliance_admin"])

    response = client.post(
        f"/api/v1/institutions/{village.pk}/move/",
        {"on": "2026-07-01", "parent": mine.branches[1].code},
        format="json",
    )
    history = client.get(f"/api/v1/institutions/{village.pk}/history/").json()

    assert response.status_code == 200, response.json()
    assert response.json()["parent"] == mine.branches[1].pk
    assert [(h["parent"], h["valid_from"], h["valid_to"]) for h in history] == [
        (mine.branches[0].pk, "2019-10-01", "2026-07-01"),
        (mine.branches[1].pk, "2026-07-01", None),
    ]


def test_move_into_an_alliance_the_caller_cannot_write_is_403(world, client_for):
    mine, other, users = world

    response = client_for(users["alliance_admin"]).post(
        f"/api/v1/institutions/{mine.collaborating.pk}/move/",
        {"on": "2026-07-01", "alliance": other.alliance.pk},
        format="json",
    )

    # The other alliance is hidden from this caller: it is an unknown id, not a 403 that reveals it.
    assert response.status_code == 400
    assert Placement.objects.filter(institution=mine.collaborating).count() == 1


def test_leave_and_join_again(world, client_for):
    mine, _other, users = world
    collaborating = mine.collaborating
    client = client_for(users["bureau"])

    left = client.post(f"/api/v1/institutions/{collaborating.pk}/leave/", {"on": "2026-01-01"}, format="json")
    joined = client.post(
        f"/api/v1/institutions/{collaborating.pk}/join/",
        {"alliance": mine.alliance.pk, "role": "partner", "valid_from": "2026-03-01"},
        format="json",
    )

    assert left.status_code == 200 and left.json()["alliance"] is None
    assert joined.status_code == 200 and joined.json()["role"] == "partner"
    assert list(
        Placement.objects.filter(institution=collaborating).values_list("role", "valid_from", "valid_to")
    ) == [
        (PlacementRole.COLLABORATING, datetime.date(2019, 10, 1), datetime.date(2026, 1, 1)),
        (PlacementRole.PARTNER, datetime.date(2026, 3, 1), None),
    ]


def test_join_overlapping_the_current_period_is_400_in_chinese(world, client_for):
    mine, _other, users = world

    response = client_for(users["bureau"]).post(
        f"/api/v1/institutions/{mine.collaborating.pk}/join/",
        {"alliance": mine.alliance.pk, "role": "partner", "valid_from": "2025-01-01"},
        format="json",
    )

    assert response.status_code == 400
    assert has_chinese(response.json()["message"])
    assert Placement.objects.filter(institution=mine.collaborating).count() == 1


def test_committee_cannot_move(world, client_for):
    mine, _other, users = world

    response = client_for(users["committee"]).post(
        f"/api/v1/institutions/{mine.villages[0].pk}/move/",
        {"on": "2026-07-01", "parent": mine.branches[1].code},
        format="json",
    )

    assert response.status_code == 403
    assert Placement.objects.filter(institution=mine.villages[0]).count() == 1


def test_department_codes_in_ids_out(world, client_for):
    mine, _other, users = world

    response = client_for(users["alliance_admin"]).post(
        "/api/v1/departments/",
        {"institution": mine.lead.code, "code": "03.01", "name": "呼吸内科"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json() | {"id": 0} == {
        "id": 0, "code": "03.01", "name": "呼吸内科", "institution": mine.lead.pk,
        "institution_code": mine.lead.code, "active": True,
    }  # fmt: skip


def test_department_code_must_be_standard(world, client_for):
    mine, _other, users = world

    response = client_for(users["alliance_admin"]).post(
        "/api/v1/departments/", {"institution": mine.lead.code, "code": "99", "name": "某科"}, format="json"
    )

    assert response.status_code == 400
    assert has_chinese(response.json()["errors"]["code"][0])


def test_departments_filter_by_institution_code(world, client_for):
    mine, _other, users = world
    DepartmentFactory(institution=mine.lead, code="04", name="外科")

    response = client_for(users["clinician"]).get(f"/api/v1/departments/?institution_code={mine.lead.code}")

    assert [row["code"] for row in response.json()["results"]] == ["04"]


def test_alliance_row_names_its_lead_and_population(world, client_for):
    mine, _other, users = world
    services.set_population(mine.alliance, year=2025, resident_population=512000, acting_user=None)

    row = client_for(users["committee"]).get(f"/api/v1/alliances/{mine.alliance.pk}/").json()

    assert (row["lead_institution"], row["lead_institution_code"]) == (mine.lead.pk, mine.lead.code)
    assert row["populations"] == [{"year": 2025, "resident_population": 512000}]
    assert (row["kind"], row["region_code"]) == ("county", "330782")


def test_bureau_records_population(world, client_for):
    mine, _other, users = world

    response = client_for(users["bureau"]).post(
        f"/api/v1/alliances/{mine.alliance.pk}/population/",
        {"year": 2026, "resident_population": 498000},
        format="json",
    )
    denied = client_for(users["alliance_admin"]).post(
        f"/api/v1/alliances/{mine.alliance.pk}/population/",
        {"year": 2026, "resident_population": 1},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["populations"] == [{"year": 2026, "resident_population": 498000}]
    assert denied.status_code == 403


def test_superuser_registers_an_alliance(client_for, superuser):
    response = client_for(superuser).post(
        "/api/v1/alliances/", {"name": "新县医共体", "kind": "county", "region_code": "330784"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["lead_institution"] is None


def test_institution_list_query_count_does_not_grow_with_rows(
    world, client_for, django_assert_max_num_queries
):
    mine, _other, users = world
    client = client_for(users["bureau"])
    for n in range(20):
        institution = InstitutionFactory()
        services.join_alliance(
            institution, alliance=mine.alliance, role=PlacementRole.VILLAGE, parent=mine.branches[0],
            valid_from=datetime.date(2020, 1, 1), acting_user=None,
        )  # fmt: skip

    with django_assert_max_num_queries(QUERIES["institutions"]):
        response = client.get("/api/v1/institutions/?page_size=500")

    assert response.json()["count"] == 26


# session-free token auth: memberships, the institution's alliance today, count, rows, prefetches
QUERIES = {"institutions": 6, "departments": 5, "alliances": 6}


@pytest.mark.parametrize("endpoint", ["institutions", "departments", "alliances"])
def test_list_query_counts_are_pinned(world, client_for, django_assert_num_queries, endpoint):
    mine, _other, users = world
    for code in ("04", "05", "07"):
        DepartmentFactory(institution=mine.lead, code=code)

    with django_assert_num_queries(QUERIES[endpoint]):
        response = client_for(users["institution_admin"]).get(f"/api/v1/{endpoint}/")

    assert response.status_code == 200


def test_register_with_the_same_idempotency_key_creates_once(world, client_for):
    mine, _other, users = world
    client = client_for(users["bureau"])
    payload = {"code": "N77", "name": "某诊所", "level": "primary", "region": "330782"}

    first = client.post("/api/v1/institutions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/institutions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Institution.objects.filter(code="N77").count() == 1


def test_schema_says_codes_in_and_ids_out(client_for, superuser):
    schema = client_for(superuser).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    assert components["DepartmentRequest"]["properties"]["institution"]["type"] == "string"
    assert components["Department"]["properties"]["institution"]["type"] == "integer"
    assert components["Department"]["properties"]["institution_code"]["type"] == "string"
    for path in ("/api/v1/institutions/{id}/move/", "/api/v1/institutions/{id}/history/", "/api/v1/me/"):
        assert path in schema["paths"]
