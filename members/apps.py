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
