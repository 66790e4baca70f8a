"""The demo county: 浦江县 (Pujiang, Jinhua, Zhejiang; GB/T 2260 code 330726), its alliance and the
institutions of its hierarchy (DESIGN §3, §7): the county people's hospital leads, the TCM
hospital and the maternal-child health centre collaborate, fifteen township health centres (one
per township and sub-district, 乡镇卫生院 / 社区卫生服务中心) are its branches, and 200 village
clinics (村卫生室) hang under them.

`county_plan(seed)` is the pure description (codes, names, beds, departments, head counts); the
steps below register it through `alliance.services` only.
"""

from dataclasses import dataclass

from alliance import services as alliance_services
from alliance.choices import AllianceKind, InstitutionLevel, PlacementRole
from alliance.department_codes import COMMON_SUBJECTS, STANDARD_SUBJECTS

from .context import FOUNDED, step_random
from .identifiers import credit_code

REGION_CODE = "330726"  # 浦江县, 浙江省金华市
ALLIANCE_NAME = "浦江县医共体"
# Resident population (常住人口) per year: demo figures near the county's census figure; later
# years (up to the anchor's) grow by POPULATION_GROWTH a year.
POPULATION = {
    2020: 461_800,
    2021: 463_200,
    2022: 464_100,
    2023: 465_900,
    2024: 467_300,
    2025: 468_600,
    2026: 469_800,
}
POPULATION_GROWTH = 1_200

DEPARTMENT_NAMES = {**STANDARD_SUBJECTS, **COMMON_SUBJECTS}

LEAD_DEPARTMENTS = (
    "02", "03.01", "03.02", "03.03", "03.04", "03.06", "03.07", "04.01", "04.02", "04.03", "04.04",
    "04.05", "05.01", "05.02", "07", "10", "11", "12", "13", "15", "16", "19", "20", "21", "26", "28",
    "30", "31", "32", "50",
)  # fmt: skip
TCM_DEPARTMENTS = ("03", "04.03", "07", "13", "20", "21", "27", "30", "32", "50", "52")
MCH_DEPARTMENTS = ("01", "05.01", "05.02", "06", "07", "09", "30", "32")
# Every township health centre offers these; a central one (中心卫生院) adds surgery, obstetrics…
BRANCH_DEPARTMENTS = ("01", "02", "03", "30", "50")
CENTRAL_BRANCH_DEPARTMENTS = ("04", "05", "07", "12", "20", "21", "32")
VILLAGE_DEPARTMENTS = ("02",)  # 全科医疗科

# (key, code, name, level, role, licensed beds, open beds, departments, staff)
HOSPITALS = (
    ("lead", "H0001", "浦江县人民医院", InstitutionLevel.TERTIARY, PlacementRole.LEAD, 900, 860, LEAD_DEPARTMENTS, 1050),
    ("tcm", "H0002", "浦江县中医院", InstitutionLevel.SECONDARY, PlacementRole.COLLABORATING, 400, 380, TCM_DEPARTMENTS, 450),
    ("mch", "H0003", "浦江县妇幼保健院", InstitutionLevel.SECONDARY, PlacementRole.COLLABORATING, 120, 100, MCH_DEPARTMENTS, 178),
)  # fmt: skip
HOSPITAL_CODES = tuple(hospital[1] for hospital in HOSPITALS)
LEAD_CODE, TCM_CODE = "H0001", "H0002"
# Townships and sub-districts of the county with their number of village clinics (200 in all)
# and whether the health centre is a central one.
TOWNSHIPS = (
    ("浦阳街道", 16, False),
    ("仙华街道", 14, False),
    ("浦南街道", 14, False),
    ("岩头镇", 18, True),
    ("郑宅镇", 14, False),
    ("黄宅镇", 20, True),
    ("白马镇", 16, True),
    ("郑家坞镇", 12, False),
    ("杭坪镇", 14, True),
    ("檀溪镇", 12, False),
    ("虞宅乡", 10, False),
    ("大畈乡", 10, False),
    ("中余乡", 8, False),
    ("前吴乡", 10, False),
    ("花桥乡", 12, False),
)
# The township branch of the demo accounts (township_admin, township_doctor, his_township).
DEMO_TOWNSHIP = "黄宅镇"
# The first village clinic of this township moves to the demo township's branch on the move day
# (an adjustment of township boundaries, 行政区划调整), so the placement history shows a change.
MOVING_FROM_TOWNSHIP = "郑家坞镇"
# Well-known villages of the county, named first in their township; the rest are generated.
KNOWN_VILLAGES = {"白马镇": ("嵩溪村",), "虞宅乡": ("新光村",)}


