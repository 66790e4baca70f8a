"""Booking a slot or bed for a referral: one conditional UPDATE … WHERE referral IS NULL on a
one-to-one (unique) column, so the loser of a race gets Conflict `slot_taken` (issue 6 point 4)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import Conflict

from ..models import Bed, Slot


def book(model, referral, row, now):
    """Book `row` (a Slot or Bed) for `referral` in one conditional update."""
    field = model._meta.model_name
    if row.institution_id != referral.to_institution_id:
        raise ValidationError({field: _("Book a slot or bed of the receiving institution.")})
    if referral.to_department_id and row.department_id != referral.to_department_id:
        raise ValidationError({field: _("Book a slot or bed of the receiving department.")})
    if model is Slot:
        free = Slot.objects.bookable(now)
    else:
        free = Bed.objects.free().filter(date__gte=timezone.localdate(now))
    try:
        with transaction.atomic():
            booked = free.filter(pk=row.pk).update(referral=referral)
    except IntegrityError:
        booked = 0
    if not booked:
        raise Conflict(
            _(
                "This slot or bed has just been booked by another referral or is no longer free; choose another."
            ),
            code="slot_taken",
        )


def release(referral):
    Slot.objects.filter(referral=referral).update(referral=None)
    Bed.objects.filter(referral=referral).update(referral=None)


def book_or_swap(referral, *, slot, bed, now):
    """Book the given slot and bed, releasing what the referral held before (a swap)."""
    if slot is not None and not Slot.objects.filter(pk=slot.pk, referral=referral).exists():
        Slot.objects.filter(referral=referral).update(referral=None)
        book(Slot, referral, slot, now)
    if bed is not None and not Bed.objects.filter(pk=bed.pk, referral=referral).exists():
        Bed.objects.filter(referral=referral).update(referral=None)
        book(Bed, referral, bed, now)
