"""Pages of the indicator definitions (issue 14 point 7), under /indicators/: the list (one
version per code, the one in force), a version with the history of its code, and for the bureau
the forms that add an indicator and revise one through `assessment.services`, with the
registered measures beside the expression fields."""

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from alliance.querysets import today
from core import measures
from core.detail import ScopedDetailView, get_scoped_or_404
from core.forms import ServiceFormView
from core.listing import Column, ScopedListView, attr

from . import services
from .filtersets import IndicatorDefinitionFilterSet
from .forms import DefinitionForm, ReviseForm
from .models import IndicatorDefinition, Scope

COMPARISON_SIGNS = {"gte": "≥", "lte": "≤", "approx": "≈"}


def name_of(definition):
    """The indicator's name in the page's language."""
    english = (get_language() or "").startswith("en")
    return definition.name_en if english and definition.name_en else definition.name_zh


def _number(value):
    return format(value.normalize(), "f")


def target_of(definition):
    """ "≥ 65", "≈ 85 ± 5", or "" without a target."""
    if definition.target is None:
        return ""
    text = f"{COMPARISON_SIGNS.get(definition.target_comparison, '')} {_number(definition.target)}"
    if definition.target_tolerance is not None:
        text += f" ± {_number(definition.target_tolerance)}"
    return text.strip()


def scopes_of(definition):
    return "、".join(str(Scope(scope).label) for scope in definition.scopes)


class DefinitionListView(ScopedListView):
    model = IndicatorDefinition
    filterset_class = IndicatorDefinitionFilterSet
    template_name = "assessment/indicatordefinition_list.html"
    title = _("Indicator definitions")
    create_url_name = "assessment:definition-create"
    columns = [
        Column("code", _("code"), attr("code"), "code"),
        Column("name", _("name"), name_of, "name_zh"),
        Column("unit", _("unit"), attr("get_unit_display"), "unit"),
        Column("target", _("target"), target_of, "target"),
        Column("direction", _("direction"), attr("get_direction_display"), "direction"),
        Column("version", _("version"), attr("version"), "version"),
        Column("effective_from", _("effective from"), attr("effective_from"), "effective_from"),
    ]


class DefinitionDetailView(ScopedDetailView):
    """One version, and every version of its code (the latest first) as its history."""

    model = IndicatorDefinition
    template_name = "assessment/indicatordefinition_detail.html"
    related = ("created_by",)
    history_context_name = "versions"

    def get_history(self):
        versions = list(self.get_queryset().filter(code=self.object.code).order_by("-version"))
        for version in versions:
            version.target_text = target_of(version)
        return versions

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        versions = context["versions"]
        context.update(
            facts=self.facts(),
            in_force=_in_force(versions),
            latest=versions[0],
            can_revise=versions[0] == self.object and self.may_change(),
        )
        return context

    def facts(self):
        """(label, value, is an expression) of the version shown."""
        record = self.object
        label = {field.name: field.verbose_name for field in record._meta.fields}
        return [
            (label["name_zh"], record.name_zh, False),
            (label["name_en"], record.name_en, False),
            (label["definition"], record.definition, False),
            (label["data_source"], record.data_source, False),
            (label["numerator"], record.numerator, True),
            (label["denominator"], record.denominator or _("1 (a count or an amount)"), True),
            (label["unit"], record.get_unit_display(), False),
            (label["decimals"], record.decimals, False),
            (label["target"], target_of(record), False),
            (label["direction"], record.get_direction_display(), False),
            (_("computed for"), scopes_of(record), False),
            (label["effective_from"], record.effective_from, False),
            (label["effective_to"], record.effective_to, False),
        ]


def _in_force(versions):
    """The version in force today (the latest, should two be), or None."""
    day = today()
    for version in versions:
        if version.effective_from <= day and (version.effective_to is None or version.effective_to > day):
            return version
    return None


class DefinitionFormView(ServiceFormView):
    """A form of the bureau (DESIGN §5: only the bureau writes definitions; others get 403)."""

    model = IndicatorDefinition
    template_name = "assessment/indicatordefinition_form.html"
    title = ""

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", self.title)
        return super().get_context_data(measures=_measures(), **kwargs)

    def get_success_url(self):
        return reverse("assessment:definition-detail", args=[self.object.pk])


def _measures():
    """The registered measures an expression may name, as (code, name, unit)."""
    units = dict(measures.Unit.choices)
    rows = [(item.code, item.name, units.get(item.unit, item.unit)) for item in measures.measures()]
    return sorted(rows, key=lambda row: row[0])


class DefinitionCreateView(DefinitionFormView):
    form_class = DefinitionForm
    title = _("New indicator")

    def perform(self, form):
        return services.create_definition(acting_user=self.request.user, **form.cleaned_data)


class DefinitionReviseView(DefinitionFormView):
    """The next version of the version shown; a version that is no longer the latest is stale
    (the service's Conflict, shown on the form)."""

    form_class = ReviseForm

    def get_object(self):
        return get_scoped_or_404(IndicatorDefinition, self.request.user, self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_context_data(self, **kwargs):
        title = _("Revise %(name)s (version %(version)s)") % {
            "name": name_of(self.object),
            "version": self.object.version,
        }
        return super().get_context_data(title=title, **kwargs)

    def form_valid(self, form):
        if not form.changes():
            form.add_error(None, _("Nothing was changed: no new version was written."))
            return self.form_invalid(form)
        return super().form_valid(form)

    def perform(self, form):
        return services.revise_definition(self.object, acting_user=self.request.user, **form.changes())
