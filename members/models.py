"""People and access: memberships (roles), staff and their postings, secondments (下沉/派驻),
family-doctor teams (家庭医生签约服务团队) and signed residents (签约居民) (DESIGN §3)."""

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alliance.models import Alliance, Department, Institution
from alliance.querysets import today
from core.identity import mask_name
from core.models import DATES_IN_ORDER, TimeStampedModel

from .choices import (
    Gender,
    MembershipRole,
    Profession,
    SecondmentKind,
    TeamRole,
    TitleLevel,
)
from .querysets import (
    SIX_MONTHS_DAYS,
    MembershipQuerySet,
    ResidentQuerySet,
    SecondmentQuerySet,
    StaffQuerySet,
    TeamMembershipQuerySet,
    TeamQuerySet,
)

ALLIANCE_ROLES = frozenset(
    {
        MembershipRole.BUREAU,
        MembershipRole.ALLIANCE_ADMIN,
        MembershipRole.COMMITTEE,
        MembershipRole.FINANCE,
        MembershipRole.INSURANCE_FEED,
    }
)
INSTITUTION_ROLES = frozenset(
    {MembershipRole.INSTITUTION_ADMIN, MembershipRole.CLINICIAN, MembershipRole.API_CLIENT}
)


class Membership(TimeStampedModel):
    """A user's role in an alliance (bureau, alliance_admin, committee, finance, insurance_feed)
    or in an institution (institution_admin, clinician, api_client). A user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=MembershipRole.choices)
    alliance = models.ForeignKey(
        Alliance,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("alliance"),
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("institution"),
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__in=sorted(ALLIANCE_ROLES), alliance__isnull=False, institution__isnull=True)
                    | Q(role__in=sorted(INSTITUTION_ROLES), institution__isnull=False, alliance__isnull=True)
                ),
                name="membership_scope_matches_role",
                violation_error_message=_(
                    "Alliance roles need an alliance and no institution; institution roles need an institution."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "alliance"],
                condition=Q(alliance__isnull=False),
                name="membership_unique_alliance_role",
                violation_error_message=_("This user already has this role."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "institution"],
                condition=Q(institution__isnull=False),
                name="membership_unique_institution_role",
                violation_error_message=_("This user already has this role."),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.alliance or self.institution}"


# --- Staff ------------------------------------------------------------------------------------
LICENCE_NUMBER = re.compile(r"^[0-9A-Z]{9,30}$")


def licence_number_validator(value):
    if value and not LICENCE_NUMBER.match(value):
        raise ValidationError(
            _("A practising licence number is 9 to 30 digits or capital letters, without spaces."),
            code="licence_number",
        )


class StaffMember(TimeStampedModel):
    """A person employed by the alliance (统一招聘) and posted to a member institution (统筹使用).

    `institution` and `department` are the current posting; the history is StaffPosting, kept by
    `members.services.post_staff`.
    """

    alliance = models.ForeignKey(
        Alliance, on_delete=models.PROTECT, related_name="staff", verbose_name=_("employer")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="staff", verbose_name=_("posted to")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("department"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_member",
        verbose_name=_("user account"),
    )
    employee_number = models.CharField(_("employee number"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    profession = models.CharField(_("profession"), max_length=16, choices=Profession.choices)
    title_level = models.CharField(
        _("title level"), max_length=16, choices=TitleLevel.choices, default=TitleLevel.NONE
    )
    title = models.CharField(_("professional title"), max_length=30, blank=True)
    licence_number = models.CharField(
        _("practising licence number"), max_length=30, blank=True, validators=[licence_number_validator]
    )
    is_general_practitioner = models.BooleanField(_("general practitioner"), default=False)
    active = models.BooleanField(_("active"), default=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "employee_number"],
                name="staff_employee_number_unique",
                violation_error_message=_("Another staff member of the alliance has this employee number."),
            )
        ]
        indexes = [models.Index(fields=["institution", "active", "name"])]

    def __str__(self):
        return f"{self.name} ({self.employee_number})"

    def get_absolute_url(self):
        return reverse("members:staff-detail", args=[self.pk])


class StaffPosting(models.Model):
    """Where a staff member worked over [valid_from, valid_to): the posting history."""

    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="postings", verbose_name=_("staff member")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="staff_postings", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["staff", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="posting_dates_in_order",
                violation_error_message=DATES_IN_ORDER,
            )
        ]

    def __str__(self):
        return f"{self.staff} @ {self.institution} [{self.valid_from}, {self.valid_to or '…'})"


class Secondment(TimeStampedModel):
    """A doctor of a higher-level institution stationed at a lower-level one (下沉/派驻).

    Whether it reaches six months within a year (派驻6个月以上) counts only stationing, and only
    the days inside that year: see `reaches_six_months` and the queryset of the same name.
    """

    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="secondments", verbose_name=_("staff member")
    )
    from_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="secondments_out",
        verbose_name=_("from institution"),
    )
    to_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="secondments_in", verbose_name=_("to institution")
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=SecondmentKind.choices, default=SecondmentKind.STATIONED
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True, help_text=_("Empty while it lasts."))
    notes = models.TextField(_("notes"), blank=True)

    objects = SecondmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("secondment")
        verbose_name_plural = _("secondments")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="secondment_dates_in_order",
                violation_error_message=DATES_IN_ORDER,
            )
        ]
        indexes = [
            models.Index(fields=["to_institution", "start_date"]),
            models.Index(fields=["from_institution", "start_date"]),
        ]

    def __str__(self):
        return f"{self.staff} → {self.to_institution} ({self.start_date})"

    def get_absolute_url(self):
        return reverse("members:secondment-detail", args=[self.pk])

    def days_in_year(self, year):
        """Days of this secondment inside `year` (end date exclusive, open-ended = to year end)."""
        start = max(self.start_date, datetime.date(year, 1, 1))
        end = min(self.end_date or datetime.date(year + 1, 1, 1), datetime.date(year + 1, 1, 1))
        return max((end - start).days, 0)

    def reaches_six_months(self, year):
        return self.kind == SecondmentKind.STATIONED and self.days_in_year(year) >= SIX_MONTHS_DAYS


# --- Family-doctor teams and signed residents ---------------------------------------------------
class FamilyDoctorTeam(TimeStampedModel):
    """A family-doctor team (家庭医生签约服务团队) of a branch or village clinic: general
    practitioners plus specialists from higher levels (全专结合)."""

    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="family_doctor_teams",
        verbose_name=_("institution"),
    )
    name = models.CharField(_("name"), max_length=100)
    leader = models.ForeignKey(
        StaffMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team leader"),
    )
    members = models.ManyToManyField(
        StaffMember, through="TeamMembership", related_name="teams", verbose_name=_("members")
    )
    active = models.BooleanField(_("active"), default=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("family-doctor team")
        verbose_name_plural = _("family-doctor teams")
        ordering = ["institution", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "name"],
                name="team_name_unique",
                violation_error_message=_("This institution already has a team with this name."),
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("members:team-detail", args=[self.pk])


class TeamMembership(models.Model):
    """A staff member's place in a family-doctor team over [valid_from, valid_to): a change of the
    team is recorded as of the day it happened (ending a place keeps it as history)."""

    team = models.ForeignKey(
        FamilyDoctorTeam, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="team_memberships", verbose_name=_("staff member")
    )
    role = models.CharField(_("role in the team"), max_length=16, choices=TeamRole.choices)
    valid_from = models.DateField(_("in the team from"), default=today)
    valid_to = models.DateField(
        _("in the team until"), null=True, blank=True, help_text=_("Empty while it lasts.")
    )

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team", "valid_from", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "staff"],
                condition=Q(valid_to__isnull=True),
                name="team_member_current_unique",
                violation_error_message=_("This person is already in the team."),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="team_member_dates_in_order",
                violation_error_message=DATES_IN_ORDER,
            ),
        ]

    def __str__(self):
        return f"{self.staff} ({self.get_role_display()})"


class SignedResident(TimeStampedModel):
    """A resident who signed a family-doctor contract (签约居民).

    The resident ID number is stored only encrypted (`id_number_encrypted`, Fernet) and as its
    keyed hash (`patient_key`, HMAC-SHA256) for lookup; lists show `id_number_masked`.
    `institution` is the team's institution, kept for scoping.
    """

    team = models.ForeignKey(
        FamilyDoctorTeam, on_delete=models.PROTECT, related_name="residents", verbose_name=_("team")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="signed_residents", verbose_name=_("institution")
    )
    name = models.CharField(_("name"), max_length=50)
    id_number_encrypted = models.TextField(_("resident ID number (encrypted)"), editable=False)
    id_number_masked = models.CharField(_("resident ID number"), max_length=18, editable=False)
    patient_key = models.CharField(_("patient key"), max_length=64, editable=False, db_index=True)
    birth_date = models.DateField(_("date of birth"), editable=False)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, editable=False)
    chronic_conditions = models.JSONField(_("chronic conditions"), default=list, blank=True)
    signed_on = models.DateField(_("signed on"))
    valid_to = models.DateField(_("contract ends"), null=True, blank=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("signed resident")
        verbose_name_plural = _("signed residents")
        ordering = ["institution", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("signed_on")),
                name="resident_dates_in_order",
                violation_error_message=DATES_IN_ORDER,
            ),
            models.UniqueConstraint(
                fields=["patient_key"],
                condition=Q(valid_to__isnull=True),
                name="resident_one_open_contract",
                violation_error_message=_("This resident already has a family-doctor contract."),
            ),
        ]
        indexes = [models.Index(fields=["institution", "name"])]

    def __str__(self):
        return f"{self.masked_name} {self.id_number_masked}"

    def get_absolute_url(self):
        return reverse("members:resident-detail", args=[self.pk])

    @property
    def masked_name(self):
        return mask_name(self.name)
