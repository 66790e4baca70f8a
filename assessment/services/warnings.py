"""Warnings of a computed month (issue 15 point 1, DESIGN §4.3).

`raise_warnings(alliance, month, now)` runs at the end of each month's computation, inside its
transaction and under its lock (services.indicators), so a month's figures and its warnings
are written together or not at all. It looks at the month as just stored:

- **off target**: an alliance or township figure whose light (IndicatorDefinition.light) is
  amber or red;
- **wrong way**: an alliance figure that moved the wrong way (its definition's direction) three
  months in a row;
- **siphoning** (虹吸): the lead hospital's share of the county's visits (or of the residents'
  admissions) higher, and the primary-care share lower, than three months before and than the
  same month a year before, each by at least SIPHONING_POINTS percentage points;
- **silent source**: a member institution with a HIS of its own (the lead and collaborating
  hospitals, the branches; a village clinic's records come through its branch's, 乡村一体化)
  that has sent nothing for longer than the alliance's silence limit
  (encounters.querysets.submission_summary), raised on the current month, whose records are
  still arriving (a silence is about now, not about a month);
- **incomplete month**: an elapsed month in which some member institutions sent no record
  counting in it, as the computation counted them (the month's snapshots).

Each warning is one row per kind × subject × scope × institution of the month. A later
computation updates the rows it raises again (an acknowledged warning stays acknowledged),
resolves the ones whose condition cleared and opens a resolved one again when its condition
returns. The warnings new or opened again reach the inbox of the alliance's bureau and office
through core.events. Reads: the month's figures, their definitions, the snapshots and the
hierarchy of the months compared, the stored warnings (five queries), the names of the members
missing from an incomplete month, and on the current month the submissions.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alliance.choices import PlacementRole
from alliance.models import Institution, Placement
from alliance.querysets import today
from core import access, events
from core.exceptions import Conflict
from encounters.querysets import submission_summary
from members.choices import MembershipRole

from .. import rollup
from ..expressions import Reference
from ..models import (
    Direction,
    IndicatorDefinition,
    IndicatorValue,
    IndicatorWarning,
    Light,
    MeasureSnapshot,
    Period,
    Scope,
    WarningKind,
    WarningState,
)

EVENT = "indicators.warnings_raised"
RECIPIENT_ROLES = [MembershipRole.BUREAU, MembershipRole.ALLIANCE_ADMIN]
WRONG_WAY_MONTHS = 3  # moves in a row
SIPHONING_POINTS = Decimal("0.5")  # percentage points, against both comparisons
# What siphoning compares: the lead hospital's and primary care's shares of one total.
SIPHONING = {
    "visits": ("visits.in_county.lead", "visits.in_county.primary", "visits.in_county"),
    "admissions": ("admissions.residents.lead", "admissions.residents.primary", "admissions.residents.all"),
}
WATCHED_SCOPES = (Scope.ALLIANCE, Scope.TOWNSHIP)
# The sources whose records make an institution's month complete (encounters' measures).
ENCOUNTER_SOURCES = frozenset({"encounters.visits", "encounters.admissions"})
ALLIANCE_KEY = (Scope.ALLIANCE, None)


def raise_warnings(alliance, month, now):
    """Raise, update and resolve the warnings of `month` of `alliance`; returns the warnings new
    or opened again (their recipients hear of them when the transaction commits)."""
    kinds = {WarningKind.OFF_TARGET, WarningKind.WRONG_WAY, WarningKind.SIPHONING}
    stored = _stored(alliance, month)
    found = _figure_warnings(alliance, month) + _siphoning(stored, month)
    current = today().replace(day=1)
    if month < current:
        kinds.add(WarningKind.INCOMPLETE_MONTH)
        found += _incomplete(stored, month)
    if month == current:
        kinds.add(WarningKind.SILENT_SOURCE)
        found += _silent_sources(alliance, month, now)
    raised = _store(alliance, month, kinds, found, now)
    if raised:
        _announce(alliance, month, raised)
    return raised


# --- What is wrong ----------------------------------------------------------------------------------
def _figure_warnings(alliance, month):
    """Off-target and wrong-way warnings from the stored month figures of the month and the three
    before (one query for the figures, one for their definitions)."""
    months = [rollup.shift(month, -offset) for offset in range(WRONG_WAY_MONTHS, -1, -1)]
    rows = (
        IndicatorValue.objects.filter(
            alliance=alliance, month__in=months, period=Period.MONTH, scope__in=WATCHED_SCOPES
        )
        .order_by()
        .values_list("indicator", "scope", "institution_id", "month", "value", "definition_id")
    )
    series, of_month = {}, []
    for code, scope, institution_id, row_month, value, definition_id in rows:
        if row_month == month:
            of_month.append((code, scope, institution_id, value, definition_id))
        if scope == Scope.ALLIANCE:
            series.setdefault(code, {})[row_month] = value
    definitions = IndicatorDefinition.objects.in_bulk({row[4] for row in of_month})
    found = []
    for code, scope, institution_id, value, definition_id in of_month:
        definition = definitions[definition_id]
        light = definition.light(value)
        if light in (Light.AMBER, Light.RED):
            detail = {**_named(definition), "value": _text(value), "target": _text(definition.target)}
            detail["comparison"] = definition.target_comparison
            found.append((WarningKind.OFF_TARGET, code, scope, institution_id, light, detail))
        if scope == Scope.ALLIANCE:
            values = [series[code].get(m) for m in months]
            if _wrong_way(definition.direction, values):
                detail = {**_named(definition), "months": [m.strftime("%Y-%m") for m in months]}
                detail["values"] = [_text(v) for v in values]
                found.append((WarningKind.WRONG_WAY, code, scope, None, Light.AMBER, detail))
    return found


def _wrong_way(direction, values):
    if direction == Direction.MONITOR or any(value is None for value in values):
        return False
    worse = (lambda a, b: b < a) if direction == Direction.HIGHER_BETTER else (lambda a, b: b > a)
    return all(worse(a, b) for a, b in zip(values, values[1:], strict=False))


def _siphoning(stored, month):
    """Siphoning of visits and of admissions, from the snapshots of the month, three months
    before and a year before, rolled up on each month's hierarchy."""
    months = (rollup.shift(month, -12), rollup.shift(month, -3), month)
    found = []
    for subject, (lead, primary, total) in SIPHONING.items():
        year, before, now = (_shares(stored.figures, m, lead, primary, total) for m in months)
        if None in (now, before, year):
            continue
        rising = all(now[0] - then[0] >= SIPHONING_POINTS for then in (before, year))
        falling = all(then[1] - now[1] >= SIPHONING_POINTS for then in (before, year))
        if rising and falling:
            detail = {
                "lead": [_text(share[0]) for share in (year, before, now)],
                "primary": [_text(share[1]) for share in (year, before, now)],
                "months": [m.strftime("%Y-%m") for m in months],
            }
            found.append((WarningKind.SIPHONING, subject, Scope.ALLIANCE, None, Light.RED, detail))
    return found


