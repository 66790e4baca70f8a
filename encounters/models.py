"""Service activity reported by hospital information systems and the insurance feed (DESIGN §3,
§8): outpatient visits and admissions, one row per record an API client sent.

A record is identified by where it happened and the system it came from: (institution or outside
facility, source, external_id) is unique, so sending the same record twice, or two clerks
uploading one file, changes nothing; `client` is who sent the current values. The patient is
`patient_key`, the keyed hash (HMAC-SHA256 under PATIENT_KEY_SECRET) of the normalised resident
ID: the raw number is never stored. `alliance` and `month` are copied onto every row so that every
monthly aggregate filters by them first (DESIGN §6: partitioning by month, Citus by alliance).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from alliance.choices import InstitutionLevel
from alliance.models import Alliance, Department, Institution
from core.codes import ICD10_LENGTH

from .querysets import AdmissionQuerySet, IngestBatchQuerySet, OutsideFacilityQuerySet, VisitQuerySet


class EncounterKind(models.TextChoices):
    """The two kinds of records, named as in the API paths (`/encounters/visits/bulk/`)."""

    VISITS = "visits", _("outpatient visits")
    ADMISSIONS = "admissions", _("admissions")


class OutsideFacility(models.Model):
    """A facility outside the alliance where the alliance's residents were treated, as the
    insurance feed names it (code, name, GB/T 2260 region, level). In-county when its region is
    the county's."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region_code = models.CharField(_("region code"), max_length=6)
    level = models.CharField(_("level"), max_length=10, choices=InstitutionLevel.choices, blank=True)

    objects = OutsideFacilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("outside facility")
        verbose_name_plural = _("outside facilities")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


def reference(model, verbose_name, *, null=False):
    """A foreign key of an encounter: PROTECT in Django, no database constraint and no index of
    its own (see `Encounter`)."""
    return models.ForeignKey(
        model,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=verbose_name,
    )


