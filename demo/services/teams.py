"""Family-doctor teams (家庭医生签约服务团队) and the residents who signed with them (签约居民).

A township branch runs a few teams, each village clinic one. Teams combine general
practitioners with a specialist of a county hospital (全专结合, the rule of
`members.services.add_team_member`); a village team adds a GP of its branch (乡村一体化).
Teams are built from the hierarchy as it stands today (the moved village clinic's team works
with its new branch). Each member holds their place from the first day on which the team rules
hold on that hierarchy: the latest of the member's current posting and the current placements of
their institution and the team's, so a team of the moved clinic begins on the move day and one
of a stable branch at the founding (never after the anchor, nor after today: the members service
dates no team change ahead).
"""

import datetime

from alliance.choices import PlacementRole
from alliance.models import Placement
from alliance.querysets import today
from members import services as members_services
from members.choices import ChronicCondition, Profession, TeamRole, TitleLevel

from .context import FIRST_YEAR, step_faker, step_random
from .county import HOSPITAL_CODES, REGION_CODE
from .identifiers import birth_date, person_name, resident_id

# Specialists serve on teams from the departments chronic and family care needs most.
SPECIALIST_SUBJECTS = ("03", "05", "07", "21", "50", "52")
SENIOR_ENOUGH = (TitleLevel.INTERMEDIATE, TitleLevel.DEPUTY_SENIOR, TitleLevel.SENIOR)


