"""Writes of the indicator definitions (issue 14 point 3): the only path for the admin, the pages
and the API to come, and the catalogue's data migration."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from alliance.querysets import today
from core.exceptions import Conflict

from .. import catalogue, expressions
from ..models import IndicatorDefinition

# What a revision may change; the code is the indicator's name everywhere and the version is
# counted here.
REVISABLE = (
    "name_zh", "name_en", "definition", "data_source", "numerator", "denominator", "unit", "decimals",
    "target", "target_comparison", "target_tolerance", "warning_band", "direction", "for_alliance", "for_township",
    "for_institution", "effective_from", "effective_to",
)  # fmt: skip


@transaction.atomic
def create_definition(*, code, acting_user, effective_from=None, **fields):
    """A new indicator, version 1, effective from `effective_from` (default today). A code that
    exists already is revised, not created again."""
    if IndicatorDefinition.objects.filter(code=code).exists():
        raise ValidationError({"code": _("An indicator with this code exists: revise it instead.")})
    _check_fields(fields)
    definition = IndicatorDefinition(
        code=code,
        version=1,
        effective_from=effective_from or today(),
        created_by=_user(acting_user),
        **fields,
    )
    definition.full_clean()
    definition.save()
    return definition


@transaction.atomic
def revise_definition(definition, *, acting_user, **changes):
    """The next version of `definition` with `changes`, a new row: the old row keeps its values
    (every IndicatorValue keeps the version it was computed with) and ends the day the new one
    begins, `effective_from` (default today, and never before the old version's start; a
    version revised from its own first day is never current again). Only the latest version is
    revised; an edit of an older one is stale (Conflict). Nothing changed: no new version."""
    _check_fields(changes)
    latest = _latest_for_update(definition)
    changed = {name: value for name, value in changes.items() if getattr(latest, name) != value}
    if not changed:
        return latest
    if "effective_from" in changes:
        changed["effective_from"] = changes["effective_from"]  # even the old version's own first day
    revised = _next_version(latest, changed, acting_user)
    if latest.effective_to is None or latest.effective_to > revised.effective_from:
        latest.effective_to = revised.effective_from
        latest.save(update_fields=["effective_to"])
    revised.save()
    return revised


def _latest_for_update(definition):
    versions = IndicatorDefinition.objects.select_for_update().filter(code=definition.code)
    latest = versions.order_by("-version").first()
    if latest is None or latest.version != definition.version:
        raise Conflict(
            _("This definition has a newer version: revise the latest one."), code="definition_not_latest"
        )
    return latest


def _next_version(latest, changed, acting_user):
    values = {name: getattr(latest, name) for name in REVISABLE} | changed
    if "effective_from" not in changed:
        values["effective_from"] = max(today(), latest.effective_from)
    if (
        "effective_to" not in changed
        and latest.effective_to
        and latest.effective_to <= values["effective_from"]
    ):
        values["effective_to"] = None  # the old version's end was where the new one begins
    revised = IndicatorDefinition(
        code=latest.code, version=latest.version + 1, created_by=_user(acting_user), **values
    )
    if revised.effective_from < latest.effective_from:
        raise ValidationError(
            {
                "effective_from": _("A new version begins on or after the version it revises (%(date)s).")
                % {"date": latest.effective_from.isoformat()}
            }
        )
    revised.full_clean()
    return revised


def _check_fields(fields):
    unknown = set(fields) - set(REVISABLE)
    if unknown:
        raise TypeError(f"not a definition's editable field: {', '.join(sorted(unknown))}")


def _user(acting_user):
    return acting_user if getattr(acting_user, "pk", None) else None


# --- The catalogue ----------------------------------------------------------------------------------
def load_catalogue(*, acting_user, model=None):
    """Create the catalogue's indicators whose code has no definition yet (idempotent: the bureau's
    revisions are never overwritten). `model` is the historical model inside a data migration,
    where only the expressions are checked: model methods do not exist there."""
    model = model or IndicatorDefinition
    existing = set(model.objects.values_list("code", flat=True))
    created = []
    with transaction.atomic():
        for entry in catalogue.ENTRIES:
            if entry["code"] in existing:
                continue
            if model is IndicatorDefinition:
                fields = {name: value for name, value in entry.items() if name != "code"}
                created.append(
                    create_definition(
                        code=entry["code"],
                        effective_from=catalogue.EFFECTIVE_FROM,
                        acting_user=acting_user,
                        warning_band=catalogue.WARNING_BANDS.get(entry["code"]),
                        **fields,
                    )
                )
                continue
            for text in (entry["numerator"], entry["denominator"] or "1"):
                expressions.parse(text)
            created.append(model.objects.create(version=1, effective_from=catalogue.EFFECTIVE_FROM, **entry))
    return created
