"""The choices of the people app (roles, professions, title levels, secondment kinds, team
roles, chronic conditions), apart from the models so that querysets can use them without
importing the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MembershipRole(models.TextChoices):
    BUREAU = "bureau", _("County health bureau")
    ALLIANCE_ADMIN = "alliance_admin", _("Alliance administrator")
    COMMITTEE = "committee", _("Management committee")
    FINANCE = "finance", _("Finance centre")
    INSURANCE_FEED = "insurance_feed", _("Insurance feed")
    INSTITUTION_ADMIN = "institution_admin", _("Institution administrator")
    CLINICIAN = "clinician", _("Clinician")
    API_CLIENT = "api_client", _("HIS API client")


class Profession(models.TextChoices):
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    PHARMACIST = "pharmacist", _("Pharmacist")
    TECHNICIAN = "technician", _("Medical technician")
    OTHER = "other", _("Other")


class TitleLevel(models.TextChoices):
    NONE = "none", _("No title")
    JUNIOR = "junior", _("Junior")
    INTERMEDIATE = "intermediate", _("Intermediate")
    DEPUTY_SENIOR = "deputy_senior", _("Deputy senior")
    SENIOR = "senior", _("Senior")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class SecondmentKind(models.TextChoices):
    STATIONED = "stationed", _("Stationed (long-term)")
    PATROL = "patrol", _("Visiting rounds")


class TeamRole(models.TextChoices):
    GENERAL_PRACTITIONER = "gp", _("General practitioner")
    SPECIALIST = "specialist", _("Specialist")
    NURSE = "nurse", _("Nurse")
    PUBLIC_HEALTH = "public_health", _("Public health worker")
    OTHER = "other", _("Other")


class ChronicCondition(models.TextChoices):
    HYPERTENSION = "hypertension", _("Hypertension")
    DIABETES = "diabetes", _("Diabetes")
    DYSLIPIDEMIA = "dyslipidemia", _("Dyslipidaemia")
    CORONARY = "coronary", _("Coronary heart disease")
    STROKE = "stroke", _("Cerebrovascular disease")
    COPD = "copd", _("COPD")
    CKD = "ckd", _("Chronic kidney disease")
    TUBERCULOSIS = "tuberculosis", _("Tuberculosis")
    SEVERE_MENTAL = "severe_mental", _("Severe mental disorder")
