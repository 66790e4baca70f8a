"""What every step of the demo load shares: the scale, the demo's dates and the seeded sources
of randomness (issue 3 point 6).

Determinism: every step draws from its own `random.Random` and Faker, both seeded from the
`--seed` and the step's name, so the same seed builds the same county, and a step added by a
later issue (encounters, referrals, pharmacy, finance) does not shift the data of earlier steps.

The clock is read once, for the anchor (issue 13 point 5): the day the demo is made, today's
local date unless `seed_demo --today` pins it. Every data date of the last year derives from
the anchor (`DemoDates`), so open referrals book slots and beds to come whenever `make demo`
runs, and the same seed with the same anchor gives the same rows. The founding history
(FOUNDED, the 2022 election, transfers and document versions up to 2025) stays fixed: it lies
before any anchor the demo accepts (EARLIEST_ANCHOR). The clock is looked at again only when
the anchor lies ahead of it: to cap the team places at today (teams.py), and to leave out the
restated month when it is not over yet (indicators.py: the ingest refuses future dates).
"""

import datetime
import random
from dataclasses import dataclass, field

from faker import Faker

# The alliance was founded, and every founding placement, posting and membership begins, here.
FOUNDED = datetime.date(2019, 10, 1)
FIRST_YEAR = FOUNDED.year + 1  # the first whole year: population, secondments, governance
# The fixed history ends in 2025 (see the docstring): an earlier anchor would precede it.
EARLIEST_ANCHOR = datetime.date(2026, 1, 1)
# Whole months of encounter activity before the anchor's month: a year, and the month a year
# before the last one, which the last month is compared with (同比: the siphoning warning of
# issue 15 point 7 needs the same month a year before, assessment.services.warnings).
ACTIVITY_MONTHS = 13
MOVE_MONTHS_BACK = 4  # the village clinic moves this many months before the anchor's month


def add_months(day, months):
    """The same day of the month `months` later (earlier when negative); for firsts of months."""
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


@dataclass(frozen=True)
class DemoDates:
    """Every date of the demo's last year (and a month), derived from its anchor (the demo's
    "today"). At the anchor 2026-11-22, the day this demo was first made, they are the dates it
    used to fix, but for the activity, which begins a month earlier since the last month has
    its same month a year before (ACTIVITY_MONTHS)."""

    anchor: datetime.date
    # A village clinic moves to another township branch on this day, inside the activity year,
    # so the history shows a change: by default the first of the month MOVE_MONTHS_BACK months
    # before the anchor's; a county loaded earlier passes the day it moved then.
    move_on: datetime.date | None = None

    def __post_init__(self):
        if self.anchor < EARLIEST_ANCHOR:
            raise ValueError(f"the demo's anchor must be on or after {EARLIEST_ANCHOR}: {self.anchor}")
        if self.move_on is None:
            object.__setattr__(self, "move_on", add_months(self.period_end, -MOVE_MONTHS_BACK))

    @property
    def period_start(self):
        """The first day of the activity: ACTIVITY_MONTHS whole months before the anchor's month."""
        return add_months(self.period_end, -ACTIVITY_MONTHS)

    @property
    def period_end(self):
        """The first day of the anchor's month, the end (exclusive) of the activity."""
        return self.anchor.replace(day=1)

    @property
    def last_month(self):
        """The first day of the last whole month of activity (the dashboards' latest month)."""
        return add_months(self.period_end, -1)

    @property
    def years(self):
        """Years with a population figure, secondments and governance activity."""
        return tuple(range(FIRST_YEAR, self.anchor.year + 1))

    @property
    def last_signing(self):
        """The last day a resident signs a contract: the eve of the default move day, so that
        every contract is a few months old."""
        return add_months(self.period_end, -MOVE_MONTHS_BACK) - datetime.timedelta(days=1)

    @property
    def age_reference(self):
        """Ages of signed residents are counted on this day: January 1 of the year of the last
        signing, so the youngest is born before it."""
        return datetime.date(self.last_signing.year, 1, 1)

    @property
    def pool_start(self):
        """The Monday of the anchor's week: the first week of slots and beds published."""
        return self.anchor - datetime.timedelta(days=self.anchor.weekday())


@dataclass(frozen=True)
class Scale:
    """How much activity the demo county carries. Every scale builds the whole hierarchy (all
    branches, village clinics and staff) and the same drug catalogue; later issues add their own
    amounts here (visits, admissions, referrals, …)."""

    name: str
    signed_residents: int
    visits: int  # outpatient visits in the year of activity (issue 5 point 5)
    admissions: int
    patients: int  # distinct county residents among the patients
    referrals: int = 0  # referrals up and down in the year of activity (issue 6 point 8)
    open_referrals: int = 0  # referrals submitted on the anchor day through the services


# `demo` (the default of seed_demo and of `make demo`) loads in well under a minute; `full` is the
# county of DESIGN §7 for benchmarks: about two minutes on a quiet machine, three on a busy one,
# too close to make demo's two-minute budget to be its default.
SCALES = {
    "small": Scale(
        name="small",
        signed_residents=300,
        visits=20_000,
        admissions=1_000,
        patients=3_000,
        referrals=200,
        open_referrals=6,
    ),
    "demo": Scale(
        name="demo",
        signed_residents=3_000,
        visits=300_000,
        admissions=7_000,
        patients=40_000,
        referrals=3_000,
        open_referrals=24,
    ),
    "full": Scale(
        name="full",
        signed_residents=12_000,
        visits=3_000_000,
        admissions=70_000,
        patients=400_000,
        referrals=12_000,
        open_referrals=48,
    ),
}
DEFAULT_SCALE = "demo"


def step_random(seed, step):
    """A random source of its own for `step` (a str seed hashes the same in every process)."""
    return random.Random(f"{seed}:{step}")  # noqa: S311 (demo data, reproducible on purpose)


def step_faker(seed, step):
    """A Chinese Faker seeded for `step` (Faker.seed_instance: no shared global state)."""
    fake = Faker("zh_CN")
    fake.seed_instance(f"{seed}:{step}")
    return fake


@dataclass
class SeedContext:
    """The state handed from step to step: the seed, the scale, the dates of the anchor, the
    acting user and every object built so far, keyed by the codes and keys of the county plan
    (never by database id, which differs between databases)."""

    seed: int
    scale: Scale
    dates: DemoDates
    acting_user: object = None
    plan: list = field(default_factory=list)  # county.InstitutionSpec in registration order
    alliance: object = None
    institutions: dict = field(default_factory=dict)  # institution code → Institution
    departments: dict = field(default_factory=dict)  # (institution code, department code) → Department
    staff: dict = field(default_factory=dict)  # institution code → [StaffMember] in hiring order
    teams: list = field(default_factory=list)  # FamilyDoctorTeam in creation order
    clients: dict = field(default_factory=dict)  # institution code (or "insurance") → API client user
    facilities: dict = field(default_factory=dict)  # code → OutsideFacility
    patients: object = None  # activity.PatientPool, drawn once for visits and admissions
    drugs: list = field(default_factory=list)  # pharmacy.Line of the catalogue, in national-code order

    def rng(self, step):
        return step_random(self.seed, step)

    def faker(self, step):
        return step_faker(self.seed, step)

    def staff_of(self, *codes):
        """Staff of the given institutions, in hiring order."""
        return [member for code in codes for member in self.staff.get(code, [])]
