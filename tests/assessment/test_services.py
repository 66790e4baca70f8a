"""Writing definitions (issue 14 point 3): a revision is a new version and the old row keeps its
values; the catalogue loads once, with every expression over registered measures."""

import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.utils.translation import override

from alliance.querysets import today
from assessment import catalogue, expressions, services
from assessment.models import IndicatorDefinition
from core import measures
from core.exceptions import Conflict
from tests.assessment.factories import definition
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
CATALOGUE_CODES = [
    "county_inpatient_share", "primary_visit_share", "lead_opd_slot_release_ratio", "lead_bed_release_ratio",
    "up_referrals", "down_referrals", "down_up_referral_ratio", "hi_fund_in_county_share",
    "primary_hi_fund_share", "inpatient_cost_per_case", "inpatient_cost_growth", "tcm_visit_share",
    "stationed_senior_doctors",
]  # fmt: skip


def snapshot(row):
    row.refresh_from_db()
    return {f.name: getattr(row, f.name) for f in IndicatorDefinition._meta.concrete_fields}


# --- Creating -----------------------------------------------------------------------------------------
def test_creating_writes_version_one_by_its_author():
    bureau = UserFactory()

    row = services.create_definition(
        code="new_share",
        name_zh="新占比",
        name_en="New share",
        numerator="#{visits.in_county.tcm}",
        denominator="#{visits.in_county}",
        unit="percent",
        direction="higher_better",
        effective_from=D(2024, 1, 1),
        acting_user=bureau,
    )

    assert (row.version, row.created_by, row.effective_to) == (1, bureau, None)
    assert LogEntry.objects.get_for_object(row).get().action == LogEntry.Action.CREATE


def test_a_code_that_exists_is_revised_not_created_again():
    definition()

    with override("en"), pytest.raises(ValidationError) as caught:
        definition()

    assert caught.value.message_dict == {"code": ["An indicator with this code exists: revise it instead."]}
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 1


def test_an_unknown_measure_is_refused_at_creation_and_nothing_is_written():
    with override("en"), pytest.raises(ValidationError) as caught:
        definition(denominator="#{visits.everywhere}")

    assert caught.value.message_dict == {"denominator": ["Unknown measure: visits.everywhere."]}
    assert not IndicatorDefinition.objects.filter(code="test_share").exists()


# --- Revising -----------------------------------------------------------------------------------------
def test_a_revision_is_version_two_and_version_one_keeps_its_values():
    first = definition(target=Decimal(60), target_comparison="gte")
    before = snapshot(first)
    bureau = UserFactory()

    second = services.revise_definition(
        first,
        target=Decimal(65),
        numerator="#{visits.in_county.primary} + 0",
        effective_from=D(2025, 1, 1),
        acting_user=bureau,
    )

    after = snapshot(first)
    assert after == before | {"effective_to": D(2025, 1, 1)}
    assert (second.code, second.version, second.target, second.numerator) == (
        "test_share",
        2,
        Decimal(65),
        "#{visits.in_county.primary} + 0",
    )
    assert (second.effective_from, second.effective_to, second.created_by) == (D(2025, 1, 1), None, bureau)
    assert second.denominator == first.denominator and second.name_zh == first.name_zh
    assert LogEntry.objects.get_for_object(first).filter(action=LogEntry.Action.UPDATE).count() == 1


def test_a_revision_begins_today_by_default():
    first = definition()

    second = services.revise_definition(first, name_en="Renamed", acting_user=None)

    assert second.effective_from == today()
    assert snapshot(first)["effective_to"] == today()


def test_a_revision_from_the_first_day_leaves_the_old_version_never_current():
    first = definition(effective_from=D(2024, 1, 1))

    second = services.revise_definition(first, decimals=1, effective_from=D(2024, 1, 1), acting_user=None)

    assert snapshot(first)["effective_to"] == D(2024, 1, 1)
    assert list(IndicatorDefinition.objects.filter(code="test_share").current(D(2024, 6, 1))) == [second]


def test_a_revision_cannot_begin_before_the_version_it_revises():
    first = definition(effective_from=D(2024, 1, 1))

    with override("en"), pytest.raises(ValidationError) as caught:
        services.revise_definition(first, decimals=1, effective_from=D(2023, 12, 31), acting_user=None)

    assert caught.value.message_dict == {
        "effective_from": ["A new version begins on or after the version it revises (2024-01-01)."]
    }
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 1


