"""The monthly indicator computation (issue 14 points 4 and 5, DESIGN §4.3).

`compute_indicators(alliance, months)` reads every measure of the months in one query per
source table (core.measures), the months the year-to-date and `.periodOffset` figures also need
from the snapshots earlier computations stored (or, for months never computed, from the tables,
only the measures needed), and the hierarchy of all those months in one query; rolls up and
evaluates in memory (assessment.rollup); then writes each month in its own transaction, holding
that month's IndicatorMonth row as the lock: inserts the new figures, updates the changed ones
(a figure that did not change keeps its row and its `computed_at`, the time it was computed as it
stands; the month's row keeps the time of its last computation), deletes the ones gone (a
published month keeps them, restated as 0 ÷ 0), replaces the snapshots that changed and takes in
the month's marks of changed inputs. It never writes a month it was not asked for, it is
idempotent, and a failure rolls back
the month it was writing and leaves every other month as it was. Each month's warnings are
raised in its transaction, once its figures are stored (services.warnings).

After publication (`publish_month`) a recompute that changes a figure writes a Restatement
naming the writes that caused it (core.measures.mark_changed) or the new definition version.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.models import Placement
from alliance.querysets import today
from core import access, bulk
from core import measures as registry
from core import services as core_services
from core.exceptions import Conflict
from core.models import MeasureChange

from .. import rollup
from ..models import (
    IndicatorDefinition,
    IndicatorMonth,
    IndicatorValue,
    MeasureSnapshot,
    NullReason,
    Restatement,
)
from . import warnings

JOB_KIND = "indicators.compute"
FIGURE_FIELDS = ("numerator", "denominator", "value", "null_reason", "input_rows")


def compute_indicators(alliance, months, *, now=None):
    """Compute and store every indicator for every scope of `months` (first days of months) of
    `alliance`; returns `{"months": [...], "values": rows written, "restated": n}`."""
    months = sorted(set(months))
    if not months:
        return {"months": [], "values": 0, "restated": 0}
    registry.month_range(months[0], months[-1])  # checks the months
    now = now or timezone.now()
    changes = _changes(alliance, months)
    evaluations = _evaluations(months)
    inputs = _inputs(alliance, months, evaluations)
    figures = rollup.evaluate(evaluations, inputs.figures, months)
    written = restated = 0
    for month in months:
        of_month = {key: figure for key, figure in figures.items() if key[3] == month}
        snapshots = inputs.snapshots(month)
        marks = changes.get(month, [])
        count, restatements = _write_month(
            alliance, month, of_month, snapshots, marks, _read_marks(changes, month), now
        )
        written, restated = written + count, restated + restatements
    return {"months": [m.strftime("%Y-%m") for m in months], "values": written, "restated": restated}


def _changes(alliance, months):
    """The marks of changed inputs of the months, read before the measures: a write committed
    after this read keeps its mark for the next computation."""
    marks = MeasureChange.objects.filter(alliance_id=alliance.pk, month__in=months).order_by("pk")
    changes = {}
    for mark in marks:
        changes.setdefault(mark.month, []).append(mark)
    return changes


def _read_marks(changes, month):
    """The marks of the earlier months whose measures `month` reads, its causes too: the months
    before it in its year (its year to date) and the month a year before (`.periodOffset(-12)`),
    so a published month restated because an earlier one changed names that change."""
    return [
        mark
        for marked, marks in changes.items()
        if marked < month and (marked.year == month.year or marked == rollup.shift(month, -12))
        for mark in marks
    ]


def _evaluations(months):
    """`{month: [Evaluation]}` of the definition versions in force on each month's last day."""
    by_id, evaluations = {}, {}
    for month in months:
        definitions = IndicatorDefinition.objects.current(on=registry.month_end(month))
        evaluations[month] = [by_id.setdefault(d.pk, rollup.Evaluation(d)) for d in definitions]
    return evaluations


class _Inputs:
    """The measures, records counted and hierarchy a computation reads."""

    def __init__(self, base, rows, hierarchy, scanned):
        self.base, self.rows, self.scanned = base, rows, scanned
        self.figures = rollup.Figures(base, rows, hierarchy)

    def snapshots(self, month):
        """`{institution_id: (values, rows)}` of the month as scanned now."""
        keys = {key for key in self.base if key[1] == month} | {key for key in self.rows if key[1] == month}
        return {
            institution_id: (
                self.base.get((institution_id, month), {}),
                self.rows.get((institution_id, month), {}),
            )
            for institution_id, _month in keys
        }