class Encounter(models.Model):
    """The columns shared by visits and admissions.

    Indexes are chosen for monthly aggregation and for ingestion speed (docs/adr/0006): the
    foreign keys get no single-column index of their own (db_index=False) because the composite
    indexes of each model begin with them (client: the unique key; alliance: alliance-month;
    institution: institution-month), and departments and outside facilities are never deleted
    while records name them. Every index costs every one of the millions of inserts.

    Nor are they database constraints (db_constraint=False): each would fire a trigger per
    inserted row that locks the parent row (FOR KEY SHARE), a quarter of the bulk path's time,
    and Citus restricts foreign keys from distributed tables. Ingestion resolves every id from
    the database in the batch's own transaction, and Django's PROTECT still refuses to delete a
    row that records name.
    """

    client = reference(settings.AUTH_USER_MODEL, _("sending client"))
    source = models.CharField(_("source system"), max_length=64)
    external_id = models.CharField(_("external id"), max_length=64)
    alliance = reference(Alliance, _("alliance"))
    month = models.DateField(_("month"), help_text=_("The first day of the month the record counts in."))
    institution = reference(Institution, _("institution"), null=True)
    outside_facility = reference(OutsideFacility, _("outside facility"), null=True)
    department = reference(Department, _("department"), null=True)
    patient_key = models.CharField(_("patient key"), max_length=64)
    resident_region = models.CharField(_("patient's insured region"), max_length=6)
    is_resident = models.BooleanField(_("county resident"))
    in_county = models.BooleanField(_("treated in the county"))
    diagnosis = models.CharField(_("diagnosis (ICD-10)"), max_length=ICD10_LENGTH)
    total_cost = models.DecimalField(_("total cost (yuan)"), max_digits=12, decimal_places=2)
    insurance_paid = models.DecimalField(_("paid by insurance (yuan)"), max_digits=12, decimal_places=2)
    tcm = models.BooleanField(_("traditional Chinese medicine"), default=False)
    referral_id = models.BigIntegerField(_("referral"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.source}:{self.external_id}"


def _encounter_constraints(prefix):
    return [
        # A record is named by where it happened, the system it came from and that system's
        # id (issue 13 point 1): two clerks of one institution uploading the same file, or the
        # HIS sending what a clerk uploaded under its source name, update one row.
        models.UniqueConstraint(
            fields=["institution", "source", "external_id"],
            condition=Q(institution__isnull=False),
            name=f"{prefix}_institution_external_id",
        ),
        models.UniqueConstraint(
            fields=["outside_facility", "source", "external_id"],
            condition=Q(outside_facility__isnull=False),
            name=f"{prefix}_facility_external_id",
        ),
        models.CheckConstraint(
            condition=Q(institution__isnull=False, outside_facility__isnull=True)
            | Q(institution__isnull=True, outside_facility__isnull=False),
            name=f"{prefix}_one_facility",
        ),
        models.CheckConstraint(
            condition=Q(total_cost__gte=0, insurance_paid__gte=0), name=f"{prefix}_amounts_not_negative"
        ),
    ]


class OutpatientVisit(Encounter):
    """An outpatient or emergency visit (门急诊人次), counted in the month of the visit."""

    visit_date = models.DateField(_("visit date"))

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("outpatient visit")
        verbose_name_plural = _("outpatient visits")
        ordering = ["-visit_date", "pk"]
        constraints = _encounter_constraints("visit")
        indexes = [
            # Monthly aggregates: alliance and month first (DESIGN §6), then the grouping column,
            # then every column the visit measures read (encounters.measures), so that a month is
            # an index-only scan (docs/adr/0006: one alliance's month does not read the others').
            models.Index(
                fields=[
                    "alliance",
                    "month",
                    "institution",
                    "in_county",
                    "is_resident",
                    "tcm",
                    "insurance_paid",
                    "id",
                ],
                name="visit_alliance_month_cover",
            ),
            models.Index(fields=["institution", "month"], name="visit_institution_month"),
            models.Index(fields=["patient_key"], name="visit_patient"),
            # Submission control: the latest record of each institution (querysets.submission_summary).
            models.Index(fields=["institution", "received_at"], name="visit_institution_received"),
            # Most records come without a referral: only those with one are indexed.
            models.Index(
                fields=["referral_id"], condition=Q(referral_id__isnull=False), name="visit_referral"
            ),
        ]


class Admission(Encounter):
    """An inpatient admission (住院人次), counted in the month of discharge."""

    admit_date = models.DateField(_("admission date"))
    discharge_date = models.DateField(_("discharge date"))

    objects = AdmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("admission")
        verbose_name_plural = _("admissions")
        ordering = ["-discharge_date", "pk"]
        constraints = [
            *_encounter_constraints("admission"),
            models.CheckConstraint(
                condition=Q(discharge_date__gte=F("admit_date")), name="admission_discharge_after_admit"
            ),
        ]
        indexes = [
            models.Index(fields=["alliance", "month", "institution"], name="admission_alliance_month_inst"),
            models.Index(
                fields=["alliance", "month", "is_resident", "in_county"], name="admission_alliance_month_res"
            ),
            models.Index(fields=["institution", "month"], name="admission_institution_month"),
            models.Index(fields=["patient_key"], name="admission_patient"),
            models.Index(fields=["institution", "received_at"], name="admission_institution_received"),
            models.Index(
                fields=["referral_id"], condition=Q(referral_id__isnull=False), name="admission_referral"
            ),
        ]


class IngestBatch(models.Model):
    """One batch of encounter records received from a client (the bulk API or an Excel upload):
    who sent it, which kind and source system, and what came of it. Registered with auditlog
    (encounters.apps): each batch is one audit entry with its counts, never the records."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sending client")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EncounterKind.choices)
    source = models.CharField(_("source system"), max_length=64)
    received_at = models.DateTimeField(_("received at"))
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)

    objects = IngestBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["client", "received_at"], name="ingestbatch_client_received")]

    def __str__(self):
        return f"{self.kind} {self.source} {self.received_at:%Y-%m-%d %H:%M}"