@dataclass(frozen=True)
class InstitutionSpec:
    """One institution of the plan: what `register_institution` and `join_alliance` receive,
    plus the departments to open and the number of staff to hire there."""

    key: str
    code: str
    name: str
    level: str
    role: str
    parent: str | None  # code of the parent institution at foundation
    licensed_beds: int
    open_beds: int
    credit_serial: int | None  # None: no unified social credit code (most village clinics)
    departments: tuple
    staff: int
    township: str | None = None
    moves_to: str | None = None  # code of the branch it moves under on the move day (DemoDates)

    @property
    def parent_now(self):
        return self.moves_to or self.parent


def branch_code(township):
    return f"H{101 + _township_index(township):04d}"


def village_code(township, position):
    """Village clinics are numbered H1001… through the townships in order."""
    index = _township_index(township)
    return f"H{1001 + sum(count for _name, count, _central in TOWNSHIPS[:index]) + position:04d}"


def _township_index(township):
    return [name for name, _count, _central in TOWNSHIPS].index(township)


def county_plan(seed):
    """Every institution of the county in registration order (parents before children)."""
    rng = step_random(seed, "plan")
    hospitals = [
        InstitutionSpec(key, code, name, level, role, None, beds, open_beds, serial, departments, staff)
        for serial, (key, code, name, level, role, beds, open_beds, departments, staff) in enumerate(
            HOSPITALS, start=1
        )
    ]
    branches = [_branch_spec(rng, township, count, central) for township, count, central in TOWNSHIPS]
    villages = _village_specs(rng)
    return hospitals + branches + villages


def _branch_spec(rng, township, villages, central):
    """A township health centre: beds and staff grow with the villages it serves."""
    kind = "社区卫生服务中心" if township.endswith("街道") else ("中心卫生院" if central else "卫生院")
    beds = rng.randrange(60, 100) if central else rng.randrange(20, 50)
    departments = BRANCH_DEPARTMENTS + (CENTRAL_BRANCH_DEPARTMENTS if central else ())
    return InstitutionSpec(
        key=f"branch:{township}",
        code=branch_code(township),
        name=f"浦江县{township}{kind}",
        level=InstitutionLevel.PRIMARY,
        role=PlacementRole.BRANCH,
        parent=LEAD_CODE,  # 分院 of the lead hospital (紧密型: one legal person, 总院-分院)
        licensed_beds=beds,
        open_beds=beds - rng.randrange(0, 6),
        credit_serial=100 + _township_index(township),
        departments=tuple(sorted(departments)),
        staff=30 + 3 * villages,
        township=township,
    )


def _village_specs(rng):
    names = village_names(rng)
    specs = []
    for township, count, _central in TOWNSHIPS:
        for position in range(count):
            moving = township == MOVING_FROM_TOWNSHIP and position == 0
            specs.append(
                InstitutionSpec(
                    key=f"village:{township}:{position}",
                    code=village_code(township, position),
                    name=f"{names[(township, position)]}卫生室",
                    level=InstitutionLevel.PRIMARY,
                    role=PlacementRole.VILLAGE,
                    parent=branch_code(township),
                    licensed_beds=0,
                    open_beds=0,
                    credit_serial=None,
                    departments=VILLAGE_DEPARTMENTS,
                    staff=2 if position % 3 == 0 else 1,  # 乡村医生, a second one in larger villages
                    township=township,
                    moves_to=branch_code(DEMO_TOWNSHIP) if moving else None,
                )
            )
    return specs


VILLAGE_CLANS = "郑黄张王吴何楼陈方傅周朱洪石蒋"
VILLAGE_FIRST = "上下前后东西南北大小新横石长高竹龙梅桃白青马红金双"
VILLAGE_SECOND = "山溪坞岭塘桥湾坑畈岗庄口亭林田源垅墩店"


def village_names(rng):
    """A village name (行政村) for every (township, position), unique in the county: clan
    villages (楼宅村, 傅家村), landscape names (横山村, 石坞村) and the well-known ones."""
    # Never name a village after a township: a 黄宅村 under 浦阳街道 would confuse users.
    taken = {
        f"{township[:-2] if township.endswith('街道') else township[:-1]}村" for township, *_ in TOWNSHIPS
    }
    names = {}
    for township, count, _central in TOWNSHIPS:
        known = list(KNOWN_VILLAGES.get(township, ()))
        for position in range(count):
            name = known.pop(0) if known else _new_village_name(rng, taken)
            taken.add(name)
            names[(township, position)] = name
    return names