def create_teams(ctx):
    """Teams at every branch (two, plus one per eight villages) and one at every village clinic."""
    rng = ctx.rng("teams")
    specialists = [
        member
        for member in ctx.staff_of(*HOSPITAL_CODES)
        if member.profession == Profession.DOCTOR
        and member.title_level in SENIOR_ENOUGH
        and member.department is not None
        and member.department.code[:2] in SPECIALIST_SUBJECTS
    ]
    next_gp = {}  # branch code → position of the next branch GP lent to a village team
    for spec in ctx.plan:
        if spec.role == PlacementRole.BRANCH:
            villages = sum(1 for other in ctx.plan if other.parent_now == spec.code)
            for number in range(2 + villages // 8):
                _branch_team(ctx, spec, number, rng.choice(specialists))
        elif spec.role == PlacementRole.VILLAGE:
            branch_gps = _general_practitioners(ctx, spec.parent_now)
            position = next_gp.get(spec.parent_now, 0)
            next_gp[spec.parent_now] = position + 1
            _village_team(ctx, spec, branch_gps[position % len(branch_gps)], rng.choice(specialists))


def _branch_team(ctx, spec, number, specialist):
    """Two GPs of the branch, a nurse, a public-health worker and a county specialist."""
    staff = ctx.staff[spec.code]
    gps = _general_practitioners(ctx, spec.code)
    nurses = [m for m in staff if m.profession == Profession.NURSE]
    public_health = [m for m in staff if m.profession == Profession.OTHER]
    members = [(gps[number % len(gps)], TeamRole.GENERAL_PRACTITIONER)]
    members.append((gps[(number + 3) % len(gps)], TeamRole.GENERAL_PRACTITIONER))
    members.append((nurses[number % len(nurses)], TeamRole.NURSE))
    if public_health:
        members.append((public_health[number % len(public_health)], TeamRole.PUBLIC_HEALTH))
    members.append((specialist, TeamRole.SPECIALIST))
    # Teams are named after their leader (张三家庭医生团队); two leaders may share a name.
    name = f"{members[0][0].name}家庭医生团队"
    if any(team.name == name and team.institution == ctx.institutions[spec.code] for team in ctx.teams):
        name = f"{name}（{number + 1}）"
    _team(ctx, spec.code, name, members)


def _village_team(ctx, spec, branch_gp, specialist):
    """The village doctors, a GP of the branch and a county specialist, led by a village doctor
    who is a GP, else by the branch GP."""
    village_doctors = ctx.staff[spec.code]
    members = [
        (doctor, TeamRole.GENERAL_PRACTITIONER)
        for doctor in village_doctors
        if doctor.is_general_practitioner
    ]
    members.append((branch_gp, TeamRole.GENERAL_PRACTITIONER))
    members += [(doctor, TeamRole.OTHER) for doctor in village_doctors if not doctor.is_general_practitioner]
    members.append((specialist, TeamRole.SPECIALIST))
    _team(ctx, spec.code, f"{members[0][0].name}家庭医生团队", members)


def _first_day_of_todays_rules(team, staff):
    """Since when the staff member's posting and both institutions' placements are today's."""
    posting = staff.postings.get(valid_to__isnull=True).valid_from
    placed = Placement.objects.filter(
        institution__in=(team.institution_id, staff.institution_id), valid_to__isnull=True
    ).values_list("valid_from", flat=True)
    return max(posting, *placed)


def _team(ctx, code, name, members):
    """Create the team through the services; the first member leads it. Members are unique
    (a GP may appear twice when a branch has few)."""
    team = members_services.create_team(
        institution=ctx.institutions[code], name=name, leader=members[0][0], acting_user=ctx.acting_user
    )
    seen, latest = set(), min(ctx.dates.anchor, today())
    for staff, role in members:
        if staff.employee_number not in seen:
            seen.add(staff.employee_number)
            joined = min(latest, _first_day_of_todays_rules(team, staff))
            members_services.add_team_member(
                team, staff=staff, role=role, valid_from=joined, acting_user=ctx.acting_user
            )
    ctx.teams.append(team)


def _general_practitioners(ctx, code):
    return [m for m in ctx.staff[code] if m.is_general_practitioner]


# --- Signed residents ------------------------------------------------------------------------
# Who signs (重点人群): children, adults, the middle-aged and above all people over 65.
AGE_GROUPS = ((0, 6, 10), (7, 17, 5), (18, 44, 12), (45, 64, 30), (65, 95, 43))
# Share of residents with each condition, for 45-64 and 65+ (younger: only the rare ones).
CONDITION_RATES = {
    ChronicCondition.HYPERTENSION: (0.25, 0.45),
    ChronicCondition.DIABETES: (0.10, 0.18),
    ChronicCondition.DYSLIPIDEMIA: (0.10, 0.15),
    ChronicCondition.CORONARY: (0.03, 0.08),
    ChronicCondition.STROKE: (0.02, 0.06),
    ChronicCondition.COPD: (0.02, 0.07),
    ChronicCondition.CKD: (0.01, 0.03),
    ChronicCondition.TUBERCULOSIS: (0.003, 0.003),
    ChronicCondition.SEVERE_MENTAL: (0.01, 0.01),
}
ENDED_SHARE = 0.05  # contracts not renewed after a year
FIRST_SIGNING = datetime.date(FIRST_YEAR, 1, 1)  # contracts run to DemoDates.last_signing


def sign_residents(ctx):
    """Sign `scale.signed_residents` residents of the county with the teams; a branch team
    signs about three times as many as a village team."""
    branches = {spec.code for spec in ctx.plan if spec.role == PlacementRole.BRANCH}
    weights = [3 if team.institution.code in branches else 1 for team in ctx.teams]
    residents = resident_roster(ctx.seed, ctx.scale.signed_residents, ctx.dates)
    chosen = ctx.rng("resident-teams").choices(ctx.teams, weights=weights, k=len(residents))
    for team, resident in zip(chosen, residents, strict=True):
        members_services.sign_resident(team=team, acting_user=ctx.acting_user, **resident)


def resident_roster(seed, count, dates):
    """The `count` residents who sign, as `sign_resident` keywords: a pure function of the seed
    and the demo's dates."""
    rng, fake = step_random(seed, "residents"), step_faker(seed, "residents")
    used = set()
    return [resident_profile(rng, fake, used, dates) for _ in range(count)]


def resident_profile(rng, fake, used, dates):
    """Name, a valid and unused resident ID of the county, conditions and contract dates."""
    low, high, _share = rng.choices(AGE_GROUPS, weights=[group[2] for group in AGE_GROUPS])[0]
    born = birth_date(rng, age_from=low, age_to=high, on=dates.age_reference)
    male = rng.random() < 0.5
    while True:
        sequence = rng.randrange(0, 999, 2) + (1 if male else 0)  # odd for men, even for women
        number = resident_id(REGION_CODE, born, sequence)
        if number not in used:
            used.add(number)
            break
    earliest = max(FIRST_SIGNING, born + datetime.timedelta(days=30))
    span = (dates.last_signing - earliest).days + 1
    signed_on = earliest + datetime.timedelta(days=rng.randrange(span))
    ended = rng.random() < ENDED_SHARE
    return {
        "name": person_name(fake, male=male),
        "id_number": number,
        "signed_on": signed_on,
        "valid_to": signed_on + datetime.timedelta(days=365) if ended else None,
        "chronic_conditions": _conditions(rng, dates.age_reference.year - born.year),
    }


def _conditions(rng, age):
    if age < 45:
        rare = (ChronicCondition.TUBERCULOSIS, ChronicCondition.SEVERE_MENTAL)
        return [code for code in rare if age >= 18 and rng.random() < CONDITION_RATES[code][0]]
    column = 0 if age < 65 else 1
    return [code for code, rates in CONDITION_RATES.items() if rng.random() < rates[column]]
