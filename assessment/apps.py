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
        # Who acknowledged a warning, with which note (issue 15 point 1).
        audit.register(models.IndicatorWarning, exclude_fields=["detail"])
        self.register_navigation()
        self.register_home()

    def register_home(self):
        """The alliance's latest figures against their targets (issue 15 point 5)."""
        from core import home

        from .home import committee_landing, figures_panel, warnings_panel

        home.register(home.HomePanel("figures", "assessment/home_panel.html", figures_panel, order=5))
        home.register(home.HomePanel("warnings", "assessment/home_warnings.html", warnings_panel, order=6))
        home.register_landing(committee_landing)

    def register_navigation(self):
        """The indicator definitions (issue 14 point 7), for the people who watch the alliance's
        figures."""
        from core import navigation

        navigation.register(
            navigation.NavItem(
                _("Indicators"),
                "assessment:values",
                visible=reads_figures,
                order=390,
                group=navigation.ASSESSMENT,
            )
        )
        navigation.register(
            navigation.NavItem(
                _("Dashboard"),
                "assessment:dashboard",
                visible=reads_warnings,
                order=385,
                group=navigation.ASSESSMENT,
            )
        )
        navigation.register(
            navigation.NavItem(
                _("Warnings"),
                "assessment:warnings",
                visible=reads_warnings,
                order=395,
                group=navigation.ASSESSMENT,
            )
        )
        navigation.register(
            navigation.NavItem(
                _("Indicator definitions"),
                "assessment:definition-list",
                visible=watches_indicators,
                order=400,
                group=navigation.ASSESSMENT,
            )
        )


def watches_indicators(user):
    """The menu's 'Indicator definitions': for the alliance-wide roles that read them (the bureau,
    the alliance office, the committee, finance). Every role may read the definitions (DESIGN
    §5: no patient data); an institution's staff and an HIS open them by link or through the API."""
    from core import access

    from .models import IndicatorDefinition

    return user.is_superuser or bool(access.reach(user, IndicatorDefinition, interactive=True).alliances)


def reads_figures(user):
    """The menu's 'Indicators': for whoever reads some figures (the alliance-wide roles, and an
    institution's admin and clinicians for their own institution's)."""
    from core import access

    from .models import IndicatorValue

    return user.is_superuser or access.can_read(user, IndicatorValue)


def reads_warnings(user):
    """The menu's 'Dashboard' and 'Warnings': for those who watch the alliance (DESIGN §5)."""
    from core import access

    from .models import IndicatorWarning

    return user.is_superuser or access.can_read(user, IndicatorWarning)
