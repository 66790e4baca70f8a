"""Inbox and outbox of referrals (issue 7 point 1): what an institution received (收到的转诊)
and what it sent (发出的转诊).

One list page per side, scoped by the access policy: a clinician or institution admin of one
institution sees that institution's side; a user with several institutions, the alliance office
and the bureau pick the institution in a filter ("all" by default). The department filter offers
the listed institution's own departments (inbox) or the departments it referred to (outbox), not
the standard subject codes, its choices scoped through the access door like every filter's (issue
13 point 5). Tabs count the rows per state in one GROUP BY, which also gives the paginator its
count, so a page costs the same number of queries whatever the rows and filters. The receiver's
list puts prioritised signed residents (优先就诊) first. Patients are shown masked only.
"""

import datetime

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from alliance.models import Department, Institution
from core import access
from core.listing import Column, ScopedListView, attr

from ..choices import Direction, ReferralState, Urgency
from ..forms.actions import booking_label
from ..models import Referral


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class ReferralPageFilterSet(django_filters.FilterSet):
    """The filters of both boxes. `institution` picks the institution whose side is listed; it
    is left out when the user reaches one institution only (then that one is listed)."""

    institution = django_filters.ModelChoiceFilter(
        label=_("institution"),
        queryset=Institution.objects.none(),
        empty_label=_("All institutions"),
        method="filter_institution",
    )
    direction = django_filters.ChoiceFilter(
        label=_("direction"), choices=Direction.choices, empty_label=_("All")
    )
    state = django_filters.ChoiceFilter(label=_("state"), choices=ReferralState.choices, empty_label=_("All"))
    urgency = django_filters.ChoiceFilter(label=_("urgency"), choices=Urgency.choices, empty_label=_("All"))
    # Choices set per request (`department_choices`): a department among the box's own.
    department = django_filters.ChoiceFilter(
        label=_("department"), empty_label=_("All"), choices=(), method="filter_department"
    )
    created_from = django_filters.DateFilter(
        label=_("created from"), method="filter_created_from", widget=DateInput()
    )
    created_to = django_filters.DateFilter(
        label=_("created until"), method="filter_created_to", widget=DateInput()
    )

    def __init__(self, *args, side, institutions, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.side = side
        if institutions is None:
            del self.filters["institution"]
        else:
            self.filters["institution"].queryset = institutions
        # Checked against these choices in memory: a chosen department costs no query.
        self.filters["department"].extra["choices"] = department_choices(departments)

    def filter_institution(self, queryset, name, value):
        return queryset.filter(**{self.side: value})

    def filter_department(self, queryset, name, value):
        return queryset.filter(to_department=value)

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_midnight(value))

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_midnight(value + datetime.timedelta(days=1)))

    def queryset_without(self, *names):
        """The queryset filtered by every filter but `names` (the state tabs count over the others)."""
        queryset = self.queryset
        if not self.is_bound:
            return queryset
        for name, value in self.form.cleaned_data.items():
            if name not in names:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


def department_choices(departments):
    """`(id, "name (code)")` choices of `departments` (`(id, code, name, institution id,
    institution name)` rows ordered by institution), grouped under their institution's name when
    they belong to several institutions."""
    departments = list(departments)
    options = [(str(pk), f"{name} ({code})") for pk, code, name, _institution, _of in departments]
    if len({row[3] for row in departments}) <= 1:
        return options
    groups = {}
    for (_pk, _code, _name, institution, of), option in zip(departments, options, strict=True):
        groups.setdefault(institution, (of, []))[1].append(option)
    return list(groups.values())


def label_of(choices, field):
    """A choice column's label, without `get_FOO_display()` rebuilding the choices per call."""
    return lambda row: choices(getattr(row, field)).label


COLUMNS = [
    Column("number", _("No."), attr("pk"), "pk"),
    Column("created", _("created at"), attr("created_at"), "created_at"),
    Column("priority", _("Priority"), attr("priority"), "priority"),
    Column("patient", _("patient"), attr("patient_name_masked")),  # masked only, never the name
    Column("direction", _("direction"), label_of(Direction, "direction"), "direction"),
    Column("from", _("sending institution"), attr("from_institution.name"), "from_institution__name"),
    Column("to", _("receiving institution"), attr("to_institution.name"), "to_institution__name"),
    Column("department", _("department"), attr("to_department.name"), "to_department__code"),
    Column("diagnosis", _("diagnosis (ICD-10)"), attr("diagnosis"), "diagnosis"),
    Column("urgency", _("urgency"), label_of(Urgency, "urgency"), "urgency"),
    Column("state", _("state"), label_of(ReferralState, "state"), "state"),
    Column("booked", _("booked slot or bed"), lambda row: booking_label(row, with_department=False)),
]


def cell(key, row, value):
    """One cell of the table, rendered here: fifty rows of a dozen cells through template `if`s
    cost a weak office PC's server tens of milliseconds (tests/bench)."""
    if key in ("number", "patient"):
        text = f"#{value}" if key == "number" else value
        return format_html('<td><a href="{}">{}</a></td>', reverse("referrals:detail", args=[row.pk]), text)
    if key == "created":
        return format_html("<td>{}</td>", date_format(timezone.localtime(value), "Y-m-d H:i"))
    if key == "priority":
        if not value:
            return mark_safe("<td></td>")
        return format_html(
            '<td><span class="priority-mark" title="{}">{}</span></td>', PRIORITY_HINT, _("Prioritised")
        )
    if key == "state":
        return format_html('<td><span class="state-badge state-{}">{}</span></td>', row.state, value)
    return format_html("<td>{}</td>", "" if value is None else value)


PRIORITY_HINT = _(
    "Signed resident referred through primary care: priority for visits, examinations and admission"
)


