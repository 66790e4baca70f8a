"""Measures of encounters (issue 14 point 1; core.measures): visits and admissions per institution
and month, each table in one GROUP BY on its alliance-month index.

Facts of the record decide (DESIGN §8): `is_resident` (the patient's insured region is the
alliance's county), `in_county` (the facility is in the county: every registered institution of
a county alliance, and the outside facilities in its region), the month the record counts in
(the visit's, the discharge's: an admission counts in the month the patient left). Rows of the
insurance feed (facilities outside the alliance) have no institution and count for the alliance
only. "Primary" and "lead" are the institution's role in the alliance on the month's last day
(restricted measures, core.measures). Insurance measures are the county fund's: residents only.
A figure's records (issue 14 point 6) are the visits or admissions its filter (VISIT_FILTERS,
ADMISSION_FILTERS) counted or summed.
"""

from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from alliance.choices import PRIMARY_ROLES, PlacementRole
from core.measures import Measure, MeasureSource, Unit, grouped

from .models import Admission, OutpatientVisit

LEAD = frozenset({PlacementRole.LEAD})
IN_COUNTY, RESIDENT = Q(in_county=True), Q(is_resident=True)
ZERO = Decimal("0.00")
# What each base measure counts (a Q over the table) and sums (a column; None: it counts the
# rows). The aggregates and the records (issue 14 point 6) both read it, so a figure's list of
# records is always the rows the figure counted.
VISIT_FILTERS = {
    "visits.in_county": (IN_COUNTY, None),
    "visits.in_county.tcm": (IN_COUNTY & Q(tcm=True), None),
    "visits.residents.in_county": (RESIDENT & IN_COUNTY, None),
    "visits.residents.all": (RESIDENT, None),
    "visits.insurance.residents.in_county": (RESIDENT & IN_COUNTY, "insurance_paid"),
    "visits.insurance.residents.all": (RESIDENT, "insurance_paid"),
}
ADMISSION_FILTERS = {
    "admissions.in_county": (IN_COUNTY, None),
    "admissions.in_county.cost": (IN_COUNTY, "total_cost"),
    "admissions.residents.in_county": (RESIDENT & IN_COUNTY, None),
    "admissions.residents.all": (RESIDENT, None),
    "admissions.insurance.residents.in_county": (RESIDENT & IN_COUNTY, "insurance_paid"),
    "admissions.insurance.residents.all": (RESIDENT, "insurance_paid"),
}


def _records(model, alliance, first_month, last_month):
    """The alliance's records of the months: the leading columns of the alliance-month index."""
    return model.objects.filter(alliance=alliance, month__gte=first_month, month__lte=last_month)


def _aggregates(filters):
    return {
        code: Sum(summed, filter=counted, default=ZERO) if summed else Count("pk", filter=counted)
        for code, (counted, summed) in filters.items()
    }


def visit_measures(alliance, first_month, last_month):
    return grouped(_records(OutpatientVisit, alliance, first_month, last_month), _aggregates(VISIT_FILTERS))


def admission_measures(alliance, first_month, last_month):
    return grouped(_records(Admission, alliance, first_month, last_month), _aggregates(ADMISSION_FILTERS))


def _traced(model, filters, day, alliance, first_month, last_month, code, institution_ids):
    """The records `code` counted at `institution_ids` (None: the insurance feed's facilities
    outside the alliance), dated by `day`, in the month they count in."""
    at = Q(institution__in=institution_ids - {None})
    if None in institution_ids:
        at |= Q(institution__isnull=True)
    return (
        _records(model, alliance, first_month, last_month)
        .filter(filters[code][0], at)
        .annotate(record_institution=F("institution"), record_date=F(day), record_month=F("month"))
        .select_related("institution", "outside_facility", "department")
        .order_by("record_date", "pk")
    )


def visit_records(alliance, first_month, last_month, code, institution_ids):
    """The visits of `code` (core.measures.records), by visit date."""
    args = (alliance, first_month, last_month, code, institution_ids)
    return _traced(OutpatientVisit, VISIT_FILTERS, "visit_date", *args)


def admission_records(alliance, first_month, last_month, code, institution_ids):
    """The admissions of `code` (core.measures.records), by discharge date: the month they count in."""
    args = (alliance, first_month, last_month, code, institution_ids)
    return _traced(Admission, ADMISSION_FILTERS, "discharge_date", *args)


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
    records=visit_records,
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
            "admissions.residents.primary",
            _("County residents' discharges from township health centres and village clinics"),
            Unit.COUNT,
            base="admissions.residents.in_county",
            roles=PRIMARY_ROLES,
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
    records=admission_records,
)
SOURCES = (VISITS, ADMISSIONS)
