"""From measures per institution to indicator figures per scope (issue 14 points 2 and 4): the
roll-up over a hierarchy and the evaluation of the definitions, in memory over the few thousand
numbers a computation read in its handful of queries. No database access here: the computation
(services.indicators) and today's-hierarchy view (values.py) bring the inputs.

- `Hierarchy`: `{(institution_id, month): (role, parent_id)}`, the placements in force on the
  last day of each month (the default) or today's placement repeated for every month.
- Scopes of a month: each institution placed (`("institution", id)`), each township branch with
  the village clinics whose parent it is (`("township", branch id)`), and the alliance
  (`("alliance", None)`): every institution placed that month plus care outside the alliance
  (institution None, the insurance feed).
- Year to date sums a scope's monthly values from January (each month on its own hierarchy);
  a measure counted `OverMonths.LAST` takes the month's own value.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from alliance.choices import PlacementRole
from core import measures as registry

from .models import UNIT_FACTOR, NullReason, Scope

ALLIANCE_KEY = (Scope.ALLIANCE.value, None)
ZERO = Decimal(0)


@lru_cache(maxsize=4096)
def shift(month, offset):
    """The first day of the month `offset` months from `month`."""
    index = month.year * 12 + month.month - 1 + offset
    return month.replace(year=index // 12, month=index % 12 + 1, day=1)


@lru_cache(maxsize=1024)
def year_to(month):
    """The months January … `month` of its year."""
    return tuple(month.replace(month=number) for number in range(1, month.month + 1))


def needed_months(months, references):
    """The months whose measures the `references` (Reference(code, offset, ytd)) read for the
    values of `months`: `{month: {code}}`."""
    needed = defaultdict(set)
    for month in months:
        for reference in references:
            target = shift(month, reference.offset)
            for read in year_to(target) if reference.ytd else (target,):
                needed[read].add(reference.code)
    return needed


def scopes_of(hierarchy, month):
    """`{scope key: [institution ids]}` of `month` on `hierarchy` (the alliance's list holds
    None too: care outside the alliance counts for it)."""
    scopes = {ALLIANCE_KEY: [None]}
    for (institution_id, placed_month), (role, parent_id) in hierarchy.items():
        if placed_month != month:
            continue
        scopes[ALLIANCE_KEY].append(institution_id)
        scopes[(Scope.INSTITUTION.value, institution_id)] = [institution_id]
        township = _township(role, institution_id, parent_id)
        if township is not None:
            scopes.setdefault((Scope.TOWNSHIP.value, township), []).append(institution_id)
    return {
        key: members
        for key, members in scopes.items()
        if key[0] != Scope.TOWNSHIP or _is_branch(hierarchy, key[1], month)
    }


def _township(role, institution_id, parent_id):
    if role == PlacementRole.BRANCH:
        return institution_id
    if role == PlacementRole.VILLAGE:
        return parent_id
    return None


def _is_branch(hierarchy, institution_id, month):
    placed = hierarchy.get((institution_id, month))
    return placed is not None and placed[0] == PlacementRole.BRANCH


class Figures:
    """Measures and records counted per scope and month, rolled up on one hierarchy.

    `base` is `{(institution_id, month): {code: value}}` of base measures, `rows`
    `{(institution_id, month): {source: records}}`; restricted measures are added here from the
    hierarchy's roles, so today's view restricts by today's roles."""

    def __init__(self, base, rows, hierarchy):
        roles = {key: role for key, (role, _parent) in hierarchy.items()}
        self._values = registry.restrict({key: dict(row) for key, row in base.items()}, roles)
        self._rows = rows
        self.hierarchy = hierarchy
        self._scopes = {}
        self._month_cache = {}
        self._rows_cache = {}
        self._value_cache = {}
        self._records_cache = {}
        self.last_codes = {
            item.code for item in registry.measures() if item.over_months == registry.OverMonths.LAST
        }

    def scopes(self, month):
        if month not in self._scopes:
            self._scopes[month] = scopes_of(self.hierarchy, month)
        return self._scopes[month]

    def outside(self, month):
        """`{code: value}` of care outside the alliance in `month` (institution None)."""
        return self._values.get((None, month)) or {}

    def month_values(self, key, month):
        """`{code: value}` of scope `key` in `month` (summed over its institutions)."""
        cached = self._month_cache.get((key, month))
        if cached is None:
            members = self.scopes(month).get(key)
            if members is None and key[0] == Scope.INSTITUTION:
                members = []  # the institution was not placed in that month: nothing counts
            cached = _summed(self._values.get((member, month)) for member in members or ())
            self._month_cache[key, month] = cached
        return cached

    def value(self, key, reference, month):
        """The value of `reference` (Reference(code, offset, ytd)) for scope `key`, for the
        figure of `month`."""
        target = shift(month, reference.offset)
        if not reference.ytd or reference.code in self.last_codes:
            return self.month_values(key, target).get(reference.code, ZERO)
        return self._year_to_date(key, reference.code, target)

    def _year_to_date(self, key, code, month):
        """The sum of `code` for scope `key` from January to `month`: the previous month's sum
        plus the month's (kept, so a year of figures adds each month once)."""
        cached = self._value_cache.get((key, code, month))
        if cached is None:
            cached = self.month_values(key, month).get(code, ZERO)
            if month.month > 1:
                cached += self._year_to_date(key, code, shift(month, -1))
            self._value_cache[key, code, month] = cached
        return cached

    def month_rows(self, key, month):
        """`{source: records}` counted for scope `key` in `month` (summed over its institutions)."""
        cached = self._rows_cache.get((key, month))
        if cached is None:
            cached = {}
            for member in self.scopes(month).get(key, ()):
                for source, count in (self._rows.get((member, month)) or {}).items():
                    cached[source] = cached.get(source, 0) + count
            self._rows_cache[key, month] = cached
        return cached

    def records(self, key, month, sources, *, ytd):
        """The records of `sources` (a frozenset) counted for scope `key` in the month, or from
        January to it (the previous month's count plus the month's, kept)."""
        cached = self._records_cache.get((key, month, sources, ytd))
        if cached is None:
            counted = self.month_rows(key, month)
            cached = sum(counted.get(source, 0) for source in sources)
            if ytd and month.month > 1:
                cached += self.records(key, shift(month, -1), sources, ytd=True)
            self._records_cache[key, month, sources, ytd] = cached
        return cached


