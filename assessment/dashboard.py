"""The committee's dashboard (驾驶舱, issue 15 points 2–4): the reads behind its screen, a tile's
detail and the monthly report, each one set of queries whatever the number of indicators,
months or institutions (asserted in tests/assessment/test_dashboard.py).

- `screen(user, alliance, month)`: a tile per indicator of the alliance (month value, target,
  light, change against last month and the same month last year, year to date, a 12-month
  sparkline, restated and provisional marks), the data completeness of the month as computed,
  when it was computed, and the month's open warnings. Six queries.
- `tile(user, alliance, month, code)`: 24 months of the alliance value with the target, the
  ranking of the branches, each branch's institutions (the drill-down; the institution figures
  link to their page, and from there the records, for the roles that read them), and **which
  members moved the figure** since last month (`contributions`). At most twelve queries
  (tests/bench/test_dashboard_bench.py: fourteen with the session's), fewer when the figure
  does not split over the members.

Everything is read through the access door: the figures through `IndicatorValue.for_user`; a
role that watches no alliance gets 403 from the views, an alliance out of its reach 404.
"""

from decimal import Decimal

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.choices import PlacementRole
from alliance.models import Institution, Placement
from core import measures as registry

from . import figures, rollup
from .expressions import Reference
from .models import (
    UNIT_FACTOR,
    IndicatorDefinition,
    IndicatorMonth,
    IndicatorValue,
    IndicatorWarning,
    MeasureSnapshot,
    Period,
    Scope,
    WarningState,
)
from .services.warnings import ENCOUNTER_SOURCES, describe
from .views import name_of, target_of

SPARKLINE_MONTHS = 12
TREND_MONTHS = 24
MOVERS = 8  # the members shown by name in "which members moved it"; the rest are summed


def months_of(alliance):
    """The computed months of the alliance, newest first, with their publication (one query)."""
    return list(
        IndicatorMonth.objects.filter(alliance=alliance, computed_at__isnull=False)
        .order_by("-month")
        .values_list("month", "published_at")
    )


def opening_month(months):
    """The month the dashboard opens on: the latest published one, else the latest computed."""
    published = [month for month, published_at in months if published_at]
    return published[0] if published else (months[0][0] if months else None)


# --- The screen -------------------------------------------------------------------------------------
def screen(user, alliance, month):
    first = rollup.shift(month, -SPARKLINE_MONTHS)
    states = {
        state.month: state
        for state in IndicatorMonth.objects.filter(alliance=alliance, month__gte=first, month__lte=month)
    }
    rows = (
        IndicatorValue.objects.for_user(user)
        .filter(alliance=alliance, scope=Scope.ALLIANCE, month__gte=first, month__lte=month)
        .filter(Q(period=Period.MONTH) | Q(period=Period.YTD, month=month))
        .order_by()
        .values_list("indicator", "month", "period", "value", "restated", "definition_id", "pk")
    )
    series, ytd, of_month = {}, {}, {}
    for code, row_month, period, value, restated, definition_id, pk in rows:
        if period == Period.YTD:
            ytd[code] = value
            continue
        series.setdefault(code, {})[row_month] = value
        if row_month == month:
            of_month[code] = (value, restated, definition_id, pk)
    definitions = IndicatorDefinition.objects.in_bulk({row[2] for row in of_month.values()})
    months = [rollup.shift(month, offset) for offset in range(1 - SPARKLINE_MONTHS, 1)]
    tiles = []
    for code, (value, restated, definition_id, pk) in of_month.items():
        definition = definitions[definition_id]
        history = series.get(code, {})
        last_month = _change(value, history.get(rollup.shift(month, -1)))
        last_year = _change(value, history.get(rollup.shift(month, -12)))
        places = definition.decimals
        tiles.append(
            {
                **_described(definition),
                "value": _number(value),
                "value_text": _shown(value, places),
                "value_id": pk,
                "light": definition.light(value),
                "last_month": _number(last_month),
                "last_month_text": _shown(last_month, places, signed=True),
                "last_year": _number(last_year),
                "last_year_text": _shown(last_year, places, signed=True),
                "ytd": _number(ytd.get(code)),
                "ytd_text": _shown(ytd.get(code), places),
                "sparkline": [_number(history.get(m)) for m in months],
                "restated": restated,
            }
        )
    tiles.sort(key=lambda tile: (tile["order"], tile["code"]))
    state = states.get(month)
    return {
        "alliance": {"id": alliance.pk, "name": alliance.name},
        "month": month.strftime("%Y-%m"),
        "months": [m.strftime("%Y-%m") for m in months],
        "provisional": not (state and state.published_at),
        "computed_at": state.computed_at.isoformat() if state and state.computed_at else None,
        "as_of": _local(state.computed_at) if state and state.computed_at else "—",
        "published_at": state.published_at.isoformat() if state and state.published_at else None,
        "completeness": completeness(alliance, month),
        "tiles": tiles,
        "warnings": open_warnings(user, alliance, month),
    }


