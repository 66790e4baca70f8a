"""A year of activity in the demo county (issue 5 point 5): outpatient visits and admissions as
the hospitals' HIS and the insurance feed would have sent them, bulk-inserted (bulk.py) rather
than sent through the ingestion service: millions of rows must load in seconds.

- Period: the thirteen whole months before the month of the anchor (context.DemoDates: with the
  anchor 2026-12-03, 2025-11 … 2026-11), so the dashboards' last full month is the month before
  the one `make demo` runs in and has its same month a year before, and a seed with an anchor
  always gives the same rows. Nothing is received after the anchor (activity_rows.Calendar).
- Visits: about 60% in primary care (branches and village clinics), the lead hospital the
  biggest single institution; ~95% by county residents, the rest by neighbouring counties'; a
  few percent of residents' visits outside the county, reported by the insurance feed.
- Admissions: ~15% of residents' admissions outside the county (insurance feed, `in_county`
  false), the rest at the county hospitals and the branches' wards.
- Senders: every hospital and branch has its HIS client (`his_lead`, `his_township`, else
  `his_<code>`); a branch's HIS also sends its village clinics' rows (乡村一体化), so the clinic
  that changed branch on the move day is sent by its old branch before and its new one after.
- Submission control: the maternal-child health centre's HIS stops sending from the 24th of the
  last month (an interface outage) and one village clinic of 浦南街道 stops from its 20th (no
  doctor on duty), so the last month shows two silent institutions. Two village clinics sent
  nothing for a whole month earlier in the year (CLOSED), so those months are incomplete.
- Siphoning (虹吸, issue 15 point 7): the lead hospital opened a new outpatient building with
  specialist clinics three months before the anchor's month, and drew a growing share of the
  townships' and villages' visits from then on (DRAWN): the same visits a day, but in the last
  month the lead's share is higher, and primary care's lower, than three months and a year
  before, which the month's computation warns of (assessment.services.warnings).
- Patients: a pool of resident IDs of the county (the signed residents first, then synthetic
  valid GB 11643 numbers) hashed once each with `patient_key`; chronic patients, the front of
  the pool, visit most often. No raw ID is stored.
"""

import datetime
from dataclasses import dataclass, field

from alliance.choices import PlacementRole
from core.identity import patient_key
from encounters.models import Admission, OutpatientVisit, OutsideFacility
from members import services as members_services
from members.choices import Gender, MembershipRole
from members.models import SignedResident

from . import casemix as mix
from .accounts import ACCOUNTS, ensure_user
from .activity_rows import Calendar, admission_rows, visit_rows
from .bulk import insert_rows
from .context import add_months, step_random
from .county import LEAD_CODE, REGION_CODE, village_code
from .identifiers import birth_date, resident_id

# The day of the last month from which an institution stops sending (submission control).
SILENT = {"H0003": 24, village_code("浦南街道", 3): 20}
# Village clinics that sent no record for a whole month, this many months before the anchor's
# (an incomplete month): one closed for its renovation (标准化村卫生室改造), one whose only doctor
# was at the county's village-doctor training (村医轮训) with no one to stand in. Their patients
# went to the other institutions that month.
CLOSED = {village_code("白马镇", 5): 8, village_code("檀溪镇", 2): 5}
# The lead hospital's new outpatient building (门诊综合楼) opened this many months before the
# anchor's month; in its first months it drew these shares of primary care's visits (siphoning).
BUILDING_MONTHS_BACK = 3
DRAWN = (0.04, 0.07, 0.10)
# Shares of visits and admissions (percent) by kind of institution: branches share theirs by
# staff (visits) and open beds (admissions), village clinics evenly. Primary care: 38 + 22.
VISIT_SHARES = {"lead": 24, "tcm": 10, "mch": 6, PlacementRole.BRANCH: 38, PlacementRole.VILLAGE: 22}
ADMISSION_SHARES = {"lead": 45, "tcm": 17, "mch": 8, PlacementRole.BRANCH: 30}
TCM_SHARES = {"tcm": 0.5, PlacementRole.VILLAGE: 0.1}  # 中医院; 村医的中医适宜技术
SOURCES = {"lead": "HIS-WINNING", "tcm": "HIS-DHC", "mch": "HIS-NEUSOFT", PlacementRole.BRANCH: "HIS-BSOFT"}
INSURANCE_SOURCE = "YB-ZJ"  # 浙江省医疗保障信息平台
INSURANCE_USERNAME = "insurance"
VISIT_COLUMNS = (
    "client", "source", "external_id", "alliance", "month", "institution", "outside_facility",
    "department", "patient_key", "resident_region", "is_resident", "in_county", "diagnosis",
    "total_cost", "insurance_paid", "tcm", "received_at", "visit_date",
)  # fmt: skip
ADMISSION_COLUMNS = (*VISIT_COLUMNS[:-1], "admit_date", "discharge_date")
# Ages of the patients (from, to, weight): the old visit most; neighbours' residents alike.
PATIENT_AGES = ((0, 6, 9), (7, 17, 7), (18, 44, 28), (45, 64, 31), (65, 95, 25))
NEIGHBOURS_PER_RESIDENT = 1 / 15
DESCRIPTIONS = {name: chinese for name, _role, _scope, chinese, _english in ACCOUNTS}


