"""The demo accounts of DESIGN §8 and the `admin` superuser, all with the demo password.

Run on every `seed_demo`, also when the county already exists: it creates what is missing and
resets a password only when it differs, so a second run changes nothing.
"""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from alliance.models import Institution
from members import services as members_services
from members.choices import MembershipRole, Profession
from members.models import StaffMember

from .county import DEMO_TOWNSHIP, LEAD_CODE, branch_code, village_code

DEFAULT_PASSWORD = "demo2026"  # demo data only; set DEMO_PASSWORD to choose another
LEAD, BRANCH, VILLAGE = LEAD_CODE, branch_code(DEMO_TOWNSHIP), village_code(DEMO_TOWNSHIP, 0)
# (username, role, scope: None for the alliance or an institution code, Chinese and English description)
ACCOUNTS = (
    ("bureau", MembershipRole.BUREAU, None, "县卫健局", "county health bureau"),
    ("alliance_admin", MembershipRole.ALLIANCE_ADMIN, None, "医共体管理办公室", "alliance administrator"),
    ("committee", MembershipRole.COMMITTEE, None, "医管委（只读）", "management committee (read-only)"),
    ("finance", MembershipRole.FINANCE, None, "医共体财务中心", "alliance finance centre"),
    ("lead_admin", MembershipRole.INSTITUTION_ADMIN, LEAD, "牵头医院管理员", "lead hospital administrator"),
    ("township_admin", MembershipRole.INSTITUTION_ADMIN, BRANCH, "乡镇卫生院管理员", "township branch administrator"),
    ("township_doctor", MembershipRole.CLINICIAN, BRANCH, "乡镇卫生院医生", "township branch clinician"),
    ("village_doctor", MembershipRole.CLINICIAN, VILLAGE, "村医", "village clinic doctor"),
    ("his_lead", MembershipRole.API_CLIENT, LEAD, "牵头医院 HIS 接口", "lead hospital HIS (API client)"),
    ("his_township", MembershipRole.API_CLIENT, BRANCH, "乡镇卫生院 HIS 接口", "township branch HIS (API client)"),
    ("insurance", MembershipRole.INSURANCE_FEED, None, "医保数据接口", "medical insurance feed (API client)"),
)  # fmt: skip
# Clinician accounts are the login of a doctor of the staff list, so pages show a real name.
LINKED_TO_STAFF = {"township_doctor", "village_doctor"}


def demo_password():
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD


class PasswordKeeper:
    """Gives every demo account the demo password while hashing it at most once per run.

    Hashing is deliberately slow (PBKDF2), and a dozen accounts would take seconds; they share
    one password anyway, so they share one hash, and a stored hash known to match is not checked
    again.
    """

    def __init__(self, password):
        self.password = password
        self.matching = set()  # stored hashes that verify against the password

    def apply(self, user):
        if user.password in self.matching:
            return
        if user.has_usable_password() and user.check_password(self.password):
            self.matching.add(user.password)
            return
        user.password = make_password(self.password) if not self.matching else next(iter(self.matching))
        user.save(update_fields=["password"])
        self.matching.add(user.password)


def ensure_admin(keeper):
    """The `admin` superuser of the demo (系统管理员)."""
    admin = ensure_user("admin", first_name="演示管理员", is_staff=True, is_superuser=True, is_active=True)
    keeper.apply(admin)
    return admin


def ensure_accounts(alliance, keeper, *, acting_user):
    """Every account of ACCOUNTS with its membership; returns (username, description) pairs."""
    institutions = Institution.objects.in_bulk([LEAD, BRANCH, VILLAGE], field_name="code")
    logins = [("admin", "系统管理员 / system administrator")]
    for username, role, scope, chinese, english in ACCOUNTS:
        institution = institutions[scope] if scope else None
        staff = _staff_for(username, institution) if username in LINKED_TO_STAFF else None
        user = ensure_user(username, first_name=staff.name if staff else chinese)
        keeper.apply(user)
        members_services.grant_membership(
            user,
            role=role,
            alliance=None if institution else alliance,
            institution=institution,
            acting_user=acting_user,
        )
        if staff is not None and staff.user_id != user.pk:
            members_services.update_staff(staff, user=user, acting_user=acting_user)
        where = f"（{institution.name}）" if institution else ""
        logins.append((username, f"{chinese}{where} / {english}"))
    return logins


def ensure_user(username, **fields):
    """Create the user, or bring its fields to `fields`, saving only what differs."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults=fields)
    changed = [name for name, value in fields.items() if getattr(user, name) != value]
    if changed and not created:
        for name in changed:
            setattr(user, name, fields[name])
        user.save(update_fields=changed)
    return user


def _staff_for(username, institution):
    """The doctor whose login this is: the one already linked, else the first doctor of the
    institution without a login (a general practitioner if there is one)."""
    linked = StaffMember.objects.filter(user__username=username).first()
    if linked:
        return linked
    return (
        StaffMember.objects.filter(institution=institution, profession=Profession.DOCTOR, user__isnull=True)
        .order_by("-is_general_practitioner", "employee_number")
        .first()
    )
