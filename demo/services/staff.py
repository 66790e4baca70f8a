"""Staff of the demo county (统一招聘、统筹使用): about 3,000 people hired by the alliance and posted
to its institutions from the founding day, a few later transfers, and the doctors of the county
hospitals stationed at the township branches (下沉/派驻) every year."""

import datetime

from alliance.choices import PlacementRole
from members import services as members_services
from members.choices import Gender, Profession, SecondmentKind, TitleLevel

from .context import FIRST_YEAR, FOUNDED, step_faker, step_random
from .county import HOSPITAL_CODES, REGION_CODE, TCM_CODE, TOWNSHIPS, branch_code
from .identifiers import licence_number, person_name

TIER_OF_ROLE = {
    PlacementRole.LEAD: "hospital",
    PlacementRole.COLLABORATING: "hospital",
    PlacementRole.BRANCH: "branch",
}
PROFESSION_WEIGHTS = {
    "hospital": {
        Profession.DOCTOR: 38, Profession.NURSE: 45, Profession.PHARMACIST: 5,
        Profession.TECHNICIAN: 9, Profession.OTHER: 3,
    },
    "branch": {
        Profession.DOCTOR: 40, Profession.NURSE: 33, Profession.PHARMACIST: 6,
        Profession.TECHNICIAN: 9, Profession.OTHER: 12,  # 公共卫生 staff
    },
}  # fmt: skip
# Title levels of doctors by tier; nurses, pharmacists and technicians have fewer senior titles.
TITLE_WEIGHTS = {
    "hospital": {
        TitleLevel.NONE: 3, TitleLevel.JUNIOR: 32, TitleLevel.INTERMEDIATE: 35,
        TitleLevel.DEPUTY_SENIOR: 20, TitleLevel.SENIOR: 10,
    },
    "branch": {
        TitleLevel.NONE: 6, TitleLevel.JUNIOR: 46, TitleLevel.INTERMEDIATE: 36,
        TitleLevel.DEPUTY_SENIOR: 10, TitleLevel.SENIOR: 2,
    },
}  # fmt: skip
NON_DOCTOR_TITLE_WEIGHTS = {
    TitleLevel.NONE: 4, TitleLevel.JUNIOR: 54, TitleLevel.INTERMEDIATE: 32,
    TitleLevel.DEPUTY_SENIOR: 8, TitleLevel.SENIOR: 2,
}  # fmt: skip
LEVELS = (TitleLevel.JUNIOR, TitleLevel.INTERMEDIATE, TitleLevel.DEPUTY_SENIOR, TitleLevel.SENIOR)
TITLES = {
    "doctor": ("医师", "主治医师", "副主任医师", "主任医师"),
    "tcm": ("中医师", "主治中医师", "副主任中医师", "主任中医师"),
    Profession.NURSE: ("护师", "主管护师", "副主任护师", "主任护师"),
    Profession.PHARMACIST: ("药师", "主管药师", "副主任药师", "主任药师"),
    Profession.TECHNICIAN: ("技师", "主管技师", "副主任技师", "主任技师"),
}
LICENCE_KIND = {Profession.DOCTOR: "doctor", Profession.NURSE: "nurse", Profession.PHARMACIST: "pharmacist"}
# Departments by who works there: laboratory and imaging take the technicians.
TECHNICAL_DEPARTMENTS = ("30", "31", "32")
TCM_DEPARTMENTS = ("50", "52")
# A branch's first doctors work in general practice, so every branch has GPs for its teams.
BRANCH_GP_MINIMUM = 3
FEMALE_SHARE = {Profession.NURSE: 0.93, Profession.DOCTOR: 0.45}


def hire_staff(ctx):
    """Hire every institution's staff from the founding day, through `members.services.hire_staff`."""
    for code, fields, department_code in staff_roster(ctx.seed, ctx.plan):
        ctx.staff.setdefault(code, []).append(
            members_services.hire_staff(
                alliance=ctx.alliance,
                institution=ctx.institutions[code],
                department=ctx.departments.get((code, department_code)),
                valid_from=FOUNDED,
                acting_user=ctx.acting_user,
                **fields,
            )
        )


