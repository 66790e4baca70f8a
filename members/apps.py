"""People and access: memberships, staff, secondments (下沉), family-doctor teams, signed residents."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        from guardian.models import GroupObjectPermission, UserObjectPermission

        from core import audit

        from . import models

        audit.register(models.Membership)
        audit.register(models.StaffMember)
        audit.register(models.StaffPosting)
        audit.register(models.Secondment)
        audit.register(models.FamilyDoctorTeam)
        audit.register(models.TeamMembership)
        # Never a second copy of the ID number in the audit trail: only the masked form is logged.
        audit.register(models.SignedResident, exclude_fields=["id_number_encrypted", "patient_key"])
        # Grants that widen a user's reach (DESIGN §5) are audited like any important record.
        audit.register(UserObjectPermission)
        audit.register(GroupObjectPermission)
        self.register_navigation(models)
        self.register_measures()

    def register_measures(self):
        """Doctors stationed six months or more in the year, for the indicators (issue 14)."""
        from core import measures

        from . import measures as people

        measures.register(*people.SOURCES)

    def register_navigation(self, models):
        """The people pages, each shown only to roles that may read its rows (DESIGN §5): the
        committee, for one, sees none of them."""
        from core import access, navigation

        entries = (
            (_("Staff"), "members:staff-list", models.StaffMember, 200),
            (_("Secondments"), "members:secondment-list", models.Secondment, 210),
            (_("Family-doctor teams"), "members:team-list", models.FamilyDoctorTeam, 220),
            (_("Signed residents"), "members:resident-list", models.SignedResident, 230),
        )
        for label, url_name, model, order in entries:
            navigation.register(
                navigation.NavItem(
                    label,
                    url_name,
                    visible=lambda user, model=model: access.can_read(user, model),
                    order=order,
                    group=navigation.PEOPLE,
                )
            )
