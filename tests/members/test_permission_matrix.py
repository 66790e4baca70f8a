"""The permission matrix of DESIGN §5 through the API: every role × every endpoint of the
alliance and members apps × list, detail, create and update.

The expectations below are written out from the table of DESIGN §5, not read from
members/access.py, so a change of the policy that breaks the table fails here.
"""

import pytest

from tests.members.factories import resident_id
from tests.world import ROLES

pytestmark = pytest.mark.django_db

EVERYONE = set(ROLES)
PEOPLE_READERS = {"bureau", "alliance_admin", "institution_admin", "clinician", "api_client"}

# endpoint: (roles that see my county's row, roles that may create, roles that may update)
MATRIX = {
    # Alliances are registered by a system administrator; the bureau edits its own.
    "alliances": (EVERYONE, set(), {"bureau"}),
    "institutions": (EVERYONE, {"bureau", "alliance_admin"}, {"bureau", "alliance_admin"}),
    "departments": (PEOPLE_READERS, {"bureau", "alliance_admin"}, {"bureau", "alliance_admin"}),
    "staff": (
        PEOPLE_READERS,
        {"alliance_admin", "institution_admin"},
        {"alliance_admin", "institution_admin"},
    ),
    "secondments": (
        PEOPLE_READERS,
        {"alliance_admin", "institution_admin"},
        {"alliance_admin", "institution_admin"},
    ),
    "teams": (
        PEOPLE_READERS,
        {"alliance_admin", "institution_admin"},
        {"alliance_admin", "institution_admin"},
    ),
    "residents": (
        PEOPLE_READERS,
        {"alliance_admin", "institution_admin"},
        {"alliance_admin", "institution_admin"},
    ),
}
CASES = [(role, endpoint) for endpoint in MATRIX for role in ROLES]


def create_payload(endpoint, mine):
    home = mine.home
    return {
        "alliances": {"name": "新设医共体", "kind": "county", "region_code": "330784"},
        "institutions": {
            "code": "NEW001", "name": "新建卫生院", "level": "primary", "region": "330782",
            "licensed_beds": 20, "open_beds": 18, "alliance": mine.alliance.pk, "role": "branch",
            "valid_from": "2026-01-01",
        },
        "departments": {"institution": home.code, "code": "03", "name": "内科"},
        "staff": {
            "institution": home.code, "employee_number": "N0001", "name": "新职工", "gender": "male",
            "profession": "doctor", "title_level": "junior", "title": "医师",
            "licence_number": "110330100000001", "valid_from": "2026-01-01",
        },
        "secondments": {
            "staff": mine.rows["staff"].pk, "to_institution": mine.villages[0].code,
            "kind": "patrol", "start_date": "2026-03-01",
        },
        "teams": {"institution": home.code, "name": "新团队"},
        "residents": {
            "team": mine.rows["teams"].pk, "name": "李四", "id_number": resident_id(99),
            "signed_on": "2026-01-01",
        },
    }[endpoint]  # fmt: skip


UPDATES = {
    "alliances": ("charter_date", "2019-10-01"),
    "institutions": ("open_beds", 40),
    "departments": ("name", "全科"),
    "staff": ("title", "副主任医师"),
    "secondments": ("notes", "驻点半年"),
    "teams": ("name", "团队改名"),
    "residents": ("chronic_conditions", ["hypertension"]),
}