def _summed(rows):
    total = {}
    for row in rows:
        if row:
            for code, value in row.items():
                total[code] = total.get(code, ZERO) + value
    return total


class Evaluation:
    """One definition ready to evaluate: its parsed expressions and, per period, the references
    and the sources whose records it counts."""

    def __init__(self, definition):
        self.definition = definition
        self.numerator = definition.numerator_expression()
        self.denominator = definition.denominator_expression()
        self.references = {
            ytd: self.numerator.measures(ytd=ytd) | self.denominator.measures(ytd=ytd)
            for ytd in (False, True)
        }
        self.sources = frozenset(
            registry.measure(reference.code).source for reference in self.references[False]
        )
        self.quantum = Decimal(1).scaleb(-definition.decimals)
        self.factor = Decimal(UNIT_FACTOR[definition.unit])

    def applies_to(self, key):
        return key[0] in self.definition.scopes

    def figure(self, figures, key, month, *, ytd):
        """`{numerator, denominator, value, null_reason, input_rows}` of scope `key`, or None
        for an institution with no record in the definition's sources (nothing to show)."""
        rows = figures.records(key, month, self.sources, ytd=ytd)
        if key[0] == Scope.INSTITUTION and not rows:
            return None
        read = {reference: figures.value(key, reference, month) for reference in self.references[ytd]}
        numerator = self.numerator.evaluate(read, ytd=ytd)
        denominator = self.denominator.evaluate(read, ytd=ytd)
        if numerator is None or denominator is None or denominator == 0:
            value, reason = None, NullReason.ZERO_DENOMINATOR.value
        else:
            value, reason = (numerator / denominator * self.factor).quantize(self.quantum, ROUND_HALF_UP), ""
        return {
            "numerator": _stored(numerator),
            "denominator": _stored(denominator),
            "value": value,
            "null_reason": reason,
            "input_rows": rows,
        }


def _stored(number):
    """A numerator or denominator as the six decimals a value row keeps (0 when it divided by 0)."""
    return (number if number is not None else ZERO).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def evaluate(evaluations, figures, months):
    """`{(indicator code, scope, institution_id, month, period): figure}` of every evaluation
    for every applicable scope of each month: the rows a computation writes or a view shows.
    `evaluations` maps a month to the Evaluations of the definitions in force in it."""
    result = {}
    for month in months:
        for key in figures.scopes(month):
            for evaluation in evaluations[month]:
                if not evaluation.applies_to(key):
                    continue
                for period, ytd in (("month", False), ("ytd", True)):
                    figure = evaluation.figure(figures, key, month, ytd=ytd)
                    if figure is not None:
                        figure["definition"] = evaluation.definition
                        result[evaluation.definition.code, key[0], key[1], month, period] = figure
    return result
