"""Measures of people (issue 14 point 1; core.measures): doctors of intermediate title or higher
stationed at least six months in the year (派驻6个月以上中级及以上医师人数, 2024 monitoring
indicator 4).

A month's value is a state of the year so far, not a flow: the doctors whose stationed days in
the calendar year up to the month's end reach SIX_MONTHS_DAYS (183, the rule of
`Secondment.reaches_six_months`; visiting rounds never count, nor days of another year),
counted at their home institution (`from_institution`). Days of several stationings of one doctor
from one home add up (a doctor's secondments never overlap). The alliance is the doctor's
employer; the title is the one recorded today (titles have no history). A figure's records
(issue 14 point 6) are its doctors, one stationing each (`secondment_records`).
"""

import datetime
from collections import Counter

from django.db.models import DateField, DurationField, ExpressionWrapper, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils.translation import gettext_lazy as _

from core.measures import ROWS, Measure, MeasureSource, OverMonths, Unit, month_range, next_month

from .choices import Profession, SecondmentKind, TitleLevel
from .models import Secondment
from .querysets import SIX_MONTHS_DAYS

INTERMEDIATE_OR_HIGHER = (TitleLevel.INTERMEDIATE, TitleLevel.DEPUTY_SENIOR, TitleLevel.SENIOR)
SIX_MONTHS = datetime.timedelta(days=SIX_MONTHS_DAYS)
# The secondments the measure reads (its doctors, with the alliance as their employer): the
# aggregate and the records (issue 14 point 6) both filter by it.
# is_counted and counted_days below are the same rule for one secondment in memory (the services
# mark the months a change of it changes): change them together.
COUNTED = Q(
    kind=SecondmentKind.STATIONED,
    staff__profession=Profession.DOCTOR,
    staff__title_level__in=INTERMEDIATE_OR_HIGHER,
)
OPEN = datetime.date.max  # the end of a secondment without an end date


def is_counted(staff):
    """Whether the measure counts `staff`'s stationings: a doctor of intermediate title or higher."""
    return staff.profession == Profession.DOCTOR and staff.title_level in INTERMEDIATE_OR_HIGHER


def counted_days(secondment, staff):
    """`(start_date, end_date or OPEN)` of the days the measure counts of `secondment` of
    `staff`, or None when it counts none of them (visiting rounds, a doctor below the title)."""
    if secondment.kind != SecondmentKind.STATIONED or not is_counted(staff):
        return None
    return secondment.start_date, secondment.end_date or OPEN


def _days_between(first, after):
    """The days of a secondment inside [first, after), summed over a doctor's secondments (only
    those sharing a day with it: the filter keeps the difference positive)."""
    start = Greatest(F("start_date"), Value(first))
    end = Least(Coalesce(F("end_date"), Value(after)), Value(after))
    overlap = Q(start_date__lt=after) & (Q(end_date__isnull=True) | Q(end_date__gt=first))
    return Sum(ExpressionWrapper(end - start, output_field=DurationField()), filter=overlap)


def _doctors(alliance, months):
    """One GROUP BY per doctor and home institution over the counted secondments, with a column
    `days_<i>` per month of the days stationed from the year's 1 January to the month's end."""
    days = {
        f"days_{i}": _days_between(datetime.date(m.year, 1, 1), next_month(m)) for i, m in enumerate(months)
    }
    return (
        Secondment.objects.filter(COUNTED, staff__alliance=alliance, start_date__lt=next_month(months[-1]))
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=datetime.date(months[0].year, 1, 1)))
        .order_by()
        .values("staff", "from_institution")
        .annotate(**days)
    )


def _reached(doctor, i):
    """Whether the doctor's year reached six months by the end of the i-th month."""
    return (doctor[f"days_{i}"] or datetime.timedelta()) >= SIX_MONTHS


def secondment_measures(alliance, first_month, last_month):
    """The doctors of `_doctors`, counted per home and month from the month they reach six months."""
    months = month_range(first_month, last_month)
    counts = Counter()
    for doctor in _doctors(alliance, months):
        for i, month in enumerate(months):
            if _reached(doctor, i):
                counts[doctor["from_institution"], month] += 1
    return [
        (institution_id, month, {"secondments.six_months": n, ROWS: n})
        for (institution_id, month), n in counts.items()
    ]


def secondment_records(alliance, first_month, last_month, code, institution_ids):
    """The doctors counted (core.measures.records) at the homes `institution_ids` in `last_month`:
    the measure is a state of the year (OverMonths.LAST), so a period's figure is its last
    month's, and `record_month` is that month. One row per doctor, as the figure counts persons:
    the doctor's latest stationing from that home begun by the month's end, dated by its start."""
    doctors = (
        _doctors(alliance, [last_month])
        .filter(from_institution__in=institution_ids)
        .annotate(latest=Max("start_date"))
    )
    latest = Q(pk__in=[])
    for doctor in doctors:
        if _reached(doctor, 0):
            latest |= Q(
                staff=doctor["staff"],
                from_institution=doctor["from_institution"],
                start_date=doctor["latest"],
            )
    return (
        Secondment.objects.filter(COUNTED, latest)
        .annotate(
            record_institution=F("from_institution"),
            record_date=F("start_date"),
            record_month=Value(last_month, output_field=DateField()),
        )
        .select_related("staff", "from_institution", "to_institution")
        .order_by("record_date", "pk")
    )


SECONDMENTS = MeasureSource(
    name="members.secondments",
    measures=(
        Measure(
            "secondments.six_months",
            _("Doctors of intermediate title or higher stationed six months or more in the year"),
            Unit.PERSONS,
            over_months=OverMonths.LAST,
        ),
    ),
    compute=secondment_measures,
    records=secondment_records,
)
SOURCES = (SECONDMENTS,)
