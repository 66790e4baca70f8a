"""The hierarchy: alliances (医共体/城市医疗集团), institutions, departments, governance."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllianceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alliance"
    verbose_name = _("Alliance")

    def ready(self):
        from core import audit

        from . import models

        for model in (
            models.Alliance,
            models.AlliancePopulation,
            models.Institution,
            models.Placement,
            models.Department,
            models.CommitteeMember,
            models.Meeting,
            models.GovernanceDocument,
        ):
            audit.register(model)
