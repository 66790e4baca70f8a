"""Measures (DESIGN §3 "Measure", issue 14 point 1): the named, set-based aggregates behind the
indicators. The app that owns the data declares them in its `measures.py` and registers them in
its AppConfig.ready(), the way NetBox apps register search indexes; `assessment` reads them
here, never an app's internals (STYLE.md "One door per shared concern").

Declaring, in an app's `measures.py`::

    VISITS = MeasureSource(
        name="encounters.visits",
        measures=(
            Measure("visits.in_county", _("Visits at in-county facilities"), Unit.COUNT),
            Measure("visits.in_county.primary", _("…"), Unit.COUNT,
                    base="visits.in_county", roles=PRIMARY),
        ),
        compute=visit_measures,
    )

and in `ready()`: `measures.register(VISITS)`.

- A **source** is one table. Its `compute(alliance, first_month, last_month)` runs ONE set-based
  query (conditional aggregates: `Count("pk", filter=Q(...))`, `FILTER (WHERE …)` on PostgreSQL,
  CASE WHEN on SQLite; `grouped()` below is the usual shape), filtered by alliance and months
  first on indexed columns, and yields `(institution_id, month, {code: value})` for its base
  measures. `month` is the first day of the month the record counts in (a visit's month, an
  admission's discharge month, a slot's date). `institution_id` is None for care at facilities
  outside the alliance (the insurance feed): it counts for the alliance only. An institution and
  month without records yields no row, and a code missing from a row is zero: every measure is
  additive over institutions, so a missing value is always 0.
- A **restricted** measure (`base=`, `roles=`) is its source's base measure counted only at the
  institutions that hold one of `roles` in the alliance on the last day of the month (DESIGN §3:
  a month's figures use the hierarchy as it stood then; PlacementRole values, e.g. branch and
  village for "primary"). It costs no query of its own: `compute()` reads the hierarchy of the
  months once, from the provider the alliance app registers (`register_hierarchy`), or takes it
  from the caller, who needs it anyway to roll institutions up to townships and the alliance.
- `over_months` says how months make a longer period (year to date, a quarter): `SUM` for flows
  (visits, yuan, bed-days), `LAST` for a state the month already holds for the year so far
  (doctors whose stationing reached six months by the month's end).

Changes (point 5): every write that changes a measure's inputs calls, inside its transaction,
`mark_changed(alliance, months, cause)`: the indicator computation recomputes those months and
names the cause in a restatement. `changed_months()` lists what is dirty.

Reading: `measure(code)` and `measures()` (UnknownMeasure for an unknown code), `sources()`, and
`compute(alliance, first_month, last_month, codes=None, roles=None)` →
`{(institution_id, month): {code: value}}`, running each needed source once: a year of every
measure costs one query per source plus one for the hierarchy.
"""

import dataclasses
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

# What a code looks like: dotted lower-case words (`visits.in_county.primary`), so that an
# indicator expression can name it as `#{visits.in_county.primary}`.
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
# The key of a source's row holding the records it counted there (not a measure: no code
# starts with "_"); `grouped()` adds it, other sources may.
ROWS = "_rows"


class Unit(models.TextChoices):
    COUNT = "count", _("count (人次)")
    PERSONS = "persons", _("persons (人)")
    YUAN = "yuan", _("yuan")
    BED_DAYS = "bed_days", _("bed-days")


class OverMonths(models.TextChoices):
    SUM = "sum", _("sum of the months")
    LAST = "last", _("value of the last month")


class UnknownMeasure(LookupError):
    """A code no app registered."""

    def __init__(self, code):
        super().__init__(f"unknown measure {code!r}: no app registered it")
        self.code = code


@dataclass(frozen=True)
class Measure:
    """One measure: `code`, `name` (a lazy translation), `unit`, and for a restricted measure
    the `base` measure of the same source it counts at institutions holding one of `roles`."""

    code: str
    name: object
    unit: str
    base: str | None = None
    roles: frozenset = field(default_factory=frozenset)
    over_months: str = OverMonths.SUM
    source: str = field(default="", compare=False)  # set by register()

    def __post_init__(self):
        object.__setattr__(self, "roles", frozenset(self.roles))


@dataclass(frozen=True)
class MeasureSource:
    """The measures of one table and the one function computing its base measures (see the
    module docstring for what `compute(alliance, first_month, last_month)` yields)."""

    name: str
    measures: tuple
    compute: Callable
    # `records(alliance, first_month, last_month, code, institution_ids)` → a queryset of the
    # rows counted for the base measure `code` (see `records()` below); None: not traceable.
    records: Callable | None = None

    def base_measures(self):
        return [measure for measure in self.measures if measure.base is None]


_sources: dict[str, MeasureSource] = {}
_measures: dict[str, Measure] = {}
_hierarchy: list[Callable] = []


