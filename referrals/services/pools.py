"""Publishing outpatient slots (号源) and reserved beds, and returning unbooked reserved slots
to the public pool at their cut-off (issue 6 point 1)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.models import PlacementRole

from ..models import SESSION_STARTS, Bed, ReferralSettings, Slot
from .common import ensure_acts_for, placement_on

MAX_PUBLISH = 500  # rows per publish call
LEAD_SLOT_SHARE = 3  # the lead hospital reserves at least 1/3 of its slots (domain doc, source 001)


def _check_pool(institution, department, count):
    if department.institution_id != institution.pk:
        raise ValidationError({"department": _("This department belongs to another institution.")})
    if not 1 <= count <= MAX_PUBLISH:
        raise ValidationError({"count": _("Publish between 1 and %(max)d at a time.") % {"max": MAX_PUBLISH}})


def publish_slots(
    *, institution, department, date, period, count, reserved_for_primary, doctor="", acting_user
):
    """Create `count` slots of one session, the first `reserved_for_primary` of them reserved
    for primary-care referrals. The lead hospital must reserve at least 1/3 (issue 6 point 1).
    Each slot returns to the public pool `slot_cutoff_hours` before its session when unbooked."""
    ensure_acts_for(acting_user, institution, Slot)
    _check_pool(institution, department, count)
    if not 0 <= reserved_for_primary <= count:
        raise ValidationError({"reserved_for_primary": _("Reserve between 0 and the number of slots.")})
    placement = placement_on(institution, date)
    if placement and placement.role == PlacementRole.LEAD and reserved_for_primary * LEAD_SLOT_SHARE < count:
        raise ValidationError(
            {
                "reserved_for_primary": _(
                    "The lead hospital reserves at least 1/3 of its slots for referrals."
                )
            },
            code="slot_release_share",
        )
    settings = ReferralSettings.of(placement.alliance if placement else None)
    starts_at = timezone.make_aware(datetime.datetime.combine(date, SESSION_STARTS[period]))
    release_at = starts_at - datetime.timedelta(hours=settings.slot_cutoff_hours)
    common = {
        "institution": institution,
        "department": department,
        "date": date,
        "period": period,
        "doctor": doctor,
        "starts_at": starts_at,
        "release_at": release_at,
    }
    slots = [Slot(reserved=index < reserved_for_primary, **common) for index in range(count)]
    return Slot.objects.bulk_create(slots)


@transaction.atomic
def publish_week(*, institution, week_start, template, acting_user):
    """Publish a week of slots from a weekly template: a list of `{"weekday" (0 = Monday),
    "period", "department", "count", "reserved_for_primary", "doctor"?}`, all or nothing."""
    if week_start.weekday() != 0:
        raise ValidationError({"week_start": _("A week starts on a Monday.")})
    slots = []
    for entry in template:
        entry = dict(entry)
        day = week_start + datetime.timedelta(days=entry.pop("weekday"))
        slots += publish_slots(institution=institution, date=day, acting_user=acting_user, **entry)
    return slots


def publish_beds(*, institution, department, date, count, acting_user):
    """Reserve `count` beds of a department on one day for referred patients (at least 1/4 of
    the open beds at the lead hospital: measured by `BedQuerySet`, not enforced per call)."""
    ensure_acts_for(acting_user, institution, Bed)
    _check_pool(institution, department, count)
    beds = [Bed(institution=institution, department=department, date=date) for _index in range(count)]
    return Bed.objects.bulk_create(beds)


def return_unbooked_slots(now):
    """Return reserved slots still unbooked at their cut-off to the public pool: one conditional
    UPDATE (never read-then-write), so a booking racing it either wins or finds it gone.
    Unfiltered manager: this runs for every alliance from Celery beat."""
    return Slot.objects.due_for_return(now).update(returned_at=now)
