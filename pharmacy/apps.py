"""Unified drug catalogue (统一目录), formularies, purchasing and distribution."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PharmacyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pharmacy"
    verbose_name = _("Pharmacy")

    def ready(self):
        from core import audit

        from . import models

        # Who changed an entry or its prices, and when (issue 16 point 1); a formulary's history
        # is its own FormularyChange rows (point 3).
        audit.register(models.DrugCatalogueEntry, exclude_fields=["search_keys"])
        audit.register(models.DrugPrice)
        self.register_navigation()

    def register_navigation(self):
        """The catalogue for every person of an alliance (a clinician looks a drug up), the
        formularies too; machines use the API."""
        from core import navigation

        navigation.register(
            navigation.NavItem(
                _("Drug catalogue"),
                "pharmacy:drug-list",
                visible=reads_catalogue,
                order=300,
                group=navigation.PHARMACY,
            )
        )
        navigation.register(
            navigation.NavItem(
                _("Formularies"),
                "pharmacy:formulary-list",
                visible=reads_catalogue,
                order=310,
                group=navigation.PHARMACY,
            )
        )


def reads_catalogue(user):
    from core import access

    from .models import DrugCatalogueEntry

    return user.is_superuser or bool(access.reach(user, DrugCatalogueEntry, interactive=True).alliances)