def ids(response):
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_list_shows_my_county_row_only_to_the_roles_that_see_it(world, client_for, role, endpoint):
    mine, other, users = world
    readers, _creators, _updaters = MATRIX[endpoint]

    response = client_for(users[role]).get(f"/api/v1/{endpoint}/?page_size=500")

    assert response.status_code == 200
    assert (mine.rows[endpoint].pk in ids(response)) == (role in readers)
    assert other.rows[endpoint].pk not in ids(response)


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_detail_is_404_outside_the_role_scope(world, client_for, role, endpoint):
    mine, other, users = world
    readers, _creators, _updaters = MATRIX[endpoint]
    client = client_for(users[role])

    my_row = client.get(f"/api/v1/{endpoint}/{mine.rows[endpoint].pk}/")
    other_row = client.get(f"/api/v1/{endpoint}/{other.rows[endpoint].pk}/")

    assert my_row.status_code == (200 if role in readers else 404)
    assert other_row.status_code == 404
    assert other_row.json()["code"] == "not_found"


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_create_is_201_for_writers_and_403_for_the_rest(world, client_for, role, endpoint):
    mine, _other, users = world
    _readers, creators, _updaters = MATRIX[endpoint]
    model = type(mine.rows[endpoint])
    before = model.objects.count()

    response = client_for(users[role]).post(
        f"/api/v1/{endpoint}/", create_payload(endpoint, mine), format="json"
    )

    if role in creators:
        assert response.status_code == 201, response.json()
        assert model.objects.count() == before + 1
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert model.objects.count() == before


@pytest.mark.parametrize(("role", "endpoint"), CASES)
def test_update_is_200_for_writers_and_403_for_the_rest(world, client_for, role, endpoint):
    mine, _other, users = world
    _readers, _creators, updaters = MATRIX[endpoint]
    row = mine.rows[endpoint]
    field, value = UPDATES[endpoint]
    before = getattr(row, field)

    response = client_for(users[role]).patch(f"/api/v1/{endpoint}/{row.pk}/", {field: value}, format="json")

    row.refresh_from_db()
    if role in updaters:
        assert response.status_code == 200, response.json()
        assert str(getattr(row, field)) == str(value) or getattr(row, field) == value
    else:
        assert response.status_code == 403
        assert getattr(row, field) == before


@pytest.mark.parametrize("endpoint", ["staff", "secondments", "teams", "residents"])
@pytest.mark.parametrize("role", ["institution_admin", "clinician", "api_client"])
def test_institution_roles_see_people_of_their_own_institution_only(world, client_for, role, endpoint):
    mine, _other, users = world
    rows = type(mine.rows[endpoint]).objects.all()

    visible = ids(client_for(users[role]).get(f"/api/v1/{endpoint}/?page_size=500"))

    expected = {row.pk for row in rows.for_user(users["bureau"]) if _touches(row, mine.home)}
    assert visible == expected
    assert mine.rows[endpoint].pk in visible


def _touches(row, institution):
    ends = [
        getattr(row, name, None) for name in ("institution_id", "from_institution_id", "to_institution_id")
    ]
    return institution.pk in ends


@pytest.mark.parametrize(("role", "endpoint"), [("alliance_admin", "staff"), ("institution_admin", "staff")])
def test_writer_cannot_write_people_of_another_county(world, client_for, role, endpoint):
    _mine, other, users = world
    row = other.rows[endpoint]

    response = client_for(users[role]).patch(f"/api/v1/{endpoint}/{row.pk}/", {"title": "x"}, format="json")

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.title != "x"


def test_institution_admin_cannot_hire_into_another_institution_of_the_alliance(world, client_for):
    mine, _other, users = world
    payload = create_payload("staff", mine) | {"institution": mine.lead.code}

    response = client_for(users["institution_admin"]).post("/api/v1/staff/", payload, format="json")

    assert response.status_code == 403
    assert not type(mine.rows["staff"]).objects.filter(employee_number="N0001").exists()


@pytest.mark.parametrize(
    ("endpoint", "parameter"),
    [
        ("institutions", "parent"),
        ("institutions", "alliance"),
        ("departments", "institution"),
        ("staff", "institution"),
        ("secondments", "to_institution"),
        ("teams", "institution"),
        ("residents", "institution"),
    ],
)
def test_filter_by_a_hidden_row_answers_like_a_missing_one(world, client_for, endpoint, parameter):
    mine, other, users = world
    hidden = other.alliance.pk if parameter == "alliance" else other.home.pk
    client = client_for(users["clinician"])

    by_hidden = client.get(f"/api/v1/{endpoint}/?{parameter}={hidden}")
    by_missing = client.get(f"/api/v1/{endpoint}/?{parameter}=999999")

    assert by_hidden.status_code == by_missing.status_code == 400
    assert by_hidden.json() == by_missing.json()


