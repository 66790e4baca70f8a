"""The indicator definition pages (issue 14 point 7): the list (one version per code), a version
with the history of its code, and the bureau's forms that add and revise an indicator through
the services, a bad expression's Chinese message next to its field and the measures beside;
every role reads, only the bureau writes (403), a version nobody may see is 404."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from alliance.querysets import today
from assessment import expressions, services
from assessment.models import Direction, IndicatorDefinition, IndicatorUnit
from tests.assessment.factories import definition
from tests.members.pages import sheet_rows
from tests.world import ROLES

pytestmark = pytest.mark.django_db

D = datetime.date
LIST = reverse("assessment:definition-list")
CREATE = reverse("assessment:definition-create")
READ_ONLY_ROLES = [role for role in ROLES if role != "bureau"]
FORM = {
    "code": "signed_share",
    "name_zh": "签约居民占比",
    "name_en": "Share of signed residents",
    "numerator": "#{visits.in_county.primary}",
    "denominator": "#{visits.in_county}",
    "unit": "percent",
    "decimals": "2",
    "target": "40",
    "target_comparison": "gte",
    "direction": "higher_better",
    "for_alliance": "on",
    "for_institution": "on",
    "effective_from": "2025-01-01",
}


@pytest.fixture
def catalogue(db):
    """test_share in two versions (v2 in force since 2025-01-01) and one count; the
    migration's catalogue is removed."""
    IndicatorDefinition.objects.all().delete()
    share = definition("test_share")
    revised = services.revise_definition(
        share, target=Decimal(70), target_comparison="gte", effective_from=D(2025, 1, 1), acting_user=None
    )
    count = definition("up_count", name_zh="上转人次", unit="count", denominator="", direction="monitor")
    return {"v1": IndicatorDefinition.objects.get(pk=share.pk), "v2": revised, "count": count}


def detail_url(row):
    return reverse("assessment:definition-detail", args=[row.pk])


def revise_url(row):
    return reverse("assessment:definition-revise", args=[row.pk])


def revise_form(row, **changes):
    """The revise form as the page fills it in, with `changes`."""
    values = {
        "name_zh": row.name_zh, "name_en": row.name_en, "definition": row.definition,
        "data_source": row.data_source, "numerator": row.numerator, "denominator": row.denominator,
        "unit": row.unit, "decimals": row.decimals, "target": row.target or "",
        "target_comparison": row.target_comparison, "target_tolerance": row.target_tolerance or "",
        "direction": row.direction, "effective_from": today().isoformat(),
    }  # fmt: skip
    values |= {
        name: "on" for name in ("for_alliance", "for_township", "for_institution") if getattr(row, name)
    }
    return values | changes


def zh(text):
    with translation.override("zh-hans"):
        return str(text)


def expression_message(text):
    with translation.override("zh-hans"):
        try:
            expressions.parse(text)
        except ValidationError as error:
            return error.messages[0]
    raise AssertionError(f"{text!r} parses")


# --- The list ------------------------------------------------------------------------------------------
def test_the_list_shows_one_version_per_code_with_its_columns(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["committee"])

    response = client.get(LIST)

    assert response.status_code == 200
    assert [values for _row, values in response.context["rows"]] == [
        ["test_share", "测试占比", zh(IndicatorUnit.PERCENT.label), "≥ 70", zh(Direction.HIGHER_BETTER.label),
         2, D(2025, 1, 1)],
        ["up_count", "上转人次", zh(IndicatorUnit.COUNT.label), "", zh(Direction.MONITOR.label), 1, D(2024, 1, 1)],
    ]  # fmt: skip
    html = response.content.decode()
    assert f'<a href="{detail_url(catalogue["v2"])}">test_share</a>' in html
    assert detail_url(catalogue["v1"]) not in html
    assert f'href="{CREATE}"' not in html  # the committee does not write


