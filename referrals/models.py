"""Two-way referral (双向转诊): referrals and their state machine, outpatient slots (号源) and
reserved beds (DESIGN §3, issue 6).

Booking is the `referral` column of a Slot or Bed: a one-to-one link (unique), set by one
conditional UPDATE … WHERE referral IS NULL (`referrals.services`), so two referrals never hold
one slot or bed.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alliance.models import Alliance, Department, Institution
from core.codes import ICD10_LENGTH, icd10_validator
from core.models import TimeStampedModel
from members.models import FamilyDoctorTeam

from .choices import (
    Direction,
    OutOfCountyReason,
    PoolKind,
    ReferralState,
    SlotPeriod,
    Urgency,
    Weekday,
)
from .querysets import (
    SESSION,
    BedQuerySet,
    PoolPublicationQuerySet,
    PoolTemplateEntryQuerySet,
    ReferralEventQuerySet,
    ReferralQuerySet,
    SlotQuerySet,
)


class ReferralSettings(models.Model):
    """The referral rules an alliance sets for itself: when unbooked reserved slots return to the
    public pool, and how long a receiver has to answer a referral per urgency (issue 6)."""

    alliance = models.OneToOneField(
        Alliance, on_delete=models.CASCADE, related_name="referral_settings", verbose_name=_("alliance")
    )
    slot_cutoff_hours = models.PositiveSmallIntegerField(
        _("hours before the session when unbooked reserved slots return to the public pool"), default=24
    )
    routine_limit_hours = models.PositiveSmallIntegerField(
        _("hours to answer a routine referral"), default=48, validators=[MinValueValidator(1)]
    )
    urgent_limit_hours = models.PositiveSmallIntegerField(
        _("hours to answer an urgent referral"), default=4, validators=[MinValueValidator(1)]
    )
    emergency_limit_hours = models.PositiveSmallIntegerField(
        _("hours to answer an emergency referral"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("referral settings")
        verbose_name_plural = _("referral settings")

    def __str__(self):
        return str(self.alliance)

    @classmethod
    def of(cls, alliance):
        """The alliance's settings, or the defaults (unsaved) when it has set none."""
        if alliance is None:
            return cls()
        return cls.objects.filter(alliance=alliance).first() or cls(alliance=alliance)

    def answer_limit(self, urgency):
        hours = {
            Urgency.ROUTINE: self.routine_limit_hours,
            Urgency.URGENT: self.urgent_limit_hours,
            Urgency.EMERGENCY: self.emergency_limit_hours,
        }[urgency]
        return datetime.timedelta(hours=hours)


# --- Slots and beds -------------------------------------------------------------------------------
# When each session starts (local time): the cut-off for returning reserved slots counts back from it,
# and its numbers' expected times count on from it.
SESSION_STARTS = {
    SlotPeriod.AM: datetime.time(8, 0),
    SlotPeriod.PM: datetime.time(14, 0),
    SlotPeriod.NIGHT: datetime.time(18, 0),
}
# Minutes between two numbers of a session (a template line's, or a top-up's): by default a
# patient every 10 minutes, at most one an hour.
SLOT_MINUTES = 10
MAX_SLOT_MINUTES = 60


class Slot(TimeStampedModel):
    """One outpatient slot (门诊号源) of a department, doctor, date and period (its session).

    `number` is its place in the session (号序, 1 … n in the order published, unique in the
    session) and `expected_at` when the patient is expected: the session's start plus (number
    − 1) × the line's minutes per slot (issue 13 point 5). `reserved` says the hospital released
    it to primary-care referrals when publishing (the share the indicators count: at least 1/3
    at the lead hospital; the first numbers of a publication); `returned_at` is when an unbooked
    reserved slot went back to the public pool at the cut-off. `referral` is the referral that
    booked it.
    """

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="slots", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="slots", verbose_name=_("department")
    )
    doctor = models.CharField(_("doctor"), max_length=50, blank=True)
    date = models.DateField(_("date"))
    period = models.CharField(_("period"), max_length=8, choices=SlotPeriod.choices)
    number = models.PositiveSmallIntegerField(_("number in the session"))
    starts_at = models.DateTimeField(_("session starts at"))
    expected_at = models.DateTimeField(_("expected at"))
    release_at = models.DateTimeField(_("returns to the public pool at"))
    reserved = models.BooleanField(_("reserved for primary-care referrals"), default=False)
    returned_at = models.DateTimeField(_("returned to the public pool at"), null=True, blank=True)
    referral = models.OneToOneField(
        "Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slot",
        verbose_name=_("booked by referral"),
    )

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("outpatient slot")
        verbose_name_plural = _("outpatient slots")
        ordering = ["date", "period", "institution", "department", "pk"]
        indexes = [
            models.Index(fields=["institution", "date"]),
            models.Index(
                fields=["release_at"],
                name="slot_reserved_unreturned",
                condition=models.Q(reserved=True, returned_at__isnull=True, referral__isnull=True),
            ),
        ]
        constraints = [
            # One number once per session; its index also serves a department's calendar.
            models.UniqueConstraint(
                fields=[*SESSION, "number"],
                name="slot_number_once_a_session",
                violation_error_message=_("This session already has a slot with this number."),
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="slot_number_positive"),
        ]

    def __str__(self):
        return f"{self.department} {self.date} {self.get_period_display()} No. {self.number}"

    @property
    def reserved_now(self):
        """Still reserved for referrals (not yet returned to the public pool)."""
        return self.reserved and self.returned_at is None

    @property
    def available(self):
        return self.referral_id is None