def test_a_bad_expression_in_a_revision_writes_nothing():
    first = definition()
    before = snapshot(first)

    with override("en"), pytest.raises(ValidationError) as caught:
        services.revise_definition(first, numerator="#{visits.in_county} ** 2", acting_user=None)

    assert caught.value.message_dict == {
        "numerator": ["Only numbers, measures, + − × ÷ and parentheses are allowed."]
    }
    assert snapshot(first) == before
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 1


def test_revising_an_older_version_is_a_conflict():
    first = definition()
    services.revise_definition(first, decimals=1, acting_user=None)

    with pytest.raises(Conflict) as caught:
        services.revise_definition(first, decimals=3, acting_user=None)

    assert caught.value.code == "definition_not_latest"
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 2


def test_a_revision_changing_nothing_makes_no_version():
    first = definition()

    assert services.revise_definition(first, name_zh=first.name_zh, acting_user=None) == first
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 1


def test_the_code_and_version_are_not_revised():
    first = definition()

    with pytest.raises(TypeError):
        services.revise_definition(first, code="other_share", acting_user=None)


# --- The catalogue -------------------------------------------------------------------------------------
def test_the_migration_loaded_every_indicator_of_the_catalogue():
    rows = IndicatorDefinition.objects.filter(code__in=CATALOGUE_CODES)

    assert sorted(rows.values_list("code", flat=True)) == sorted(CATALOGUE_CODES)
    assert set(rows.values_list("version", flat=True)) == {1}
    assert [entry["code"] for entry in catalogue.ENTRIES] == CATALOGUE_CODES


def test_every_catalogue_expression_reads_registered_measures():
    registered = {item.code for item in measures.measures()}

    for row in IndicatorDefinition.objects.filter(code__in=CATALOGUE_CODES):
        row.full_clean()
        needed = row.numerator_expression().measures() | row.denominator_expression().measures()
        assert {reference.code for reference in needed} <= registered, row.code


@pytest.mark.parametrize(
    ("code", "name_zh", "unit", "target", "comparison"),
    [
        ("county_inpatient_share", "县域内住院人次占比", "percent", Decimal(85), "approx"),
        ("primary_visit_share", "基层诊疗人次占比", "percent", Decimal(65), "gte"),
        ("lead_opd_slot_release_ratio", "牵头医院门诊号源下沉比例", "percent", Decimal("33.33"), "gte"),
        ("lead_bed_release_ratio", "住院床位下沉比例", "percent", Decimal(25), "gte"),
        ("up_referrals", "上转人次", "count", None, ""),
        ("stationed_senior_doctors", "派驻6个月以上中级及以上医师人数", "count", None, ""),
    ],
)
def test_catalogue_names_and_targets_follow_the_policy(code, name_zh, unit, target, comparison):
    row = IndicatorDefinition.objects.get(code=code)

    assert (row.name_zh, row.unit, row.target, row.target_comparison) == (name_zh, unit, target, comparison)


def test_the_cost_growth_compares_with_a_year_earlier_by_hand():
    row = IndicatorDefinition.objects.get(code="inpatient_cost_growth")
    cost, cases = "admissions.in_county.cost", "admissions.in_county"
    values = {
        expressions.Reference(cost): Decimal(110000),
        expressions.Reference(cases): Decimal(10),
        expressions.Reference(cost, offset=-12): Decimal(80000),
        expressions.Reference(cases, offset=-12): Decimal(8),
    }

    numerator = row.numerator_expression().evaluate(values)
    denominator = row.denominator_expression().evaluate(values)

    assert (numerator, denominator, numerator / denominator * 100) == (
        Decimal(1000),
        Decimal(10000),
        Decimal(10),
    )
    assert row.numerator_expression().evaluate({}) is None  # no discharges: no cost per case


def test_loading_the_catalogue_again_creates_nothing_and_keeps_revisions():
    revised = services.revise_definition(
        IndicatorDefinition.objects.get(code="primary_visit_share"), target=Decimal(70), acting_user=None
    )
    count = IndicatorDefinition.objects.count()

    assert services.load_catalogue(acting_user=None) == []
    assert IndicatorDefinition.objects.count() == count
    assert IndicatorDefinition.objects.filter(code="primary_visit_share").current().get() == revised


def test_loading_the_catalogue_into_an_empty_table_creates_every_indicator():
    IndicatorDefinition.objects.all().delete()

    created = services.load_catalogue(acting_user=None)

    assert [row.code for row in created] == CATALOGUE_CODES
    assert all(row.effective_from == catalogue.EFFECTIVE_FROM for row in created)
