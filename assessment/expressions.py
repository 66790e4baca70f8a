"""Indicator expressions (issue 14 point 3, DESIGN §3 "IndicatorDefinition"): the numerator and
denominator of a definition, written over measures the way DHIS2 writes indicator expressions.

    #{admissions.residents.in_county}
    #{visits.insurance.residents.in_county} + #{admissions.insurance.residents.in_county}
    #{admissions.in_county.cost}.periodOffset(-12) ÷ #{admissions.in_county}.periodOffset(-12)
    #{visits.in_county.tcm}.yearToDate()

The bureau types them, so they are parsed with Python's `ast` against a whitelist and never
evaluated as Python: only numbers, measure references, + − × ÷ (also `*` and `/`), parentheses
and unary minus, and on a measure the period functions `.periodOffset(n)` (the same measure n
months away: -12 is a year earlier) and `.yearToDate()` (January to the month; for a measure
counted `OverMonths.LAST` the month's own value, which already holds the year so far).

Each `#{code}` is rewritten to a placeholder name of the same length before `ast.parse`, and the
Unicode operators are one character each, so an error's position is a position in the text the
bureau typed.
"""

import ast
import re
from decimal import Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core import measures as registry

REFERENCE = re.compile(r"#\{([^{}#]*)\}")
# The operators the bureau types in Chinese documents, each one character for one character.
# Line breaks become spaces, so a position counts characters of the whole text.
NORMALISE = str.maketrans(
    {
        "×": "*",
        "÷": "/",
        "−": "-",
        "（": "(",
        "）": ")",
        "＋": "+",
        "　": " ",
        "\n": " ",
        "\r": " ",
        "\t": " ",
    }
)
FUNCTIONS = ("periodOffset", "yearToDate")
MAX_OFFSET = 120  # ten years of months either way
MAX_LENGTH = 1000  # keeps the trees shallow enough for the recursive walks below
OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


class Reference(NamedTuple):
    """One measure as an expression reads it: `offset` months away, year to date or not."""

    code: str
    offset: int = 0
    ytd: bool = False


def _unreadable(detail, position=None):
    if position is not None:
        detail = _("%(detail)s at position %(position)s") % {"detail": detail, "position": position}
    return ValidationError(
        _("The expression cannot be read: %(detail)s.") % {"detail": detail}, code="expression_syntax"
    )


def _not_allowed():
    return ValidationError(
        _("Only numbers, measures, + − × ÷ and parentheses are allowed."), code="expression_not_allowed"
    )


class Expression:
    """A parsed expression: `measures()` lists the references it needs and `evaluate(values)`
    computes it. `ytd=True` reads every measure year to date: a definition serves both the
    month and the year-to-date value rows (DESIGN §8 `period`) without being duplicated."""

    def __init__(self, text, tree, last_codes=frozenset()):
        self.text = text
        self._tree = tree
        self._last = frozenset(last_codes)  # measures counted OverMonths.LAST

    def __repr__(self):
        return f"Expression({self.text!r})"

    def _in_period(self, reference, ytd):
        if reference.code in self._last:
            return reference._replace(ytd=False)  # the month's own value holds the year so far
        return reference._replace(ytd=True) if ytd else reference

    def measures(self, *, ytd=False):
        """The set of `Reference(code, offset, ytd)` whose values `evaluate` reads."""
        return {self._in_period(node, ytd) for node in _references(self._tree)}

    def evaluate(self, values, *, ytd=False):
        """The value as a Decimal (a missing reference counts 0); None when it divides by zero."""
        return _evaluate(self._tree, values, lambda reference: self._in_period(reference, ytd))


def parse(text, *, known=None):
    """The Expression of `text`, or ValidationError with a Chinese message. `known` is the set of
    measure codes allowed (default: every code registered in core.measures)."""
    text = (text or "").strip()
    if not text:
        raise _unreadable(_("it is empty"))
    if len(text) > MAX_LENGTH:
        raise _unreadable(_("it is longer than %(max)s characters") % {"max": MAX_LENGTH})
    source, placeholders = _substitute(text.translate(NORMALISE))
    codes = set(placeholders.values())
    _check_codes(codes, known)
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError as error:
        raise _unreadable(_("a syntax error"), _position(error.offset, text)) from None
    except (RecursionError, MemoryError):
        raise _unreadable(_("it is nested too deeply")) from None
    try:
        tree = _build(node, placeholders)
    except RecursionError:
        raise _unreadable(_("it is nested too deeply")) from None
    return Expression(text, tree, _counted_last(codes))


