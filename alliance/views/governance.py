"""Governance pages (issue 4 point 2): the management committee (医管委), the governance
meetings and the charter / responsibility-list versions of the alliances a user may see, each
with its change history; the bureau records them through `alliance.services`; and the county
government's meetings per year against the rule of at least two (GOVERNMENT_MEETINGS_PER_YEAR).
"""

import django_filters
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from core.detail import ScopedDetailView, get_scoped_or_404
from core.filters import ScopedModelChoiceFilter
from core.forms import ServiceFormView
from core.listing import Column, ScopedListView, attr

from .. import services
from ..choices import GOVERNMENT_MEETINGS_PER_YEAR, CommitteePosition, DocumentKind, MeetingKind
from ..forms import CommitteeMemberForm, DocumentForm, MeetingForm
from ..models import Alliance, CommitteeMember, GovernanceDocument, Meeting
from ..querysets import today


# --- Filters (pages only; the API has no governance endpoints) -------------------------------------
class CommitteeMemberFilterSet(django_filters.FilterSet):
    alliance = ScopedModelChoiceFilter(model=Alliance, label=_("alliance"))
    position = django_filters.ChoiceFilter(choices=CommitteePosition.choices, label=_("committee position"))
    serving = django_filters.BooleanFilter(method="filter_serving", label=_("serving today"))
    search = django_filters.CharFilter(method="filter_search", label=_("name or organisation"))

    class Meta:
        model = CommitteeMember
        fields = ["alliance", "position", "serving", "search"]

    def filter_serving(self, queryset, name, value):
        serving = Q(valid_from__lte=today()) & (Q(valid_to__isnull=True) | Q(valid_to__gt=today()))
        return queryset.filter(serving) if value else queryset.exclude(serving)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(organisation__icontains=value))


class MeetingFilterSet(django_filters.FilterSet):
    alliance = ScopedModelChoiceFilter(model=Alliance, label=_("alliance"))
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices, label=_("kind"))
    year = django_filters.NumberFilter(field_name="held_on", lookup_expr="year", label=_("year"))
    search = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("title"))

    class Meta:
        model = Meeting
        fields = ["alliance", "kind", "year", "search"]


class DocumentFilterSet(django_filters.FilterSet):
    alliance = ScopedModelChoiceFilter(model=Alliance, label=_("alliance"))
    kind = django_filters.ChoiceFilter(choices=DocumentKind.choices, label=_("kind"))

    class Meta:
        model = GovernanceDocument
        fields = ["alliance", "kind"]


# --- Lists --------------------------------------------------------------------------------------
class GovernanceListView(ScopedListView):
    template_name = "alliance/governance_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("alliance")


class CommitteeMemberListView(GovernanceListView):
    model = CommitteeMember
    filterset_class = CommitteeMemberFilterSet
    title = _("Management committee")
    create_url_name = "alliance:committee-create"
    columns = [
        Column("name", _("name"), attr("name"), "name"),
        Column("position", _("committee position"), attr("get_position_display"), "position"),
        Column("organisation", _("organisation and post"), attr("organisation")),
        Column("valid_from", _("valid from"), attr("valid_from"), "valid_from"),
        Column("valid_to", _("valid to"), attr("valid_to"), "valid_to"),
        Column("alliance", _("alliance"), attr("alliance.name"), "alliance__name"),
    ]


class MeetingListView(GovernanceListView):
    model = Meeting
    filterset_class = MeetingFilterSet
    title = _("Governance meetings")
    create_url_name = "alliance:meeting-create"
    default_sort = "-held_on"
    columns = [
        Column("title", _("title"), attr("title"), "title"),
        Column("held_on", _("date"), attr("held_on"), "held_on"),
        Column("kind", _("kind"), attr("get_kind_display"), "kind"),
        Column("decisions", _("decisions"), attr("decisions")),
        Column("alliance", _("alliance"), attr("alliance.name"), "alliance__name"),
    ]


class DocumentListView(GovernanceListView):
    model = GovernanceDocument
    filterset_class = DocumentFilterSet
    title = _("Charter and responsibility list")
    create_url_name = "alliance:document-create"
    columns = [
        Column("title", _("title"), attr("title"), "title"),
        Column("kind", _("kind"), attr("get_kind_display"), "kind"),
        Column("version", _("version"), attr("version"), "version"),
        Column("effective_on", _("effective from"), attr("effective_on"), "effective_on"),
        Column("alliance", _("alliance"), attr("alliance.name"), "alliance__name"),
    ]