def staff_roster(seed, plan):
    """(institution code, hire fields, department code) of everyone hired, in hiring order: a
    pure function of the seed and the plan."""
    rng, fake = step_random(seed, "staff"), step_faker(seed, "staff")
    serials = {"employee": 0, "doctor": 0, "nurse": 0, "pharmacist": 0, "village": 0}
    roster = []
    for spec in plan:
        doctors = 0
        for _ in range(spec.staff):
            fields, department = staff_profile(
                rng, fake, spec, serials, first_doctors=doctors < BRANCH_GP_MINIMUM
            )
            doctors += fields["profession"] == Profession.DOCTOR
            roster.append((spec.code, fields, department))
    return roster


def staff_profile(rng, fake, spec, serials, *, first_doctors):
    """The fields of the next person hired at `spec` and their department code."""
    serials["employee"] += 1
    if spec.role == PlacementRole.VILLAGE:
        fields, department = _village_doctor(rng, serials), "02"
    else:
        tier = TIER_OF_ROLE[spec.role]
        profession = _weighted(rng, PROFESSION_WEIGHTS[tier])
        first_doctors = first_doctors and spec.role == PlacementRole.BRANCH
        department = _department(rng, spec, profession, first_doctors=first_doctors)
        fields = _professional(rng, tier, profession, department, spec, serials)
    male = rng.random() >= FEMALE_SHARE.get(fields["profession"], 0.55)
    fields.update(employee_number=f"E{serials['employee']:05d}", name=person_name(fake, male=male))
    fields["gender"] = Gender.MALE if male else Gender.FEMALE
    return fields, department


def _village_doctor(rng, serials):
    """A village doctor (乡村医生); about a third hold the rural GP assistant licence."""
    serials["village"] += 1
    general = rng.random() < 0.3
    return {
        "profession": Profession.DOCTOR,
        "title_level": TitleLevel.JUNIOR if general else TitleLevel.NONE,
        "title": "乡村全科执业助理医师" if general else "乡村医生",
        "licence_number": licence_number(
            "assistant" if general else "village",
            region_code=REGION_CODE,
            year=rng.randrange(1995, 2019),
            serial=serials["village"],
        ),
        "is_general_practitioner": general,
    }


def _professional(rng, tier, profession, department, spec, serials):
    weights = TITLE_WEIGHTS[tier] if profession == Profession.DOCTOR else NON_DOCTOR_TITLE_WEIGHTS
    level = _weighted(rng, weights) if profession != Profession.OTHER else TitleLevel.NONE
    titles = TITLES.get(profession)
    if profession == Profession.DOCTOR:
        titles = TITLES["tcm" if department in TCM_DEPARTMENTS or spec.code == TCM_CODE else "doctor"]
    title = titles[LEVELS.index(level)] if titles and level != TitleLevel.NONE else ""
    kind = LICENCE_KIND.get(profession)
    number = ""
    if kind:
        serials[kind] += 1
        number = licence_number(
            kind, region_code=REGION_CODE, year=rng.randrange(1990, 2019), serial=serials[kind]
        )
    general = profession == Profession.DOCTOR and (
        department == "02" or (tier == "branch" and rng.random() < 0.45)
    )
    return {
        "profession": profession,
        "title_level": level,
        "title": title,
        "licence_number": number,
        "is_general_practitioner": general,
    }


def _department(rng, spec, profession, *, first_doctors):
    clinical = [code for code in spec.departments if code[:2] not in TECHNICAL_DEPARTMENTS]
    if profession == Profession.DOCTOR:
        if first_doctors:
            return "02"
        return rng.choice(clinical + [code for code in spec.departments if code in ("31", "32")])
    if profession == Profession.NURSE:
        return rng.choice(clinical)
    if profession == Profession.TECHNICIAN:
        technical = [code for code in spec.departments if code in TECHNICAL_DEPARTMENTS]
        return rng.choice(technical) if technical else None
    return None  # pharmacists and administrative staff belong to no clinical department


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# --- Secondments (下沉) -----------------------------------------------------------------------
SENIOR_ENOUGH = (TitleLevel.INTERMEDIATE, TitleLevel.DEPUTY_SENIOR, TitleLevel.SENIOR)