def register(*sources):
    """Register sources (from an app's AppConfig.ready). Registering the same source again is a
    no-op, so a second ready() is harmless; a code another source declared is an error."""
    for source in sources:
        known = _sources.get(source.name)
        if known is not None:
            if known != source:
                raise ImproperlyConfigured(f"measure source {source.name!r} is already registered")
            continue
        checked = _checked(source)
        _sources[source.name] = source
        _measures.update(checked)


def _checked(source):
    """The source's measures with their source set, or ImproperlyConfigured naming the fault."""
    checked = {}
    for measure in source.measures:
        fault = _fault(measure, source, checked)
        if fault:
            raise ImproperlyConfigured(f"measure {measure.code!r} of source {source.name!r}: {fault}")
        checked[measure.code] = dataclasses.replace(measure, source=source.name)
    return checked


def _fault(measure, source, declared):
    if not CODE.match(measure.code):
        return "a code is dotted lower-case words"
    if measure.code in _measures or measure.code in declared:
        owner = _measures[measure.code].source if measure.code in _measures else source.name
        return f"the code is already declared by {owner!r}"
    if measure.unit not in Unit.values or measure.over_months not in OverMonths.values:
        return f"unit {measure.unit!r} or over_months {measure.over_months!r} is not one of the known"
    if measure.base is None:
        return "only a restricted measure (with base) names roles" if measure.roles else None
    base = declared.get(measure.base)
    if base is None or base.base is not None:
        return f"base {measure.base!r} must be an unrestricted measure declared before it in the source"
    if not measure.roles:
        return "a restricted measure names the roles it counts at"
    if (base.unit, base.over_months) != (measure.unit, measure.over_months):
        return "a restricted measure has its base's unit and over_months"
    return None


def register_hierarchy(provider):
    """Register the one function giving the hierarchy of each month (the alliance app does):
    `provider(alliance, first_month, last_month)` → `{(institution_id, month): role}` of the
    institutions placed in the alliance on the last day of each month."""
    if _hierarchy and _hierarchy[0] is not provider:
        raise ImproperlyConfigured("a hierarchy provider is already registered")
    _hierarchy[:] = [provider]


def sources():
    return list(_sources.values())


def measures():
    return list(_measures.values())


def measure(code):
    try:
        return _measures[code]
    except KeyError:
        raise UnknownMeasure(code) from None


def compute(alliance, first_month, last_month, codes=None, *, roles=None, rows=None):
    """`{(institution_id, month): {code: value}}` of the measures `codes` (every registered one
    when None) for `alliance` (an Alliance or its id) over the months first … last (first days
    of months, both included). Each source needed runs once; the hierarchy is read once when a
    restricted measure is asked, unless the caller passes it as `roles`
    (`{(institution_id, month): role}`). Institutions and months without records are absent.
    `rows`, a dict, receives `{(institution_id, month): {source name: records counted}}` of the
    sources run (the count of input rows an indicator value keeps)."""
    month_range(first_month, last_month)  # checks the months
    wanted = [measure(code) for code in codes] if codes is not None else measures()
    bases = {item.base or item.code for item in wanted}
    values = _base_values(alliance, first_month, last_month, bases, {} if rows is None else rows)
    restricted = [item for item in wanted if item.base is not None]
    if restricted:
        roles = roles if roles is not None else _roles(alliance, first_month, last_month)
        _restrict(values, restricted, roles)
    asked = {item.code for item in wanted}
    result = {key: {c: v for c, v in row.items() if c in asked} for key, row in values.items()}
    return {key: row for key, row in result.items() if row}


def _base_values(alliance, first_month, last_month, bases, rows):
    """`{(institution_id, month): {code: value}}` of the base measures `bases`, each source
    that computes one of them run once; `rows` receives each source's records counted."""
    months, values = set(month_range(first_month, last_month)), {}
    for source in sources():
        own = bases.intersection(item.code for item in source.base_measures())
        if not own:
            continue
        for institution_id, month, row in source.compute(alliance, first_month, last_month):
            if month not in months:
                raise ValueError(
                    f"measure source {source.name!r} returned the month {month}, outside the range"
                )
            kept = {code: value for code, value in row.items() if code in own}
            values.setdefault((institution_id, month), {}).update(kept)
            if row.get(ROWS):
                rows.setdefault((institution_id, month), {})[source.name] = row[ROWS]
    return values


def _roles(alliance, first_month, last_month):
    if not _hierarchy:
        raise ImproperlyConfigured("restricted measures need a hierarchy provider (register_hierarchy)")
    return _hierarchy[0](alliance, first_month, last_month)


