"""Measures of two-way referral (issue 14 point 1; core.measures): outpatient slots and reserved
beds per institution and month, and referrals per sending institution and month.

- Slots and beds count by the day they are for, at institutions placed in the alliance on the
  last day of that month (the tables have no alliance column: the alliance's institutions of the
  period select the rows on the (institution, date) index, then the month's placement decides).
  `slots.reserved` counts what was released at publishing, also when it later returned to the
  public pool unbooked, as `SlotQuerySet.release_share` does (号源下沉比例 ≥ 1/3 at the lead);
  one Bed row is one bed for one day, so their count is the reserved bed-days (床位下沉比例 ≥ 1/4
  at the lead, over `beds.lead.open_days` of the alliance app).
- Referrals count at the sending institution, in the month of each event: submitted (drafts never
  sent are not counted), accepted, completed; lateral referrals are left out. The pathway is the
  sender's and receiver's roles on the day it was submitted, the hierarchy its direction was
  classified by: 村→乡, 村→县, 乡→县 and out of the county (县→县外, from whichever sender)
  going up; 县→乡, 县→村 and 乡→村 going down ("county": the lead or a collaborating
  hospital). The route rule (`querysets.route`) allows no other path, so a direction's pathways
  add up to its total.
"""

import datetime
from collections import Counter

from django.db.models import Count, DateField, Exists, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from alliance.choices import PlacementRole
from alliance.models import Placement
from core.measures import ROWS, Measure, MeasureSource, Unit, grouped, month_end, next_month

from .choices import Direction
from .models import Bed, Referral, Slot

R = PlacementRole
LEAD = frozenset({R.LEAD})
# The level of the hierarchy a role stands at, the words of a pathway's code (`village_township`).
LEVELS = {R.LEAD: "county", R.COLLABORATING: "county", R.BRANCH: "township", R.VILLAGE: "village"}
# Each event of a referral: the code's last word, its timestamp, and the grouped month's alias.
EVENTS = (
    ("submitted", "submitted_at", "sent"),
    ("accepted", "accepted_at", "accepted"),
    ("completed", "completed_at", "completed"),
)
PATHWAYS = {
    Direction.UP.value: {
        "village_township": _("Up-referrals from village clinics to township health centres (村→乡)"),
        "village_county": _("Up-referrals from village clinics to county hospitals (村→县)"),
        "township_county": _("Up-referrals from township health centres to county hospitals (乡→县)"),
        "out_of_county": _("Up-referrals out of the county (县→县外)"),
    },
    Direction.DOWN.value: {
        "county_township": _("Down-referrals from county hospitals to township health centres (县→乡)"),
        "county_village": _("Down-referrals from county hospitals to village clinics (县→村)"),
        "township_village": _("Down-referrals from township health centres to village clinics (乡→村)"),
    },
}
DIRECTIONS = {Direction.UP.value: _("Up-referrals"), Direction.DOWN.value: _("Down-referrals")}
EVENT_NAMES = {"submitted": _("submitted"), "accepted": _("accepted"), "completed": _("completed")}


# --- Slots and beds -----------------------------------------------------------------------------
def _placed_in_month(queryset, alliance, first_month, last_month):
    """Pool rows of the days of the months at institutions placed in `alliance` on the last day
    of the row's month, annotated with that `month`."""
    placements = Placement.objects.filter(alliance=alliance)
    period = placements.overlapping(first_month, next_month(last_month)).values("institution")
    in_force = placements.filter(institution=OuterRef("institution")).on_last_day_of(OuterRef("month"))
    return (
        queryset.filter(institution__in=period, date__gte=first_month, date__lte=month_end(last_month))
        .annotate(month=TruncMonth("date"))
        .filter(Exists(in_force))
    )


def slot_measures(alliance, first_month, last_month):
    slots = _placed_in_month(Slot.objects.all(), alliance, first_month, last_month)
    return grouped(
        slots, {"slots.published": Count("pk"), "slots.reserved": Count("pk", filter=Q(reserved=True))}
    )


def bed_measures(alliance, first_month, last_month):
    beds = _placed_in_month(Bed.objects.all(), alliance, first_month, last_month)
    return grouped(beds, {"beds.reserved_days": Count("pk")})


