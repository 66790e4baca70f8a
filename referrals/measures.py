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

A figure's records (issue 14 point 6) are its slots, beds or referrals, filtered by the same Q
as the aggregate (SLOT_FILTERS, BED_FILTERS, PATHS): a referral dated by the event of the code.
"""

import datetime
from collections import Counter

from django.db.models import Count, DateField, Exists, F, OuterRef, Q, Subquery
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


# What each pool measure counts: the aggregates and the records (issue 14 point 6) read it.
SLOT_FILTERS = {"slots.published": Q(), "slots.reserved": Q(reserved=True)}
BED_FILTERS = {"beds.reserved_days": Q()}


def slot_measures(alliance, first_month, last_month):
    slots = _placed_in_month(Slot.objects.all(), alliance, first_month, last_month)
    return grouped(slots, {code: Count("pk", filter=counted) for code, counted in SLOT_FILTERS.items()})


def bed_measures(alliance, first_month, last_month):
    beds = _placed_in_month(Bed.objects.all(), alliance, first_month, last_month)
    return grouped(beds, {code: Count("pk", filter=counted) for code, counted in BED_FILTERS.items()})


def _pool_records(model, filters, alliance, first_month, last_month, code, institution_ids):
    """The pool rows `code` counted at `institution_ids`, by the day they are for."""
    rows = _placed_in_month(
        model.objects.filter(institution__in=institution_ids), alliance, first_month, last_month
    )
    return (
        rows.filter(filters[code])
        .annotate(record_institution=F("institution"), record_date=F("date"), record_month=F("month"))
        .select_related("institution", "department")
        .order_by("record_date", "pk")
    )


def slot_records(alliance, first_month, last_month, code, institution_ids):
    """The slots of `code` (core.measures.records)."""
    return _pool_records(Slot, SLOT_FILTERS, alliance, first_month, last_month, code, institution_ids)


def bed_records(alliance, first_month, last_month, code, institution_ids):
    """The reserved beds of `code` (core.measures.records): one row, one bed-day."""
    return _pool_records(Bed, BED_FILTERS, alliance, first_month, last_month, code, institution_ids)


# --- Referrals ----------------------------------------------------------------------------------
def _midnight(day):
    """The start of `day` in Asia/Shanghai (the current time zone): months are local months."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _role_on_sending_day(institution):
    """The role of the referral's `institution` (sender or receiver) in its alliance on the day
    it was submitted (None: not placed in it, e.g. a receiver out of the county)."""
    placements = Placement.objects.filter(institution=OuterRef(institution), alliance=OuterRef("alliance"))
    return Subquery(placements.on(OuterRef("sent_on")).order_by().values("role")[:1])


def _way(direction, way):
    """Which referrals of `direction` take pathway `way`, by the roles on the sending day (the
    aliases of `_sent`): up out of the county from whichever sender, else the levels' words."""
    if way == "out_of_county":
        return Q(direction=direction, out_of_county=True)
    sender, receiver = way.split("_")
    roles = {level: [role for role, at in LEVELS.items() if at == level] for level in (sender, receiver)}
    counted = Q(direction=direction, sender__in=roles[sender], receiver__in=roles[receiver])
    return counted & Q(out_of_county=False) if direction == Direction.UP else counted


# What each path of the referral codes (`referrals.<path>.<event>`) counts: a direction, or a
# pathway of one. The aggregate counts each in one GROUP BY and the records filter by it.
PATHS = {direction: Q(direction=direction) for direction in DIRECTIONS} | {
    f"{direction}.{way}": _way(direction, way) for direction, ways in PATHWAYS.items() for way in ways
}
# code → (the path's Q, the event's timestamp): each referral code's records.
REFERRAL_CODES = {
    f"referrals.{path}.{event}": (counted, stamp)
    for path, counted in PATHS.items()
    for event, stamp, _alias in EVENTS
}


def _sent(alliance, end):
    """The alliance's referrals submitted before `end` (every event follows submission), lateral
    ones left out, with the aliases `sent_on` and the roles of `sender` and `receiver` that day."""
    return (
        Referral.objects.filter(alliance=alliance, submitted_at__lt=end)
        .exclude(direction=Direction.LATERAL)
        .alias(sent_on=TruncDate("submitted_at"))
        .alias(
            sender=_role_on_sending_day("from_institution"),
            receiver=_role_on_sending_day("to_institution"),
        )
    )


def _event_groups(alliance, first_month, last_month):
    """One GROUP BY over the alliance's referrals with an event in the months: per sender and
    the months of its three events, how many referrals (`referrals`) and how many of each path
    (`path_<i>`, in the order of PATHS)."""
    start, end = _midnight(first_month), _midnight(next_month(last_month))
    within = [Q(**{f"{stamp}__gte": start, f"{stamp}__lt": end}) for _code, stamp, _alias in EVENTS]
    months = {alias: TruncMonth(stamp, output_field=DateField()) for _code, stamp, alias in EVENTS}
    paths = {f"path_{i}": Count("pk", filter=counted) for i, counted in enumerate(PATHS.values())}
    return (
        _sent(alliance, end)
        .filter(within[0] | within[1] | within[2])
        .order_by()
        .values("from_institution", **months)
        .annotate(referrals=Count("pk"), **paths)
    )


def referral_measures(alliance, first_month, last_month):
    """Each group adds its paths' counts to the month of each of its events inside the months; a
    referral is one record counted (`ROWS`) in each month it has an event in."""
    totals = Counter()
    for group in _event_groups(alliance, first_month, last_month):
        months = {group[alias] for _event, _stamp, alias in EVENTS} - {None}
        for month in months:
            if first_month <= month <= last_month:
                totals[(group["from_institution"], month), ROWS] += group["referrals"]
        for event, _stamp, alias in EVENTS:
            month = group[alias]
            if month is None or not first_month <= month <= last_month:
                continue
            key = (group["from_institution"], month)
            for i, path in enumerate(PATHS):
                if group[f"path_{i}"]:
                    totals[key, f"referrals.{path}.{event}"] += group[f"path_{i}"]
    rows = {}
    for (key, code), count in totals.items():
        rows.setdefault(key, {})[code] = count
    return [(institution_id, month, values) for (institution_id, month), values in rows.items()]


def referral_records(alliance, first_month, last_month, code, institution_ids):
    """The referrals of `code` (core.measures.records) sent by `institution_ids`: those of its
    path whose event happened in the months (local time), dated by that event's day."""
    counted, stamp = REFERRAL_CODES[code]
    start, end = _midnight(first_month), _midnight(next_month(last_month))
    return (
        _sent(alliance, end)
        .filter(
            counted, from_institution__in=institution_ids, **{f"{stamp}__gte": start, f"{stamp}__lt": end}
        )
        .annotate(
            record_institution=F("from_institution"),
            record_date=TruncDate(stamp),
            record_month=TruncMonth(stamp, output_field=DateField()),
        )
        .select_related("from_institution", "to_institution")
        .order_by("record_date", "pk")
    )


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
    records=slot_records,
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
    records=bed_records,
)
REFERRALS = MeasureSource(
    name="referrals.referrals",
    measures=_referral_measures(),
    compute=referral_measures,
    records=referral_records,
)
SOURCES = (SLOTS, BEDS, REFERRALS)
