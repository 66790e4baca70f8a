"""Writes of people and roles. Every change goes through a function here (pages, admin, API,
imports and the demo county alike).

A write that changes what `secondments.six_months` counts (a stationing recorded or changed, a
doctor's profession or title crossing the intermediate level) marks the months it changes for
the staff member's alliance (`months_changed`; issue 14 point 5)."""

import copy
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from alliance.choices import PlacementRole
from alliance.models import ROLE_RANK, Placement
from alliance.querysets import today
from core import audit
from core.identity import birth_date_of, encrypt, mask_resident_id, patient_key, validate_resident_id
from core.measures import mark_changed, month_range

from .choices import ChronicCondition, Gender, SecondmentKind, TeamRole
from .measures import counted_days, is_counted
from .models import (
    FamilyDoctorTeam,
    Membership,
    Secondment,
    SignedResident,
    StaffMember,
    StaffPosting,
    TeamMembership,
)


def _assign(instance, fields, allowed):
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)


def _save(instance, fields, allowed):
    _assign(instance, fields, allowed)
    instance.full_clean()
    instance.save()
    return instance


def _placement_on(institution, date):
    return Placement.objects.filter(institution=institution).on(date).first()


# --- Memberships -------------------------------------------------------------------------------
@transaction.atomic
def grant_membership(user, *, role, alliance=None, institution=None, acting_user):
    """Give `user` a role in an alliance or an institution (idempotent)."""
    membership = Membership.objects.filter(
        user=user, role=role, alliance=alliance, institution=institution
    ).first()
    if membership:
        return membership
    return _save(
        Membership(user=user),
        {"role": role, "alliance": alliance, "institution": institution},
        {"role", "alliance", "institution"},
    )


@transaction.atomic
def revoke_membership(membership, *, acting_user):
    membership.delete()


# --- Staff -------------------------------------------------------------------------------------
STAFF_FIELDS = {
    "employee_number", "name", "gender", "profession", "title_level", "title", "licence_number",
    "is_general_practitioner", "active", "user",
}  # fmt: skip


@transaction.atomic
def hire_staff(*, alliance, institution, valid_from, department=None, acting_user, **fields):
    """Employ a person in the alliance and post them to `institution` from `valid_from`."""
    _check_posting(alliance, institution, department, valid_from)
    staff = StaffMember(alliance=alliance, institution=institution, department=department)
    _save(staff, fields, STAFF_FIELDS)
    StaffPosting.objects.create(
        staff=staff, institution=institution, department=department, valid_from=valid_from
    )
    return staff


class Hire:
    """One person to employ, checked in memory by `check_hire` (an import's row)."""

    def __init__(self, *, institution, valid_from, department=None, **fields):
        self.institution, self.department, self.valid_from, self.fields = (
            institution,
            department,
            valid_from,
            fields,
        )


def placements_of(alliance, institutions):
    """The placements in `alliance` of `institutions`, by institution id: what `check_hire` needs
    to check many postings with one query."""
    found = {}
    for placement in Placement.objects.filter(alliance=alliance, institution__in=institutions):
        found.setdefault(placement.institution_id, []).append(placement)
    return found


def check_hire(alliance, hire, placements):
    """The checks of `hire_staff` without a query (`placements` from `placements_of`): the posting
    and every field of the new staff member; returns the unsaved StaffMember. The uniqueness of
    the employee number is the caller's (it knows the file and the alliance's numbers)."""
    held = placements.get(hire.institution.pk, ())
    if not any(
        p.valid_from <= hire.valid_from and (p.valid_to is None or p.valid_to > hire.valid_from) for p in held
    ):
        raise ValidationError(
            {"institution": _("Staff can only be posted to a member institution of their alliance.")}
        )
    if hire.department is not None and hire.department.institution_id != hire.institution.pk:
        raise ValidationError({"department": _("The department belongs to another institution.")})
    staff = StaffMember(alliance=alliance, institution=hire.institution, department=hire.department)
    _assign(staff, hire.fields, STAFF_FIELDS)
    staff.full_clean(exclude=["alliance", "institution", "department", "user"], validate_unique=False)
    return staff


def check_staff_update(staff, fields):
    """The checks of `update_staff` without saving (an import's preview): a copy takes `fields`."""
    changed = copy.copy(staff)
    _assign(changed, fields, STAFF_FIELDS)
    changed.full_clean(exclude=["alliance", "institution", "department", "user"], validate_unique=False)