def test_filter_by_hidden_code_answers_like_a_missing_one(world, client_for):
    _mine, other, users = world
    client = client_for(users["clinician"])

    by_hidden = client.get(f"/api/v1/staff/?institution_code={other.home.code}")
    by_missing = client.get("/api/v1/staff/?institution_code=NOPE")

    assert by_hidden.status_code == by_missing.status_code == 400
    assert by_hidden.json() == by_missing.json()


def test_body_naming_a_hidden_institution_answers_like_a_missing_one(world, client_for):
    mine, other, users = world
    client = client_for(users["alliance_admin"])
    payload = create_payload("staff", mine)

    hidden = client.post("/api/v1/staff/", payload | {"institution": other.home.code}, format="json")
    missing = client.post("/api/v1/staff/", payload | {"institution": "NOPE"}, format="json")

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["errors"]["institution"] != []
    assert (
        hidden.json()["errors"]["institution"][0].replace(other.home.code, "NOPE")
        == (missing.json()["errors"]["institution"][0])
    )


def test_anonymous_caller_gets_401_everywhere(api_client, world):
    for endpoint in MATRIX:
        response = api_client.get(f"/api/v1/{endpoint}/")
        assert response.status_code == 401


@pytest.mark.parametrize(
    ("role", "readable"),
    [
        ("bureau", True),
        ("alliance_admin", True),
        ("committee", False),
        ("finance", False),
        ("insurance_feed", False),
        ("institution_admin", True),
        ("clinician", True),
        ("api_client", True),
    ],
)
def test_can_read_tells_menus_whether_a_role_sees_staff_at_all(world, role, readable):
    from core import access
    from members.models import StaffMember

    _mine, _other, users = world

    assert access.can_read(users[role], StaffMember) is readable


# --- Shared rows: the indicator definitions (issue 14 points 3 and 7) ---------------------------------
# One catalogue for every alliance, named by code: every role reads it (no patient data; the
# committee watches indicators, an HIS reads the catalogue), only the bureau adds and revises.
# role: (sees the definition, create, update)
INDICATOR_MATRIX = {
    "bureau": (True, 201, 200),
    "alliance_admin": (True, 403, 403),
    "committee": (True, 403, 403),
    "finance": (True, 403, 403),
    "insurance_feed": (True, 403, 403),
    "institution_admin": (True, 403, 403),
    "clinician": (True, 403, 403),
    "api_client": (True, 403, 403),
}


@pytest.mark.parametrize("role", INDICATOR_MATRIX)
def test_indicator_definitions_matrix(world, client_for, role):
    from assessment.models import IndicatorDefinition
    from tests.assessment.factories import definition

    _mine, _other, users = world
    seen, create, update = INDICATOR_MATRIX[role]
    definition("matrix_share")
    client = client_for(users[role])
    body = {
        "code": "matrix_count", "name_zh": "矩阵人次", "name_en": "Matrix count", "unit": "count",
        "numerator": "#{visits.in_county}", "direction": "monitor",
    }  # fmt: skip

    listed = client.get("/api/v1/indicators/", {"code": "matrix_share"}).json()["results"]
    detail = client.get("/api/v1/indicators/matrix_share/")
    created = client.post("/api/v1/indicators/", body, format="json")
    updated = client.patch("/api/v1/indicators/matrix_share/", {"decimals": 1}, format="json")

    assert ([row["code"] for row in listed] == ["matrix_share"]) is seen
    assert detail.status_code == (200 if seen else 404)
    assert (created.status_code, updated.status_code) == (create, update), (created.content, updated.content)
    assert IndicatorDefinition.objects.filter(code="matrix_count").exists() is (create == 201)
    assert IndicatorDefinition.objects.filter(code="matrix_share").count() == (2 if update == 200 else 1)


def test_anonymous_caller_gets_401_on_the_indicators(api_client, world):
    assert api_client.get("/api/v1/indicators/").status_code == 401
    assert api_client.post("/api/v1/indicators/", {}, format="json").status_code == 401
