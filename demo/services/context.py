"""What every step of the demo load shares: the scale, the fixed dates and the seeded sources of
randomness (issue 3 point 6).

Determinism: every step draws from its own `random.Random` and Faker, both seeded from the
`--seed` and the step's name, so the same seed builds the same county, and a step added by a
later issue (encounters, referrals, pharmacy, finance) does not shift the data of earlier steps.
Nothing reads the clock for a data date: the dates below are fixed.
"""

import datetime
import random
from dataclasses import dataclass, field

from faker import Faker

# The alliance was founded, and every founding placement, posting and membership begins, here.
FOUNDED = datetime.date(2019, 10, 1)
# A village clinic moves to another township branch on this day, so the history shows a change.
MOVE_ON = datetime.date(2026, 7, 1)
# Years with a population figure, secondments and governance activity.
YEARS = tuple(range(2020, 2027))
# Ages of signed residents are counted on this day (never today(): the data must not drift).
AGE_REFERENCE = datetime.date(2026, 1, 1)
# The demo's "today" for the encounter activity (issue 5 point 5): the day this demo was made.
# Activity covers the twelve whole months before its month (2025-11 … 2026-10), so the same
# seed gives the same rows whenever it runs; the dashboards still show the latest months.
ACTIVITY_ANCHOR = datetime.date(2026, 11, 22)


@dataclass(frozen=True)
class Scale:
    """How much activity the demo county carries. Every scale builds the whole hierarchy (all
    branches, village clinics and staff); later issues add their own amounts here (visits,
    admissions, referrals, …)."""

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
    """The state handed from step to step: the seed, the scale, the acting user and every object
    built so far, keyed by the codes and keys of the county plan (never by database id, which
    differs between databases)."""

    seed: int
    scale: Scale
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

    def rng(self, step):
        return step_random(self.seed, step)

    def faker(self, step):
        return step_faker(self.seed, step)

    def staff_of(self, *codes):
        """Staff of the given institutions, in hiring order."""
        return [member for code in codes for member in self.staff.get(code, [])]
