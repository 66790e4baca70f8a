"""Pages of the indicator values (issue 14 points 2, 4–6), under /indicators/: a month's figures of
an alliance (the hierarchy of the month, or today's as a labelled alternative), the bureau's
compute and publish buttons, the Job a computation runs as, and from a figure the measures
behind it per institution and, for the roles that may read them, the records counted."""

import datetime

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from alliance.models import Alliance, Institution
from alliance.querysets import today
from core import access
from core import measures as registry
from core.detail import get_scoped_or_404
from core.excel import xlsx_response
from core.forms import ServiceFormView
from core.models import Job
from encounters.filtersets import MonthField

from . import figures, services
from .models import Hierarchy, IndicatorDefinition, IndicatorMonth, IndicatorValue, Scope
from .services.indicators import JOB_KIND
from .views import name_of, target_of


def visible_alliances(user):
    """The alliances whose figures the user sees: those it watches whole (computed yet or not)
    and those of the figures it reads of its own institution (one query when evaluated)."""
    if user.is_superuser:
        return Alliance.objects.all()
    values = IndicatorValue.objects.for_user(user).values("alliance")
    watched = access.reach(user, IndicatorValue, interactive=True).alliances
    return Alliance.objects.filter(Q(pk__in=watched) | Q(pk__in=values))


