"""IndicatorDefinition's own rules (issue 14 point 3): expressions checked at save, a target
with its comparison, levels, and which version is current on a date."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from assessment import services
from assessment.models import IndicatorDefinition
from tests.assessment.factories import definition

pytestmark = pytest.mark.django_db

D = datetime.date


def errors_of(row):
    with override("en"), pytest.raises(ValidationError) as caught:
        row.full_clean()
    return caught.value.message_dict


def unsaved(**fields):
    values = {
        "code": "unsaved_share",
        "name_zh": "占比",
        "name_en": "Share",
        "numerator": "#{visits.in_county.primary}",
        "denominator": "#{visits.in_county}",
        "unit": "percent",
        "direction": "higher_better",
        "effective_from": D(2024, 1, 1),
    } | fields
    return IndicatorDefinition(**values)


def test_a_valid_definition_passes():
    unsaved().full_clean()


def test_an_unknown_measure_is_a_field_error():
    assert errors_of(unsaved(numerator="#{visits.nowhere}")) == {
        "numerator": ["Unknown measure: visits.nowhere."]
    }


def test_a_syntax_error_in_the_denominator_is_a_field_error():
    assert errors_of(unsaved(denominator="#{visits.in_county} +")) == {
        "denominator": ["The expression cannot be read: a syntax error at position 21."]
    }


def test_an_unknown_measure_is_explained_in_chinese_at_save(zh_hans):
    expected = zh_hans("Unknown measure: %(code)s.") % {"code": "visits.nowhere"}

    with override("zh-hans"), pytest.raises(ValidationError) as caught:
        unsaved(numerator="#{visits.nowhere}").full_clean()

    assert caught.value.message_dict == {"numerator": [expected]}


def test_a_blank_denominator_is_one():
    row = unsaved(numerator="#{referrals.up.submitted}", denominator="", unit="count")

    row.full_clean()
    assert row.denominator_expression().evaluate({}) == Decimal(1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"target": Decimal(65)}, "target_comparison"),
        ({"target_comparison": "gte"}, "target_comparison"),
        ({"target": Decimal(85), "target_comparison": "approx"}, "target_tolerance"),
        (
            {"target": Decimal(65), "target_comparison": "gte", "target_tolerance": Decimal(1)},
            "target_tolerance",
        ),
        ({"for_alliance": False, "for_township": False, "for_institution": False}, "for_alliance"),
        ({"code": "County-Share"}, "code"),
        ({"decimals": 7}, "decimals"),
        ({"unit": "percentage"}, "unit"),
    ],
)
def test_a_malformed_definition_is_refused_on_its_field(fields, field):
    assert list(errors_of(unsaved(**fields))) == [field]


@pytest.mark.parametrize(
    ("comparison", "direction", "value", "met"),
    [
        ("gte", "higher_better", Decimal("65.00"), True),
        ("gte", "higher_better", Decimal("64.99"), False),
        ("lte", "lower_better", Decimal("65.01"), False),
        ("approx", "higher_better", Decimal("63.00"), True),
        ("approx", "higher_better", Decimal("62.99"), False),
        ("approx", "higher_better", Decimal("90"), True),
        ("approx", "lower_better", Decimal("90"), False),
        ("approx", "monitor", Decimal("67.01"), False),
    ],
)
def test_meeting_the_target(comparison, direction, value, met):
    tolerance = Decimal(2) if comparison == "approx" else None
    row = unsaved(
        target=Decimal(65), target_comparison=comparison, target_tolerance=tolerance, direction=direction
    )

    assert row.meets_target(value) is met
    assert row.meets_target(None) is None


def test_scopes_list_the_levels_applied_to():
    assert unsaved(for_township=False).scopes == ["alliance", "institution"]


def test_current_picks_the_version_effective_on_the_date():
    first = definition(effective_from=D(2024, 1, 1))
    later = services.revise_definition(
        first, name_zh="新名称", effective_from=D(2025, 1, 1), acting_user=None
    )
    mine = IndicatorDefinition.objects.filter(code="test_share")

    assert list(mine.current(D(2023, 12, 31))) == []
    assert list(mine.current(D(2024, 12, 31))) == [first]
    assert list(mine.current(D(2025, 1, 1))) == [later]
    assert list(mine.current()) == [later]  # today


def test_current_takes_the_latest_of_two_versions_effective_on_a_date():
    first = definition(effective_from=D(2024, 1, 1))
    copied = {
        f.name: getattr(first, f.name) for f in IndicatorDefinition._meta.concrete_fields if f.name != "id"
    }
    later = IndicatorDefinition.objects.create(**copied | {"version": 2})

    assert list(IndicatorDefinition.objects.filter(code="test_share").current(D(2024, 6, 1))) == [later]


def test_current_gives_one_version_per_code():
    definition("one_share")
    definition("two_share")

    assert sorted(
        IndicatorDefinition.objects.filter(code__in=["one_share", "two_share"])
        .current()
        .values_list("code", flat=True)
    ) == ["one_share", "two_share"]