def _new_village_name(rng, taken):
    while True:
        if rng.random() < 0.4:
            stem = rng.choice(VILLAGE_CLANS) + rng.choice("宅家店")
        else:
            stem = rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND)
            if rng.random() < 0.2:
                stem += rng.choice("头下里")
        name = f"{stem}村"
        if name not in taken:
            return name


# --- Steps -----------------------------------------------------------------------------------
def population(year):
    """The resident population of `year`: POPULATION, then growing by POPULATION_GROWTH a year."""
    last = max(POPULATION)
    return POPULATION.get(year, POPULATION[last] + POPULATION_GROWTH * (year - last))


def create_alliance(ctx):
    """The alliance (浦江县医共体), chartered on the founding day, and its population per year."""
    ctx.alliance = alliance_services.create_alliance(
        name=ALLIANCE_NAME,
        kind=AllianceKind.COUNTY,
        region_code=REGION_CODE,
        charter_date=FOUNDED,
        acting_user=ctx.acting_user,
    )
    for year in ctx.dates.years:
        alliance_services.set_population(
            ctx.alliance, year=year, resident_population=population(year), acting_user=ctx.acting_user
        )


def register_institutions(ctx):
    """Register every institution of the plan and place it in the alliance from the founding
    day: branches under the lead hospital, village clinics under their branch."""
    for spec in ctx.plan:
        institution = alliance_services.register_institution(
            code=spec.code,
            name=spec.name,
            level=spec.level,
            credit_code=credit_code(REGION_CODE, spec.credit_serial) if spec.credit_serial else "",
            region_code=REGION_CODE,
            licensed_beds=spec.licensed_beds,
            open_beds=spec.open_beds,
            acting_user=ctx.acting_user,
        )
        alliance_services.join_alliance(
            institution,
            alliance=ctx.alliance,
            role=spec.role,
            parent=ctx.institutions[spec.parent] if spec.parent else None,
            valid_from=FOUNDED,
            acting_user=ctx.acting_user,
        )
        ctx.institutions[spec.code] = institution


# Out-of-county receivers (issue 13 point 5): the city and the provincial hospital the alliance
# has partnership agreements with (对口帮扶); referred to up and out of the county, with a reason.
PARTNERS = (
    ("P3307001", "金华市中心医院", "330702", ("03", "04", "07", "30")),
    ("P3301001", "浙江省人民医院", "330106", ("03", "04", "07", "19", "30")),
)


def register_partners(ctx):
    """Register the partner hospitals and place them in the alliance as partners from the
    founding day, with the departments patients are referred to."""
    for code, name, region, departments in PARTNERS:
        institution = alliance_services.register_institution(
            code=code, name=name, level=InstitutionLevel.TERTIARY, region_code=region,
            licensed_beds=2000, open_beds=1900, acting_user=ctx.acting_user,
        )  # fmt: skip
        alliance_services.join_alliance(
            institution, alliance=ctx.alliance, role=PlacementRole.PARTNER, valid_from=FOUNDED,
            acting_user=ctx.acting_user,
        )  # fmt: skip
        for department in departments:
            alliance_services.create_department(
                institution=institution, code=department, name=DEPARTMENT_NAMES[department],
                acting_user=ctx.acting_user,
            )  # fmt: skip


def create_departments(ctx):
    """Open each institution's departments under their standard codes (诊疗科目代码)."""
    for spec in ctx.plan:
        for code in spec.departments:
            ctx.departments[(spec.code, code)] = alliance_services.create_department(
                institution=ctx.institutions[spec.code],
                code=code,
                name=DEPARTMENT_NAMES[code],
                acting_user=ctx.acting_user,
            )


def move_village_clinic(ctx):
    """The one village clinic that changes branch on the move day: its first period ends the
    day before, the new one begins that day, and both stay in the history."""
    for spec in ctx.plan:
        if spec.moves_to:
            alliance_services.move_institution(
                ctx.institutions[spec.code],
                on=ctx.dates.move_on,
                parent=ctx.institutions[spec.moves_to],
                acting_user=ctx.acting_user,
            )


def moved_on(ctx):
    """The day the village clinic of a county loaded earlier moved (None if it has not)."""
    for spec in ctx.plan:
        if spec.moves_to and spec.code in ctx.institutions:
            placements = ctx.institutions[spec.code].placements
            return placements.filter(parent__code=spec.moves_to).values_list("valid_from", flat=True).first()
    return None
