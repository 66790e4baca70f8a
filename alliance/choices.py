"""The choices of the hierarchy and its governance records (kinds, levels, roles, positions),
apart from the models so that querysets can use them without importing the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AllianceKind(models.TextChoices):
    COUNTY = "county", _("County medical alliance")
    CITY = "city", _("City medical group")


class InstitutionLevel(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")
    TERTIARY = "tertiary", _("Tertiary")


class PlacementRole(models.TextChoices):
    LEAD = "lead", _("Lead hospital")
    COLLABORATING = "collaborating", _("Collaborating hospital")
    BRANCH = "branch", _("Branch (township health centre)")
    VILLAGE = "village", _("Village clinic")
    PARTNER = "partner", _("Partner institution")


# Primary care (基层医疗卫生机构) in the hierarchy: the township branches and their village clinics;
# "primary" measures count at the institutions holding these roles in the month (issue 14).
PRIMARY_ROLES = frozenset({PlacementRole.BRANCH, PlacementRole.VILLAGE})


class CommitteePosition(models.TextChoices):
    CHAIR = "chair", _("Chair")
    VICE_CHAIR = "vice_chair", _("Vice chair")
    MEMBER = "member", _("Member")
    SECRETARY = "secretary", _("Secretary")


class MeetingKind(models.TextChoices):
    GOVERNMENT = "government", _("County government executive meeting")
    COMMITTEE = "committee", _("Management committee meeting")
    BOARD = "board", _("Alliance board meeting")


# The county government's executive meeting studies the alliance at least twice a year
# (domain/indicators-and-standards.md, source 003).
GOVERNMENT_MEETINGS_PER_YEAR = 2


class DocumentKind(models.TextChoices):
    CHARTER = "charter", _("Charter")
    RESPONSIBILITY_LIST = "responsibility_list", _("Responsibility list")


class WebhookDeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
