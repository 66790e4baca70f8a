"""Pages of the drug catalogue and the formularies (issue 16 points 3–5), under /pharmacy/: the
catalogue with its one search box and its Excel export (of the whole catalogue or of a search),
a drug with its price history, the formularies with their essential-drug share, and the alliance
office's formulary editor, which finds drugs through the same search."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alliance.models import Alliance, Institution
from alliance.querysets import today
from core import access
from core.detail import ScopedDetailView, get_scoped_or_404
from core.forms import ServiceFormView
from core.listing import Column, ScopedListView, attr

from . import services
from .filtersets import DrugFilterSet, FormularyFilterSet
from .models import DrugCatalogueEntry, Formulary, FormularyTier


def _yes(value):
    return _("yes") if value else ""


class DrugListView(ScopedListView):
    model = DrugCatalogueEntry
    filterset_class = DrugFilterSet
    template_name = "pharmacy/drugcatalogueentry_list.html"
    title = _("Drug catalogue")
    columns = [
        Column("nhsa_code", _("national insurance drug code"), attr("nhsa_code"), "nhsa_code"),
        Column("generic_name", _("generic name"), attr("generic_name"), "generic_name"),
        Column("trade_name", _("trade name"), attr("trade_name"), "trade_name"),
        Column("dosage_form", _("dosage form"), attr("dosage_form")),
        Column("specification", _("specification"), attr("specification")),
        Column("pack", _("pack"), lambda e: f"{e.pack_quantity}{e.dispensing_unit}/{e.pack_unit}"),
        Column("manufacturer", _("manufacturer"), attr("manufacturer"), "manufacturer"),
        Column(
            "insurance_class", _("insurance class"), attr("get_insurance_class_display"), "insurance_class"
        ),
        Column("is_essential", _("essential"), lambda e: _yes(e.is_essential), "is_essential"),
        Column("is_negotiated", _("negotiated"), lambda e: _yes(e.is_negotiated), "is_negotiated"),
        Column("retail_price", _("unified retail price"), attr("retail_price"), "retail_price"),
    ]

    def get_queryset(self):
        return super().get_queryset().with_prices(today())

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_import=access.can_write(self.request.user, DrugCatalogueEntry), **kwargs
        )


class DrugDetailView(ScopedDetailView):
    model = DrugCatalogueEntry
    template_name = "pharmacy/drugcatalogueentry_detail.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(prices=self.object.prices.order_by("-valid_from"), **kwargs)


class FormularyListView(ScopedListView):
    model = Formulary
    filterset_class = FormularyFilterSet
    template_name = "pharmacy/formulary_list.html"
    title = _("Formularies")
    columns = [
        Column("alliance", _("alliance"), attr("alliance.name"), "alliance__name"),
        Column("tier", _("tier"), attr("get_tier_display"), "tier"),
        Column(
            "institution",
            _("institution"),
            lambda f: f.institution.name if f.institution else _("the whole tier"),
        ),
        Column("drug_count", _("drugs"), attr("drug_count"), "drug_count"),
        Column("essential_share", _("essential-drug share (%)"), lambda f: _share(f)),
    ]

    def get_queryset(self):
        return super().get_queryset().with_counts().select_related("alliance", "institution")

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_open=access.can_write(self.request.user, Formulary), **kwargs)


def _share(formulary):
    return round(formulary.essential_count * 100 / formulary.drug_count, 1) if formulary.drug_count else None


class FormularyEditForm(forms.Form):
    add = forms.ModelMultipleChoiceField(DrugCatalogueEntry.objects.none(), required=False, label=_("add"))
    remove = forms.ModelMultipleChoiceField(
        DrugCatalogueEntry.objects.none(), required=False, label=_("remove")
    )

    def __init__(self, *args, formulary, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add"].queryset = DrugCatalogueEntry.objects.filter(alliance=formulary.alliance_id)
        self.fields["remove"].queryset = formulary.entries.all()


class FormularyEditView(ServiceFormView):
    """The alliance office adds the drugs it found with the catalogue's search and removes the
    ones it unticks; each change is audited (services.set_formulary)."""

    model = Formulary
    form_class = FormularyEditForm
    template_name = "pharmacy/formulary_edit.html"

    def get_object(self):
        return get_scoped_or_404(
            Formulary.objects.select_related("alliance", "institution"), self.request.user, self.kwargs["pk"]
        )

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"formulary": self.object}

    def get_context_data(self, **kwargs):
        search = self.request.GET.get("search", "")
        held = self.object.entries.order_by("generic_name")
        found = (
            DrugCatalogueEntry.objects.filter(alliance=self.object.alliance_id)
            .search(search)
            .exclude(pk__in=held.values("pk"))[:50]
            if search
            else []
        )
        counts = Formulary.objects.with_counts().get(pk=self.object.pk)
        changes = self.object.changes.select_related("entry", "acting_user")[:50]
        return super().get_context_data(
            held=held, found=found, search=search, share=_share(counts), changes=changes, **kwargs
        )

    def perform(self, form):
        entries = (set(self.object.entries.all()) | set(form.cleaned_data["add"])) - set(
            form.cleaned_data["remove"]
        )
        return services.set_formulary(self.object, entries, acting_user=self.request.user)

    def get_success_url(self):
        return reverse("pharmacy:formulary-edit", args=[self.object.pk])


class FormularyOpenForm(forms.Form):
    alliance = forms.ModelChoiceField(Alliance.objects.none(), label=_("alliance"))
    tier = forms.ChoiceField(choices=FormularyTier.choices, label=_("tier"))
    institution = forms.ModelChoiceField(Institution.objects.none(), required=False, label=_("institution"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        reach = access.reach(user, Formulary, access.WRITE, interactive=True)
        self.fields["alliance"].queryset = Alliance.objects.filter(pk__in=reach.alliances)
        self.fields["institution"].queryset = Institution.objects.for_user(user)


class FormularyOpenView(ServiceFormView):
    """Open the formulary of a tier, or of one institution, created empty when missing."""

    model = Formulary
    form_class = FormularyOpenForm
    template_name = "pharmacy/formulary_open.html"

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"user": self.request.user}

    def perform(self, form):
        data = form.cleaned_data
        return services.formulary_of(
            data["alliance"], data["tier"], data["institution"], acting_user=self.request.user
        )

    def get_success_url(self):
        return reverse("pharmacy:formulary-edit", args=[self.object.pk])
