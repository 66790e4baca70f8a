"""Writes of the hierarchy and governance. Every change goes through a function here; the API,
the admin, Excel imports and the demo county all call them.

An institution's place in an alliance is effective-dated: joining opens a period, moving closes
the current period and opens the next on the same day, leaving closes it. History is never
rewritten. The institution row is locked first, so two concurrent changes of one institution
run one after the other; on PostgreSQL the exclusion constraint `placement_no_overlap` backs the
overlap check.

A placement change changes the hierarchy of every month from the month of its date on (a month's
figures use the hierarchy of its last day, DESIGN §3): it marks those months, through the current
one, changed for the alliance left and the alliance joined (issue 14 point 5). A change of an
institution's open beds marks the current month of its alliance: `beds.open_days` has no history
and reads today's figure, so the months computed before keep the figure they were computed with
until they are recomputed for another reason.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.exceptions import Conflict
from core.identity import normalize_resident_id
from core.measures import mark_changed, month_range

from .choices import PlacementRole
from .models import (
    Alliance,
    AlliancePopulation,
    CommitteeMember,
    Department,
    GovernanceDocument,
    Institution,
    Meeting,
    Placement,
)
from .querysets import today

# Fields a caller may set on each model through the generic create/update services.
INSTITUTION_FIELDS = {"code", "name", "level", "credit_code", "region_code", "licensed_beds", "open_beds"}
ALLIANCE_FIELDS = {"name", "kind", "region_code", "charter_date"}
DEPARTMENT_FIELDS = {"institution", "code", "name", "active"}
# Codes stored as typed would slip past the unique credit code and the county-resident comparison.
NORMALISED_CODES = {"credit_code", "region_code"}


def _save(instance, fields, allowed):
    """Assign `fields` (only `allowed` ones), validate the row with Chinese messages, save it."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        if name in NORMALISED_CODES and isinstance(value, str):
            value = normalize_resident_id(value)  # full-width digits, lower-case letters, spaces
        setattr(instance, name, value.strip() if isinstance(value, str) else value)
    instance.full_clean()
    instance.save()
    return instance


# --- Alliances and institutions ---------------------------------------------------------------
@transaction.atomic
def create_alliance(*, acting_user, **fields):
    """Register an alliance (医共体 or 城市医疗集团)."""
    return _save(Alliance(), fields, ALLIANCE_FIELDS)


@transaction.atomic
def update_alliance(alliance, *, acting_user, **fields):
    return _save(alliance, fields, ALLIANCE_FIELDS)


@transaction.atomic
def set_population(alliance, *, year, resident_population, acting_user):
    """Record (or correct) the resident population of `alliance` in `year`."""
    # Validate before writing: a negative figure must be a 400 with a message, not an IntegrityError.
    row = AlliancePopulation.objects.select_for_update().filter(alliance=alliance, year=year).first()
    row = row or AlliancePopulation(alliance=alliance, year=year)
    row.resident_population = resident_population
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def register_institution(*, acting_user, **fields):
    """Register an institution with its code, level, credit code, region and beds."""
    fields.setdefault("credit_code", "")
    return _save(Institution(), fields, INSTITUTION_FIELDS)


@transaction.atomic
def update_institution(institution, *, acting_user, **fields):
    """Change an institution's facts; a change of its open beds marks its alliance's current month."""
    beds = Institution.objects.filter(pk=institution.pk).values_list("open_beds", flat=True).first()
    _save(institution, fields, INSTITUTION_FIELDS)
    if "open_beds" in fields and institution.open_beds != beds:
        _mark_open_beds(institution)
    return institution


def _mark_open_beds(institution):
    """The current month of the alliance the institution is placed in today (a partner's beds
    are not the alliance's: `beds.open_days` leaves partners out)."""
    placement = Placement.objects.filter(institution=institution).current().first()
    if placement is not None and placement.role != PlacementRole.PARTNER:
        mark_changed(placement.alliance_id, [today()], institution)


@transaction.atomic
def create_department(*, acting_user, **fields):
    return _save(Department(), fields, DEPARTMENT_FIELDS)


@transaction.atomic
def update_department(department, *, acting_user, **fields):
    return _save(department, fields, DEPARTMENT_FIELDS)