class Bed(TimeStampedModel):
    """One bed of a department reserved for referred patients on one day (住院床位下沉; at least
    1/4 of the open beds at the lead hospital). The set of a department's rows is its bed pool."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="reserved_beds", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="reserved_beds", verbose_name=_("department")
    )
    date = models.DateField(_("date"))
    referral = models.OneToOneField(
        "Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bed",
        verbose_name=_("booked by referral"),
    )

    objects = BedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reserved bed")
        verbose_name_plural = _("reserved beds")
        ordering = ["date", "institution", "department", "pk"]
        indexes = [models.Index(fields=["institution", "date"])]

    def __str__(self):
        return f"{self.department} {self.date} #{self.pk}"

    @property
    def available(self):
        return self.referral_id is None


class PoolTemplateEntry(TimeStampedModel):
    """One line of an institution's weekly template (周排班模板, issue 6 point 1): on `weekday`,
    `count` slots of a department's `period` session, `reserved_for_primary` of them released to
    primary-care referrals, a patient every `interval_minutes` from the session's start (the
    numbers' expected times); or `count` beds of a department reserved for referred patients.

    `services.publish_week` turns one week of it into slots and beds, once per week; the lead
    hospital's shares (a third of its slots, a quarter of its open beds every day) are checked
    there, where the whole week is known. Beds have no period, doctor or reserved share, and
    their minutes per slot stay the default, unused.
    """

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="pool_template", verbose_name=_("institution")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    kind = models.CharField(_("kind"), max_length=4, choices=PoolKind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="pool_template", verbose_name=_("department")
    )
    period = models.CharField(_("period"), max_length=8, choices=SlotPeriod.choices, blank=True)
    doctor = models.CharField(_("doctor"), max_length=50, blank=True)
    count = models.PositiveSmallIntegerField(_("count"))
    reserved_for_primary = models.PositiveSmallIntegerField(
        _("reserved for primary-care referrals"), default=0
    )
    interval_minutes = models.PositiveSmallIntegerField(
        _("minutes per slot"),
        default=SLOT_MINUTES,
        help_text=_("Slots only: number n is expected (n − 1) × these minutes after the session starts."),
    )

    objects = PoolTemplateEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("weekly template entry")
        verbose_name_plural = _("weekly template entries")
        ordering = ["institution", "weekday", "kind", "period", "department", "doctor", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count__gte=1),
                name="pool_template_count_positive",
                violation_error_message=_("Publish at least one slot or bed."),
            ),
            models.CheckConstraint(
                condition=models.Q(reserved_for_primary__lte=models.F("count")),
                name="pool_template_reserved_within_count",
                violation_error_message=_("Reserve between 0 and the number of slots."),
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="pool_template_weekday"
            ),
            models.CheckConstraint(
                condition=models.Q(interval_minutes__gte=1, interval_minutes__lte=MAX_SLOT_MINUTES),
                name="pool_template_interval",
                violation_error_message=_("Give between 1 and 60 minutes per slot."),
            ),
            # A slot line names its session; a bed line has no session, doctor or reserved share.
            models.CheckConstraint(
                condition=models.Q(kind="slot", period__in=SlotPeriod.values)
                | models.Q(kind="bed", period="", doctor="", reserved_for_primary=0),
                name="pool_template_period_by_kind",
                violation_error_message=_("Slots need a period; beds have none."),
            ),
            models.UniqueConstraint(
                fields=["institution", "weekday", "kind", "department", "period", "doctor"],
                name="pool_template_entry_once",
                violation_error_message=_("The template already has this line: change its count instead."),
            ),
        ]

    def __str__(self):
        what = self.get_period_display() if self.kind == PoolKind.SLOT else self.get_kind_display()
        return f"{self.get_weekday_display()} {self.department} {what} × {self.count}"


class PoolPublication(models.Model):
    """A week (Monday … Sunday) an institution published from its weekly template, with what it
    created. At most one per institution and week: the unique constraint is what makes a
    second publication, also a concurrent one, fail (Conflict `week_published`)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="pool_publications", verbose_name=_("institution")
    )
    week_start = models.DateField(_("week starting"))
    slots = models.PositiveIntegerField(_("slots published"), default=0)
    beds = models.PositiveIntegerField(_("beds reserved"), default=0)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    objects = PoolPublicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("week published from the template")
        verbose_name_plural = _("weeks published from the template")
        ordering = ["-week_start", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "week_start"], name="pool_publication_once_a_week")
        ]

    def __str__(self):
        return f"{self.institution} {self.week_start}"


