"""A small world for API and access tests: two county alliances with people in each, and one
user per role of DESIGN §5 in the first. Built through the services, like the application."""

import datetime
from dataclasses import dataclass, field

from members import services as member_services
from members.choices import SecondmentKind, TeamRole
from tests.alliance.factories import AllianceFactory, DepartmentFactory, build_alliance
from tests.core.factories import UserFactory
from tests.members.factories import MembershipFactory, resident, staff, team

ALLIANCE_ROLES = ["bureau", "alliance_admin", "committee", "finance", "insurance_feed"]
INSTITUTION_ROLES = ["institution_admin", "clinician", "api_client"]
ROLES = ALLIANCE_ROLES + INSTITUTION_ROLES


@dataclass
class County:
    """One alliance and a row of every kind in it; `home` is the branch the institution roles
    of the first county work at."""

    alliance: object
    lead: object
    collaborating: object
    branches: list
    villages: list
    home: object = None
    rows: dict = field(default_factory=dict)


def build_county(name, region_code, n):
    """An alliance with lead, collaborating hospital, two branches with a village clinic each,
    and a department, staff, secondment, team and signed resident at the first branch."""
    parts = build_alliance(alliance=AllianceFactory(name=name, region_code=region_code), branches=2)
    county = County(**parts, home=parts["branches"][0])
    lead_staff = staff(county.lead, name=f"专家{n}", title="主任医师")
    home_staff = staff(county.home, name=f"全科{n}", is_general_practitioner=True)
    staff(county.branches[1], name=f"医生{n}")
    home_team = team(county.home, name=f"家庭医生团队{n}")
    member_services.add_team_member(
        home_team, staff=home_staff, role=TeamRole.GENERAL_PRACTITIONER, acting_user=None
    )
    county.rows = {
        "alliances": county.alliance,
        "institutions": county.home,
        "departments": DepartmentFactory(institution=county.home, code="02", name="全科医疗科"),
        "staff": home_staff,
        "secondments": member_services.second_staff(
            lead_staff,
            to_institution=county.home,
            start_date=datetime.date(2025, 1, 1),
            kind=SecondmentKind.STATIONED,
            acting_user=None,
        ),
        "teams": home_team,
        "residents": resident(home_team, n=n, name=f"王{n}"),
        "lead_staff": lead_staff,
    }
    return county


def user_with_role(role, county, username=None):
    user = UserFactory(username=username or f"{role}_{county.alliance.pk}")
    if role in ALLIANCE_ROLES:
        MembershipFactory(user=user, role=role, alliance=county.alliance)
    else:
        MembershipFactory(user=user, role=role, institution=county.home)
    return user


def build_world():
    """Two counties; `users` holds one user per role of the first."""
    mine = build_county("义乌市医共体", "330782", 1)
    other = build_county("东阳市医共体", "330783", 2)
    users = {role: user_with_role(role, mine) for role in ROLES}
    return mine, other, users