def restrict(values, roles, codes=None):
    """Add to `values` (`{(institution_id, month): {code: value}}` of base measures) the
    restricted measures `codes` (every registered one when None) where the institution held one
    of its roles in `roles` (`{(institution_id, month): role}`): the hierarchy of the month, or
    today's for the alternative view."""
    wanted = [measure(code) for code in codes] if codes is not None else measures()
    _restrict(values, [item for item in wanted if item.base is not None], roles)
    return values


def _restrict(values, restricted, roles):
    """Add each restricted measure where the institution held one of its roles that month."""
    for key, row in values.items():
        role = roles.get(key) if key[0] is not None else None
        for item in restricted:
            if role in item.roles and item.base in row:
                row[item.code] = row[item.base]


# --- Tracing a figure to its records (issue 14 point 6) ------------------------------------------
class Untraceable(LookupError):
    """A measure whose source cannot list its records."""


def records(alliance, first_month, last_month, code, institution_ids, *, roles=None):
    """The rows counted for measure `code` of `alliance` in the months first … last at
    `institution_ids` (None among them: care outside the alliance): a queryset of the source's
    model, each row annotated with `record_institution` (an id or None), `record_date` and
    `record_month`. For a restricted measure, only the institutions whose role in `roles`
    (`{(institution_id, month): role}`) is one of its roles count, month by month, as in
    `compute`. The caller scopes the queryset through the access door before showing a row."""
    item = measure(code)
    source = _sources[item.source]
    if source.records is None:
        raise Untraceable(code)
    months = month_range(first_month, last_month)
    institution_ids = set(institution_ids)
    if item.base is None:
        return source.records(alliance, first_month, last_month, code, institution_ids)
    roles = roles if roles is not None else _roles(alliance, first_month, last_month)
    queryset = source.records(alliance, first_month, last_month, item.base, institution_ids)
    counted = Q(pk__in=[])
    for month in months:
        placed = {i for i in institution_ids if i is not None and roles.get((i, month)) in item.roles}
        counted |= Q(record_month=month, record_institution__in=placed)
    return queryset.filter(counted)


# --- Changes of the inputs -------------------------------------------------------------------
def mark_changed(alliance, months, cause):
    """Record, in the caller's transaction, that `cause` (a saved model instance: the batch, the
    referral, the pool …) changed the measures of `alliance` (an Alliance or its id) for
    `months` (dates of any day; each counts once as its month). Call it in the service that
    writes, so a rolled-back write leaves no mark and a committed one is never missed."""
    from .models import MeasureChange

    alliance_id = getattr(alliance, "pk", alliance)
    if alliance_id is None:
        return
    label, cause_id = cause._meta.label_lower, cause.pk
    MeasureChange.objects.bulk_create(
        MeasureChange(alliance_id=alliance_id, month=month, cause_type=label, cause_id=cause_id)
        for month in sorted({day.replace(day=1) for day in months if day is not None})
    )


def changed_months(alliance=None):
    """`{(alliance_id, month)}` with changes not yet taken in by a computation."""
    from .models import MeasureChange

    changes = MeasureChange.objects.all()
    if alliance is not None:
        changes = changes.filter(alliance_id=getattr(alliance, "pk", alliance))
    return set(changes.values_list("alliance_id", "month").distinct())


# --- Helpers for the sources --------------------------------------------------------------------
def month_range(first_month, last_month):
    """The months first … last as first days of months; ValueError for anything else."""
    for month in (first_month, last_month):
        if not isinstance(month, datetime.date) or isinstance(month, datetime.datetime) or month.day != 1:
            raise ValueError(f"a month is the first day of a month (a date), not {month!r}")
    if last_month < first_month:
        raise ValueError(f"the months run backwards: {first_month} … {last_month}")
    months, month = [], first_month
    while month <= last_month:
        months.append(month)
        month = next_month(month)
    return months


def next_month(month):
    """The first day of the month after `month`'s."""
    return (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def month_end(month):
    """The last day of `month`'s month: the day whose hierarchy the month's figures use."""
    return next_month(month) - datetime.timedelta(days=1)


def grouped(queryset, aggregates, *, institution="institution", month="month"):
    """A source's rows from one GROUP BY: `queryset` (already filtered by alliance and months)
    grouped by `institution` and `month` (field names or expressions, e.g. TruncMonth("date")),
    with `aggregates` ({code: aggregate expression}) computed together in the same query."""
    aggregates = {**aggregates, ROWS: Count("pk")}
    names = {f"measure_{i}": code for i, code in enumerate(aggregates)}
    rows = (
        queryset.order_by()  # a default ordering would join the GROUP BY
        .values(measure_institution=_expression(institution), measure_month=_expression(month))
        .annotate(**{name: aggregates[code] for name, code in names.items()})
    )
    for row in rows:
        yield (
            row["measure_institution"],
            row["measure_month"],
            {code: row[name] for name, code in names.items()},
        )


def _expression(value):
    return F(value) if isinstance(value, str) else value
