"""Service activity reported by HIS and the insurance feed."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EncountersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "encounters"
    verbose_name = _("Encounters")

    def ready(self):
        from core import audit

        from . import models

        # Each ingested batch is one audit entry (who, which kind and source, the counts); the
        # records themselves are not audited one by one: a batch may hold 5,000 of them.
        audit.register(models.IngestBatch)
        _register_navigation(models)
        _register_measures()
        _register_home()


def _register_home():
    """Silent data sources for the alliance office and the bureau, the last batches for an HIS
    account (issue 15 point 5)."""
    from core import home

    from .home import api_account_panel, silent_sources_panel

    home.register(
        home.HomePanel("silent-sources", "encounters/home_silent.html", silent_sources_panel, order=30)
    )
    home.register(
        home.HomePanel("api-account", "encounters/home_api_account.html", api_account_panel, order=10)
    )


def _register_measures():
    """Visits and admissions per institution and month, for the indicators (issue 14)."""
    from core import measures

    from . import measures as encounter_measures

    measures.register(*encounter_measures.SOURCES)


def _register_navigation(models):
    """Visits, admissions and submission control, for the roles that read encounters; the
    upload, for those that write them."""
    from core import access, navigation

    def reads_encounters(user):
        return access.can_read(user, models.OutpatientVisit)

    for label, url_name, order in (
        (_("Outpatient visits"), "encounters:visit-list", 70),
        (_("Admissions"), "encounters:admission-list", 71),
        (_("Submission control"), "encounters:submissions", 72),
    ):
        navigation.register(
            navigation.NavItem(
                label, url_name, visible=reads_encounters, order=order, group=navigation.ENCOUNTERS
            )
        )

    def writes_encounters(user):
        return access.can_write(user, models.OutpatientVisit)

    navigation.register(
        navigation.NavItem(
            _("Encounter upload"),
            "encounters:upload",
            visible=writes_encounters,
            order=73,
            group=navigation.ENCOUNTERS,
        )
    )