class _Stored:
    """What the computation just stored of the month, three months before and a year before:
    the snapshots rolled up on each month's hierarchy, and the records counted per institution
    in the month (two queries)."""

    def __init__(self, figures, hierarchy, counted):
        self.figures, self.hierarchy, self.counted = figures, hierarchy, counted


def _stored(alliance, month):
    months = sorted({month, rollup.shift(month, -3), rollup.shift(month, -12)})
    placements = Placement.objects.filter(alliance=alliance).only(
        "institution_id", "role", "parent_id", "valid_from", "valid_to"
    )
    hierarchy = {
        key: (p.role, p.parent_id)
        for key, p in placements.by_month(months[0], months[-1]).items()
        if key[1] in months
    }
    base, counted = {}, {}
    snapshots = MeasureSnapshot.objects.filter(alliance=alliance, month__in=months).order_by()
    for institution_id, snapshot_month, values, rows in snapshots.values_list(
        "institution_id", "month", "values", "rows"
    ):
        base[institution_id, snapshot_month] = {code: Decimal(value) for code, value in values.items()}
        if snapshot_month == month:
            counted[institution_id] = sum(n for source, n in rows.items() if source in ENCOUNTER_SOURCES)
    return _Stored(rollup.Figures(base, {}, hierarchy), hierarchy, counted)


