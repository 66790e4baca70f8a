"""The indicators API (issue 14 points 3 and 7, DESIGN §8): the definitions by code, one version
per code by default, every version on request; the bureau adds and revises them through the
services (a revision is the next version; a stale one is 409); every other role reads only."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alliance.querysets import today
from assessment import expressions, services
from assessment.models import IndicatorDefinition
from tests.assessment.factories import definition
from tests.world import ROLES

pytestmark = pytest.mark.django_db

D = datetime.date
URL = "/api/v1/indicators/"
READ_ONLY_ROLES = [role for role in ROLES if role != "bureau"]
ROW_FIELDS = {
    "code", "version", "name_zh", "name_en", "name", "definition", "data_source", "numerator",
    "denominator", "unit", "decimals", "target", "target_comparison", "target_tolerance", "warning_band", "direction",
    "scopes", "effective_from", "effective_to",
}  # fmt: skip
NEW = {
    "code": "signed_share",
    "name_zh": "签约居民占比",
    "name_en": "Share of signed residents",
    "numerator": "#{visits.in_county.primary}",
    "denominator": "#{visits.in_county}",
    "unit": "percent",
    "direction": "higher_better",
    "target": "40",
    "target_comparison": "gte",
    "scopes": ["alliance", "township"],
    "effective_from": "2025-01-01",
}


@pytest.fixture
def catalogue(db):
    """Only the definitions of the test: the migration's catalogue is removed (and a
    transactional test elsewhere may have removed it already)."""
    IndicatorDefinition.objects.all().delete()
    share = definition("test_share")
    revised = services.revise_definition(
        share, target=Decimal(70), target_comparison="gte", effective_from=D(2025, 1, 1), acting_user=None
    )
    alliance_only = definition("alliance_count", unit="count", denominator="", for_township=False)
    return {"v1": IndicatorDefinition.objects.get(pk=share.pk), "v2": revised, "alliance_only": alliance_only}


def codes_and_versions(response):
    return [(row["code"], row["version"]) for row in response.json()["results"]]


def stale_message():
    with translation.override("zh-hans"):
        return str(translation.gettext("This definition has a newer version: revise the latest one."))


def expression_messages(text):
    with translation.override("zh-hans"):
        try:
            expressions.parse(text)
        except ValidationError as error:
            return error.messages
    raise AssertionError(f"{text!r} parses")


# --- Reading ------------------------------------------------------------------------------------------
def test_the_list_shows_the_version_in_force_of_each_code(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["clinician"]).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert codes_and_versions(response) == [("alliance_count", 1), ("test_share", 2)]
    row = response.json()["results"][1]
    assert set(row) == ROW_FIELDS
    assert row == {
        "code": "test_share", "version": 2, "name_zh": "测试占比", "name_en": "Test share",
        "name": "测试占比", "definition": "", "data_source": "",
        "numerator": "#{visits.in_county.primary}", "denominator": "#{visits.in_county}",
        "unit": "percent", "decimals": 2, "target": "70.0000", "target_comparison": "gte",
        "target_tolerance": None, "warning_band": None, "direction": "higher_better",
        "scopes": ["alliance", "township", "institution"],
        "effective_from": "2025-01-01", "effective_to": None,
    }  # fmt: skip


def test_every_version_on_request_and_filters_by_code_and_scope(client_for, world, catalogue):
    _mine, _other, users = world
    client = client_for(users["committee"])

    every = client.get(URL, {"all_versions": "true"})
    by_code = client.get(URL, {"code": "test_share", "all_versions": "true"})
    townships = client.get(URL, {"scope": "township"})
    bad_scope = client.get(URL, {"scope": "county"})

    assert codes_and_versions(every) == [("alliance_count", 1), ("test_share", 2), ("test_share", 1)]
    assert codes_and_versions(by_code) == [("test_share", 2), ("test_share", 1)]
    assert codes_and_versions(townships) == [("test_share", 2)]
    assert bad_scope.status_code == 400
    assert list(bad_scope.json()["errors"]) == ["scope"]


def test_an_indicator_not_yet_in_force_is_listed_with_its_latest_version(client_for, world, catalogue):
    _mine, _other, users = world
    later = today() + datetime.timedelta(days=30)
    definition("future_share", effective_from=later)

    response = client_for(users["bureau"]).get(URL, {"code": "future_share"})

    assert codes_and_versions(response) == [("future_share", 1)]
    assert response.json()["results"][0]["effective_from"] == later.isoformat()


def test_the_detail_is_the_version_in_force_with_every_version_briefly(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["api_client"]).get(f"{URL}test_share/")

    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["version"], body["target"]) == ("test_share", 2, "70.0000")
    assert [(row["version"], row["effective_from"], row["effective_to"]) for row in body["versions"]] == [
        (2, "2025-01-01", None),
        (1, "2024-01-01", "2025-01-01"),
    ]
    assert set(body["versions"][0]) == {"version", "name_zh", "effective_from", "effective_to", "created_at"}


def test_the_name_follows_the_request_language(client_for, world, catalogue):
    _mine, _other, users = world
    client = client_for(users["finance"])

    english = client.get(f"{URL}test_share/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(f"{URL}test_share/")

    assert (english.json()["name"], chinese.json()["name"]) == ("Test share", "测试占比")


def test_an_unknown_code_is_404(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).get(f"{URL}no_such_indicator/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("rows", [3, 40])
def test_list_query_count_does_not_grow_with_rows(
    client_for, world, catalogue, django_assert_num_queries, rows
):
    _mine, _other, users = world
    for n in range(rows):
        definition(f"bulk_{n:02d}")
    client = client_for(users["committee"])

    # memberships (the reach), the count, the page
    with django_assert_num_queries(3):
        response = client.get(URL, {"page_size": 500})

    assert response.json()["count"] == rows + 2


# --- Writing ------------------------------------------------------------------------------------------
def test_the_bureau_adds_an_indicator(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).post(URL, NEW, format="json")

    assert response.status_code == 201, response.json()
    created = IndicatorDefinition.objects.get(code="signed_share")
    assert (created.version, created.created_by, created.scopes) == (
        1,
        users["bureau"],
        ["alliance", "township"],
    )
    assert (created.target, created.effective_from) == (Decimal(40), D(2025, 1, 1))
    body = response.json()
    assert (body["code"], body["version"], body["scopes"]) == ("signed_share", 1, ["alliance", "township"])
    assert [row["version"] for row in body["versions"]] == [1]


def test_a_create_without_a_date_or_scopes_starts_today_at_every_level(client_for, world, catalogue):
    _mine, _other, users = world
    body = {name: value for name, value in NEW.items() if name not in ("effective_from", "scopes")}

    response = client_for(users["bureau"]).post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["effective_from"] == today().isoformat()
    assert response.json()["scopes"] == ["alliance", "township", "institution"]


def test_a_bad_expression_is_400_on_its_field_in_chinese(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).post(
        URL, NEW | {"numerator": "#{visits.in_county} +"}, format="json"
    )

    assert response.status_code == 400
    expected = expression_messages("#{visits.in_county} +")
    assert response.json() == {"code": "invalid", "message": expected[0], "errors": {"numerator": expected}}
    assert "无法" in expected[0] or "表达式" in expected[0]  # the lead's zh-hans of the parser
    assert not IndicatorDefinition.objects.filter(code="signed_share").exists()


def test_an_unknown_measure_is_400_on_the_denominator(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).post(
        URL, NEW | {"denominator": "#{visits.nowhere}"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"denominator": expression_messages("#{visits.nowhere}")}


def test_an_existing_code_is_400_on_the_code(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).post(URL, NEW | {"code": "test_share"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["code"]
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


def test_a_create_with_an_idempotency_key_is_made_once(client_for, world, catalogue):
    _mine, _other, users = world
    client = client_for(users["bureau"])

    first = client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, NEW, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert IndicatorDefinition.objects.filter(code="signed_share").count() == 1


def test_the_bureau_revises_the_version_it_read(client_for, world, catalogue):
    _mine, _other, users = world
    body = {"version": 2, "target": "75", "numerator": "#{visits.in_county.primary} × 1"}

    response = client_for(users["bureau"]).patch(f"{URL}test_share/", body, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["version"], response.json()["target"]) == (3, "75.0000")
    assert response.json()["effective_from"] == today().isoformat()
    assert [row["version"] for row in response.json()["versions"]] == [3, 2, 1]
    v2 = IndicatorDefinition.objects.get(code="test_share", version=2)
    assert (v2.target, v2.effective_to) == (Decimal(70), today())  # the old row keeps its values
    v3 = IndicatorDefinition.objects.get(code="test_share", version=3)
    assert (v3.created_by, v3.numerator) == (users["bureau"], "#{visits.in_county.primary} × 1")


def test_a_revision_without_a_version_revises_the_latest(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).patch(f"{URL}test_share/", {"scopes": ["alliance"]}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["version"], response.json()["scopes"]) == (3, ["alliance"])


def test_a_stale_revision_is_409_and_writes_nothing(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).patch(
        f"{URL}test_share/", {"version": 1, "target": "80"}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {"code": "definition_not_latest", "message": stale_message(), "errors": {}}
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


def test_a_version_that_does_not_exist_is_400(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).patch(
        f"{URL}test_share/", {"version": 9, "target": "80"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["version"]


def test_a_revision_with_a_bad_expression_is_400_and_writes_no_version(client_for, world, catalogue):
    _mine, _other, users = world
    bad = "#{visits.in_county} ** 2"

    response = client_for(users["bureau"]).patch(f"{URL}test_share/", {"denominator": bad}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"denominator": expression_messages(bad)}
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2
    assert IndicatorDefinition.objects.get(code="test_share", version=2).effective_to is None


def test_no_scope_at_all_is_400(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).patch(f"{URL}test_share/", {"scopes": []}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["scopes"]


def test_a_revision_that_changes_nothing_writes_no_version(client_for, world, catalogue):
    _mine, _other, users = world

    response = client_for(users["bureau"]).patch(f"{URL}test_share/", {"target": "70"}, format="json")

    assert (response.status_code, response.json()["version"]) == (200, 2)
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


@pytest.mark.parametrize("method", ["put", "delete"])
def test_definitions_are_never_replaced_or_deleted(client_for, world, catalogue, method):
    _mine, _other, users = world

    response = getattr(client_for(users["bureau"]), method)(f"{URL}test_share/", NEW, format="json")

    assert response.status_code == 405
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


# --- Who may ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_definitions(client_for, world, catalogue, role):
    _mine, _other, users = world
    client = client_for(users[role])

    listed = client.get(URL)
    detail = client.get(f"{URL}alliance_count/")

    assert (listed.status_code, listed.json()["count"]) == (200, 2)
    assert detail.status_code == 200


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_a_read_only_role_writing_gets_403_and_changes_nothing(client_for, world, catalogue, role):
    _mine, _other, users = world
    client = client_for(users[role])
    before = IndicatorDefinition.objects.count()

    created = client.post(URL, NEW, format="json")
    revised = client.patch(f"{URL}test_share/", {"version": 2, "target": "80"}, format="json")

    assert (created.status_code, revised.status_code) == (403, 403)
    assert created.json()["code"] == revised.json()["code"] == "permission_denied"
    assert IndicatorDefinition.objects.count() == before


def test_a_user_without_membership_sees_no_definition(client_for, user, catalogue):
    client = client_for(user)

    assert client.get(URL).json()["count"] == 0
    assert client.get(f"{URL}test_share/").status_code == 404
    assert client.post(URL, NEW, format="json").status_code == 403


def test_anonymous_callers_get_401(api_client, catalogue):
    for response in (
        api_client.get(URL),
        api_client.get(f"{URL}test_share/"),
        api_client.post(URL, NEW, format="json"),
        api_client.patch(f"{URL}test_share/", {"target": "80"}, format="json"),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    assert IndicatorDefinition.objects.count() == 3
