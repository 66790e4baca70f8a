"""The evaluation standard (评判标准), indicators and dashboards."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        from core import audit

        from . import models

        # Who revised a definition, and when the old version was ended (issue 14 point 3).
        audit.register(models.IndicatorDefinition)