def second_doctors(ctx):
    """Every year each branch receives doctors of the county hospitals: one stationed for six
    months or more inside the year (派驻6个月以上; in 2020, the first year, only every other
    branch), one stationed for a few months, and one on visiting rounds (巡诊). The anchor's
    year has its whole plan: secondments are agreed at the start of the year."""
    rng = ctx.rng("secondments")
    pool = [
        member
        for member in ctx.staff_of(*HOSPITAL_CODES)
        if member.profession == Profession.DOCTOR and member.title_level in SENIOR_ENOUGH
    ]
    busy_until = {}
    for year in ctx.dates.years:
        for index, (township, _count, _central) in enumerate(TOWNSHIPS):
            branch = ctx.institutions[branch_code(township)]
            long = year > FIRST_YEAR or index % 2 == 0
            for kind, start, end in _secondment_periods(rng, year, long=long):
                doctor = _free_doctor(rng, pool, busy_until, start)
                busy_until[doctor.pk] = end
                members_services.second_staff(
                    doctor,
                    to_institution=branch,
                    start_date=start,
                    end_date=end,
                    kind=kind,
                    notes=_secondment_note(kind, doctor, branch),
                    acting_user=ctx.acting_user,
                )


def _secondment_periods(rng, year, *, long):
    """(kind, start, end) of one branch's secondments in `year`; end dates are exclusive."""
    periods = []
    if long:  # starts in Q1 and lasts 7-12 months: at least 214 days inside the year
        start = datetime.date(year, rng.randint(1, 3), 1)
        periods.append((SecondmentKind.STATIONED, start, _add_months(start, rng.choice((7, 8, 9, 12)))))
    short = datetime.date(year, rng.randint(4, 8), 1)
    periods.append((SecondmentKind.STATIONED, short, _add_months(short, rng.randint(2, 4))))
    rounds = datetime.date(year, rng.randint(3, 10), rng.randint(1, 20))
    periods.append((SecondmentKind.PATROL, rounds, rounds + datetime.timedelta(days=rng.choice((14, 30)))))
    return periods


def _free_doctor(rng, pool, busy_until, start):
    """A doctor of the pool not seconded elsewhere on `start` (one posting at a time)."""
    for _ in range(len(pool) * 2):
        doctor = rng.choice(pool)
        if busy_until.get(doctor.pk, start) <= start:
            return doctor
    raise RuntimeError("no doctor free for a secondment")  # the pool is far larger than needed


def _secondment_note(kind, doctor, branch):
    department = doctor.department.name if doctor.department else "临床"
    if kind == SecondmentKind.PATROL:
        return f"{department}专家到{branch.name}巡诊"
    return f"{department}医师派驻{branch.name}：坐诊、查房、带教"


def _add_months(date, months):
    month = date.month - 1 + months
    return date.replace(year=date.year + month // 12, month=month % 12 + 1)


# --- Transfers (统筹使用) ---------------------------------------------------------------------
TRANSFERS = 24  # staff of one branch posted to another, between 2021 and 2025


def transfer_staff(ctx):
    """Post some branch staff to another branch (the alliance deploys its people where needed),
    so the posting history of a staff member shows a change."""
    rng = ctx.rng("transfers")
    branches = [branch_code(township) for township, _count, _central in TOWNSHIPS]
    moved_already = set()
    for _ in range(TRANSFERS):
        source, target = rng.sample(branches, 2)
        member = rng.choice([m for m in ctx.staff[source] if _transferable(m, moved_already)])
        department = member.department.code if member.department else None
        moved = members_services.post_staff(
            member,
            institution=ctx.institutions[target],
            department=ctx.departments.get((target, department)),
            on=datetime.date(rng.randint(2021, 2025), rng.randint(1, 12), 1),
            acting_user=ctx.acting_user,
        )
        ctx.staff[source].remove(member)
        ctx.staff[target].append(moved)
        moved_already.add(moved.employee_number)


def _transferable(member, moved_already):
    """Doctors and nurses, once each; general practitioners stay to keep their branch's teams."""
    return (
        member.profession in (Profession.DOCTOR, Profession.NURSE)
        and not member.is_general_practitioner
        and member.employee_number not in moved_already
    )