@transaction.atomic
def hire_staff_many(*, alliance, hires, acting_user):
    """Employ many people at once (an import): each checked as `hire_staff` checks one, then the
    staff rows and their postings written in two bulk inserts, audited as single saves are.
    All or nothing: a ValidationError names the failing hire's position (`index`)."""
    placements = placements_of(alliance, {hire.institution.pk for hire in hires})
    staff = []
    for index, hire in enumerate(hires):
        try:
            staff.append(check_hire(alliance, hire, placements))
        except ValidationError as error:
            error.index = index
            raise
    staff = StaffMember.objects.bulk_create(staff)
    postings = StaffPosting.objects.bulk_create(
        StaffPosting(
            staff=member, institution=hire.institution, department=hire.department, valid_from=hire.valid_from
        )
        for member, hire in zip(staff, hires, strict=True)
    )
    audit.log_created(staff)
    audit.log_created(postings)
    return staff


@transaction.atomic
def update_staff(staff, *, acting_user, **fields):
    """Change a staff member's details; a change of posting goes through `post_staff`. A doctor
    whose profession or title now counts, or no longer counts, changes the months of their
    stationings."""
    stored = StaffMember.objects.only("profession", "title_level").get(pk=staff.pk)
    _save(staff, fields, STAFF_FIELDS)
    if is_counted(stored) != is_counted(staff):
        counting = staff if is_counted(staff) else stored  # the version whose stationings count
        months = set()
        for secondment in staff.secondments.filter(kind=SecondmentKind.STATIONED):
            months.update(months_changed(None, counted_days(secondment, counting), today=today()))
        if months:
            mark_changed(staff.alliance_id, months, staff)
    return staff


@transaction.atomic
def post_staff(staff, *, institution, on, department=None, acting_user):
    """Post a staff member elsewhere from `on`: the current posting ends, a new one begins."""
    staff = StaffMember.objects.select_for_update().get(pk=staff.pk)
    _check_posting(staff.alliance, institution, department, on)
    current = staff.postings.filter(valid_to__isnull=True).first()
    if current and current.valid_from >= on:
        raise ValidationError(
            {
                "on": _("The new posting must begin after the current one (%(date)s).")
                % {"date": current.valid_from}
            }
        )
    if current:
        current.valid_to = on
        current.save(update_fields=["valid_to"])
    StaffPosting.objects.create(staff=staff, institution=institution, department=department, valid_from=on)
    staff.institution, staff.department = institution, department
    staff.save(update_fields=["institution", "department", "updated_at"])
    return staff


def _check_posting(alliance, institution, department, on):
    placement = _placement_on(institution, on)
    if placement is None or placement.alliance_id != alliance.pk:
        raise ValidationError(
            {"institution": _("Staff can only be posted to a member institution of their alliance.")}
        )
    if department is not None and department.institution_id != institution.pk:
        raise ValidationError({"department": _("The department belongs to another institution.")})


# --- Secondments ---------------------------------------------------------------------------------
SECONDMENT_FIELDS = {"kind", "start_date", "end_date", "notes"}


@transaction.atomic
def second_staff(staff, *, to_institution, start_date, acting_user, **fields):
    """Station a doctor of a higher-level institution at a lower-level one (下沉/派驻).

    The home institution is where the doctor was posted on the start date (a secondment may be
    recorded after the doctor has moved on)."""
    home = _posted_institution(staff, start_date) or staff.institution
    secondment = Secondment(
        staff=staff, from_institution=home, to_institution=to_institution, start_date=start_date
    )
    _assign(secondment, fields, SECONDMENT_FIELDS)
    secondment.full_clean()
    _check_downwards(secondment)
    _check_no_overlap(secondment)
    secondment.save()
    _mark_secondment(secondment, staff, None, counted_days(secondment, staff))
    return secondment


@transaction.atomic
def update_secondment(secondment, *, acting_user, **fields):
    """Change dates, kind or notes (e.g. record the end of a stationing)."""
    # What the measure counted until now: the stored row (a page's form has already changed the
    # instance it was given).
    stored = Secondment.objects.select_related("staff").get(pk=secondment.pk)
    _assign(secondment, fields, SECONDMENT_FIELDS)
    secondment.full_clean()
    _check_no_overlap(secondment)
    secondment.save()
    staff = stored.staff  # a secondment stays the same doctor's
    _mark_secondment(secondment, staff, counted_days(stored, staff), counted_days(secondment, staff))
    return secondment


