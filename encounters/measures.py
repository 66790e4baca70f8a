"""Measures of encounters (issue 14 point 1; core.measures): visits and admissions per institution
and month, each table in one GROUP BY on its alliance-month index.

Facts of the record decide (DESIGN §8): `is_resident` (the patient's insured region is the
alliance's county), `in_county` (the facility is in the county: every registered institution of
a county alliance, and the outside facilities in its region), the month the record counts in
(the visit's, the discharge's: an admission counts in the month the patient left). Rows of the
insurance feed (facilities outside the alliance) have no institution and count for the alliance
only. "Primary" and "lead" are the institution's role in the alliance on the month's last day
(restricted measures, core.measures). Insurance measures are the county fund's: residents only.
"""

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from alliance.choices import PRIMARY_ROLES, PlacementRole
from core.measures import Measure, MeasureSource, Unit, grouped

from .models import Admission, OutpatientVisit

LEAD = frozenset({PlacementRole.LEAD})
IN_COUNTY, RESIDENT = Q(in_county=True), Q(is_resident=True)
ZERO = Decimal("0.00")


def _records(model, alliance, first_month, last_month):
    """The alliance's records of the months: the leading columns of the alliance-month index."""
    return model.objects.filter(alliance=alliance, month__gte=first_month, month__lte=last_month)


def visit_measures(alliance, first_month, last_month):
    return grouped(
        _records(OutpatientVisit, alliance, first_month, last_month),
        {
            "visits.in_county": Count("pk", filter=IN_COUNTY),
            "visits.in_county.tcm": Count("pk", filter=IN_COUNTY & Q(tcm=True)),
            "visits.residents.in_county": Count("pk", filter=RESIDENT & IN_COUNTY),
            "visits.residents.all": Count("pk", filter=RESIDENT),
            "visits.insurance.residents.in_county": Sum(
                "insurance_paid", filter=RESIDENT & IN_COUNTY, default=ZERO
            ),
            "visits.insurance.residents.all": Sum("insurance_paid", filter=RESIDENT, default=ZERO),
        },
    )


def admission_measures(alliance, first_month, last_month):
    return grouped(
        _records(Admission, alliance, first_month, last_month),
        {
            "admissions.in_county": Count("pk", filter=IN_COUNTY),
            "admissions.in_county.cost": Sum("total_cost", filter=IN_COUNTY, default=ZERO),
            "admissions.residents.in_county": Count("pk", filter=RESIDENT & IN_COUNTY),
            "admissions.residents.all": Count("pk", filter=RESIDENT),
            "admissions.insurance.residents.in_county": Sum(
                "insurance_paid", filter=RESIDENT & IN_COUNTY, default=ZERO
            ),
            "admissions.insurance.residents.all": Sum("insurance_paid", filter=RESIDENT, default=ZERO),
        },
    )


VISITS = MeasureSource(
    name="encounters.visits",
    measures=(
        Measure("visits.in_county", _("Visits at in-county facilities"), Unit.COUNT),
        Measure(
            "visits.in_county.tcm",
            _("Traditional Chinese medicine visits at in-county facilities"),
            Unit.COUNT,
        ),
        Measure("visits.residents.in_county", _("County residents' visits in the county"), Unit.COUNT),
        Measure("visits.residents.all", _("County residents' visits, in and out of the county"), Unit.COUNT),
        Measure(
            "visits.insurance.residents.in_county",
            _("Insurance fund paid for county residents' visits in the county"),
            Unit.YUAN,
        ),
        Measure(
            "visits.insurance.residents.all",
            _("Insurance fund paid for county residents' visits, in and out of the county"),
            Unit.YUAN,
        ),
        Measure(
            "visits.in_county.primary",
            _("Visits at township health centres and village clinics"),
            Unit.COUNT,
            base="visits.in_county",
            roles=PRIMARY_ROLES,
        ),
        Measure(
            "visits.in_county.lead",
            _("Visits at the lead hospital"),
            Unit.COUNT,
            base="visits.in_county",
            roles=LEAD,
        ),
        Measure(
            "visits.insurance.residents.primary",
            _("Insurance fund paid for county residents' visits at primary institutions"),
            Unit.YUAN,
            base="visits.insurance.residents.in_county",
            roles=PRIMARY_ROLES,
        ),
    ),
    compute=visit_measures,
)

ADMISSIONS = MeasureSource(
    name="encounters.admissions",
    measures=(
        Measure("admissions.in_county", _("Discharges from in-county facilities"), Unit.COUNT),
        Measure("admissions.in_county.cost", _("Inpatient cost at in-county facilities"), Unit.YUAN),
        Measure(
            "admissions.residents.in_county",
            _("County residents' discharges from in-county facilities"),
            Unit.COUNT,
        ),
        Measure(
            "admissions.residents.all",
            _("County residents' discharges, in and out of the county"),
            Unit.COUNT,
        ),
        Measure(
            "admissions.insurance.residents.in_county",
            _("Insurance fund paid for county residents' admissions in the county"),
            Unit.YUAN,
        ),
        Measure(
            "admissions.insurance.residents.all",
            _("Insurance fund paid for county residents' admissions, in and out of the county"),
            Unit.YUAN,
        ),
        Measure(
            "admissions.residents.lead",
            _("County residents' discharges from the lead hospital"),
            Unit.COUNT,
            base="admissions.residents.in_county",
            roles=LEAD,
        ),
        Measure(
            "admissions.insurance.residents.primary",
            _("Insurance fund paid for county residents' admissions at primary institutions"),
            Unit.YUAN,
            base="admissions.insurance.residents.in_county",
            roles=PRIMARY_ROLES,
        ),
    ),
    compute=admission_measures,
)
SOURCES = (VISITS, ADMISSIONS)