# --- Referrals ---------------------------------------------------------------------------------
S = ReferralState
# The allowed moves (STYLE.md "Workflows"): every service checks this one table.
TRANSITIONS = {
    S.DRAFT: {S.SUBMITTED, S.CANCELLED},
    S.SUBMITTED: {S.ACCEPTED, S.REJECTED, S.CANCELLED, S.EXPIRED},
    S.ACCEPTED: {S.ARRIVED, S.CANCELLED, S.NO_SHOW},
    S.ARRIVED: {S.COMPLETED},
}
# The states that still hold a slot or bed; leaving them releases it.
HOLDING_STATES = {S.DRAFT, S.SUBMITTED, S.ACCEPTED, S.ARRIVED, S.COMPLETED}


class Referral(TimeStampedModel):
    """A two-way referral (双向转诊) of one patient from one institution to another.

    The patient's name and resident ID are kept encrypted, with the keyed hash `patient_key` for
    lookup, and shown masked. `direction` follows the hierarchy on the day of the referral;
    `out_of_county` referrals need a coded reason; `deductible_continuity` (起付线连续计算) is set
    for referrals inside the alliance; `priority` (优先就诊、优先检查、优先住院) for a signed
    resident referred through primary care.
    """

    alliance = models.ForeignKey(
        Alliance, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("alliance")
    )
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=ReferralState.choices, default=ReferralState.DRAFT
    )
    from_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="referrals_sent",
        verbose_name=_("from institution"),
    )
    to_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("to institution"),
    )
    to_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("to department"),
    )
    patient_name_encrypted = models.TextField(_("patient name (encrypted)"), editable=False)
    patient_name_masked = models.CharField(_("patient name"), max_length=50, editable=False)
    patient_id_encrypted = models.TextField(_("resident ID number (encrypted)"), editable=False)
    patient_id_masked = models.CharField(_("resident ID number"), max_length=18, editable=False)
    patient_key = models.CharField(_("patient key"), max_length=64, editable=False, db_index=True)
    insurance_number = models.CharField(_("insurance number"), max_length=32, blank=True)
    signed_resident = models.BooleanField(_("signed resident"), default=False)
    team = models.ForeignKey(
        FamilyDoctorTeam,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("family-doctor team"),
    )
    diagnosis = models.CharField(
        _("diagnosis (ICD-10)"), max_length=ICD10_LENGTH, validators=[icd10_validator]
    )
    reason = models.TextField(_("reason"))
    reason_code = models.CharField(
        _("out-of-county reason"), max_length=24, choices=OutOfCountyReason.choices, blank=True
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    out_of_county = models.BooleanField(_("out of the county"), default=False)
    deductible_continuity = models.BooleanField(_("deductible counted continuously"), default=False)
    priority = models.BooleanField(_("priority (signed resident)"), default=False)
    summary = models.TextField(_("discharge summary or feedback"), blank=True)
    closing_reason = models.TextField(_("reason for rejection or cancellation"), blank=True)
    return_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("referred back from"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    answer_due_at = models.DateTimeField(_("answer due at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, help_text=_("Rejected, cancelled, expired or no-show.")
    )

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-priority", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_institution=models.F("to_institution")),
                name="referral_not_to_itself",
                violation_error_message=_("A referral goes to another institution."),
            )
        ]
        indexes = [
            models.Index(fields=["to_institution", "state"]),
            models.Index(fields=["from_institution", "state"]),
            models.Index(fields=["state", "answer_due_at"]),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} #{self.pk} {self.patient_name_masked}"

    def can_move_to(self, state):
        return state in TRANSITIONS.get(self.state, set())

    def held_id(self, name):
        """The id of the `slot` or `bed` this referral holds (a reverse one-to-one), or None."""
        try:
            return getattr(self, name).pk
        except ObjectDoesNotExist:
            return None


class ReferralEvent(models.Model):
    """One transition of a referral: who, when, from which state to which, and a note."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="events", verbose_name=_("referral")
    )
    from_state = models.CharField(_("from state"), max_length=12, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=12, choices=ReferralState.choices)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acting user"),
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    objects = ReferralEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["referral", "at", "pk"]

    def __str__(self):
        return f"#{self.referral_id} {self.from_state or '∅'} → {self.to_state}"