def _shares(figures, month, lead, primary, total):
    """(lead share, primary share) in percent of `total` in `month`, None when nothing counted."""
    whole = figures.value(ALLIANCE_KEY, Reference(total), month)
    if not whole:
        return None
    hundred = Decimal(100)
    return tuple(
        (figures.value(ALLIANCE_KEY, Reference(code), month) / whole * hundred).quantize(Decimal("0.01"))
        for code in (lead, primary)
    )


def _incomplete(stored, month):
    """The members of the month's hierarchy (partners left out) with no record counting in the
    month, as the computation counted them (one query for their names when some are missing)."""
    expected = [
        institution_id
        for (institution_id, of_month), (role, _parent) in stored.hierarchy.items()
        if of_month == month and role != PlacementRole.PARTNER
    ]
    missing = [institution_id for institution_id in expected if not stored.counted.get(institution_id)]
    if not missing:
        return []
    names = Institution.objects.filter(pk__in=missing).order_by("code").values_list("code", "name")
    detail = {"expected": len(expected), "missing": [{"code": code, "name": name} for code, name in names]}
    light = Light.RED if len(missing) * 10 >= len(expected) else Light.AMBER
    return [(WarningKind.INCOMPLETE_MONTH, "", Scope.ALLIANCE, None, light, detail)]


def _silent_sources(alliance, month, now):
    """The institutions with a HIS of their own silent for longer than the limit (one query)."""
    institutions = Placement.objects.filter(alliance=alliance).values("institution")
    found = []
    for row in submission_summary(institutions, month, now):
        if row["alliance"] != alliance.pk or not row["silent"] or row["role"] == PlacementRole.VILLAGE:
            continue
        last = row["last_received"]
        detail = {
            "name": row["institution_name"],
            "code": row["institution_code"],
            "last_received": timezone.localtime(last).isoformat() if last else None,
            "silence_days": row["silence_days"],
        }
        found.append(
            (WarningKind.SILENT_SOURCE, "", Scope.INSTITUTION, row["institution"], Light.RED, detail)
        )
    return found


def _named(definition):
    return {"name_zh": definition.name_zh, "name_en": definition.name_en, "unit": definition.unit}


def _text(number):
    return None if number is None else format(Decimal(number).normalize(), "f")


# --- Storing and telling ----------------------------------------------------------------------------
def _store(alliance, month, kinds, found, now):
    """Write what was found against the stored warnings of the month (one query to read them,
    one insert, one update); returns the warnings new or opened again."""
    stored = {
        (w.kind, w.subject, w.scope, w.institution_id): w
        for w in IndicatorWarning.objects.filter(alliance=alliance, month=month)
    }
    new, changed, raised = [], [], []
    for kind, subject, scope, institution_id, light, detail in found:
        warning = stored.pop((kind, subject, scope, institution_id), None)
        if warning is None:
            warning = IndicatorWarning(
                alliance=alliance, month=month, kind=kind, subject=subject, scope=scope,
                institution_id=institution_id, light=light, detail=detail, raised_at=now, updated_at=now,
            )  # fmt: skip
            new.append(warning)
            continue
        reopened = warning.state == WarningState.RESOLVED
        if reopened:
            warning.state, warning.resolved_at, warning.raised_at = WarningState.OPEN, None, now
            raised.append(warning)
        if reopened or (warning.light, warning.detail) != (light, detail):
            warning.light, warning.detail, warning.updated_at = light, detail, now
            changed.append(warning)
    for warning in stored.values():
        if warning.kind in kinds and warning.state != WarningState.RESOLVED:
            warning.state, warning.resolved_at, warning.updated_at = WarningState.RESOLVED, now, now
            changed.append(warning)
    IndicatorWarning.objects.bulk_create(new)
    IndicatorWarning.objects.bulk_update(
        changed, ["state", "light", "detail", "raised_at", "updated_at", "resolved_at"], batch_size=500
    )
    return new + raised


