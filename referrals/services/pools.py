"""Publishing outpatient slots (号源) and reserved beds, the weekly template they are published
from, and returning unbooked reserved slots to the public pool at their cut-off (issue 6 point 1).

Single sessions and days (`publish_slots`, `publish_beds`) serve top-ups; a whole week comes
from the institution's stored template (`publish_week`), once per week, all or nothing. A
session's slots are numbered on from its last number (号序), each expected a line's minutes per
slot after the one before from the session's start (issue 13 point 5). The
lead hospital releases at least 1/3 of its slots and 1/4 of its open beds every day (domain doc,
source 001): a slot line is checked when saved and when published, the beds of a weekday when
the week is published (a day's beds are spread over several lines).

Publishing marks the measures of the days' months changed (issue 14 point 5) for the alliance the
institution is placed in on each month's last day, as the slot and bed measures count them, the
pool row as the cause (the week's publication, or the first slot or bed of a top-up). Booking,
releasing and returning slots to the public pool change no count (`slots.reserved` counts what
was reserved at publishing).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.choices import PlacementRole
from alliance.models import Placement
from alliance.querysets import today
from core.exceptions import Conflict
from core.measures import mark_changed

from ..choices import PoolKind, SlotPeriod, Weekday
from ..models import (
    MAX_SLOT_MINUTES,
    SESSION_STARTS,
    SLOT_MINUTES,
    Bed,
    PoolPublication,
    PoolTemplateEntry,
    ReferralSettings,
    Slot,
)
from .common import ensure_acts_for, placement_on

MAX_PUBLISH = 500  # rows per publish call (and per template line)
LEAD_SLOT_SHARE = 3  # the lead hospital reserves at least 1/3 of its slots (domain doc, source 001)
LEAD_BED_SHARE = 4  # … and at least 1/4 of its open beds every day
WEEK = datetime.timedelta(days=7)
ENTRY_FIELDS = (
    "weekday", "kind", "department", "period", "doctor", "count", "reserved_for_primary", "interval_minutes",
)  # fmt: skip


def _ceil_div(a, b):
    return -(-a // b)


def is_lead(institution, day):
    placement = placement_on(institution, day)
    return placement is not None and placement.role == PlacementRole.LEAD


def _check_pool(institution, department, count):
    if department.institution_id != institution.pk:
        raise ValidationError({"department": _("This department belongs to another institution.")})
    if not 1 <= count <= MAX_PUBLISH:
        raise ValidationError({"count": _("Publish between 1 and %(max)d at a time.") % {"max": MAX_PUBLISH}})


def _check_reserved(count, reserved_for_primary):
    if not 0 <= reserved_for_primary <= count:
        raise ValidationError({"reserved_for_primary": _("Reserve between 0 and the number of slots.")})


def _check_interval(interval_minutes):
    if not 1 <= interval_minutes <= MAX_SLOT_MINUTES:
        message = _("Give between 1 and %(max)d minutes per slot.") % {"max": MAX_SLOT_MINUTES}
        raise ValidationError({"interval_minutes": message})


def _error(field, message, code):
    """A ValidationError on `field` (None: the request as a whole) that keeps its `code` (a dict
    given to ValidationError drops it)."""
    error = ValidationError(message, code=code)
    return error if field is None else ValidationError({field: error})


def _lead_share_error():
    return _error(
        "reserved_for_primary",
        _("The lead hospital reserves at least 1/3 of its slots for referrals."),
        "slot_release_share",
    )


def _slot_rows(
    settings,
    *,
    institution,
    department,
    date,
    period,
    count,
    reserved_for_primary,
    doctor="",
    interval_minutes=SLOT_MINUTES,
    after=0,
):
    """Unsaved slots of one session numbered after + 1 … after + count (`after`: the session's
    last number so far), the first `reserved_for_primary` reserved; number n is expected (n − 1)
    × `interval_minutes` after the session starts. Each returns to the public pool
    `slot_cutoff_hours` before its session when still unbooked."""
    starts_at = timezone.make_aware(datetime.datetime.combine(date, SESSION_STARTS[period]))
    release_at = starts_at - datetime.timedelta(hours=settings.slot_cutoff_hours)
    step = datetime.timedelta(minutes=interval_minutes)
    common = {
        "institution": institution,
        "department": department,
        "date": date,
        "period": period,
        "doctor": doctor,
        "starts_at": starts_at,
        "release_at": release_at,
    }
    return [
        Slot(
            number=number,
            expected_at=starts_at + (number - 1) * step,
            reserved=number - after <= reserved_for_primary,
            **common,
        )
        for number in range(after + 1, after + count + 1)
    ]


def _last_numbers(institution, first, last):
    """`{(department id, date, period, doctor): last number}` of the institution's sessions on
    the days first … last, one GROUP BY: a publication numbers on from there."""
    rows = (
        Slot.objects.filter(institution=institution)
        .between(first, last)
        .order_by()
        .values_list("department", "date", "period", "doctor")
        .annotate(last=Max("number"))
    )
    return {tuple(row[:4]): row[4] for row in rows}


def _mark_published(institution, days, cause):
    """Mark the months of `days` for each alliance `institution` is placed in on the month's
    last day (one query for the placements), `cause` the pool row."""
    months = sorted({day.replace(day=1) for day in days})
    placed = Placement.objects.filter(institution=institution).by_month(months[0], months[-1])
    by_alliance = {}
    for (_institution, month), placement in placed.items():
        if month in months:
            by_alliance.setdefault(placement.alliance_id, set()).add(month)
    for alliance_id, alliance_months in sorted(by_alliance.items()):
        mark_changed(alliance_id, alliance_months, cause)


def _create_slots(rows):
    """Insert the rows; a number taken meanwhile (someone topping up the same session at the same
    moment) is the unique constraint's, answered with Conflict: nothing was written."""
    try:
        with transaction.atomic():
            return Slot.objects.bulk_create(rows, batch_size=1000)
    except IntegrityError as error:
        raise Conflict(
            _("Slots of this session were published at the same moment; publish again."),
            code="session_numbers_taken",
        ) from error