# --- Records ------------------------------------------------------------------------------------
class GovernanceDetailView(ScopedDetailView):
    """One record with its facts and change history; 404 outside the user's scope."""

    template_name = "alliance/governance_detail.html"
    related = ("alliance",)
    fields = ()
    edit_url_name = ""
    list_url_name = ""

    def get_context_data(self, **kwargs):
        record = self.object
        facts = [(record._meta.get_field(name).verbose_name, *_display(record, name)) for name in self.fields]
        can_edit = bool(self.edit_url_name) and self.may_change()
        return super().get_context_data(
            facts=facts,
            edit_url_name=self.edit_url_name if can_edit else "",
            list_url_name=self.list_url_name,
            **kwargs,
        )


def _display(record, name):
    """(text, url): a choice's label, a file's name and link, or the value itself."""
    value = getattr(record, name)
    if isinstance(value, FieldFile):
        return (value.name.rsplit("/", 1)[-1], value.url) if value else ("", "")
    display = getattr(record, f"get_{name}_display", None)
    return (display() if display else value), ""


class CommitteeMemberDetailView(GovernanceDetailView):
    model = CommitteeMember
    fields = ("alliance", "name", "position", "organisation", "valid_from", "valid_to")
    edit_url_name = "alliance:committee-update"
    list_url_name = "alliance:committee-list"


class MeetingDetailView(GovernanceDetailView):
    model = Meeting
    fields = ("alliance", "kind", "held_on", "title", "attendees", "decisions", "minutes")
    edit_url_name = "alliance:meeting-update"
    list_url_name = "alliance:meeting-list"


class DocumentDetailView(GovernanceDetailView):
    model = GovernanceDocument
    fields = ("alliance", "kind", "version", "title", "effective_on", "file", "notes")
    list_url_name = "alliance:document-list"


# --- Forms --------------------------------------------------------------------------------------
class GovernanceFormView(ServiceFormView):
    """Create (no pk) or edit (pk) a governance record; only the bureau writes (DESIGN §5)."""

    template_name = "alliance/record_form.html"

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_scoped_or_404(self.model, self.request.user, self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "instance": self.object}

    def get_context_data(self, **kwargs):
        verb = _("Edit") if self.object else _("New")
        return super().get_context_data(title=f"{verb} · {self.model._meta.verbose_name}", **kwargs)


class CommitteeMemberFormView(GovernanceFormView):
    model = CommitteeMember
    form_class = CommitteeMemberForm

    def perform(self, form):
        if self.object:
            return services.update_committee_member(
                self.object, acting_user=self.request.user, **form.cleaned_data
            )
        return services.add_committee_member(acting_user=self.request.user, **form.cleaned_data)


class MeetingFormView(GovernanceFormView):
    model = Meeting
    form_class = MeetingForm

    def perform(self, form):
        if self.object:
            return services.update_meeting(self.object, acting_user=self.request.user, **form.cleaned_data)
        return services.record_meeting(acting_user=self.request.user, **form.cleaned_data)


class DocumentPublishView(GovernanceFormView):
    """Publish the next version; earlier versions are never edited."""

    model = GovernanceDocument
    form_class = DocumentForm

    def perform(self, form):
        data = dict(form.cleaned_data)
        return services.publish_document(
            alliance=data.pop("alliance"), kind=data.pop("kind"), acting_user=self.request.user, **data
        )


# --- The rule -----------------------------------------------------------------------------------
class MeetingRuleView(LoginRequiredMixin, TemplateView):
    """Per alliance and year, the county government's meetings on the alliance against the rule
    of at least GOVERNMENT_MEETINGS_PER_YEAR; years without any meeting show 0 (one GROUP BY)."""

    template_name = "alliance/meeting_rule.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        counts = {
            (row["alliance"], row["year"]): row["count"]
            for row in Meeting.objects.for_user(user).government_count_by_year()
        }
        this_year = today().year
        alliances = []
        for alliance in Alliance.objects.for_user(user):
            first = min([year for (pk, year) in counts if pk == alliance.pk] or [this_year])
            if alliance.charter_date:
                first = min(first, alliance.charter_date.year)
            years = [
                _year_row(year, counts.get((alliance.pk, year), 0))
                for year in range(this_year, first - 1, -1)
            ]
            alliances.append((alliance, years))
        return super().get_context_data(alliances=alliances, rule=GOVERNMENT_MEETINGS_PER_YEAR, **kwargs)


def _year_row(year, count):
    return {"year": year, "count": count, "met": count >= GOVERNMENT_MEETINGS_PER_YEAR}
