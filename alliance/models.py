"""The hierarchy of an alliance (医共体 / 城市医疗集团) and its governance records (DESIGN §3)."""

import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.identity import validate_credit_code, validate_region_code
from core.models import DATES_IN_ORDER, TimeStampedModel

from .choices import (
    AllianceKind,
    CommitteePosition,
    DocumentKind,
    InstitutionLevel,
    MeetingKind,
    PlacementRole,
    WebhookDeliveryState,
)
from .department_codes import STANDARD_SUBJECTS
from .querysets import (
    AllianceQuerySet,
    DepartmentQuerySet,
    GovernanceQuerySet,
    InstitutionQuerySet,
    MeetingQuerySet,
    PlacementQuerySet,
)


def region_code_validator(value):
    validate_region_code(value)


def credit_code_validator(value):
    validate_credit_code(value)


class Alliance(TimeStampedModel):
    """A tight county medical alliance (紧密型县域医共体) or city medical group (紧密型城市医疗集团).

    `region_code` is the GB/T 2260 code of the county (or city district): a patient whose insured
    region is this code is a resident of the county.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=AllianceKind.choices, default=AllianceKind.COUNTY
    )
    region_code = models.CharField(
        _("region code"), max_length=6, validators=[region_code_validator], db_index=True
    )
    charter_date = models.DateField(_("charter date"), null=True, blank=True)
    submission_silence_days = models.PositiveSmallIntegerField(
        _("days without data before an institution is flagged"),
        default=3,
        help_text=_("Submission control: an institution whose HIS sends nothing for longer is flagged."),
    )

    objects = AllianceQuerySet.as_manager()

    class Meta:
        verbose_name = _("alliance")
        verbose_name_plural = _("alliances")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"{reverse('alliance:tree')}?alliance={self.pk}"


class AlliancePopulation(models.Model):
    """The resident population (常住人口) of an alliance's area in one year: a denominator."""

    alliance = models.ForeignKey(
        Alliance, on_delete=models.CASCADE, related_name="populations", verbose_name=_("alliance")
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000)])
    resident_population = models.PositiveIntegerField(_("resident population"))

    objects = AllianceQuerySet.as_manager()

    class Meta:
        verbose_name = _("resident population")
        verbose_name_plural = _("resident populations")
        ordering = ["alliance", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "year"],
                name="alliance_population_unique_year",
                violation_error_message=_("The population of this year is already recorded."),
            )
        ]

    def __str__(self):
        return f"{self.alliance} {self.year}: {self.resident_population}"


class Institution(TimeStampedModel):
    """A member institution (成员单位): hospital, township health centre or village clinic.

    `code` is assigned at registration and is the code an HIS uses for it. Its place in an
    alliance is not a column here: it is the effective-dated Placement.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=InstitutionLevel.choices)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, validators=[credit_code_validator]
    )
    region_code = models.CharField(_("region code"), max_length=6, validators=[region_code_validator])
    licensed_beds = models.PositiveIntegerField(_("licensed beds"), default=0)
    open_beds = models.PositiveIntegerField(_("open beds"), default=0)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="institution_credit_code_unique",
                violation_error_message=_("Another institution already has this unified social credit code."),
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("alliance:institution-detail", args=[self.pk])

    def placement_on(self, date):
        """This institution's placement on `date`, or None (uses a prefetched list when present)."""
        prefetched = getattr(self, "placements_on_date", None)
        if prefetched is not None:
            return prefetched[0] if prefetched else None
        return self.placements.on(date).select_related("alliance", "parent").first()


# Rank for "up" and "down": a village clinic refers up to its branch, a branch to the hospitals.
ROLE_RANK = {
    PlacementRole.VILLAGE: 1,
    PlacementRole.BRANCH: 2,
    PlacementRole.COLLABORATING: 3,
    PlacementRole.LEAD: 3,
    PlacementRole.PARTNER: 4,
}


class Placement(TimeStampedModel):
    """An institution's place in an alliance over the half-open period [valid_from, valid_to).

    Periods of one institution never overlap (PostgreSQL exclusion constraint
    `placement_no_overlap` plus the same check in `alliance.services`), so an institution belongs
    to one alliance at a time. A change closes the old period and opens a new one; history is
    never rewritten.
    """

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="placements", verbose_name=_("institution")
    )
    alliance = models.ForeignKey(
        Alliance, on_delete=models.PROTECT, related_name="placements", verbose_name=_("alliance")
    )
    role = models.CharField(_("role"), max_length=16, choices=PlacementRole.choices)
    parent = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="child_placements",
        verbose_name=_("parent institution"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("Empty while it lasts."))

    objects = PlacementQuerySet.as_manager()

    class Meta:
        verbose_name = _("placement in an alliance")
        verbose_name_plural = _("placements in alliances")
        ordering = ["institution", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="placement_dates_in_order",
                violation_error_message=DATES_IN_ORDER,
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("institution")),
                name="placement_not_own_parent",
                violation_error_message=_("An institution cannot be its own parent."),
            ),
        ]
        indexes = [
            models.Index(fields=["alliance", "valid_from", "valid_to"]),
            models.Index(fields=["institution", "valid_from"]),
            models.Index(fields=["parent", "valid_from"]),
        ]

    def __str__(self):
        until = self.valid_to or "…"
        return (
            f"{self.institution} → {self.alliance} ({self.get_role_display()}) [{self.valid_from}, {until})"
        )

    def covers(self, date):
        return self.valid_from <= date and (self.valid_to is None or date < self.valid_to)