# --- Effective-dated placement ----------------------------------------------------------------
@transaction.atomic
def join_alliance(institution, *, alliance, role, valid_from, parent=None, acting_user):
    """Place `institution` in `alliance` with `role` (and `parent`) from `valid_from` on."""
    _lock(institution)
    placement = Placement(
        institution=institution, alliance=alliance, role=role, parent=parent, valid_from=valid_from
    )
    _validate_placement(placement)
    _insert(placement)
    _mark_hierarchy(placement, valid_from, alliance.pk)
    return placement


@transaction.atomic
def move_institution(institution, *, on, alliance=None, role=None, parent=None, acting_user):
    """Close the institution's current period the day before `on` and open the new one on `on`.

    Omitted `alliance` and `role` keep the current ones; `parent` is always given anew (a
    village clinic moving to another branch, a branch becoming collaborating with no parent).
    """
    _lock(institution)
    current = _placement_to_close(institution, on)
    nxt = Placement(
        institution=institution,
        alliance=alliance or current.alliance,
        role=role or current.role,
        parent=parent,
        valid_from=on,
    )
    _validate_no_children_left_behind(current, on, staying=nxt)
    current.valid_to = on
    current.save(update_fields=["valid_to", "updated_at"])
    _validate_placement(nxt)
    _insert(nxt)
    _mark_hierarchy(nxt, on, current.alliance_id, nxt.alliance_id)
    return nxt


@transaction.atomic
def leave_alliance(institution, *, on, acting_user):
    """End the institution's current period on `on` (its last day in the alliance is the day before)."""
    _lock(institution)
    current = _placement_to_close(institution, on)
    _validate_no_children_left_behind(current, on, staying=None)
    current.valid_to = on
    current.save(update_fields=["valid_to", "updated_at"])
    _mark_hierarchy(current, on, current.alliance_id)
    return current


def _mark_hierarchy(placement, on, *alliance_ids):
    """Mark the months from `on`'s through the current month (`on`'s alone when it is later)
    changed for each of `alliance_ids`, `placement` (opened or closed) as the cause."""
    first = on.replace(day=1)
    months = month_range(first, max(first, today().replace(day=1)))
    for alliance_id in sorted(set(alliance_ids)):
        mark_changed(alliance_id, months, placement)