def completeness(alliance, month):
    """How many of the month's members (partners left out) had records counting in the month
    when it was computed: the figures' own completeness (two small queries, the placements and
    the month's snapshots, instead of counting the month's records again)."""
    expected = set(
        Placement.objects.on(registry.month_end(month))
        .filter(alliance=alliance)
        .exclude(role=PlacementRole.PARTNER)
        .values_list("institution_id", flat=True)
    )
    counted = MeasureSnapshot.objects.filter(alliance=alliance, month=month, institution__in=expected)
    sent = sum(
        1
        for rows in counted.values_list("rows", flat=True)
        if any(rows.get(source) for source in ENCOUNTER_SOURCES)
    )
    return {
        "sent": sent,
        "expected": len(expected),
        "percent": round(sent * 100 / len(expected)) if expected else None,
    }


def open_warnings(user, alliance, month, limit=None):
    """The month's warnings not yet resolved, open ones first (one query)."""
    warnings = (
        IndicatorWarning.objects.for_user(user)
        .filter(alliance=alliance, month=month)
        .exclude(state=WarningState.RESOLVED)
        .select_related("institution")
        .order_by("state", "-light", "kind", "subject", "pk")
    )
    if limit:
        warnings = warnings[:limit]
    return [
        {
            "id": w.pk, "kind": w.kind, "kind_label": str(w.get_kind_display()), "light": w.light,
            "state": w.state, "state_label": str(w.get_state_display()), "message": describe(w),
            "note": w.note,
        }
        for w in warnings
    ]  # fmt: skip


def _described(definition):
    return {
        "code": definition.code,
        "name": name_of(definition),
        "unit": definition.unit,
        "unit_label": _unit_sign(definition.unit),
        "target": _number(definition.target),
        "target_text": target_of(definition),
        "direction": definition.direction,
        "decimals": definition.decimals,
        # Indicators with a target first (what the committee is judged on), then the monitored.
        "order": 0 if definition.target is not None else 1,
    }


def _unit_sign(unit):
    return {"percent": "%", "permille": "‰", "yuan": _("yuan")}.get(unit, "")


def _change(value, before):
    return None if value is None or before is None else value - before


def _shown(value, places, *, signed=False):
    """A figure as the page shows it: its definition's decimals, "+" on a rise when `signed`,
    "—" without a value."""
    if value is None:
        return "—"
    text = f"{Decimal(value):,.{places}f}"
    return f"+{text}" if signed and value > 0 else text


def _number(value):
    """A decimal as a JSON number (float: for display and charts only, never for sums)."""
    return None if value is None else float(value)


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- A tile's detail --------------------------------------------------------------------------------
def tile(user, alliance, month, code):
    """The detail of one indicator's tile, or None when the user sees no figure of it."""
    first = rollup.shift(month, 1 - TREND_MONTHS)
    values = list(
        IndicatorValue.objects.for_user(user)
        .filter(alliance=alliance, indicator=code, period=Period.MONTH, month__gte=first, month__lte=month)
        .select_related("definition")
        .order_by("month", "scope", "institution_id")
    )
    alliance_rows = {v.month: v for v in values if v.scope == Scope.ALLIANCE}
    current = alliance_rows.get(month)
    if current is None:
        return None
    definition = current.definition
    months = [rollup.shift(month, offset) for offset in range(1 - TREND_MONTHS, 1)]
    of_month = [v for v in values if v.month == month and v.scope != Scope.ALLIANCE]
    names = dict(
        Institution.objects.filter(pk__in={v.institution_id for v in of_month}).values_list("pk", "name")
    )
    return {
        **_described(definition),
        "month": month.strftime("%Y-%m"),
        "value": _number(current.value),
        "light": definition.light(current.value),
        "trend": {
            "months": [m.strftime("%Y-%m") for m in months],
            "values": [_number(getattr(alliance_rows.get(m), "value", None)) for m in months],
            "target": _number(definition.target),
        },
        "branches": _branches(alliance, month, of_month, names),
        "movers": contributions(current, alliance_rows.get(rollup.shift(month, -1))),
        "value_url": reverse("assessment:value-detail", args=[current.pk]),
    }