DEPARTMENT_CODE = re.compile(r"^(\d{2})(\.\d{2})?$")


def department_code_validator(value):
    match = DEPARTMENT_CODE.match(value or "")
    if not match or match.group(1) not in STANDARD_SUBJECTS:
        raise ValidationError(
            _("Use a standard clinical department code (诊疗科目代码), e.g. 03 or 03.01."),
            code="department_code",
        )


class Department(TimeStampedModel):
    """A clinical department of an institution, named by its standard subject code (诊疗科目)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="departments", verbose_name=_("institution")
    )
    code = models.CharField(_("code"), max_length=8, validators=[department_code_validator])
    name = models.CharField(_("name"), max_length=50)
    active = models.BooleanField(_("active"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "code"],
                name="department_code_unique",
                violation_error_message=_("This institution already has a department with this code."),
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


# --- Governance -------------------------------------------------------------------------------
class CommitteeMember(TimeStampedModel):
    """A member of the management committee (医管委), which the county government's principal
    leader chairs, over a period."""

    alliance = models.ForeignKey(
        Alliance, on_delete=models.CASCADE, related_name="committee_members", verbose_name=_("alliance")
    )
    name = models.CharField(_("name"), max_length=50)
    position = models.CharField(_("committee position"), max_length=16, choices=CommitteePosition.choices)
    organisation = models.CharField(_("organisation and post"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = GovernanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("management committee member")
        verbose_name_plural = _("management committee members")
        ordering = ["alliance", "position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="committee_member_dates_in_order",
                violation_error_message=DATES_IN_ORDER,
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.get_position_display()})"

    def get_absolute_url(self):
        return reverse("alliance:committee-detail", args=[self.pk])


class Meeting(TimeStampedModel):
    """A governance meeting on the alliance: date, attendees, decisions and the minutes file."""

    alliance = models.ForeignKey(
        Alliance, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("alliance")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MeetingKind.choices)
    held_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    attendees = models.TextField(_("attendees"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    minutes = models.FileField(_("minutes file"), upload_to="governance/minutes/%Y/", blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("governance meeting")
        verbose_name_plural = _("governance meetings")
        ordering = ["alliance", "-held_on"]
        indexes = [models.Index(fields=["alliance", "kind", "held_on"])]

    def __str__(self):
        return f"{self.held_on} {self.title}"

    def get_absolute_url(self):
        return reverse("alliance:meeting-detail", args=[self.pk])


class GovernanceDocument(TimeStampedModel):
    """A version of the alliance's charter (章程) or responsibility list (权责清单).

    Versions are numbered 1, 2, … per alliance and kind by `alliance.services.publish_document`;
    an old version is never overwritten.
    """

    alliance = models.ForeignKey(
        Alliance, on_delete=models.CASCADE, related_name="documents", verbose_name=_("alliance")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    effective_on = models.DateField(_("effective from"))
    file = models.FileField(_("file"), upload_to="governance/documents/%Y/", blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = GovernanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("governance document")
        verbose_name_plural = _("governance documents")
        ordering = ["alliance", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "kind", "version"],
                name="governance_document_version_unique",
                violation_error_message=_("This version of the document already exists."),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}: {self.title}"

    def get_absolute_url(self):
        return reverse("alliance:document-detail", args=[self.pk])


# --- Webhooks to an institution's HIS (issue 6.5) -------------------------------------------------
def generate_webhook_secret():
    return secrets.token_urlsafe(32)


class InstitutionWebhook(TimeStampedModel):
    """Where an institution's HIS wants to be told about events that concern it.

    Each request carries an HMAC-SHA256 signature of its body under `secret`, so the HIS can tell
    it came from us. The secret is generated here, shown once in the admin and never typed in.
    """

    institution = models.OneToOneField(
        Institution, on_delete=models.CASCADE, related_name="webhook", verbose_name=_("institution")
    )
    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(_("secret"), max_length=100, default=generate_webhook_secret, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("institution webhook")
        verbose_name_plural = _("institution webhooks")

    def __str__(self):
        return f"{self.institution.code} → {self.url}"


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to a webhook, with the outcome of its last attempt.

    Pending while attempts remain; delivered on the first 2xx answer; failed after the last
    attempt. The payload is stored as sent, so a delivery can be inspected or replayed.
    """

    webhook = models.ForeignKey(
        InstitutionWebhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event = models.CharField(_("event"), max_length=64)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=WebhookDeliveryState.choices, default=WebhookDeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["webhook", "state", "-created_at"], name="alliance_whdelivery_idx")]

    def __str__(self):
        return f"{self.event} #{self.pk} ({self.get_state_display()})"