def _announce(alliance, month, raised):
    users = (
        get_user_model()
        .objects.filter(memberships__alliance=alliance, memberships__role__in=RECIPIENT_ROLES, is_active=True)
        .distinct()
    )
    with translation.override(settings.LANGUAGE_CODE):  # the inbox text, in the site's language
        title = _("%(alliance)s %(month)s: %(count)s new warnings") % {
            "alliance": alliance.name,
            "month": month.strftime("%Y-%m"),
            "count": len(raised),
        }
        body = "；".join(describe(warning) for warning in raised[:5])
    events.publish(
        EVENT,
        {
            "alliance": alliance.pk,
            "month": month.strftime("%Y-%m"),
            "warnings": [
                {"id": w.pk, "kind": w.kind, "subject": w.subject, "light": w.light} for w in raised
            ],
        },
        users=users,
        title=title,
        body=body,
        link=reverse("assessment:warnings") + f"?alliance={alliance.pk}&month={month:%Y-%m}&state=open",
    )


def describe(warning):
    """The warning in a sentence, in the active language, from its stored detail."""
    detail = warning.detail
    name = detail.get("name_en") if translation.get_language() == "en" else detail.get("name_zh")
    if warning.kind == WarningKind.OFF_TARGET:
        where = f"{warning.institution.name}：" if warning.institution_id else ""
        return _("%(where)s%(indicator)s is %(value)s, target %(target)s") % {
            "where": where, "indicator": name, "value": detail.get("value"), "target": detail.get("target"),
        }  # fmt: skip
    if warning.kind == WarningKind.WRONG_WAY:
        return _("%(indicator)s moved the wrong way three months in a row: %(values)s") % {
            "indicator": name,
            "values": " → ".join(str(v) for v in detail.get("values", [])),
        }
    if warning.kind == WarningKind.SIPHONING:
        what = _("visits") if warning.subject == "visits" else _("admissions")
        lead, primary = detail.get("lead", []), detail.get("primary", [])
        return _(
            "The lead hospital's share of %(what)s rose to %(lead)s%% (%(lead_before)s%% three months "
            "before, %(lead_year)s%% a year before) while primary care's fell to %(primary)s%%"
        ) % {
            "what": what, "lead": lead[2], "lead_before": lead[1], "lead_year": lead[0], "primary": primary[2],
        }  # fmt: skip
    if warning.kind == WarningKind.SILENT_SOURCE:
        last = detail.get("last_received")
        return _("%(institution)s has sent nothing for more than %(days)s days (last: %(last)s)") % {
            "institution": detail.get("name"),
            "days": detail.get("silence_days"),
            "last": last[:10] if last else _("never"),
        }
    missing = detail.get("missing", [])
    return _("%(missing)s of %(expected)s member institutions sent no record this month: %(names)s") % {
        "missing": len(missing),
        "expected": detail.get("expected"),
        "names": "、".join(item["name"] for item in missing[:10]) + ("…" if len(missing) > 10 else ""),
    }


# --- Acknowledging ----------------------------------------------------------------------------------
@transaction.atomic
def acknowledge_warning(warning, *, note, acting_user, now=None):
    """The bureau or the alliance office acknowledges an open warning with a note (what is done
    about it). Acknowledging twice, or a resolved warning, is a conflict; the row is locked so
    two acknowledgements never overwrite each other's note."""
    if not access.can_write(acting_user, IndicatorWarning, warning):
        raise PermissionDenied(_("Only the health bureau and the alliance office acknowledge warnings."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Write what is being done about the warning.")]})
    locked = IndicatorWarning.objects.select_for_update().get(pk=warning.pk)
    if locked.state != WarningState.OPEN:
        raise Conflict(
            _("This warning is %(state)s: only an open warning is acknowledged.")
            % {"state": locked.get_state_display()},
            code="warning_not_open",
        )
    now = now or timezone.now()
    locked.state, locked.note = WarningState.ACKNOWLEDGED, note
    locked.acknowledged_at, locked.acknowledged_by, locked.updated_at = now, acting_user, now
    locked.save(update_fields=["state", "note", "acknowledged_at", "acknowledged_by", "updated_at"])
    return locked
