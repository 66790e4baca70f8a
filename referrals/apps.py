"""Two-way referral (双向转诊): referrals, slot pools (号源) and bed pools."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        self.register_navigation()
        self.register_home()
        self.register_audit()
        self.register_references()
        self.register_measures()

    def register_home(self):
        """Referrals waiting for an answer and today's bookings (issue 15 point 5)."""
        from core import home

        from .home import referrals_panel

        home.register(home.HomePanel("referrals", "referrals/home_panel.html", referrals_panel, order=20))

    def register_measures(self):
        """Slots, reserved beds and referrals per institution and month (issue 14)."""
        from core import measures

        from . import measures as referral_measures

        measures.register(*referral_measures.SOURCES)

    def register_references(self):
        """Encounters name the referral that brought the patient by id (issue 13 point 3)."""
        from core import references

        from .querysets import referral_alliances

        references.register("referral", referral_alliances)

    def register_audit(self):
        """Who changed a weekly template line or published a week (issue 6 point 1)."""
        from core import audit

        from .models import PoolPublication, PoolTemplateEntry

        audit.register(PoolTemplateEntry)
        audit.register(PoolPublication)

    def register_navigation(self):
        """The referral pages, each shown only to roles that may use it (DESIGN §5)."""
        from core import navigation

        entries = (
            # inbox and outbox (issue 7 point 1): every role that may read referrals
            (_("Referrals received"), "referrals:inbox", reads_referrals, 300),
            (_("Referrals sent"), "referrals:outbox", reads_referrals, 310),
            # refer up / refer down (issue 7 point 2): institution administrators and clinicians
            (_("Refer up"), "referrals:refer-up", may_refer, 320),
            (_("Refer down"), "referrals:refer-down", may_refer, 321),
            # slot and bed pools (issue 7 point 5): the roles that may publish them
            (_("Slots and beds"), "referrals:pool-index", manages_pools, 330),
        )  # (label, url name, visible(user), order): each page module adds its own
        for label, url_name, visible, order in entries:
            navigation.register(
                navigation.NavItem(label, url_name, visible=visible, order=order, group=navigation.REFERRALS)
            )


def reads_referrals(user):
    """The inbox and outbox are for the roles that may read referrals (DESIGN §5)."""
    from core import access

    from .models import Referral

    return access.can_read(user, Referral)


def may_refer(user):
    """'Refer up' and 'Refer down' are for those who may send referrals from their institution."""
    from .forms.refer import may_refer as may_send

    return may_send(user)


def manages_pools(user):
    """'Slots and beds' is for the roles that may publish pools (DESIGN §5: alliance office,
    institution administrators)."""
    from .views.pools import manages_pools as may_manage

    return may_manage(user)
