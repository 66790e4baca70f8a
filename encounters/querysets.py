"""Reads of encounters: scopes and set-based aggregates (measures) reused by pages, the API and
the indicators. Every aggregate filters by alliance and month first (DESIGN §6)."""

import datetime

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from alliance.choices import PlacementRole
from alliance.models import Placement
from core import access
from core.querysets import ScopedQuerySet


def first_of_month(day):
    return day.replace(day=1)


def last_of_month(day):
    """The last day of `day`'s month: the hierarchy of a month is the one on this day (DESIGN §3)."""
    following = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return following - datetime.timedelta(days=1)


class OutsideFacilityQuerySet(ScopedQuerySet):
    pass


class EncounterQuerySet(ScopedQuerySet):
    def in_month(self, month):
        """Records counting in `month` (any day of it): the visit's month, the discharge's month."""
        return self.filter(month=first_of_month(month))

    def for_list(self):
        """What a list row shows, in the same query."""
        return self.select_related("institution", "department", "outside_facility")


class VisitQuerySet(EncounterQuerySet):
    pass


class AdmissionQuerySet(EncounterQuerySet):
    pass


class IngestBatchQuerySet(ScopedQuerySet):
    pass


def _count_in_month(model, month):
    """Correlated subquery: how many of `model`'s rows of the outer institution count in `month`
    (an index-only count on (institution, month))."""
    counted = (
        model.objects.filter(institution=OuterRef("institution"), month=month)
        .order_by()
        .values("institution")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _last_received(model):
    """Correlated subquery: when the outer institution's latest record of `model` arrived (a
    backward scan of the (institution, received_at) index, one row per institution)."""
    latest = model.objects.filter(institution=OuterRef("institution")).order_by("-received_at")
    return Subquery(latest.values("received_at")[:1])


def submission_summary(institutions, month, now):
    """Submission control (issue 5 point 4): per institution of `institutions` placed in an alliance
    on the last day of `month` (partner institutions outside the alliance are left out), in one
    query:

    `{"institution", "institution_code", "institution_name", "alliance", "role", "parent",
    "visits", "admissions", "received", "last_received", "silence_days", "silent"}` where
    `visits`/`admissions`/`received` count the records counting in `month` (visits by visit
    date, admissions by discharge date), `last_received` is when the institution's latest record
    of any month arrived (None: never), and `silent` says nothing arrived for longer than its
    alliance's `submission_silence_days` before `now` (an institution that never sent is silent).
    """
    from .models import Admission, OutpatientVisit

    month = first_of_month(month)
    rows = (
        Placement.objects.on(last_of_month(month))
        .filter(institution__in=institutions)
        .exclude(role=PlacementRole.PARTNER)
        .annotate(
            visits=_count_in_month(OutpatientVisit, month),
            admissions=_count_in_month(Admission, month),
            last_visit=_last_received(OutpatientVisit),
            last_admission=_last_received(Admission),
        )
        .order_by("alliance__name", "institution__code")
        .values(
            "institution_id",
            "institution__code",
            "institution__name",
            "alliance_id",
            "role",
            "parent_id",
            "alliance__submission_silence_days",
            "visits",
            "admissions",
            "last_visit",
            "last_admission",
        )
    )
    return [_summary_row(row, now) for row in rows]


def _summary_row(row, now):
    received = [at for at in (row["last_visit"], row["last_admission"]) if at is not None]
    last = max(received) if received else None
    days = row["alliance__submission_silence_days"]
    return {
        "institution": row["institution_id"],
        "institution_code": row["institution__code"],
        "institution_name": row["institution__name"],
        "alliance": row["alliance_id"],
        "role": row["role"],
        "parent": row["parent_id"],
        "visits": row["visits"],
        "admissions": row["admissions"],
        "received": row["visits"] + row["admissions"],
        "last_received": last,
        "silence_days": days,
        "silent": last is None or now - last > datetime.timedelta(days=days),
    }


def submission_institutions(user, month):
    """The institutions whose submissions `user` may watch in `month`: for the bureau and the
    alliance office every institution of their alliances on the month's last day, for an
    institution's own roles that institution (who may read encounters, by the access door)."""
    from .models import OutpatientVisit  # the models module imports this one

    return access.institutions(user, OutpatientVisit, on=last_of_month(month))
