"""Factories of people. Staff, teams and residents go through the services (they keep the
posting history, the encryption and the keyed hash)."""

import datetime

import factory
from stdnum.cn import ric

from alliance.models import Placement
from members import services
from members.choices import Gender, Profession, TitleLevel
from members.models import Membership
from tests.alliance.factories import FOUNDED
from tests.core.factories import UserFactory


def resident_id(n, birth="19650315", region="330782"):
    """A valid 18-character resident ID (GB 11643 check digit) for sequence number `n`."""
    body = f"{region}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = "clinician"


def staff(institution, *, alliance=None, n=None, **fields):
    alliance = alliance or Placement.objects.filter(institution=institution).first().alliance
    n = n if n is not None else staff.counter
    staff.counter += 1
    defaults = {
        "employee_number": f"E{n:05d}",
        "name": f"职工{n}",
        "gender": Gender.FEMALE,
        "profession": Profession.DOCTOR,
        "title_level": TitleLevel.INTERMEDIATE,
        "title": "主治医师",
        "licence_number": f"1103301{n:08d}",
    }
    defaults.update(fields)
    return services.hire_staff(
        alliance=alliance, institution=institution, valid_from=FOUNDED, acting_user=None, **defaults
    )


staff.counter = 1


def team(institution, name=None):
    team.counter += 1
    return services.create_team(
        institution=institution, name=name or f"家庭医生团队{team.counter}", acting_user=None
    )


team.counter = 0


def resident(team_, n=1, **fields):
    return services.sign_resident(
        team=team_,
        name=fields.pop("name", "张三"),
        id_number=fields.pop("id_number", resident_id(n)),
        signed_on=fields.pop("signed_on", datetime.date(2024, 1, 1)),
        acting_user=None,
        **fields,
    )