@transaction.atomic
def publish_slots(
    *,
    institution,
    department,
    date,
    period,
    count,
    reserved_for_primary,
    doctor="",
    interval_minutes=SLOT_MINUTES,
    acting_user,
):
    """Create `count` slots of one session, the first `reserved_for_primary` of them reserved
    for primary-care referrals. The lead hospital must reserve at least 1/3 (issue 6 point 1).
    They are numbered on from the session's last number, a patient every `interval_minutes`
    from the session's start. Each slot returns to the public pool `slot_cutoff_hours` before
    its session when unbooked."""
    ensure_acts_for(acting_user, institution, Slot)
    _check_pool(institution, department, count)
    _check_reserved(count, reserved_for_primary)
    _check_interval(interval_minutes)
    placement = placement_on(institution, date)
    if placement and placement.role == PlacementRole.LEAD and reserved_for_primary * LEAD_SLOT_SHARE < count:
        raise _lead_share_error()
    settings = ReferralSettings.of(placement.alliance if placement else None)
    last = _last_numbers(institution, date, date).get((department.pk, date, period, doctor), 0)
    rows = _slot_rows(
        settings,
        institution=institution,
        department=department,
        date=date,
        period=period,
        count=count,
        reserved_for_primary=reserved_for_primary,
        doctor=doctor,
        interval_minutes=interval_minutes,
        after=last,
    )
    created = _create_slots(rows)
    _mark_published(institution, [date], created[0])
    return created


@transaction.atomic
def publish_beds(*, institution, department, date, count, acting_user):
    """Reserve `count` beds of a department on one day for referred patients: a top-up beside
    the week published from the template.

    Not checked per call: at the lead hospital the quarter of its open beds is a daily total
    over all its departments, so it is enforced when a week is published from the template
    (`publish_week`) and measured by `BedQuerySet.release_ratio_by_institution` (the indicator).
    """
    ensure_acts_for(acting_user, institution, Bed)
    _check_pool(institution, department, count)
    beds = [Bed(institution=institution, department=department, date=date) for _index in range(count)]
    created = Bed.objects.bulk_create(beds)
    _mark_published(institution, [date], created[0])
    return created


def return_unbooked_slots(now):
    """Return reserved slots still unbooked at their cut-off to the public pool: one conditional
    UPDATE (never read-then-write), so a booking racing it either wins or finds it gone.
    Unfiltered manager: this runs for every alliance from Celery beat."""
    return Slot.objects.due_for_return(now).update(returned_at=now)