def _position(offset, text):
    """Python's 1-based column of a syntax error; 0 or past the end means the end of the text."""
    return offset if offset and 1 <= offset <= len(text) else len(text)


def _substitute(source):
    """`source` with each `#{code}` replaced by a placeholder name of the same length, and the
    placeholders' codes; a `#` left over (Python would read it as a comment) is refused."""
    placeholders = {}

    def replace(match):
        name = f"_{len(placeholders)}"
        placeholders[name.ljust(len(match.group(0)), "_")] = match.group(1).strip()
        return name.ljust(len(match.group(0)), "_")

    source = REFERENCE.sub(replace, source)
    stray = source.find("#")
    if stray >= 0:
        raise _unreadable(_("a measure is written #{code}"), stray + 1)
    return source, placeholders


def _check_codes(codes, known):
    for code in sorted(codes):
        if not registry.CODE.match(code) or code not in (known if known is not None else _registered()):
            raise ValidationError(_("Unknown measure: %(code)s.") % {"code": code}, code="unknown_measure")


def _registered():
    return {item.code for item in registry.measures()}


def _counted_last(codes):
    """The codes of measures whose month already holds the year so far (OverMonths.LAST)."""
    last = {item.code for item in registry.measures() if item.over_months == registry.OverMonths.LAST}
    return codes & last


# --- The whitelist: from Python's tree to our own small one --------------------------------------
def _build(node, placeholders):
    """Our tree of `node`: Decimal, Reference, ("neg", x) or (op, left, right); anything else is
    refused here, so nothing a Python expression could do survives parsing."""
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return (type(node.op), _build(node.left, placeholders), _build(node.right, placeholders))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _build(node.operand, placeholders)
        return ("neg", inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name) and node.id in placeholders:
        return Reference(placeholders[node.id])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _period_function(node, placeholders)
    raise _not_allowed()


def _period_function(node, placeholders):
    """`<measure>.periodOffset(n)` or `<measure>.yearToDate()`, each at most once on a measure."""
    name, target = node.func.attr, _build(node.func.value, placeholders)
    if not isinstance(target, Reference) or node.keywords:
        raise _not_allowed()
    if name not in FUNCTIONS:
        raise ValidationError(
            _("Unknown function: %(name)s. Use .periodOffset(n) or .yearToDate().") % {"name": name},
            code="unknown_function",
        )
    if name == "yearToDate":
        if node.args or target.ytd:
            raise _function_misused(name)
        return target._replace(ytd=True)
    if len(node.args) != 1 or target.offset:
        raise _function_misused(name)
    return target._replace(offset=_months(node.args[0]))


def _function_misused(name):
    return ValidationError(
        _("%(name)s is written once on a measure: .periodOffset(-12) or .yearToDate().") % {"name": name},
        code="function_arguments",
    )


def _months(node):
    """The whole number of months of `.periodOffset(n)`, at most MAX_OFFSET either way."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign, node = (-1 if isinstance(node.op, ast.USub) else 1), node.operand
    if not (isinstance(node, ast.Constant) and type(node.value) is int and node.value <= MAX_OFFSET):
        raise ValidationError(
            _("periodOffset takes a whole number of months between -%(max)s and %(max)s.")
            % {"max": MAX_OFFSET},
            code="function_arguments",
        )
    return sign * node.value


def _references(tree):
    if isinstance(tree, Reference):
        yield tree
    elif isinstance(tree, tuple):
        for part in tree[1:]:
            yield from _references(part)


def _evaluate(tree, values, period):
    if isinstance(tree, Decimal):
        return tree
    if isinstance(tree, Reference):
        return Decimal(values.get(period(tree)) or 0)
    parts = [_evaluate(part, values, period) for part in tree[1:]]
    if any(part is None for part in parts):
        return None
    if tree[0] == "neg":
        return -parts[0]
    try:
        return OPERATORS[tree[0]](*parts)
    except (ZeroDivisionError, DivisionByZero, InvalidOperation, Overflow):
        return None  # a zero denominator anywhere: no value, not an error (DESIGN §8)