def _lock(institution):
    """Serialise changes of one institution's placements (row lock on PostgreSQL)."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()


def _insert(placement):
    try:
        with transaction.atomic():
            placement.save()
    except IntegrityError as exc:  # the exclusion constraint caught an overlap the check missed
        raise Conflict(
            _("This institution's placement changed meanwhile; reload and try again."),
            code="placement_overlap",
        ) from exc
    return placement


def _placement_to_close(institution, on):
    current = Placement.objects.filter(institution=institution).on(on).first()
    if current is None:
        raise ValidationError({"on": _("The institution belongs to no alliance on %(date)s.") % {"date": on}})
    if current.valid_from >= on:
        raise ValidationError(
            {
                "on": _("The change must be dated after the current period began (%(date)s).")
                % {"date": current.valid_from}
            }
        )
    if Placement.objects.filter(institution=institution, valid_from__gt=on).exists():
        raise ValidationError({"on": _("A later period is already recorded; change that one instead.")})
    return current


def _validate_placement(placement):
    """All rules of a placement, with messages a clerk understands."""
    placement.full_clean(exclude=["institution", "alliance", "parent"])
    overlapping = Placement.objects.filter(institution=placement.institution).overlapping(
        placement.valid_from, placement.valid_to
    )
    if placement.pk:
        overlapping = overlapping.exclude(pk=placement.pk)
    clash = overlapping.select_related("alliance").first()
    if clash:
        message = _("In this period the institution already belongs to %(alliance)s (from %(date)s).")
        raise ValidationError(
            {"valid_from": message % {"alliance": clash.alliance, "date": clash.valid_from}}
        )
    _validate_parent(placement)
    _validate_single_lead(placement)


def _validate_parent(placement):
    role, parent = placement.role, placement.parent
    if role == PlacementRole.VILLAGE and parent is None:
        raise ValidationError({"parent": _("A village clinic must belong to a township branch.")})
    if (
        role in (PlacementRole.LEAD, PlacementRole.COLLABORATING, PlacementRole.PARTNER)
        and parent is not None
    ):
        raise ValidationError({"parent": _("Only village clinics and branches have a parent institution.")})
    if parent is None:
        return
    if parent.pk == placement.institution.pk:
        raise ValidationError({"parent": _("An institution cannot be its own parent.")})
    expected_role = PlacementRole.BRANCH if role == PlacementRole.VILLAGE else PlacementRole.LEAD
    parent_place = Placement.objects.filter(institution=parent).on(placement.valid_from).first()
    if (
        parent_place is None
        or parent_place.alliance_id != placement.alliance_id
        or parent_place.role != expected_role
        or not _outlasts(parent_place, placement)
    ):
        message = (
            _("A village clinic's parent must be a branch of the same alliance for the whole period.")
            if role == PlacementRole.VILLAGE
            else _("A branch's parent must be the lead hospital of the same alliance for the whole period.")
        )
        raise ValidationError({"parent": message})
    _validate_no_cycle(placement)


def _outlasts(parent_place, placement):
    if parent_place.valid_to is None:
        return True
    return placement.valid_to is not None and placement.valid_to <= parent_place.valid_to


def _validate_no_cycle(placement):
    """Walk up the parents as they stand on valid_from; meeting the institution again is a cycle."""
    seen, current = {placement.institution.pk}, placement.parent_id
    while current is not None:
        if current in seen:
            raise ValidationError({"parent": _("This parent would make the hierarchy circular.")})
        seen.add(current)
        above = Placement.objects.filter(institution_id=current).on(placement.valid_from).first()
        current = above.parent_id if above else None


def _validate_single_lead(placement):
    if placement.role != PlacementRole.LEAD:
        return
    other = (
        Placement.objects.filter(alliance=placement.alliance, role=PlacementRole.LEAD)
        .exclude(institution=placement.institution)
        .overlapping(placement.valid_from, placement.valid_to)
        .select_related("institution")
        .first()
    )
    if other:
        raise ValidationError(
            {
                "role": _("%(name)s is already the lead hospital in this period.")
                % {"name": other.institution.name}
            }
        )


def _validate_no_children_left_behind(current, on, *, staying):
    """A branch cannot leave (or change alliance or role) while village clinics hang under it,
    nor a lead hospital while branches do: their parent must keep its role for their whole period."""
    if current.role not in (PlacementRole.BRANCH, PlacementRole.LEAD):
        return
    if staying is not None and staying.alliance_id == current.alliance_id and staying.role == current.role:
        return
    children = Placement.objects.filter(parent=current.institution).overlapping(on, None).count()
    if children and current.role == PlacementRole.BRANCH:
        raise ValidationError(
            {
                "on": _("%(count)d village clinics still belong to this branch; move them first.")
                % {"count": children}
            }
        )
    if children:
        raise ValidationError(
            {
                "on": _("%(count)d branches still have this lead hospital as their parent; move them first.")
                % {"count": children}
            }
        )


# --- Governance -------------------------------------------------------------------------------
COMMITTEE_FIELDS = {"alliance", "name", "position", "organisation", "valid_from", "valid_to"}
MEETING_FIELDS = {"alliance", "kind", "held_on", "title", "attendees", "decisions", "minutes"}
DOCUMENT_FIELDS = {"alliance", "kind", "title", "effective_on", "file", "notes"}


@transaction.atomic
def add_committee_member(*, acting_user, **fields):
    return _save(CommitteeMember(), fields, COMMITTEE_FIELDS)


@transaction.atomic
def update_committee_member(member, *, acting_user, **fields):
    return _save(member, fields, COMMITTEE_FIELDS)


@transaction.atomic
def record_meeting(*, acting_user, **fields):
    return _save(Meeting(), fields, MEETING_FIELDS)


@transaction.atomic
def update_meeting(meeting, *, acting_user, **fields):
    return _save(meeting, fields, MEETING_FIELDS)


@transaction.atomic
def publish_document(*, alliance, kind, acting_user, **fields):
    """Publish the next version of the charter or responsibility list; earlier ones stay."""
    Alliance.objects.select_for_update().filter(pk=alliance.pk).first()
    latest = (
        GovernanceDocument.objects.filter(alliance=alliance, kind=kind).aggregate(v=Max("version"))["v"] or 0
    )
    document = GovernanceDocument(alliance=alliance, kind=kind, version=latest + 1)
    return _save(document, fields, DOCUMENT_FIELDS)


@transaction.atomic
def register_member(*, alliance, role, valid_from, parent=None, acting_user, **fields):
    """Register an institution and place it in `alliance` in one step: both or neither."""
    institution = register_institution(acting_user=acting_user, **fields)
    join_alliance(
        institution,
        alliance=alliance,
        role=role,
        parent=parent,
        valid_from=valid_from,
        acting_user=acting_user,
    )
    return institution