# --- The weekly template ----------------------------------------------------------------------------
def _clean_entry(entry):
    """The rules of one template line (the database's check constraints say the same)."""
    _check_pool(entry.institution, entry.department, entry.count)
    _check_interval(entry.interval_minutes)  # a bed line keeps the default (the constraint's range)
    if not entry.department.active:
        raise ValidationError({"department": _("This department is closed.")})
    if entry.weekday not in Weekday.values:
        raise ValidationError({"weekday": _("Choose a day of the week.")})
    if entry.kind == PoolKind.SLOT:
        if entry.period not in SlotPeriod.values:
            raise ValidationError({"period": _("Choose the session of these slots.")})
        _check_reserved(entry.count, entry.reserved_for_primary)
        lead = is_lead(entry.institution, today())
        if lead and entry.reserved_for_primary * LEAD_SLOT_SHARE < entry.count:
            raise _lead_share_error()
    elif entry.kind == PoolKind.BED:
        if entry.period or entry.doctor or entry.reserved_for_primary:
            raise _error(
                None,
                _("Beds have no period, doctor or reserved share: leave them empty."),
                "bed_fields",
            )
    else:
        raise ValidationError({"kind": _("Choose slots or beds.")})
    duplicate = PoolTemplateEntry.objects.filter(
        institution=entry.institution,
        weekday=entry.weekday,
        kind=entry.kind,
        department=entry.department,
        period=entry.period,
        doctor=entry.doctor,
    ).exclude(pk=entry.pk)
    if duplicate.exists():
        raise _duplicate_error()


def _duplicate_error():
    return _error(
        None,
        _("The template already has this line: change its count instead."),
        "duplicate_entry",
    )


def _save_entry(entry):
    _clean_entry(entry)
    try:
        with transaction.atomic():  # a line saved meanwhile by someone else: the constraint says so
            entry.save()
    except IntegrityError as error:
        raise _duplicate_error() from error
    return entry


@transaction.atomic
def create_template_entry(
    institution,
    *,
    weekday,
    kind,
    department,
    count,
    period="",
    doctor="",
    reserved_for_primary=0,
    interval_minutes=None,
    acting_user,
):
    """Add a line to the institution's weekly template: `count` slots of a department's session
    on `weekday` (0 = Monday), `reserved_for_primary` of them for referrals (at least 1/3 at the
    lead hospital), a patient every `interval_minutes` (default 10); or `count` beds of a
    department reserved for referred patients."""
    ensure_acts_for(acting_user, institution, PoolTemplateEntry)
    entry = PoolTemplateEntry(
        institution=institution,
        weekday=weekday,
        kind=kind,
        department=department,
        period=period or "",
        doctor=(doctor or "").strip(),
        count=count,
        reserved_for_primary=reserved_for_primary or 0,
        interval_minutes=interval_minutes or SLOT_MINUTES,
    )
    return _save_entry(entry)


@transaction.atomic
def update_template_entry(entry, *, acting_user, **changes):
    """Change a line of the template (any of ENTRY_FIELDS; it stays at its institution). Weeks
    already published keep their slots and beds: a change counts from the next publication."""
    ensure_acts_for(acting_user, entry.institution, PoolTemplateEntry)
    unknown = set(changes) - set(ENTRY_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in sorted(unknown)})
    entry = PoolTemplateEntry.objects.select_for_update().select_related("institution").get(pk=entry.pk)
    for name, value in changes.items():
        if name in ("period", "doctor"):
            value = (value or "").strip()
        elif name == "reserved_for_primary":
            value = value or 0
        elif name == "interval_minutes":
            value = value or SLOT_MINUTES
        setattr(entry, name, value)
    return _save_entry(entry)


@transaction.atomic
def delete_template_entry(entry, *, acting_user):
    """Remove a line of the template; what was published from it stays."""
    ensure_acts_for(acting_user, entry.institution, PoolTemplateEntry)
    PoolTemplateEntry.objects.filter(pk=entry.pk).delete()