def test_the_list_filters_every_version_and_by_scope_and_exports_its_rows(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    every = client.get(LIST, {"all_versions": "true", "code": "test_share"})
    townships = client.get(LIST, {"scope": "township", "search": "测试"})
    exported = client.get(LIST, {"export": "xlsx"})

    assert [row.version for row, _values in every.context["rows"]] == [2, 1]
    assert [row.code for row, _values in townships.context["rows"]] == ["test_share"]
    assert [row[0] for row in sheet_rows(exported)[1:]] == ["test_share", "up_count"]
    assert f'href="{CREATE}"' in client.get(LIST).content.decode()


@pytest.mark.parametrize("rows", [5, 60])
def test_list_query_count_does_not_grow_with_rows(client, world, catalogue, django_assert_num_queries, rows):
    _mine, _other, users = world
    for n in range(rows):
        definition(f"bulk_{n:02d}")
    client.force_login(users["bureau"])
    client.get(LIST)  # warm the process-wide caches (content types)

    # session, user, memberships, the count, the page, guardian grants (both modes at once, for
    # the menu), the unread count in the header (issue 6.5)
    with django_assert_num_queries(7):
        response = client.get(LIST)

    assert len(response.context["rows"]) == min(rows + 2, 50)


# --- A version and its history --------------------------------------------------------------------------
def test_the_detail_shows_the_version_and_every_version_of_its_code(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.get(detail_url(catalogue["v2"]))

    assert response.status_code == 200
    assert [version.version for version in response.context["versions"]] == [2, 1]
    assert response.context["in_force"] == catalogue["v2"]
    html = response.content.decode()
    assert "#{visits.in_county.primary}" in html and "≥ 70" in html
    assert f'href="{revise_url(catalogue["v2"])}"' in html
    assert f'<a href="{detail_url(catalogue["v1"])}">1</a>' in html


def test_an_earlier_version_links_to_the_latest_and_offers_no_revision(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    html = client.get(detail_url(catalogue["v1"])).content.decode()

    assert f'href="{detail_url(catalogue["v2"])}"' in html
    assert revise_url(catalogue["v1"]) not in html


def test_the_revise_button_is_the_bureaus_only(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["committee"])

    html = client.get(detail_url(catalogue["v2"])).content.decode()

    assert revise_url(catalogue["v2"]) not in html


# --- Adding an indicator ------------------------------------------------------------------------------------
def test_the_create_form_lists_the_measures_beside_the_expressions(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.get(CREATE)

    assert response.status_code == 200
    codes = [code for code, _name, _unit in response.context["measures"]]
    assert {"visits.in_county", "visits.in_county.primary", "admissions.residents.all"} <= set(codes)
    assert codes == sorted(codes)
    assert "<code>#{visits.in_county.primary}</code>" in response.content.decode()


def test_the_bureau_adds_an_indicator_on_the_page(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.post(CREATE, FORM)

    created = IndicatorDefinition.objects.get(code="signed_share")
    assert response.status_code == 302
    assert response["Location"] == detail_url(created)
    assert (created.version, created.created_by, created.target) == (1, users["bureau"], Decimal(40))
    assert created.scopes == ["alliance", "institution"]


def test_a_bad_expression_shows_the_chinese_message_next_to_its_field(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])
    bad = "#{visits.in_county} × (2"

    response = client.post(CREATE, FORM | {"numerator": bad})

    assert response.status_code == 200
    message = expression_message(bad)
    assert response.context["form"].errors == {"numerator": [message]}
    html = response.content.decode()
    field = html[html.index('<p class="field-numerator">') :]
    field = field[: field.index("</p>")]
    assert f'<span class="errors" id="id_numerator-errors" role="alert">{message}</span>' in field
    assert not IndicatorDefinition.objects.filter(code="signed_share").exists()


def test_an_unknown_measure_is_named_on_the_denominator(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.post(CREATE, FORM | {"denominator": "#{visits.everywhere}"})

    assert response.context["form"].errors == {"denominator": [expression_message("#{visits.everywhere}")]}


# --- Revising ------------------------------------------------------------------------------------------------
def test_the_revise_form_starts_from_the_version_and_today(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    form = client.get(revise_url(catalogue["v2"])).context["form"]

    assert "code" not in form.fields
    assert (form["target"].value(), form["effective_from"].value()) == (
        Decimal(70),
        max(today(), D(2025, 1, 1)),
    )


def test_the_bureau_revises_a_definition_into_the_next_version(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.post(revise_url(catalogue["v2"]), revise_form(catalogue["v2"], target="75"))

    v3 = IndicatorDefinition.objects.get(code="test_share", version=3)
    assert response["Location"] == detail_url(v3)
    assert (v3.target, v3.effective_from, v3.created_by) == (Decimal(75), today(), users["bureau"])
    assert IndicatorDefinition.objects.get(pk=catalogue["v2"].pk).effective_to == today()


def test_a_revision_with_a_bad_expression_writes_no_version(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])
    bad = "#{visits.in_county}.lastYear()"

    response = client.post(revise_url(catalogue["v2"]), revise_form(catalogue["v2"], numerator=bad))

    assert response.context["form"].errors == {"numerator": [expression_message(bad)]}
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


def test_a_revision_that_changes_nothing_writes_no_version(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.post(revise_url(catalogue["v2"]), revise_form(catalogue["v2"]))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["__all__"]
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


def test_revising_a_stale_version_shows_the_conflict_and_writes_nothing(client, world, catalogue):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.post(revise_url(catalogue["v1"]), revise_form(catalogue["v1"], target="80"))

    assert response.status_code == 200
    with translation.override("zh-hans"):
        stale = translation.gettext("This definition has a newer version: revise the latest one.")
    assert response.context["form"].non_field_errors() == [stale]
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


# --- Who may ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_pages_and_only_the_bureau_opens_the_forms(client, world, catalogue, role):
    _mine, _other, users = world
    client.force_login(users[role])
    writes = role == "bureau"

    assert client.get(LIST).status_code == 200
    assert client.get(detail_url(catalogue["v2"])).status_code == 200
    assert client.get(CREATE).status_code == (200 if writes else 403)
    assert client.get(revise_url(catalogue["v2"])).status_code == (200 if writes else 403)


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_a_read_only_role_posting_gets_403_and_changes_nothing(client, world, catalogue, role):
    _mine, _other, users = world
    client.force_login(users[role])

    created = client.post(CREATE, FORM)
    revised = client.post(revise_url(catalogue["v2"]), revise_form(catalogue["v2"], target="80"))

    assert (created.status_code, revised.status_code) == (403, 403)
    assert IndicatorDefinition.objects.count() == 3


def test_a_user_without_membership_finds_no_definition(client, user, catalogue):
    client.force_login(user)

    assert client.get(LIST).context["paginator"].count == 0
    assert client.get(detail_url(catalogue["v2"])).status_code == 404
    assert client.get(revise_url(catalogue["v2"])).status_code == 404
    assert client.get(CREATE).status_code == 403


def test_the_pages_need_a_login(client, catalogue):
    for url in (LIST, detail_url(catalogue["v2"]), CREATE, revise_url(catalogue["v2"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("role", "shown"),
    [("bureau", True), ("alliance_admin", True), ("committee", True), ("finance", True),
     ("institution_admin", False), ("clinician", False), ("api_client", False), ("insurance_feed", False)],
)  # fmt: skip
def test_the_menu_offers_the_definitions_to_the_alliance_wide_roles(client, world, role, shown):
    _mine, _other, users = world
    client.force_login(users[role])

    links = [url for _label, url in client.get("/").context["navigation"]]

    assert (LIST in links) is shown
