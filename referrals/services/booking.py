"""Booking a slot or bed for a referral: one conditional UPDATE … WHERE referral IS NULL on a
one-to-one (unique) column, so the loser of a race gets Conflict `slot_taken` (issue 6 point 4).
The row booked is the one named: the API's `slot` id, or on the pages the session's lowest free
number they offered (`SlotQuerySet.offers`), so the patient keeps the number and time shown.

Booking and releasing also set what the referral holds in memory (its `slot` and `bed`), as a
fresh read would find it, so the answer to the request needs no re-read."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import Conflict

from ..models import Bed, Slot


def book(model, referral, row, now):
    """Book `row` (a Slot or Bed) for `referral` in one conditional update; a row the referral
    holds already stays booked."""
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
        # No savepoint: Conflict below rolls back the caller's whole atomic block (create or
        # accept), so nothing in that transaction goes on after a failed booking.
        with transaction.atomic(savepoint=False):
            booked = (
                (free | model.objects.filter(referral=referral)).filter(pk=row.pk).update(referral=referral)
            )
    except IntegrityError:
        booked = 0
    if not booked:
        raise Conflict(
            _(
                "This slot or bed has just been booked by another referral or is no longer free; choose another."
            ),
            code="slot_taken",
        )
    row.referral = referral  # also sets the referral's `slot` or `bed` in memory


def _holds(referral, model, row):
    """Set in memory what `referral` holds of `model` (the reverse one-to-one), or None."""
    model._meta.get_field("referral").remote_field.set_cached_value(referral, row)


def holds_nothing(referral):
    """Note in memory that a referral just created holds no slot and no bed."""
    _holds(referral, Slot, None)
    _holds(referral, Bed, None)


def release(referral):
    Slot.objects.filter(referral=referral).update(referral=None)
    Bed.objects.filter(referral=referral).update(referral=None)
    holds_nothing(referral)


def book_new(referral, *, slot, bed, now):
    """Book the slot and bed of a referral just created: it holds nothing yet, so no swap."""
    for model, row in ((Slot, slot), (Bed, bed)):
        if row is None:
            _holds(referral, model, None)
        else:
            book(model, referral, row, now)


def book_or_swap(referral, *, slot, bed, now):
    """Book the given slot and bed, releasing what the referral held before (a swap). Called
    with the referral locked, so what it holds cannot change meanwhile."""
    for model, row in ((Slot, slot), (Bed, bed)):
        if row is not None:
            model.objects.filter(referral=referral).exclude(pk=row.pk).update(referral=None)
            book(model, referral, row, now)