# --- The months a change of what `secondments.six_months` counts changes (members/measures.py) -
def months_changed(before, after, *, today):
    """The months (first days) whose value can differ between two versions of one secondment's
    `counted_days` (`before` None: newly recorded or not counted until now; `after` None: no
    longer counted). A month's value is the year so far, so a day stationed, or no longer
    stationed, changes its own month and every later month of its year: the months run from the
    first day counted in one version only to December of the year of the last such day. Days
    without end (an open-ended stationing), and days of years after the current one, are marked
    no further than December of the current year, or of the first changed day's year when that
    is later: the months of later years are computed when they come."""
    if before == after:
        return []
    if before is None or after is None:
        first, end = before or after
    else:
        (start1, end1), (start2, end2) = before, after
        first = min(start1, start2) if start1 != start2 else min(end1, end2)
        end = max(end1, end2) if end1 != end2 else max(start1, start2)
    last_year = min((end - datetime.timedelta(days=1)).year, max(today.year, first.year))
    return month_range(first.replace(day=1), datetime.date(last_year, 12, 1))


def _mark_secondment(secondment, staff, before, after):
    """Mark the months the change from `before` to `after` (counted days) changes, for the
    alliance employing `staff`."""
    months = months_changed(before, after, today=today())
    if months:
        mark_changed(staff.alliance_id, months, secondment)


def _check_no_overlap(secondment):
    """A doctor is stationed in one place at a time (issue 13 point 5): no two secondments of
    one staff member share a day. The staff row is locked, so two clerks recording at once
    cannot both pass the check."""
    StaffMember.objects.select_for_update().filter(pk=secondment.staff_id).first()
    clash = (
        Secondment.objects.filter(staff_id=secondment.staff_id)
        .exclude(pk=secondment.pk)
        .overlapping(secondment.start_date, secondment.end_date)
        .select_related("to_institution")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            {
                "start_date": _(
                    "This doctor is already seconded to %(institution)s from %(start)s%(until)s; secondments of one doctor may not overlap."
                )
                % {
                    "institution": clash.to_institution.name,
                    "start": clash.start_date,
                    "until": _(" to %(end)s") % {"end": clash.end_date} if clash.end_date else "",
                }
            }
        )


def _check_downwards(secondment):
    home = _placement_on(secondment.from_institution, secondment.start_date)
    host = _placement_on(secondment.to_institution, secondment.start_date)
    if home is None or host is None or home.alliance_id != host.alliance_id:
        raise ValidationError(
            {"to_institution": _("Both institutions must belong to the same alliance on the start date.")}
        )
    if ROLE_RANK[home.role] <= ROLE_RANK[host.role]:
        raise ValidationError(
            {"to_institution": _("A secondment goes from a higher-level institution to a lower-level one.")}
        )


# --- Family-doctor teams ---------------------------------------------------------------------------
TEAM_FIELDS = {"name", "leader", "active"}


@transaction.atomic
def create_team(*, institution, acting_user, **fields):
    """Create a family-doctor team at a branch or village clinic."""
    placement = _placement_on(institution, today())
    if placement is None or placement.role not in (PlacementRole.BRANCH, PlacementRole.VILLAGE):
        raise ValidationError(
            {"institution": _("Family-doctor teams belong to a township branch or a village clinic.")}
        )
    team = FamilyDoctorTeam(institution=institution)
    _assign(team, fields, TEAM_FIELDS)
    _check_leader(team)
    return _save(team, {}, TEAM_FIELDS)


@transaction.atomic
def update_team(team, *, acting_user, **fields):
    _assign(team, fields, TEAM_FIELDS)
    _check_leader(team)
    return _save(team, {}, TEAM_FIELDS)


def _check_leader(team):
    """The leader works where the team's members do (its institution or, for a village team, its
    branch) or is one of its members."""
    leader = team.leader
    if leader is None or leader.institution_id in _home_institutions(team):
        return
    if team.pk and team.memberships.on().filter(staff=leader).exists():
        return
    raise ValidationError({"leader": _("The team leader works at the team's institution or is in the team.")})


