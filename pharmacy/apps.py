"""Unified drug catalogue (统一目录), formularies, purchasing and distribution."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pharmacy"
    verbose_name = _("Pharmacy")
