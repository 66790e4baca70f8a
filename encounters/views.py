"""Pages of encounters (issue 5 point 6): visits and admissions lists, filtered by institution,
department and month, patients shown only by a short masked key; the submission-control page."""

import datetime

import django_filters
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import access
from core.listing import Column, ScopedListView, attr

from .filtersets import AdmissionFilterSet, VisitFilterSet, parse_month
from .models import Admission, OutpatientVisit
from .querysets import first_of_month, submission_institutions, submission_summary

PATIENT_KEY_SHOWN = 8  # hex characters: enough to tell rows of one patient apart on a page


def masked_patient(row):
    """The first characters of the keyed hash: never the ID, never the whole key."""
    return f"{row.patient_key[:PATIENT_KEY_SHOWN]}…"


def facility(row):
    return row.institution.name if row.institution_id else row.outside_facility.name


class DepartmentCodeMixin(django_filters.FilterSet):
    department_code = django_filters.CharFilter(field_name="department__code", label=_("department code"))


class VisitPageFilterSet(DepartmentCodeMixin, VisitFilterSet):
    class Meta(VisitFilterSet.Meta):
        fields = ["month", "institution", "department_code"]


class AdmissionPageFilterSet(DepartmentCodeMixin, AdmissionFilterSet):
    class Meta(AdmissionFilterSet.Meta):
        fields = ["month", "institution", "department_code"]


class DefaultMonthMixin:
    """Lists open on the last full month: a county's year holds millions of visits, and a list of
    all of them sorted by date would cost seconds; the month filter uses the (alliance, month)
    index. The clerk picks another month (or clears it) in the filter."""

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if "month" not in self.request.GET:
            data = kwargs["data"].copy() if kwargs["data"] is not None else QueryDict(mutable=True)
            data["month"] = last_full_month().strftime("%Y-%m")
            kwargs["data"] = data
        return kwargs


def last_full_month():
    return first_of_month(first_of_month(timezone.localdate()) - datetime.timedelta(days=1))


COMMON_COLUMNS = [
    Column("facility", _("institution"), facility, "institution__code"),
    Column("department", _("department"), attr("department.name"), "department__code"),
    Column("patient", _("patient"), masked_patient),
    Column("diagnosis", _("diagnosis (ICD-10)"), attr("diagnosis"), "diagnosis"),
    Column("total_cost", _("total cost (yuan)"), attr("total_cost"), "total_cost"),
    Column("insurance_paid", _("paid by insurance (yuan)"), attr("insurance_paid"), "insurance_paid"),
]


class VisitListView(DefaultMonthMixin, ScopedListView):
    """Outpatient visits the user may see (DESIGN §5: no patient-level rows for the committee)."""

    model = OutpatientVisit
    queryset = OutpatientVisit.objects.for_list()
    filterset_class = VisitPageFilterSet
    title = _("Outpatient visits")
    columns = [
        Column("visit_date", _("visit date"), attr("visit_date"), "visit_date"),
        *COMMON_COLUMNS,
        Column("tcm", _("traditional Chinese medicine"), attr("tcm"), "tcm"),
    ]


class AdmissionListView(DefaultMonthMixin, ScopedListView):
    """Admissions the user may see, in the month of discharge."""

    model = Admission
    queryset = Admission.objects.for_list()
    filterset_class = AdmissionPageFilterSet
    title = _("Admissions")
    columns = [
        Column("admit_date", _("admission date"), attr("admit_date"), "admit_date"),
        Column("discharge_date", _("discharge date"), attr("discharge_date"), "discharge_date"),
        *COMMON_COLUMNS,
        Column("is_resident", _("county resident"), attr("is_resident"), "is_resident"),
        Column("in_county", _("treated in the county"), attr("in_county"), "in_county"),
    ]


@login_required
def submissions(request):
    """Submission control: per institution, records received in the month and the last time
    anything arrived; institutions silent for longer than the alliance's setting are flagged."""
    if not access.can_read(request.user, OutpatientVisit):
        raise PermissionDenied
    now = timezone.now()
    error = None
    try:
        month = (
            parse_month(request.GET["month"])
            if request.GET.get("month")
            else first_of_month(timezone.localdate())
        )
    except ValidationError as invalid:
        error, month = invalid.messages[0], first_of_month(timezone.localdate())
    rows = submission_summary(submission_institutions(request.user, month), month, now)
    context = {
        "month": month,
        "rows": rows,
        "silent_count": sum(row["silent"] for row in rows),
        "error": error,
    }
    return render(request, "encounters/submission_list.html", context)