def latest_month(alliance):
    state = (
        IndicatorMonth.objects.filter(alliance=alliance, computed_at__isnull=False).order_by("-month").first()
    )
    return state.month if state else (today().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


class ValueFilterForm(forms.Form):
    alliance = forms.ModelChoiceField(Alliance.objects.none(), label=_("alliance"), required=False)
    month = MonthField(label=_("month (YYYY-MM)"), required=False)
    scope = forms.ChoiceField(choices=Scope.choices, label=_("scope"), required=False)
    hierarchy = forms.ChoiceField(choices=Hierarchy.choices, label=_("hierarchy"), required=False)
    indicator = forms.ChoiceField(label=_("indicator"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alliance"].queryset = visible_alliances(user)
        choices = IndicatorDefinition.objects.current().values_list("code", "name_zh")
        self.fields["indicator"].choices = [("", _("every indicator")), *choices]


class IndicatorValuesView(LoginRequiredMixin, TemplateView):
    """One month of one alliance: per indicator its month and year-to-date figures at the scope
    asked, with the marks provisional (not yet published) and restated."""

    template_name = "assessment/indicatorvalue_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        form = ValueFilterForm(self.request.GET or None, user=user)
        cleaned = form.cleaned_data if form.is_valid() else {}
        alliance = cleaned.get("alliance") or form.fields["alliance"].queryset.order_by("pk").first()
        context = super().get_context_data(form=form, alliance=alliance, **kwargs)
        if alliance is None:
            return context
        month = cleaned.get("month") or latest_month(alliance)
        scope = cleaned.get("scope") or Scope.ALLIANCE
        hierarchy = cleaned.get("hierarchy") or Hierarchy.OF_MONTH
        rows = self._rows(alliance, month, scope, hierarchy, cleaned.get("indicator"))
        state = (
            IndicatorMonth.objects.filter(alliance=alliance, month=month)
            .select_related("published_by")
            .first()
        )
        may_write = access.can_write(user, IndicatorMonth, IndicatorMonth(alliance=alliance))
        return context | {
            "month": month,
            "scope": scope,
            "hierarchy": hierarchy,
            "today_view": hierarchy == Hierarchy.TODAY,
            "table": _table(rows),
            "state": state,
            "can_compute": may_write,
            "can_publish": may_write and state is not None and state.computed_at and not state.is_published,
            "month_text": month.strftime("%Y-%m"),
        }

    def _rows(self, alliance, month, scope, hierarchy, indicator):
        user = self.request.user
        if hierarchy == Hierarchy.TODAY:
            rows = figures.values_on_todays_hierarchy(
                alliance, month, codes=[indicator] if indicator else None
            )
            reach = access.reach(user, IndicatorValue)
            every = user.is_superuser or alliance.pk in reach.alliances
            rows = [r for r in rows if r.scope == scope and (every or r.institution_id in reach.institutions)]
            names = dict(
                Institution.objects.filter(pk__in={r.institution_id for r in rows}).values_list("pk", "name")
            )
            for row in rows:
                row.institution_name = names.get(row.institution_id, "")
            return rows
        queryset = IndicatorValue.objects.for_user(user).filter(alliance=alliance, month=month, scope=scope)
        if indicator:
            queryset = queryset.filter(indicator=indicator)
        rows = list(
            queryset.select_related("definition", "institution").order_by("indicator", "institution__code")
        )
        for row in rows:
            row.institution_name = row.institution.name if row.institution else ""
        return rows


def _table(rows):
    """Rows of the page: one per indicator and institution, with its month and ytd figures."""
    lines = {}
    for row in rows:
        line = lines.setdefault(
            (row.indicator, row.institution_id),
            {"definition": row.definition, "institution": row.institution_name, "month": None, "ytd": None},
        )
        line[row.period] = row
    ordered = sorted(lines.values(), key=lambda line: (line["definition"].code, line["institution"]))
    for line in ordered:
        line["name"] = name_of(line["definition"])
        line["target"] = target_of(line["definition"])
        shown = line["month"] or line["ytd"]
        line["met"] = line["definition"].meets_target(shown.value) if shown else None
    return ordered


# --- The .xlsx of the indicator table (issue 15 point 4) ---------------------------------------
EXPORT_COLUMNS = (
    _("indicator code"), _("indicator"), _("scope"), _("institution code"), _("institution"), _("month"),
    _("period"), _("numerator"), _("denominator"), _("value"), _("unit"), _("target"), _("meets the target"),
    _("definition version"), _("records counted"), _("restated"), _("provisional"),
)  # fmt: skip


class IndicatorExportView(LoginRequiredMixin, TemplateView):
    """`?alliance=&month=`: every stored figure of the alliance from January to the month (the
    hierarchy of each month), every scope and both periods, with numerator and denominator, as
    the user may read them (the access door): the table the committee takes to its meeting.
    Two queries whatever the rows."""

    def get(self, request, *args, **kwargs):
        form = ValueFilterForm(request.GET or None, user=request.user)
        cleaned = form.cleaned_data if form.is_valid() else {}
        if "alliance" in form.errors or "month" in form.errors:
            raise Http404  # an alliance the user does not see, or no month: never another file
        alliance = cleaned.get("alliance") or form.fields["alliance"].queryset.order_by("pk").first()
        if alliance is None:
            raise PermissionDenied
        month = cleaned.get("month") or latest_month(alliance)
        first = month.replace(month=1)
        values = (
            IndicatorValue.objects.for_user(request.user)
            .filter(alliance=alliance, month__gte=first, month__lte=month)
            .select_related("definition", "institution")
            .order_by("month", "indicator", "scope", "institution__code", "period")
        )
        published = set(
            IndicatorMonth.objects.filter(alliance=alliance, month__gte=first, month__lte=month)
            .exclude(published_at=None)
            .values_list("month", flat=True)
        )
        rows = [_export_row(value, value.month not in published) for value in values]
        title = _("Indicators")
        return xlsx_response(f"{title}-{alliance.name}-{month:%Y-%m}", [(title, EXPORT_COLUMNS, rows)])


def _export_row(value, provisional):
    """One figure as cells: numbers as numbers (Excel's doubles hold these six decimals), marks
    as 是/否 (core.excel)."""
    definition, institution = value.definition, value.institution
    return [
        value.indicator, name_of(definition), value.get_scope_display(), institution.code if institution else "",
        institution.name if institution else "", value.month.strftime("%Y-%m"), value.get_period_display(),
        float(value.numerator), float(value.denominator), None if value.value is None else float(value.value),
        definition.get_unit_display(), target_of(definition), definition.meets_target(value.value),
        definition.version, value.input_rows, value.restated, provisional,
    ]  # fmt: skip


# --- Compute, the job, publish ------------------------------------------------------------------
class MonthForm(forms.Form):
    alliance = forms.ModelChoiceField(Alliance.objects.none(), label=_("alliance"))
    month = MonthField(label=_("month (YYYY-MM)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        reach = access.reach(user, IndicatorMonth, access.WRITE)
        alliances = (
            Alliance.objects.all() if user.is_superuser else Alliance.objects.filter(pk__in=reach.alliances)
        )
        self.fields["alliance"].queryset = alliances


class ComputeForm(MonthForm):
    year_to_date = forms.BooleanField(label=_("also every earlier month of the year"), required=False)


class _MonthServiceView(ServiceFormView):
    model = IndicatorMonth
    http_method_names = ["post"]

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"user": self.request.user}

    def form_invalid(self, form):
        self.template_name = "assessment/indicator_month_form.html"
        return super().form_invalid(form)


class ComputeView(_MonthServiceView):
    """The compute button: a Job on the indicators queue, then its page, which polls it."""

    form_class = ComputeForm

    def perform(self, form):
        month = form.cleaned_data["month"]
        months = (
            registry.month_range(month.replace(month=1), month)
            if form.cleaned_data["year_to_date"]
            else [month]
        )
        return services.start_computation(
            form.cleaned_data["alliance"], months, acting_user=self.request.user
        )

    def get_success_url(self):
        return reverse("assessment:job", args=[self.object.pk])


class PublishView(_MonthServiceView):
    """The bureau publishes a computed month; later changes of its figures are restatements."""

    form_class = MonthForm

    def perform(self, form):
        return services.publish_month(
            form.cleaned_data["alliance"], form.cleaned_data["month"], acting_user=self.request.user
        )

    def get_success_url(self):
        query = urlencode({"alliance": self.object.alliance_id, "month": self.object.month.strftime("%Y-%m")})
        return f"{reverse('assessment:values')}?{query}"


class ComputationJobView(LoginRequiredMixin, TemplateView):
    """A computation's Job, polled with htmx until it has finished."""

    template_name = "assessment/indicator_job.html"

    def get_context_data(self, **kwargs):
        job = get_object_or_404(Job.objects.for_user(self.request.user), pk=kwargs["pk"], kind=JOB_KIND)
        return super().get_context_data(job=job, running=not job.is_finished, **kwargs)


# --- A figure, its inputs, its records ---------------------------------------------------------
class ValueDetailView(LoginRequiredMixin, TemplateView):
    template_name = "assessment/indicatorvalue_detail.html"

    def get_context_data(self, **kwargs):
        value = get_scoped_or_404(
            IndicatorValue.objects.select_related("definition", "institution"),
            self.request.user,
            kwargs["pk"],
        )
        inputs = figures.inputs_of(value)
        names = dict(
            Institution.objects.filter(
                pk__in={pk for item in inputs for pk in item["institutions"] if pk}
            ).values_list("pk", "name")
        )
        for item in inputs:
            item["name"] = registry.measure(item["measure"]).name
            item["lines"] = [
                (
                    names.get(pk, _("care outside the alliance")) if pk else _("care outside the alliance"),
                    amount,
                )
                for pk, amount in sorted(item["institutions"].items(), key=lambda pair: -pair[1])
            ]
            records = _records_of(value, item)
            item["traceable"] = records is not None and access.can_read(self.request.user, records.model)
        return super().get_context_data(
            value=value,
            inputs=inputs,
            restatements=value.restatements.order_by("-restated_at"),
            state=IndicatorMonth.objects.filter(alliance=value.alliance_id, month=value.month).first(),
            **kwargs,
        )


def _records_of(value, item):
    """The queryset of the records `item` (an input of `value`) counted; None if untraceable."""
    months = [datetime.date(int(m[:4]), int(m[5:7]), 1) for m in item["months"]]
    try:
        return registry.records(value.alliance_id, min(months), max(months), item["measure"], item["members"])
    except registry.Untraceable:
        return None


class ValueRecordsView(LoginRequiredMixin, TemplateView):
    """The records one measure of a figure counted, through the access door (the committee is
    refused: it sees the counts by institution on the figure's page)."""

    template_name = "assessment/indicatorvalue_records.html"

    def get_context_data(self, **kwargs):
        value = get_scoped_or_404(
            IndicatorValue.objects.select_related("definition"), self.request.user, kwargs["pk"]
        )
        inputs = {item["measure"]: item for item in figures.inputs_of(value)}
        code = self.request.GET.get("measure") or next(iter(inputs), None)
        item = inputs.get(code)
        if item is None:
            raise PermissionDenied
        records = _records_of(value, item)
        if records is None or not access.can_read(self.request.user, records.model):
            raise PermissionDenied
        page = Paginator(access.scope(records, self.request.user), 50).get_page(self.request.GET.get("page"))
        ids = {record.record_institution for record in page.object_list if record.record_institution}
        names = dict(Institution.objects.filter(pk__in=ids).values_list("pk", "name"))
        for record in page.object_list:
            record.institution_name = names.get(record.record_institution, "")
        return super().get_context_data(
            value=value, measure=registry.measure(code), page=page, records=page.object_list, **kwargs
        )
