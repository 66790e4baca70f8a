"""The choices of the referral app (slot periods, pool kinds, weekdays, directions, urgency,
out-of-county reasons, referral states), apart from the models so that querysets can use them
without importing the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SlotPeriod(models.TextChoices):
    AM = "am", _("Morning")
    PM = "pm", _("Afternoon")
    NIGHT = "night", _("Evening")


class PoolKind(models.TextChoices):
    SLOT = "slot", _("Outpatient slots")
    BED = "bed", _("Reserved beds")


class Weekday(models.IntegerChoices):
    """Days of a weekly template, Monday first (Python's `date.weekday()`)."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Direction(models.TextChoices):
    UP = "up", _("Up-referral")
    DOWN = "down", _("Down-referral")
    LATERAL = "lateral", _("Lateral referral")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class OutOfCountyReason(models.TextChoices):
    """Why a patient is referred up out of the county: required, and reported (转外就医)."""

    BEYOND_CAPABILITY = "beyond_capability", _("Beyond the county's diagnostic and treatment capability")
    EQUIPMENT = "equipment", _("Equipment or technique not available in the county")
    RARE_DISEASE = "rare_disease", _("Rare or complex disease")
    EMERGENCY_RESCUE = "emergency_rescue", _("Emergency rescue")
    PATIENT_REQUEST = "patient_request", _("At the patient's request")


class ReferralState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    ARRIVED = "arrived", _("Arrived")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    NO_SHOW = "no_show", _("No-show")