class ReferralPaginator(Paginator):
    """The paginator of the boxes. It is told its count (from the state tabs' GROUP BY) instead
    of running COUNT, and it sorts and slices the ids alone before joining the page's fifty rows
    to their institutions, department, slot and bed (a deferred join): otherwise PostgreSQL joins
    every referral of the institution before its top-N sort (tests/bench)."""

    def __init__(self, *args, known_count=None, rows=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        if known_count is not None:
            self.count = known_count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        ordering = self.object_list.query.order_by
        ids = self.object_list.values("pk")[bottom:top]  # the scope and the filters are here
        return self._get_page(self.rows.filter(pk__in=ids).order_by(*ordering), number, self)


class ReferralBoxView(ScopedListView):
    """One side of an institution's referrals; `side` is the institution column it lists by."""

    model = Referral
    queryset = Referral.objects.for_list()
    filterset_class = ReferralPageFilterSet
    template_name = "referrals/referral_list.html"
    columns = COLUMNS
    side = ""
    default_ordering = ("-created_at", "-pk")
    hidden_states = ()

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.can_read(request.user, Referral):
            raise PermissionDenied  # e.g. the committee: no patient-level rows (DESIGN §5)
        return super().dispatch(request, *args, **kwargs)

    # --- whose referrals -------------------------------------------------------------------------
    def reach(self):
        """`(institutions, fixed)`: the institutions the user may pick among (a queryset, None for
        a superuser: every one) and the one institution when the user reaches only one."""
        user = self.request.user
        if user.is_superuser:
            return Institution.objects.all(), None
        reach = access.reach(user, Referral)
        if reach.single_institution is not None:
            return None, reach.single_institution
        if not reach.alliances:
            return Institution.objects.filter(pk__in=sorted(reach.institutions)), None
        return access.institutions(user, Referral), None

    def get_queryset(self):
        queryset = super().get_queryset()
        self.institutions, fixed = self.reach()
        self.fixed = fixed
        if fixed is not None:
            return queryset.filter(**{self.side: fixed})
        if self.request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.side}__in": self.institutions})

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)  # runs get_queryset(): the reach
        institutions = self.institutions.order_by("name") if self.institutions is not None else None
        departments = (
            self.departments(kwargs["queryset"])
            .for_user(self.request.user)  # the access door, as for every filter choice
            .order_by("institution__name", "institution", "code")
            .values_list("pk", "code", "name", "institution", "institution__name")
        )
        return {**kwargs, "side": self.side, "institutions": institutions, "departments": departments}

    def departments(self, queryset):
        """The departments the department filter offers, given the box's scoped rows."""
        raise NotImplementedError

    def ordering_for(self, sort):
        by_key = {column.key: column.order_by for column in self.columns if column.order_by}
        key = sort.lstrip("-")
        if key not in by_key:
            return list(self.default_ordering)
        return [f"-{by_key[key]}" if sort.startswith("-") else by_key[key], "-pk"]

    # --- tabs and page ---------------------------------------------------------------------------
    def get_context_data(self, **kwargs):
        self.state_counts, self.known_count = {}, None
        if not self.filterset.is_bound or self.filterset.is_valid():
            self.state_counts = self.filterset.queryset_without("state").counts_by_state()
            state = self.filterset.is_bound and self.filterset.form.cleaned_data.get("state")
            total = sum(self.state_counts.values())
            self.known_count = self.state_counts.get(state, 0) if state else total
        context = super().get_context_data(**kwargs)
        keys = [column.key for column in self.columns]
        context.update(
            side=self.side,
            tabs=self.tabs(),
            table_rows=[
                (row, [cell(key, row, value) for key, value in zip(keys, values, strict=True)])
                for row, values in context["rows"]
            ],
        )
        return context

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        return ReferralPaginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            known_count=self.known_count,
            rows=Referral.objects.for_list(),
            **kwargs,
        )

    def tabs(self):
        """`(label, count, url, current)` for "all" and each state, keeping the other filters."""
        query = self.request.GET.copy()
        for name in ("page", "state", "export"):
            query.pop(name, None)
        current = self.request.GET.get("state", "")
        counts = self.state_counts
        tabs = [(_("All"), sum(counts.values()), query.urlencode(), not current)]
        for value, label in ReferralState.choices:
            if value in self.hidden_states:
                continue
            query["state"] = value
            tabs.append((label, counts.get(value, 0), query.urlencode(), current == value))
        return tabs


class InboxView(ReferralBoxView):
    """Referrals received (收到的转诊): prioritised signed residents first, always."""

    side = "to_institution"
    title = _("Referrals received")
    export_name = _("Referrals received")
    default_ordering = ("-priority", "-created_at", "-pk")
    # A draft is the sender's own business until it is submitted (as for notifications).
    hidden_states = (ReferralState.DRAFT,)

    def get_queryset(self):
        return super().get_queryset().exclude(state=ReferralState.DRAFT)

    def departments(self, queryset):
        """The receiving institution's own departments (those listed: the user's), also the
        ones nothing was referred to yet; no read of the referrals."""
        if self.fixed is not None:
            return Department.objects.filter(institution=self.fixed)
        return Department.objects.filter(institution__in=self.institutions)

    def ordering_for(self, sort):
        ordering = super().ordering_for(sort)
        return ordering if ordering[0].lstrip("-") == "priority" else ["-priority", *ordering]


class OutboxView(ReferralBoxView):
    """Referrals sent (发出的转诊), newest first."""

    side = "from_institution"
    title = _("Referrals sent")
    export_name = _("Referrals sent")

    def departments(self, queryset):
        """The departments of the receivers this box's referrals went to (one subquery over
        the rows the user may read; a receiver may be outside the county)."""
        return Department.objects.filter(pk__in=queryset.order_by().values("to_department"))
