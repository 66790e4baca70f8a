"""Building the demo county (`python manage.py seed_demo`, issue 3 point 6) through each app's
services only: the hierarchy of 浦江县医共体, its staff, secondments, family-doctor teams, signed
residents and governance, a year of encounter activity (issue 5 point 5: visits and
admissions as the HIS clients and the insurance feed send them), referrals, the year's indicators
(issue 14) with one published month restated by a late correction (issue 15 point 7), the drug
catalogue with its prices over the year and the tiers' formularies (issue 16 point 6), then the
demo accounts of DESIGN §8.

The load is a list of steps, each a function of a `SeedContext` (seeded random sources, the
scale, the objects built so far); a later issue adds its own step (encounters, referrals,
pharmacy, finance) at the end of STEPS and its amounts to `context.Scale`.

The demo is anchored to the day it is made (`today`, by default today's local date): the year
of activity, the pools and the open referrals are relative to it (context.DemoDates).

Idempotent: when the demo alliance exists the steps are skipped and only the accounts and
their password are checked, so a second run changes nothing (flush the database to rebuild,
e.g. with another seed, scale or day). A county loaded before the activity or the referrals
existed (or the drug catalogue) gets only those steps, anchored to the day of this run.
"""

import time
from dataclasses import dataclass, field, replace

from auditlog.context import disable_auditlog
from django.db import transaction

from alliance.choices import PlacementRole
from alliance.models import Alliance, Department, Institution
from alliance.querysets import today as alliance_today
from encounters.models import Admission, OutpatientVisit
from members.models import SignedResident, StaffMember
from pharmacy.models import DrugCatalogueEntry
from referrals.models import Referral

from . import accounts, activity, county, governance, indicators, pharmacy, referrals, staff, teams
from .accounts import DEFAULT_PASSWORD, demo_password
from .context import DEFAULT_SCALE, EARLIEST_ANCHOR, SCALES, DemoDates, SeedContext

__all__ = [
    "DEFAULT_PASSWORD", "DEFAULT_SCALE", "EARLIEST_ANCHOR", "SCALES", "STEPS", "DemoDates", "DemoResult",
    "demo_password", "seed_demo", "summary",
]  # fmt: skip

ACTIVITY_STEPS = (activity.register_clients, activity.record_visits, activity.record_admissions)
REFERRAL_STEPS = (referrals.publish_pools, referrals.record_referrals, referrals.open_referrals)
INDICATOR_STEPS = (indicators.compute_indicators, indicators.restate_published_month)
PHARMACY_STEPS = (pharmacy.register_drugs, pharmacy.record_prices, pharmacy.set_formularies)

STEPS = (
    county.create_alliance,
    county.register_institutions,
    county.create_departments,
    county.register_partners,
    county.move_village_clinic,
    staff.hire_staff,
    staff.second_doctors,
    staff.transfer_staff,
    teams.create_teams,
    teams.sign_residents,
    governance.record_governance,
    *ACTIVITY_STEPS,
    *REFERRAL_STEPS,
    *INDICATOR_STEPS,
    *PHARMACY_STEPS,
)


@dataclass
class DemoResult:
    """What a run did: the logins to print, whether the county was built now (False: it was
    there already), the dates of its anchor and how long each step took, in seconds."""

    alliance: Alliance
    logins: list
    built: bool
    dates: DemoDates
    timings: list = field(default_factory=list)


@transaction.atomic
def seed_demo(*, seed=2026, scale=DEFAULT_SCALE, today=None):
    """Build the demo county unless it exists, then ensure the demo accounts and password.
    `today` is the anchor (default: today's local date, the one read of the clock)."""
    dates = DemoDates(today or alliance_today())
    keeper = accounts.PasswordKeeper(demo_password())
    admin = accounts.ensure_admin(keeper)
    alliance = Alliance.objects.filter(name=county.ALLIANCE_NAME).first()
    timings = []
    context = SeedContext(seed=seed, scale=SCALES[scale], dates=dates, acting_user=admin)
    if alliance is None:
        alliance = _build(context, timings, STEPS)
    else:
        # A county loaded before the activity (or the referrals) existed gets only those steps.
        later = () if activity.recorded(alliance) else ACTIVITY_STEPS
        later += () if referrals.recorded(alliance) else REFERRAL_STEPS
        later += () if indicators.recorded(alliance) else INDICATOR_STEPS
        later += () if pharmacy.recorded(alliance) else PHARMACY_STEPS
        if later:
            _build(_reload(context, alliance), timings, later)
    logins = accounts.ensure_accounts(alliance, keeper, acting_user=admin)
    return DemoResult(
        alliance=alliance, logins=logins, built=bool(timings), dates=context.dates, timings=timings
    )


def _build(context, timings, steps):
    """Run the steps in order and return the alliance.

    The audit trail stays off meanwhile: loading a demo is no one's change, and tens of
    thousands of "created" rows would bury the changes demo users make (it also halves the
    run time). Memberships granted afterwards by `ensure_accounts` are audited as usual.
    """
    context.plan = context.plan or county.county_plan(context.seed)
    with disable_auditlog():
        for step in steps:
            started = time.perf_counter()  # a duration for the report, not a data date
            step(context)
            timings.append((step.__name__, time.perf_counter() - started))
    return context.alliance


def _reload(context, alliance):
    """The context of a county loaded earlier, for the steps that come after it: the plan (its
    codes and places do not depend on the seed), institutions and departments by code, and the
    day its village clinic moved (the county's history wins over this run's anchor)."""
    context.alliance, context.plan = alliance, county.county_plan(context.seed)
    context.institutions = Institution.objects.in_bulk(
        [spec.code for spec in context.plan], field_name="code"
    )
    moved_on = county.moved_on(context)
    if moved_on is not None:
        context.dates = replace(context.dates, move_on=moved_on)
    for department in Department.objects.filter(
        institution__in=list(context.institutions.values())
    ).select_related("institution"):
        context.departments[(department.institution.code, department.code)] = department
    return context


def summary(alliance):
    """Counts of the county as it stands today, for the command's report."""
    hospitals = (PlacementRole.LEAD, PlacementRole.COLLABORATING)

    def placed(**filters):
        return Institution.objects.placed_on(alliance_today(), alliance=alliance, **filters)

    return {
        "hospitals": placed(role__in=hospitals).count(),
        "branches": placed(role=PlacementRole.BRANCH).count(),
        "villages": placed(role=PlacementRole.VILLAGE).count(),
        "staff": StaffMember.objects.filter(alliance=alliance).count(),
        "signed_residents": SignedResident.objects.filter(institution__in=placed()).count(),
        "visits": OutpatientVisit.objects.filter(alliance=alliance).count(),
        "admissions": Admission.objects.filter(alliance=alliance).count(),
        "referrals": Referral.objects.filter(alliance=alliance).count(),
        "drugs": DrugCatalogueEntry.objects.filter(alliance=alliance).count(),
    }
