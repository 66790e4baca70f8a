"""Factories of the hierarchy. Placements are made through the services in `place()` so that
tests build the same valid hierarchies as the application does."""

import datetime

import factory

from alliance import services
from alliance.choices import AllianceKind, InstitutionLevel, PlacementRole
from alliance.models import Alliance, Department, Institution

COUNTY = "330782"  # 义乌市 (a real GB/T 2260 county-level code)
FOUNDED = datetime.date(2019, 10, 1)


class AllianceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alliance

    name = factory.Sequence(lambda n: f"测试县医共体{n}")
    kind = AllianceKind.COUNTY
    region_code = COUNTY


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    code = factory.Sequence(lambda n: f"H{n:04d}")
    name = factory.Sequence(lambda n: f"测试医疗机构{n}")
    level = InstitutionLevel.PRIMARY
    region_code = COUNTY
    licensed_beds = 50
    open_beds = 45


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    institution = factory.SubFactory(InstitutionFactory)
    code = factory.Sequence(
        lambda n: ["03", "04", "05", "07", "20", "50", "02"][n % 7] + f".{n % 90 + 10:02d}"
    )
    name = factory.Sequence(lambda n: f"科室{n}")


def place(institution, alliance, role, *, parent=None, valid_from=FOUNDED):
    return services.join_alliance(
        institution, alliance=alliance, role=role, parent=parent, valid_from=valid_from, acting_user=None
    )


def build_alliance(*, alliance=None, branches=2, villages_per_branch=1):
    """A small alliance: lead, one collaborating hospital, branches and village clinics.

    Returns a dict with keys alliance, lead, collaborating, branches, villages.
    """
    alliance = alliance or AllianceFactory()
    lead = InstitutionFactory(level=InstitutionLevel.SECONDARY, name="县人民医院")
    collaborating = InstitutionFactory(level=InstitutionLevel.SECONDARY, name="县中医院")
    place(lead, alliance, PlacementRole.LEAD)
    place(collaborating, alliance, PlacementRole.COLLABORATING)
    branch_list, village_list = [], []
    for _ in range(branches):
        branch = InstitutionFactory()
        place(branch, alliance, PlacementRole.BRANCH)
        branch_list.append(branch)
        for _ in range(villages_per_branch):
            village = InstitutionFactory()
            place(village, alliance, PlacementRole.VILLAGE, parent=branch)
            village_list.append(village)
    return {
        "alliance": alliance,
        "lead": lead,
        "collaborating": collaborating,
        "branches": branch_list,
        "villages": village_list,
    }


def credit_code(n, region="330782"):
    """A valid unified social credit code (GB 32100 check character) for sequence number `n`."""
    from stdnum.cn import uscc

    body = f"91{region}MA2{n % 1_000_000:06d}"
    return body + uscc.calc_check_digit(body)


def placement_of(institution, on):
    """The institution's placement on `on`, fresh from the database (or None)."""
    from alliance.models import Placement

    return Placement.objects.filter(institution=institution).on(on).first()