@transaction.atomic
def add_team_member(team, *, staff, role, acting_user, valid_from=None):
    """Add a staff member to a team in a role, from `valid_from` (default today; a change may be
    recorded after the day it happened). A specialist comes from a higher level (全专结合);
    everyone else works at the team's institution or, for a village team, at its branch. The
    hierarchy and where the staff member worked are those of that day."""
    on = _team_change_date(valid_from, "valid_from")
    team_place, staff_place = _placement_on(team.institution, on), None
    staff_institution = _posted_institution(staff, on)
    if staff_institution is not None:
        staff_place = _placement_on(staff_institution, on)
    if staff_place is None or team_place is None or staff_place.alliance_id != team_place.alliance_id:
        raise ValidationError({"staff": _("The staff member works outside this team's alliance.")})
    higher = ROLE_RANK[staff_place.role] > ROLE_RANK[team_place.role]
    if role == TeamRole.SPECIALIST and not higher:
        raise ValidationError(
            {"role": _("A specialist in a family-doctor team comes from a higher-level institution.")}
        )
    if role == TeamRole.GENERAL_PRACTITIONER and not staff.is_general_practitioner:
        raise ValidationError({"role": _("This staff member is not registered as a general practitioner.")})
    if role != TeamRole.SPECIALIST and staff_institution.pk not in _home_institutions(team, on):
        raise ValidationError(
            {"staff": _("Apart from specialists, team members work at the team's institution or its branch.")}
        )
    held = team.memberships.select_for_update().filter(staff=staff)
    if held.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on)).exists():
        raise ValidationError({"staff": _("This person is already in the team on this day or later.")})
    membership = TeamMembership(team=team, staff=staff, role=role, valid_from=on)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def remove_team_member(membership, *, acting_user, valid_to=None):
    """Take a staff member off a team as of `valid_to` (default today): the place ends that day
    and stays as history. Ended on the day it began, the place never held and is deleted."""
    on = _team_change_date(valid_to, "valid_to")
    membership = TeamMembership.objects.select_for_update().get(pk=membership.pk)
    if membership.valid_to is not None:
        raise ValidationError({"valid_to": _("This person has already left the team.")})
    if on < membership.valid_from:
        raise ValidationError(
            {
                "valid_to": _("The person joined the team on %(date)s: they cannot leave before.")
                % {"date": membership.valid_from}
            }
        )
    if on == membership.valid_from:
        membership.delete()
        return None
    membership.valid_to = on
    membership.save(update_fields=["valid_to"])
    return membership


def _team_change_date(value, field):
    """A team change happens today or is recorded for a past day, never ahead."""
    on = value or today()
    if on > today():
        raise ValidationError({field: _("A team change cannot be dated after today.")})
    return on


def _posted_institution(staff, on):
    """Where the staff member was posted on `on` (None before they were hired)."""
    posting = (
        staff.postings.filter(valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
        .select_related("institution")
        .first()
    )
    return posting.institution if posting else None


def _home_institutions(team, on=None):
    """Where a team's general members work on `on` (default today): its institution and, for a
    village team, its branch (乡村一体化)."""
    place = _placement_on(team.institution, on or today())
    parent = place.parent_id if place and place.role == PlacementRole.VILLAGE else None
    return {team.institution_id, parent}


# --- Signed residents --------------------------------------------------------------------------------
@transaction.atomic
def sign_resident(*, team, name, id_number, signed_on, chronic_conditions=(), valid_to=None, acting_user):
    """Record a family-doctor contract. The ID number is validated (GB 11643), then kept only
    encrypted and as its keyed hash; birth date and gender come from the number."""
    number = _validated_id_number(id_number)
    key = patient_key(number)
    if SignedResident.objects.filter(patient_key=key, valid_to__isnull=True).exists():
        raise ValidationError({"id_number": _("This resident already has a family-doctor contract.")})
    resident = SignedResident(
        team=team,
        institution=team.institution,
        id_number_encrypted=encrypt(number),
        id_number_masked=mask_resident_id(number),
        patient_key=key,
        birth_date=birth_date_of(number),
        gender=Gender.MALE if int(number[16]) % 2 else Gender.FEMALE,
    )
    fields = {
        "name": name,
        "signed_on": signed_on,
        "valid_to": valid_to,
        "chronic_conditions": _conditions(chronic_conditions),
    }
    return _save(resident, fields, set(fields))


@transaction.atomic
def update_resident(resident, *, acting_user, team=None, **fields):
    """Change name, conditions or contract dates; moving to another team moves the institution."""
    if team is not None:
        resident.team, resident.institution = team, team.institution
    if "chronic_conditions" in fields:
        fields["chronic_conditions"] = _conditions(fields["chronic_conditions"])
    return _save(resident, fields, {"name", "signed_on", "valid_to", "chronic_conditions"})


def _validated_id_number(value):
    try:
        return validate_resident_id(value)
    except ValidationError as error:
        raise ValidationError({"id_number": error.messages}) from None


def _conditions(values):
    known = set(ChronicCondition.values)
    values = list(dict.fromkeys(values or []))
    unknown = [value for value in values if value not in known]
    if unknown:
        raise ValidationError(
            {
                "chronic_conditions": _("Unknown chronic condition: %(codes)s.")
                % {"codes": ", ".join(map(str, unknown))}
            }
        )
    return values
