"""Measures of the hierarchy (issue 14 point 1; core.measures): the hierarchy of each month, which
restricted measures and the roll-up use, and the open bed-days that the bed release ratio
divides by (住院床位下沉比例: reserved bed-days / open bed-days, at least 1/4 at the lead)."""

from django.db.models import F
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


def open_bed_days(alliance, first_month, last_month):
    """Per institution placed in the alliance on a month's last day (partners, outside it, left
    out): its open beds × the days of that month, in one query. `Institution.open_beds` has no
    history, so today's figure serves every month."""
    placements = (
        Placement.objects.filter(alliance=alliance)
        .exclude(role=PlacementRole.PARTNER)
        .only("institution_id", "role", "valid_from", "valid_to")
        .annotate(open_beds=F("institution__open_beds"))
    )
    for (institution_id, month), placement in placements.by_month(first_month, last_month).items():
        yield institution_id, month, {"beds.open_days": placement.open_beds * month_end(month).day, ROWS: 1}


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
)
SOURCES = (HIERARCHY,)