# --- Publishing a week from the template ------------------------------------------------------------
@transaction.atomic
def publish_week(institution, *, week_start, acting_user, now=None):
    """Publish the week starting on Monday `week_start` from the institution's stored weekly
    template: every slot and bed line, all or nothing, once per week.

    Refused (nothing written): a date that is no Monday or a week already begun; an empty
    template; at the lead hospital, a slot line reserving less than 1/3, or a weekday whose
    bed lines total less than a quarter of the open beds (each named with its shortfall); a week
    published before (Conflict `week_published`: the publication row's unique constraint
    decides, so of two clerks publishing at once exactly one succeeds). Returns the
    PoolPublication with the numbers of slots and beds created.
    """
    now = now or timezone.now()
    ensure_acts_for(acting_user, institution, Slot)
    ensure_acts_for(acting_user, institution, Bed)
    _check_week(week_start, timezone.localdate(now))
    entries = list(PoolTemplateEntry.objects.filter(institution=institution).for_page())
    if not entries:
        raise _error(None, _("The weekly template has no lines yet."), "empty_template")
    placement = placement_on(institution, week_start)
    if placement is not None and placement.role == PlacementRole.LEAD:
        _check_lead_week(institution, entries)
    settings = ReferralSettings.of(placement.alliance if placement else None)
    slots, beds = _week_rows(institution, week_start, entries, settings)
    publication = _claim_week(institution, week_start, slots, beds, acting_user, now)
    _create_slots(slots)
    Bed.objects.bulk_create(beds, batch_size=1000)
    _mark_published(institution, [row.date for row in [*slots, *beds]], publication)
    return publication


def _check_week(week_start, local_today):
    if week_start.weekday() != 0:
        raise _error("week_start", _("A week starts on a Monday."), "not_monday")
    if week_start < local_today:
        raise _error("week_start", _("This week has begun: choose a week to come."), "week_begun")


def _check_lead_week(institution, entries):
    """The lead hospital's shares, every shortfall named: a slot line's reserved slots, and the
    beds of each weekday against a quarter of its open beds."""
    problems = []
    for entry in entries:
        needed = _ceil_div(entry.count, LEAD_SLOT_SHARE)
        if entry.kind == PoolKind.SLOT and entry.reserved_for_primary < needed:
            message = _(
                "%(weekday)s %(period)s, %(department)s: %(reserved)d of %(count)d slots reserved "
                "for referrals; the lead hospital reserves at least a third (%(needed)d), "
                "%(short)d more."
            ) % {
                "weekday": entry.get_weekday_display(),
                "period": entry.get_period_display(),
                "department": entry.department.name,
                "reserved": entry.reserved_for_primary,
                "count": entry.count,
                "needed": needed,
                "short": needed - entry.reserved_for_primary,
            }
            problems.append(ValidationError(message, code="slot_release_share"))
    target = _ceil_div(institution.open_beds, LEAD_BED_SHARE)
    totals = dict.fromkeys(Weekday.values, 0)
    for entry in entries:
        if entry.kind == PoolKind.BED:
            totals[entry.weekday] += entry.count
    for weekday, beds in totals.items():
        if beds < target:
            message = _(
                "%(weekday)s: %(beds)d beds reserved for referrals; the lead hospital reserves at "
                "least a quarter of its %(open)d open beds every day (%(target)d), %(short)d more."
            ) % {
                "weekday": Weekday(weekday).label,
                "beds": beds,
                "open": institution.open_beds,
                "target": target,
                "short": target - beds,
            }
            problems.append(ValidationError(message, code="bed_release_share"))
    if problems:
        raise ValidationError(problems)


def _week_rows(institution, week_start, entries, settings):
    """The unsaved slots and beds of the week, line by line; a line is one session, numbered on
    from what top-ups published there already (usually nothing: from 1)."""
    slots, beds = [], []
    last = _last_numbers(institution, week_start, week_start + WEEK - datetime.timedelta(days=1))
    for entry in entries:
        day = week_start + datetime.timedelta(days=entry.weekday)
        if entry.kind == PoolKind.SLOT:
            slots += _slot_rows(
                settings,
                institution=institution,
                department=entry.department,
                date=day,
                period=entry.period,
                count=entry.count,
                reserved_for_primary=entry.reserved_for_primary,
                doctor=entry.doctor,
                interval_minutes=entry.interval_minutes,
                after=last.get((entry.department_id, day, entry.period, entry.doctor), 0),
            )
        else:
            beds += [
                Bed(institution=institution, department=entry.department, date=day)
                for _index in range(entry.count)
            ]
    return slots, beds


def _claim_week(institution, week_start, slots, beds, acting_user, now):
    """The publication row first: a second publisher of the same week waits on its unique
    index and then fails here, before writing anything."""
    try:
        with transaction.atomic():
            return PoolPublication.objects.create(
                institution=institution,
                week_start=week_start,
                slots=len(slots),
                beds=len(beds),
                published_at=now,
                published_by=acting_user if acting_user is not None and acting_user.pk else None,
            )
    except IntegrityError as error:
        raise Conflict(
            _("The week of %(week)s has already been published from the template.")
            % {"week": week_start.isoformat()},
            code="week_published",
        ) from error
