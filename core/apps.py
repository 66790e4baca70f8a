"""Shared plumbing: base model, access scoping, audit hook-up, API base, jobs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib.auth import get_user_model

        from . import audit, home, navigation

        # Accounts are important records: who created, deactivated or re-roled a user is audited.
        audit.register(get_user_model(), exclude_fields=["password", "last_login"])
        navigation.register(navigation.NavItem(_("Home"), "home", order=0))
        home.register(home.HomePanel("inbox", "core/home/inbox.html", home.inbox_panel, order=90))
        navigation.register(
            navigation.NavItem(_("API documentation"), "api-docs", order=900, group=navigation.SYSTEM)
        )
        navigation.register(
            navigation.NavItem(
                _("Administration"),
                "admin:index",
                visible=lambda user: user.is_staff,
                order=1000,
                group=navigation.SYSTEM,
            )
        )