# --- Referrals ----------------------------------------------------------------------------------
def _midnight(day):
    """The start of `day` in Asia/Shanghai (the current time zone): months are local months."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _role_on_sending_day(institution):
    """The role of the referral's `institution` (sender or receiver) in its alliance on the day
    it was submitted (None: not placed in it, e.g. a receiver out of the county)."""
    placements = Placement.objects.filter(institution=OuterRef(institution), alliance=OuterRef("alliance"))
    return Subquery(placements.on(OuterRef("sent_on")).order_by().values("role")[:1])


def _event_groups(alliance, first_month, last_month):
    """One GROUP BY over the alliance's referrals with an event in the months: per sender,
    direction, pathway roles and the months of its three events, how many referrals."""
    start, end = _midnight(first_month), _midnight(next_month(last_month))
    within = [Q(**{f"{stamp}__gte": start, f"{stamp}__lt": end}) for _code, stamp, _alias in EVENTS]
    months = {alias: TruncMonth(stamp, output_field=DateField()) for _code, stamp, alias in EVENTS}
    return (
        Referral.objects.filter(alliance=alliance, submitted_at__lt=end)  # every event follows submission
        .filter(within[0] | within[1] | within[2])
        .exclude(direction=Direction.LATERAL)
        .annotate(sent_on=TruncDate("submitted_at"))
        .order_by()
        .values(
            "from_institution",
            "direction",
            "out_of_county",
            sender=_role_on_sending_day("from_institution"),
            receiver=_role_on_sending_day("to_institution"),
            **months,
        )
        .annotate(referrals=Count("pk"))
    )


def pathway(direction, out_of_county, sender, receiver):
    """The pathway's code word of a referral by the roles on its day (None: another path)."""
    if direction == Direction.UP and out_of_county:
        return "out_of_county"
    way = f"{LEVELS.get(sender)}_{LEVELS.get(receiver)}"
    return way if way in PATHWAYS.get(direction, {}) else None


def referral_measures(alliance, first_month, last_month):
    """Each group adds its referrals to the month of each of its events inside the months; a
    referral is one record counted (`ROWS`) in each month it has an event in."""
    totals = Counter()
    for group in _event_groups(alliance, first_month, last_month):
        direction = group["direction"]
        way = pathway(direction, group["out_of_county"], group["sender"], group["receiver"])
        months = {group[alias] for _event, _stamp, alias in EVENTS} - {None}
        for month in months:
            if first_month <= month <= last_month:
                totals[(group["from_institution"], month), ROWS] += group["referrals"]
        for event, _stamp, alias in EVENTS:
            month = group[alias]
            if month is None or not first_month <= month <= last_month:
                continue
            key = (group["from_institution"], month)
            totals[key, f"referrals.{direction}.{event}"] += group["referrals"]
            if way:
                totals[key, f"referrals.{direction}.{way}.{event}"] += group["referrals"]
    rows = {}
    for (key, code), count in totals.items():
        rows.setdefault(key, {})[code] = count
    return [(institution_id, month, values) for (institution_id, month), values in rows.items()]


def _referral_measures():
    """The counts of each direction and pathway, per event."""
    named = dict(DIRECTIONS)
    for direction, ways in PATHWAYS.items():
        named.update({f"{direction}.{way}": label for way, label in ways.items()})
    return tuple(
        Measure(
            f"referrals.{path}.{event}",
            format_lazy(_("{referrals}: {event}"), referrals=label, event=EVENT_NAMES[event]),
            Unit.COUNT,
        )
        for path, label in named.items()
        for event, _stamp, _alias in EVENTS
    )


SLOTS = MeasureSource(
    name="referrals.slots",
    measures=(
        Measure("slots.published", _("Outpatient slots published"), Unit.COUNT),
        Measure("slots.reserved", _("Outpatient slots reserved for primary-care referrals"), Unit.COUNT),
        Measure(
            "slots.lead.published",
            _("Outpatient slots the lead hospital published"),
            Unit.COUNT,
            base="slots.published",
            roles=LEAD,
        ),
        Measure(
            "slots.lead.reserved",
            _("Outpatient slots the lead hospital reserved for primary-care referrals"),
            Unit.COUNT,
            base="slots.reserved",
            roles=LEAD,
        ),
    ),
    compute=slot_measures,
)
BEDS = MeasureSource(
    name="referrals.beds",
    measures=(
        Measure("beds.reserved_days", _("Bed-days reserved for referred patients"), Unit.BED_DAYS),
        Measure(
            "beds.lead.reserved_days",
            _("Bed-days the lead hospital reserved for referred patients"),
            Unit.BED_DAYS,
            base="beds.reserved_days",
            roles=LEAD,
        ),
    ),
    compute=bed_measures,
)
REFERRALS = MeasureSource(
    name="referrals.referrals", measures=_referral_measures(), compute=referral_measures
)
SOURCES = (SLOTS, BEDS, REFERRALS)