def _inputs(alliance, months, evaluations):
    references = set()
    for month in months:
        for evaluation in evaluations[month]:
            references |= evaluation.references[False] | evaluation.references[True]
    needed = rollup.needed_months(months, references)
    scanned = set(registry.month_range(months[0], months[-1]))
    base, rows = _scan(alliance, months[0], months[-1], _base_codes())
    extra = {month: codes for month, codes in needed.items() if month not in scanned}
    stored = _stored_months(alliance, extra)
    _read_snapshots(alliance, stored, base, rows)
    missing = {month: codes for month, codes in extra.items() if month not in stored}
    if missing:
        codes = {registry.measure(code).base or code for codes in missing.values() for code in codes}
        more_base, more_rows = _scan(alliance, min(missing), max(missing), codes)
        base.update({key: row for key, row in more_base.items() if key[1] in missing})
        rows.update({key: row for key, row in more_rows.items() if key[1] in missing})
    every = scanned | set(needed)
    return _Inputs(base, rows, _hierarchy(alliance, min(every), max(every)), scanned)


def _base_codes():
    return {item.code for item in registry.measures() if item.base is None}


def _scan(alliance, first, last, codes):
    rows = {}
    base = registry.compute(alliance, first, last, sorted(codes), rows=rows)
    return base, rows


def _stored_months(alliance, months):
    if not months:
        return set()
    computed = IndicatorMonth.objects.filter(alliance=alliance, month__in=months, computed_at__isnull=False)
    return set(computed.values_list("month", flat=True))


def _read_snapshots(alliance, months, base, rows):
    """Add the stored measures of `months` (one query)."""
    if not months:
        return
    stored = MeasureSnapshot.objects.filter(alliance=alliance, month__in=months).order_by()
    for institution_id, month, values, counted in stored.values_list(
        "institution_id", "month", "values", "rows"
    ):
        base[institution_id, month] = {code: Decimal(value) for code, value in values.items()}
        rows[institution_id, month] = counted


def _hierarchy(alliance, first, last):
    """`{(institution_id, month): (role, parent_id)}` on the last day of each month, one query."""
    placements = Placement.objects.filter(alliance=alliance).only(
        "institution_id", "role", "parent_id", "valid_from", "valid_to"
    )
    return {key: (p.role, p.parent_id) for key, p in placements.by_month(first, last).items()}


# --- Writing one month ------------------------------------------------------------------------
KEY_FIELDS = ("indicator", "scope", "institution_id", "month", "period")
STORED_FIELDS = ("pk", "definition_id", "definition__version", "restated", *FIGURE_FIELDS)
VALUE_COLUMNS = ("alliance_id", *KEY_FIELDS, "definition_id", *FIGURE_FIELDS, "computed_at", "restated")
SNAPSHOT_COLUMNS = ("alliance_id", "month", "institution_id", "values", "rows")


@transaction.atomic
def _write_month(alliance, month, figures, snapshots, marks, read_marks, now):
    """Store the month's figures and snapshots under the month's lock; returns (rows, restated).
    `marks` are the month's own marks of changed inputs (taken in here), `read_marks` those of
    the earlier months it reads (their causes are its causes too; their own month takes them).
    The stored figures are read as tuples and compared; only the new ones are inserted (one
    statement, core.bulk) and only the changed ones updated."""
    state = _locked_month(alliance, month)
    existing = {
        row[: len(KEY_FIELDS)]: dict(zip(STORED_FIELDS, row[len(KEY_FIELDS) :], strict=True))
        for row in IndicatorValue.objects.of(alliance, month)
        .order_by()
        .values_list(*KEY_FIELDS, *STORED_FIELDS)
    }
    causes = _causes([*marks, *read_marks])
    new, changed, restatements = [], [], []
    for key, figure in figures.items():
        stored = existing.pop(key, None)
        if stored is None:
            new.append((alliance.pk, *key, figure["definition"].pk, *_numbers(figure), now, False))
        elif _differs(stored, figure):
            restated = state.is_published and _figures_differ(stored, figure)
            if restated:
                restatements.append(_restatement(alliance, month, stored, figure, causes, now))
            changed.append(_changed_value(stored, figure, restated, now))
    if existing and state.is_published:
        restatements += _kept_as_nothing(alliance, month, existing.values(), changed, causes, now)
    elif existing:
        IndicatorValue.objects.filter(pk__in=[stored["pk"] for stored in existing.values()]).delete()
    bulk.insert(IndicatorValue, VALUE_COLUMNS, new)
    IndicatorValue.objects.bulk_update(
        changed, [*FIGURE_FIELDS, "definition", "restated", "computed_at"], batch_size=500
    )
    Restatement.objects.bulk_create(restatements)
    _replace_snapshots(alliance, month, snapshots)
    MeasureChange.objects.filter(pk__in=[mark.pk for mark in marks]).delete()
    state.computed_at = now
    state.save(update_fields=["computed_at"])
    warnings.raise_warnings(alliance, month, now)
    return len(figures), len(restatements)


