"""Measures of the hierarchy (issue 14 point 1; core.measures): the hierarchy of each month, which
restricted measures and the roll-up use, and the open bed-days that the bed release ratio
divides by (住院床位下沉比例: reserved bed-days / open bed-days, at least 1/4 at the lead).
A figure's records (issue 14 point 6) are the placements whose open beds it counted."""

from django.db.models import Case, DateField, F, Value, When
from django.utils.translation import gettext_lazy as _

from core.measures import ROWS, Measure, MeasureSource, Unit, month_end

from .choices import PlacementRole
from .models import Placement

LEAD = frozenset({PlacementRole.LEAD})


def roles_by_month(alliance, first_month, last_month):
    """`{(institution_id, month): role}` of the institutions placed in `alliance` on the last day
    of each month (core.measures.register_hierarchy), in one query."""
    placements = Placement.objects.filter(alliance=alliance).only(
        "institution_id", "role", "valid_from", "valid_to"
    )
    return {key: placement.role for key, placement in placements.by_month(first_month, last_month).items()}


def _counted(alliance, first_month, last_month, institutions=None):
    """`{(institution_id, month): placement}` of the placements whose open beds count: in force
    in the alliance on a month's last day, partners (outside it) left out. The aggregate and the
    records (issue 14 point 6) both read it."""
    placements = Placement.objects.filter(alliance=alliance).exclude(role=PlacementRole.PARTNER)
    if institutions is not None:
        placements = placements.filter(institution__in=institutions)
    placements = placements.only("institution_id", "role", "valid_from", "valid_to")
    return placements.annotate(open_beds=F("institution__open_beds")).by_month(first_month, last_month)


def open_bed_days(alliance, first_month, last_month):
    """Per institution of `_counted`: its open beds × the days of that month, in one query.
    `Institution.open_beds` has no history, so today's figure serves every month."""
    for (institution_id, month), placement in _counted(alliance, first_month, last_month).items():
        yield institution_id, month, {"beds.open_days": placement.open_beds * month_end(month).day, ROWS: 1}


def placement_records(alliance, first_month, last_month, code, institution_ids):
    """The placements whose open beds `code` counted at `institution_ids` (core.measures.records),
    dated by `valid_from`. A placement counts in every month whose last day it is in force in,
    but is listed once, its `record_month` the last of those months asked: the month whose role
    a restricted measure (the lead's) reads is then the placement's own."""
    counted, last = _counted(alliance, first_month, last_month, institution_ids), {}
    for (_institution, month), placement in counted.items():
        last[placement.pk] = max(month, last.get(placement.pk, month))
    months = {}
    for pk, month in last.items():
        months.setdefault(month, []).append(pk)
    record_month = Case(
        *(When(pk__in=pks, then=Value(month)) for month, pks in months.items()), output_field=DateField()
    )
    return (
        Placement.objects.filter(pk__in=last)
        .annotate(record_institution=F("institution"), record_date=F("valid_from"), record_month=record_month)
        .select_related("institution", "alliance", "parent")
        .order_by("record_date", "pk")
    )


HIERARCHY = MeasureSource(
    name="alliance.placements",
    measures=(
        Measure("beds.open_days", _("Open bed-days"), Unit.BED_DAYS),
        Measure(
            "beds.lead.open_days",
            _("Open bed-days of the lead hospital"),
            Unit.BED_DAYS,
            base="beds.open_days",
            roles=LEAD,
        ),
    ),
    compute=open_bed_days,
    records=placement_records,
)
SOURCES = (HIERARCHY,)
