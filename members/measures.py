"""Measures of people (issue 14 point 1; core.measures): doctors of intermediate title or higher
stationed at least six months in the year (派驻6个月以上中级及以上医师人数, 2024 monitoring
indicator 4).

A month's value is a state of the year so far, not a flow: the doctors whose stationed days in
the calendar year up to the month's end reach SIX_MONTHS_DAYS (183, the rule of
`Secondment.reaches_six_months`; visiting rounds never count, nor days of another year),
counted at their home institution (`from_institution`). Days of several stationings of one doctor
from one home add up (a doctor's secondments never overlap). The alliance is the doctor's
employer; the title is the one recorded today (titles have no history).
"""

import datetime
from collections import Counter

from django.db.models import DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils.translation import gettext_lazy as _

from core.measures import ROWS, Measure, MeasureSource, OverMonths, Unit, month_range, next_month

from .choices import Profession, SecondmentKind, TitleLevel
from .models import Secondment
from .querysets import SIX_MONTHS_DAYS

INTERMEDIATE_OR_HIGHER = (TitleLevel.INTERMEDIATE, TitleLevel.DEPUTY_SENIOR, TitleLevel.SENIOR)
SIX_MONTHS = datetime.timedelta(days=SIX_MONTHS_DAYS)


def _days_between(first, after):
    """The days of a secondment inside [first, after), summed over a doctor's secondments (only
    those sharing a day with it: the filter keeps the difference positive)."""
    start = Greatest(F("start_date"), Value(first))
    end = Least(Coalesce(F("end_date"), Value(after)), Value(after))
    overlap = Q(start_date__lt=after) & (Q(end_date__isnull=True) | Q(end_date__gt=first))
    return Sum(ExpressionWrapper(end - start, output_field=DurationField()), filter=overlap)


def secondment_measures(alliance, first_month, last_month):
    """One GROUP BY per doctor and home institution, with a column per month of the days
    stationed from the year's 1 January to the month's end; then a count per home and month."""
    months = month_range(first_month, last_month)
    days = {
        f"days_{i}": _days_between(datetime.date(m.year, 1, 1), next_month(m)) for i, m in enumerate(months)
    }
    doctors = (
        Secondment.objects.filter(
            staff__alliance=alliance,
            kind=SecondmentKind.STATIONED,
            staff__profession=Profession.DOCTOR,
            staff__title_level__in=INTERMEDIATE_OR_HIGHER,
            start_date__lt=next_month(last_month),
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=datetime.date(first_month.year, 1, 1)))
        .order_by()
        .values("staff", "from_institution")
        .annotate(**days)
    )
    counts = Counter()
    for doctor in doctors:
        for i, month in enumerate(months):
            if (doctor[f"days_{i}"] or datetime.timedelta()) >= SIX_MONTHS:
                counts[doctor["from_institution"], month] += 1
    return [
        (institution_id, month, {"secondments.six_months": n, ROWS: n})
        for (institution_id, month), n in counts.items()
    ]


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
)
SOURCES = (SECONDMENTS,)