def _branches(alliance, month, rows, names):
    """The branches ranked by their township figure, each with its institutions' figures (the
    branch itself and its village clinics, from the month's hierarchy; one query)."""
    parent_of = dict(
        Placement.objects.on(registry.month_end(month))
        .filter(alliance=alliance)
        .values_list("institution_id", "parent_id")
    )
    institutions = {}
    for row in rows:
        if row.scope == Scope.INSTITUTION:
            branch = parent_of.get(row.institution_id) or row.institution_id
            institutions.setdefault(branch, []).append(_line(row, names))
    branches = [
        {**_line(row, names), "institutions": sorted(institutions.get(row.institution_id, []), key=_rank)}
        for row in rows
        if row.scope == Scope.TOWNSHIP
    ]
    return sorted(branches, key=_rank)


def _line(row, names):
    return {
        "id": row.institution_id,
        "name": names.get(row.institution_id, ""),
        "value": _number(row.value),
        "numerator": _number(row.numerator),
        "denominator": _number(row.denominator),
        "url": reverse("assessment:value-detail", args=[row.pk]),
    }


def _rank(line):
    return (line["value"] is None, -(line["value"] or 0), line["name"])


# --- Which members moved it -------------------------------------------------------------------------
def contributions(now, before):
    """Each member's share of the change of the alliance value from `before` to `now` (last
    month's and this month's alliance rows), in the indicator's unit, largest first:

    with the alliance value r = ΣN / ΣD over its members, the change r₁ − r₀ is exactly the sum
    over the members of (ΔNᵢ − r₀·ΔDᵢ) ÷ D₁ (a count, D = 1: ΔNᵢ), so one branch's drop of its
    numerator, or a rise of its denominator, shows as its own part of the fall. The members'
    numerators and denominators are the expressions evaluated on each member's measures (the
    snapshots, figures.inputs_of); an expression that does not add up over the members (a ratio
    of ratios, say) cannot be split, and says so. Care outside the alliance is one member."""
    if before is None or now.value is None or before.value is None:
        return {"splittable": False, "reason": _("There is no figure of last month to compare with.")}
    parts_now, parts_before = _parts(now), _parts(before)
    if parts_now is None or parts_before is None:
        return {"splittable": False, "reason": _("This indicator does not add up over the members.")}
    factor = Decimal(UNIT_FACTOR[now.definition.unit])
    constant = not (now.definition.denominator or "").strip()
    r0 = before.numerator / before.denominator if before.denominator else Decimal(0)
    d1 = now.denominator
    moves = {}
    for member in set(parts_now) | set(parts_before):
        n1, den1 = parts_now.get(member, (Decimal(0), Decimal(0)))
        n0, den0 = parts_before.get(member, (Decimal(0), Decimal(0)))
        change = (n1 - n0) if constant else ((n1 - n0) - r0 * (den1 - den0)) / d1
        if change:
            moves[member] = change * factor
    names = dict(Institution.objects.filter(pk__in=[m for m in moves if m]).values_list("pk", "name"))
    ranked = sorted(moves.items(), key=lambda item: -abs(item[1]))
    shown = [
        {"id": member, "name": names.get(member) if member else _("care outside the alliance"),
         "change": _number(change)}
        for member, change in ranked[:MOVERS]
    ]  # fmt: skip
    rest = sum((change for _member, change in ranked[MOVERS:]), Decimal(0))
    if ranked[MOVERS:]:
        shown.append({"id": None, "name": _("%(count)s others") % {"count": len(ranked) - MOVERS},
                      "change": _number(rest)})  # fmt: skip
    return {
        "splittable": True,
        "from": _number(before.value),
        "to": _number(now.value),
        "change": _number(now.value - before.value),
        "members": shown,
    }


def _parts(value):
    """`{member: (numerator, denominator)}` of the value's members, or None when they do not
    add up to the value's own numerator and denominator."""
    evaluation = rollup.Evaluation(value.definition)
    ytd = value.period == Period.YTD
    inputs = figures.inputs_of(value)
    members = set().union(*(item["institutions"] for item in inputs)) if inputs else set()
    parts = {}
    for member in members:
        read = {
            Reference(item["measure"], item["offset"], item["ytd"]): item["institutions"].get(
                member, Decimal(0)
            )
            for item in inputs
        }
        numerator = evaluation.numerator.evaluate(read, ytd=ytd)
        denominator = evaluation.denominator.evaluate(read, ytd=ytd)
        if numerator is None or denominator is None:
            return None
        parts[member] = (numerator, denominator)
    total_n = sum((n for n, _d in parts.values()), Decimal(0))
    total_d = sum((d for _n, d in parts.values()), Decimal(0))
    close = Decimal("0.01")
    if abs(total_n - value.numerator) > close:
        return None
    if (value.definition.denominator or "").strip() and abs(total_d - value.denominator) > close:
        return None
    return parts