def _kept_as_nothing(alliance, month, gone, changed, causes, now):
    """The published figures a recompute no longer produces (their records withdrawn, or the
    scope gone from the month's hierarchy) are not deleted: each becomes 0 ÷ 0, restated, so the
    change is as visible as any other. Returns their restatements; adds the rows to `changed`."""
    definitions = IndicatorDefinition.objects.in_bulk({stored["definition_id"] for stored in gone})
    restatements = []
    for stored in gone:
        nothing = {
            "definition": definitions[stored["definition_id"]],
            "numerator": rollup.ZERO,
            "denominator": rollup.ZERO,
            "value": None,
            "null_reason": NullReason.ZERO_DENOMINATOR.value,
            "input_rows": 0,
        }
        if _differs(stored, nothing):
            restatements.append(_restatement(alliance, month, stored, nothing, causes, now))
            changed.append(_changed_value(stored, nothing, True, now))
    return restatements


def _locked_month(alliance, month):
    """The month's IndicatorMonth row, created when missing, locked until the transaction ends:
    two computations of one month write one after the other."""
    state, _created = IndicatorMonth.objects.get_or_create(alliance=alliance, month=month)
    return IndicatorMonth.objects.select_for_update().get(pk=state.pk)


def _numbers(figure):
    return tuple(figure[name] for name in FIGURE_FIELDS)


def _figures_differ(stored, figure):
    return any(stored[name] != figure[name] for name in ("numerator", "denominator", "value"))


def _differs(stored, figure):
    return stored["definition_id"] != figure["definition"].pk or any(
        stored[name] != figure[name] for name in FIGURE_FIELDS
    )


def _changed_value(stored, figure, restated, now):
    """The stored row with its new figure, for bulk_update: a restated row stays restated."""
    return IndicatorValue(
        pk=stored["pk"],
        definition=figure["definition"],
        restated=stored["restated"] or restated,
        computed_at=now,
        **{name: figure[name] for name in FIGURE_FIELDS},
    )


def _causes(marks):
    """The distinct writes behind the month's marks, oldest first."""
    seen = {}
    for mark in marks:
        seen.setdefault((mark.cause_type, mark.cause_id), mark.changed_at)
    return [{"type": kind, "id": pk, "at": at.isoformat()} for (kind, pk), at in seen.items()]


def _restatement(alliance, month, stored, figure, causes, now):
    version = figure["definition"].version
    reasons = list(causes)
    if version != stored["definition__version"]:
        reasons.append(
            {"type": "assessment.indicatordefinition", "id": figure["definition"].pk, "version": version}
        )
    return Restatement(
        value_id=stored["pk"],
        alliance_id=alliance.pk,
        month=month,
        old_numerator=stored["numerator"],
        old_denominator=stored["denominator"],
        old_value=stored["value"],
        old_version=stored["definition__version"],
        new_numerator=figure["numerator"],
        new_denominator=figure["denominator"],
        new_value=figure["value"],
        new_version=version,
        causes=reasons,
        restated_at=now,
    )