def recorded(alliance):
    """Whether the alliance has activity already (the steps below then do nothing)."""
    return OutpatientVisit.objects.filter(alliance=alliance).exists()


# --- Steps -----------------------------------------------------------------------------------
def register_clients(ctx):
    """The API clients that send the activity, and the facilities outside the county."""
    for code, name, region, level, _weight in mix.OUTSIDE_FACILITIES:
        ctx.facilities[code] = OutsideFacility.objects.get_or_create(
            code=code, defaults={"name": name, "region_code": region, "level": level}
        )[0]
    demo_clients = {scope: name for name, role, scope, *_ in ACCOUNTS if role == MembershipRole.API_CLIENT}
    for spec in ctx.plan:
        if spec.role != PlacementRole.VILLAGE:
            username = demo_clients.get(spec.code, f"his_{spec.code.lower()}")
            ctx.clients[spec.code] = _his_client(ctx, ctx.institutions[spec.code], username)
    insurance = ensure_user(INSURANCE_USERNAME, first_name=DESCRIPTIONS[INSURANCE_USERNAME])
    members_services.grant_membership(
        insurance, role=MembershipRole.INSURANCE_FEED, alliance=ctx.alliance, acting_user=ctx.acting_user
    )
    ctx.clients[INSURANCE_USERNAME] = insurance


def _his_client(ctx, institution, username):
    """The HIS API client of `institution`; one that is not a demo login has no password
    (a machine account: it authenticates with a token)."""
    user = ensure_user(username, first_name=DESCRIPTIONS.get(username, f"{institution.name} HIS 接口"))
    if username not in DESCRIPTIONS and user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    members_services.grant_membership(
        user, role=MembershipRole.API_CLIENT, institution=institution, acting_user=ctx.acting_user
    )
    return user


def record_visits(ctx):
    """`scale.visits` outpatient visits over the period, inserted in bulk."""
    if recorded(ctx.alliance):
        return
    rows = visit_rows(
        layout(ctx), patient_pool(ctx), ctx.rng("visits"), ctx.scale.visits, Calendar(ctx.dates)
    )
    insert_rows(OutpatientVisit, VISIT_COLUMNS, rows)


def record_admissions(ctx):
    """`scale.admissions` admissions discharged over the period, inserted in bulk."""
    if Admission.objects.filter(alliance=ctx.alliance).exists():
        return
    rows = admission_rows(
        layout(ctx), patient_pool(ctx), ctx.rng("admissions"), ctx.scale.admissions, Calendar(ctx.dates)
    )
    insert_rows(Admission, ADMISSION_COLUMNS, rows)


# --- What the generators see -------------------------------------------------------------------
@dataclass
class Site:
    """An institution of the county as the generators see it."""

    code: str
    id: int
    tier: str  # casemix.VILLAGE, BRANCH or HOSPITAL
    in_county: bool  # its region is the county's (every member of a county alliance)
    departments: dict  # department code → id
    senders: tuple  # (user id, source) of the client sending its rows before the move day, and from it
    visit_weight: float
    admission_weight: float
    tcm_share: float  # share of its rows flagged TCM outside the TCM departments
    silent_from: datetime.date | None  # its rows stop on this day (submission control)
    closed_in: datetime.date | None = None  # the first of a month in which it sent nothing


@dataclass
class Layout:
    alliance_id: int
    region: str  # the county's region code
    sites: list
    insurance: tuple  # (user id, source)
    facilities: list  # (id, region, weight, tcm) of the outside facilities
    lead: str = LEAD_CODE  # the code of the lead hospital
    drawn: dict = field(default_factory=dict)  # month text → share of primary visits the lead draws


