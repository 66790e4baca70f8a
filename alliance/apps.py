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
        # A webhook's secret never enters the audit trail; who changed the URL or switched it does.
        audit.register(models.InstitutionWebhook, exclude_fields=["secret"])
        _register_navigation(models)
        # Excel import (issue 4 point 3): for users who may write institutions or staff.
        from core.navigation import SYSTEM, NavItem, register

        from .imports import may_use_imports

        register(
            NavItem(_("Excel import"), "alliance:import", visible=may_use_imports, order=80, group=SYSTEM)
        )
        _register_measures()


def _register_measures():
    """Open bed-days, and the hierarchy of each month that restricted measures use (issue 14)."""
    from core import measures

    from . import measures as hierarchy

    measures.register(*hierarchy.SOURCES)
    measures.register_hierarchy(hierarchy.roles_by_month)


def _register_navigation(models):
    """Menu entries of the hierarchy pages, each shown to the roles that may read its rows."""
    from core import navigation
    from core.access import can_read

    navigation.register(
        navigation.NavItem(
            _("Alliance tree"),
            "alliance:tree",
            visible=lambda user: can_read(user, models.Institution),
            order=10,
            group=navigation.ALLIANCE,
        )
    )
    navigation.register(
        navigation.NavItem(
            _("Governance"),
            "alliance:meeting-list",
            visible=lambda user: can_read(user, models.Meeting),
            order=60,
            group=navigation.ALLIANCE,
        )
    )