def _replace_snapshots(alliance, month, snapshots):
    """Store the month's measures per institution as scanned: only the snapshots that differ
    from the stored ones are replaced, those of institutions gone are deleted."""
    stored = {
        institution_id: (pk, values, rows)
        for pk, institution_id, values, rows in MeasureSnapshot.objects.filter(alliance=alliance, month=month)
        .order_by()
        .values_list("pk", "institution_id", "values", "rows")
    }
    replaced, fresh = [], []
    for institution_id, (values, rows) in snapshots.items():
        values = {code: str(value) for code, value in values.items()}
        kept = stored.pop(institution_id, None)
        if kept is not None and kept[1:] == (values, rows):
            continue
        if kept is not None:
            replaced.append(kept[0])
        fresh.append((alliance.pk, month, institution_id, values, rows))
    gone = replaced + [pk for pk, _values, _rows in stored.values()]
    if gone:
        MeasureSnapshot.objects.filter(pk__in=gone).delete()
    bulk.insert(MeasureSnapshot, SNAPSHOT_COLUMNS, fresh)


# --- Requests, publication and the schedule -----------------------------------------------------
def start_computation(alliance, months, *, acting_user):
    """A Job computing `months` of `alliance` on the `indicators` queue (the compute button and
    `POST /api/v1/indicators/compute/`); the bureau of the alliance only."""
    _check_bureau(alliance, acting_user)
    months = _checked_months(months)
    from ..tasks import compute_indicators_task

    return core_services.create_job(
        JOB_KIND,
        acting_user=acting_user,
        enqueue=lambda job_id: compute_indicators_task.delay(
            alliance.pk, [m.isoformat() for m in months], job_id=job_id
        ),
    )


def _checked_months(months):
    months = sorted(set(months))
    if not months:
        raise Conflict(_("Name at least one month."), code="no_months")
    latest = today().replace(day=1)
    if months[-1] > latest:
        raise Conflict(
            _("A month after the current one (%(month)s) cannot be computed.")
            % {"month": latest.strftime("%Y-%m")},
            code="month_in_future",
        )
    return months


def _check_bureau(alliance, acting_user):
    if not access.can_write(acting_user, IndicatorMonth, IndicatorMonth(alliance=alliance)):
        raise PermissionDenied(_("Only the health bureau computes and publishes indicators."))


@transaction.atomic
def publish_month(alliance, month, *, acting_user):
    """The bureau publishes a computed month: from now on a recompute that changes one of its
    figures is a visible restatement. Publishing twice is a conflict; a month never computed
    cannot be published."""
    _check_bureau(alliance, acting_user)
    state = IndicatorMonth.objects.select_for_update().filter(alliance=alliance, month=month).first()
    if state is None or state.computed_at is None:
        raise Conflict(_("This month has not been computed yet."), code="month_not_computed")
    if state.is_published:
        raise Conflict(_("This month is already published."), code="month_already_published")
    state.published_at, state.published_by = timezone.now(), acting_user
    state.save(update_fields=["published_at", "published_by"])
    return state


def dirty_months():
    """`{alliance_id: [months]}` to recompute: the computed months with marks of changed inputs,
    the later computed months of the same year (their year to date reads the dirty month) and
    those a year later (their `.periodOffset(-12)`). A month never computed has no figure to
    restate: its marks wait for its first computation (see `forget_marks_of_uncomputed_months`)."""
    computed = {}
    for alliance_id, month in IndicatorMonth.objects.filter(computed_at__isnull=False).values_list(
        "alliance_id", "month"
    ):
        computed.setdefault(alliance_id, set()).add(month)
    result = {}
    for alliance_id, month in registry.changed_months():
        done = computed.get(alliance_id, set())
        if month not in done:
            continue
        follow = {m for m in done if (m.year == month.year and m > month) or m == rollup.shift(month, 12)}
        result.setdefault(alliance_id, set()).update({month} | follow)
    return {alliance_id: sorted(months) for alliance_id, months in result.items()}


def forget_marks_of_uncomputed_months():
    """Delete the marks of months never computed (a placement changed years ago, say): their
    first computation reads the tables as they are, so the marks would only pile up."""
    computed = IndicatorMonth.objects.filter(
        computed_at__isnull=False, alliance_id=OuterRef("alliance_id"), month=OuterRef("month")
    )
    return MeasureChange.objects.exclude(Exists(computed)).delete()[0]


def schedule_months(on=None):
    """The months the early-month run recomputes: every month of the year so far, and of last
    year too in January and February, when late data of December is still coming in."""
    on = on or today()
    first = datetime.date(on.year - (1 if on.month <= 2 else 0), 1, 1)
    return registry.month_range(first, on.replace(day=1))