def layout(ctx):
    """The sites, senders and outside facilities, from the plan and the context's objects."""
    departments = {}
    for (code, subject), department in ctx.departments.items():
        departments.setdefault(code, {})[subject] = department.pk
    branches = [spec for spec in ctx.plan if spec.role == PlacementRole.BRANCH]
    villages = sum(1 for spec in ctx.plan if spec.role == PlacementRole.VILLAGE)
    staff, beds = sum(spec.staff for spec in branches), sum(spec.open_beds for spec in branches)
    sites = []
    for spec in ctx.plan:
        kind = spec.key if spec.role in (PlacementRole.LEAD, PlacementRole.COLLABORATING) else spec.role
        if kind == PlacementRole.BRANCH:
            weights = VISIT_SHARES[kind] * spec.staff / staff, ADMISSION_SHARES[kind] * spec.open_beds / beds
        elif kind == PlacementRole.VILLAGE:
            weights = VISIT_SHARES[kind] / villages, 0
        else:
            weights = VISIT_SHARES[kind], ADMISSION_SHARES[kind]
        sites.append(_site(ctx, spec, kind, departments.get(spec.code, {}), weights))
    facilities = [
        (ctx.facilities[code].pk, region, weight, "中医" in name)
        for code, name, region, _level, weight in mix.OUTSIDE_FACILITIES
    ]
    insurance = (ctx.clients[INSURANCE_USERNAME].pk, INSURANCE_SOURCE)
    opened = add_months(ctx.dates.period_end, -BUILDING_MONTHS_BACK)
    drawn = {f"{add_months(opened, n):%Y-%m-%d}": share for n, share in enumerate(DRAWN)}
    return Layout(ctx.alliance.pk, ctx.alliance.region_code, sites, insurance, facilities, drawn=drawn)


def _site(ctx, spec, kind, departments, weights):
    village = kind == PlacementRole.VILLAGE
    # A village clinic's rows come from its branch's HIS (乡村一体化), the moved one's from its
    # old branch before the move day and its new one from that day.
    senders = (spec.parent, spec.parent_now) if village else (spec.code, spec.code)
    source = SOURCES[PlacementRole.BRANCH if village else kind]
    institution = ctx.institutions[spec.code]
    return Site(
        code=spec.code,
        id=institution.pk,
        tier={PlacementRole.VILLAGE: mix.VILLAGE, PlacementRole.BRANCH: mix.BRANCH}.get(kind, mix.HOSPITAL),
        in_county=institution.region_code == ctx.alliance.region_code,
        departments=departments,
        senders=tuple((ctx.clients[code].pk, source) for code in senders),
        visit_weight=weights[0],
        admission_weight=weights[1],
        tcm_share=TCM_SHARES.get(kind, 0.0),
        silent_from=ctx.dates.last_month.replace(day=SILENT[spec.code]) if spec.code in SILENT else None,
        closed_in=add_months(ctx.dates.period_end, -CLOSED[spec.code]) if spec.code in CLOSED else None,
    )


# --- Patients --------------------------------------------------------------------------------------
@dataclass
class PatientPool:
    """Patient keys: county residents (the signed residents first), women of child-bearing age
    among them, and residents of neighbouring counties with their region."""

    residents: list
    mothers: list
    neighbours: list  # (patient key, region)


def patient_pool(ctx):
    """The pool of the context, drawn once: `scale.patients` residents."""
    if ctx.patients is None:
        signed = SignedResident.objects.filter(institution__in=list(ctx.institutions.values())).order_by("pk")
        ctx.patients = draw_patients(
            ctx.seed,
            ctx.scale.patients,
            list(signed.values_list("patient_key", "birth_date", "gender")),
            ctx.dates.anchor,
        )
    return ctx.patients


def draw_patients(seed, count, signed, anchor):
    """A pure function of the seed, the signed residents' (key, birth date, gender) and the
    anchor (ages are counted on it): every other patient gets a valid resident ID, hashed once
    here and then forgotten."""
    rng = step_random(seed, "patients")
    pool, seen = PatientPool([], [], []), set()
    for key, born, gender in signed:
        _add_resident(pool, seen, key, born, gender == Gender.FEMALE, anchor)
    while len(pool.residents) < count:
        number, born, female = _person(rng, REGION_CODE, anchor)
        _add_resident(pool, seen, patient_key(number), born, female, anchor)
    while len(pool.neighbours) < count * NEIGHBOURS_PER_RESIDENT:
        region = rng.choice(mix.NEIGHBOUR_REGIONS)
        number, _born, _female = _person(rng, region, anchor)
        pool.neighbours.append((patient_key(number), region))
    return pool


def _add_resident(pool, seen, key, born, female, anchor):
    if key in seen:
        return
    seen.add(key)
    pool.residents.append(key)
    if female and 20 <= (anchor - born).days // 365 <= 42:
        pool.mothers.append(key)


def _person(rng, region, anchor):
    low, high, _weight = rng.choices(PATIENT_AGES, weights=[age[2] for age in PATIENT_AGES])[0]
    born = birth_date(rng, age_from=low, age_to=high, on=anchor)
    female = rng.random() < 0.5
    return resident_id(region, born, rng.randrange(0, 999, 2) + (0 if female else 1)), born, female
