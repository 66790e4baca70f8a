"""Indicator expressions (issue 14 point 3): parsed with `ast` against a whitelist, never
evaluated as Python; hand-counted values; every refusal explained."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from assessment.expressions import Reference, parse

D = Decimal
IN_COUNTY = Reference("visits.in_county")
PRIMARY = Reference("visits.in_county.primary")


def refused(text, **kwargs):
    with override("en"), pytest.raises(ValidationError) as caught:
        parse(text, **kwargs)
    return caught.value.messages


NOT_ALLOWED = ["Only numbers, measures, + − × ÷ and parentheses are allowed."]


# --- Parsing and evaluating ----------------------------------------------------------------------
def test_a_share_reads_its_two_measures_and_evaluates_with_hand_values():
    expression = parse("#{visits.in_county.primary} × 100 ÷ #{visits.in_county}")

    assert expression.measures() == {PRIMARY, IN_COUNTY}
    assert expression.evaluate({PRIMARY: D(65), IN_COUNTY: D(200)}) == D("32.5")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 + 2 * 3", D(7)),
        ("(1 + 2) × 3", D(9)),
        ("10 − 4 ÷ 2", D(8)),
        ("10 - 4 / 2", D(8)),
        ("-(2 + 3)", D(-5)),
        ("+2.5 × −2", D("-5.0")),
        ("（1 + 1）× 2", D(4)),
        ("1 +\n2", D(3)),
    ],
)
def test_numbers_operators_parentheses_and_unary_minus(text, value):
    assert parse(text).evaluate({}) == value


def test_a_missing_value_counts_zero():
    assert parse("#{visits.in_county} + 3").evaluate({}) == D(3)


@pytest.mark.parametrize(
    "text", ["#{visits.in_county} ÷ #{visits.in_county.primary}", "1 + 2 ÷ (1 − 1)", "0 / 0", "(1/0) * 0"]
)
def test_a_division_by_zero_anywhere_gives_no_value(text):
    assert parse(text).evaluate({IN_COUNTY: D(5)}) is None


def test_period_offset_reads_the_same_measure_months_earlier():
    expression = parse("#{admissions.in_county.cost} − #{admissions.in_county.cost}.periodOffset(-12)")
    now, before = Reference("admissions.in_county.cost"), Reference("admissions.in_county.cost", offset=-12)

    assert expression.measures() == {now, before}
    assert expression.evaluate({now: D(1100), before: D(1000)}) == D(100)


def test_year_to_date_reads_january_to_the_month():
    expression = parse("#{visits.in_county}.yearToDate()")

    assert expression.measures() == {Reference("visits.in_county", ytd=True)}
    assert expression.evaluate({Reference("visits.in_county", ytd=True): D(42), IN_COUNTY: D(4)}) == D(42)


def test_both_period_functions_chain_on_one_measure():
    expression = parse("#{visits.in_county}.periodOffset(-12).yearToDate()")

    assert expression.measures() == {Reference("visits.in_county", offset=-12, ytd=True)}


def test_year_to_date_of_a_measure_counted_last_is_the_months_own_value():
    expression = parse("#{secondments.six_months}.yearToDate()")

    assert expression.measures() == {Reference("secondments.six_months")}


def test_the_ytd_period_reads_every_summed_measure_year_to_date():
    expression = parse("#{visits.in_county.tcm} ÷ #{visits.in_county} + #{secondments.six_months}")

    assert expression.measures(ytd=True) == {
        Reference("visits.in_county.tcm", ytd=True),
        Reference("visits.in_county", ytd=True),
        Reference("secondments.six_months"),
    }
    values = {
        Reference("visits.in_county.tcm", ytd=True): D(3),
        Reference("visits.in_county", ytd=True): D(12),
    }
    assert expression.evaluate(values, ytd=True) == D("0.25")
    assert expression.evaluate(values) is None  # the month's own visits are missing: 0 ÷ 0


def test_known_limits_the_measures_allowed():
    assert parse("#{my.measure}", known={"my.measure"}).measures() == {Reference("my.measure")}
    assert refused("#{visits.in_county}", known={"my.measure"}) == ["Unknown measure: visits.in_county."]


# --- Refusals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["nope.nothing", "Visits.In_County", "visits..in_county", ""])
def test_an_unknown_measure_is_named(code):
    assert refused(f"#{{{code}}} + 1") == [f"Unknown measure: {code}."]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('ls')",
        "open('/etc/passwd')",
        "abs(-1)",
        "x",
        "visits",
        "#{visits.in_county}.__class__",
        "#{visits.in_county}.code",
        "(1).real",
        "'text'",
        "b'bytes'",
        "f'{1}'",
        "2 ** 10",
        "7 // 2",
        "7 % 2",
        "1 < 2",
        "1 == 1",
        "1 and 2",
        "not 1",
        "~1",
        "True",
        "None",
        "1j",
        "[1, 2]",
        "(1, 2)",
        "{1: 2}",
        "lambda: 1",
        "1 if 1 else 2",
        "[x for x in ()]",
        "(x := 1)",
        "#{visits.in_county}[0]",
        "#{visits.in_county}.periodOffset(months=-12)",
        "(1 + 1).periodOffset(-1)",
    ],
)
def test_anything_but_numbers_measures_operators_and_parentheses_is_refused(text):
    assert refused(text) == NOT_ALLOWED


@pytest.mark.parametrize("name", ["yearToDay", "lag", "__call__", "system"])
def test_an_unknown_function_is_named(name):
    assert refused(f"#{{visits.in_county}}.{name}()") == [
        f"Unknown function: {name}. Use .periodOffset(n) or .yearToDate()."
    ]


@pytest.mark.parametrize(
    "text",
    [
        "#{visits.in_county}.periodOffset()",
        "#{visits.in_county}.periodOffset(-1, -2)",
        "#{visits.in_county}.periodOffset(-1).periodOffset(-1)",
        "#{visits.in_county}.yearToDate(1)",
        "#{visits.in_county}.yearToDate().yearToDate()",
    ],
)
def test_a_period_function_is_written_once_with_its_arguments(text):
    [message] = refused(text)

    assert message.endswith("is written once on a measure: .periodOffset(-12) or .yearToDate().")


@pytest.mark.parametrize("months", ["1.5", "-121", "'12'", "#{visits.in_county}", "-(-12)"])
def test_period_offset_takes_a_whole_number_of_months(months):
    assert refused(f"#{{visits.in_county}}.periodOffset({months})") == [
        "periodOffset takes a whole number of months between -120 and 120."
    ]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("1 +", 3),
        ("#{visits.in_county} + * 2", 23),
        ("(#{visits.in_county} + 1", 1),
        ("#{visits.in_county} 2", 21),
    ],
)
def test_a_syntax_error_gives_its_position_in_the_typed_text(text, position):
    assert refused(text) == [f"The expression cannot be read: a syntax error at position {position}."]


def test_a_broken_measure_reference_is_refused_where_it_starts():
    # A bare `#` would otherwise be read by Python as a comment, hiding the rest.
    assert refused("1 + #{visits.in_county") == [
        "The expression cannot be read: a measure is written #{code} at position 5."
    ]
    assert refused("1 # + 2") == [
        "The expression cannot be read: a measure is written #{code} at position 3."
    ]


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_expression_is_refused(text):
    assert refused(text) == ["The expression cannot be read: it is empty."]


def test_a_refusal_is_explained_in_chinese(zh_hans):
    expected = zh_hans("Unknown measure: %(code)s.") % {"code": "nope"}

    with override("zh-hans"), pytest.raises(ValidationError) as caught:
        parse("#{nope}")

    assert caught.value.messages == [expected]


def test_a_very_long_expression_is_refused():
    assert refused("1 + " * 300 + "1") == [
        "The expression cannot be read: it is longer than 1000 characters."
    ]


def test_a_long_sum_within_the_limit_evaluates():
    assert parse(" + ".join(["#{visits.in_county}"] * 45)).evaluate({IN_COUNTY: D(2)}) == D(90)


def test_deep_parentheses_are_refused_not_crashed():
    [message] = refused("(" * 300 + "1" + ")" * 300)

    assert message.startswith("The expression cannot be read:")
