"""Indicator figures on today's hierarchy (issue 14 point 2): the labelled alternative view, never
stored and never mixed with the default (the hierarchy of each month).

Every past month is rolled up as if today's tree had always held: the institutions placed in
the alliance today, under today's branches and in today's roles, with their measures as the
computations stored them (MeasureSnapshot, whichever alliance they were in then), plus the
alliance's care outside it. A clinic that joined from another county brings its earlier months
along; one that left takes them away. Months never computed count nothing: compute them first.
Reads: one query for today's placements, one for the definitions, one for the snapshots.
"""

from decimal import Decimal

from django.db.models import Q

from alliance.models import Placement
from alliance.querysets import today
from core import measures as registry

from . import rollup
from .models import Hierarchy, IndicatorDefinition, IndicatorValue, MeasureSnapshot


def values_on_todays_hierarchy(alliance, month, *, codes=None, on=None):
    """Unsaved IndicatorValue rows of `month` of `alliance` on the hierarchy of `on` (default
    today), each with `hierarchy` "today" and no id, in the stored rows' order."""
    placed = {
        p.institution_id: (p.role, p.parent_id)
        for p in Placement.objects.on(on or today())
        .filter(alliance=alliance)
        .only("institution", "role", "parent")
    }
    definitions = IndicatorDefinition.objects.current(on=registry.month_end(month))
    if codes:
        definitions = definitions.filter(code__in=codes)
    evaluations = [rollup.Evaluation(definition) for definition in definitions]
    references = (
        set().union(*(e.references[False] | e.references[True] for e in evaluations))
        if evaluations
        else set()
    )
    months = sorted(rollup.needed_months([month], references) or {month: set()})
    hierarchy = {(institution_id, m): place for institution_id, place in placed.items() for m in months}
    base, rows = _snapshots(alliance, placed, months)
    figures = rollup.evaluate({month: evaluations}, rollup.Figures(base, rows, hierarchy), [month])
    return [_row(alliance, key, figure) for key, figure in sorted(figures.items(), key=_order)]


def _snapshots(alliance, placed, months):
    """The stored measures of today's institutions in `months`, summed over the alliances they
    were in, and the alliance's own rows of care outside it."""
    base, rows = {}, {}
    snapshots = MeasureSnapshot.objects.filter(month__in=months).filter(
        Q(institution__in=list(placed)) | Q(alliance=alliance, institution__isnull=True)
    )
    for snapshot in snapshots:
        key = (snapshot.institution_id, snapshot.month)
        values = base.setdefault(key, {})
        for code, value in snapshot.values.items():
            values[code] = values.get(code, Decimal(0)) + Decimal(value)
        counted = rows.setdefault(key, {})
        for source, n in snapshot.rows.items():
            counted[source] = counted.get(source, 0) + n
    return base, rows


def _order(item):
    (code, scope, institution_id, _month, period), _figure = item
    return (code, scope, institution_id or 0, period)


def _row(alliance, key, figure):
    code, scope, institution_id, month, period = key
    row = IndicatorValue(
        alliance=alliance,
        indicator=code,
        definition=figure["definition"],
        scope=scope,
        institution_id=institution_id,
        month=month,
        period=period,
        **{name: figure[name] for name in ("numerator", "denominator", "value", "null_reason", "input_rows")},
    )
    row.view_hierarchy = Hierarchy.TODAY
    return row


# --- The trace of a stored value (issue 14 point 6) --------------------------------------------------
def inputs_of(value):
    """The measures behind a stored value, per institution: `[{"measure", "offset", "ytd",
    "total", "institutions": {institution_id: value}}]` for each reference of its definition
    version, from the month's snapshots and the hierarchy of each month read (two queries).
    Counts and amounts only, never records: what the committee may see too."""
    evaluation = rollup.Evaluation(value.definition)
    ytd = value.period == "ytd"
    references = sorted(evaluation.references[ytd])
    months = sorted(rollup.needed_months([value.month], references))
    placements = Placement.objects.filter(alliance=value.alliance_id).only(
        "institution_id", "role", "parent_id", "valid_from", "valid_to"
    )
    hierarchy = {key: (p.role, p.parent_id) for key, p in placements.by_month(months[0], months[-1]).items()}
    base, rows = {}, {}
    for snapshot in MeasureSnapshot.objects.filter(alliance=value.alliance_id, month__in=months):
        base[snapshot.institution_id, snapshot.month] = {c: Decimal(v) for c, v in snapshot.values.items()}
    figures = rollup.Figures(base, rows, hierarchy)
    key = (value.scope, value.institution_id)
    return [_input(figures, key, reference, value.month) for reference in references]


def _input(figures, key, reference, month):
    target = rollup.shift(month, reference.offset)
    read = rollup.year_to(target) if reference.ytd and reference.code not in figures.last_codes else [target]
    per_institution, members = {}, set()
    for m in read:
        for member in figures.scopes(m).get(key, ()):
            members.add(member)
            amount = figures.month_values(("institution", member), m).get(reference.code) if member else None
            if member is None:
                amount = figures.outside(m).get(reference.code)
            if amount:
                per_institution[member] = per_institution.get(member, Decimal(0)) + amount
    return {
        "measure": reference.code,
        "offset": reference.offset,
        "ytd": reference.ytd,
        "months": [m.strftime("%Y-%m") for m in read],
        "total": figures.value(key, reference, month),
        "institutions": per_institution,
        "members": members,  # the institutions (None: outside care) whose records count
    }
