"""Signed-resident pages (签约居民). A resident's name and ID number are shown masked only, on
the page, in the export and in the change history; the birth date not at all. Looking a
resident up by ID number is a POST (never in a URL, so never in a log) through the keyed hash."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.detail import get_scoped_or_404
from core.identity import mask_name
from core.listing import Column, ScopedListView, attr

from .. import services
from ..choices import ChronicCondition
from ..filtersets import ResidentFilterSet
from ..forms import FindResidentForm, ResidentUpdateForm, SignResidentForm
from ..models import SignedResident
from .common import PeopleFormView, RecordDetailView, readable_history

CONDITION_LABELS = dict(ChronicCondition.choices)
# Audit entries hold the fields of the row; these never reach a page (the name only masked).
HIDDEN_IN_HISTORY = {"birth_date", "id_number_encrypted", "patient_key"}


def conditions_of(resident):
    return "、".join(str(CONDITION_LABELS.get(code, code)) for code in resident.chronic_conditions or [])


class ResidentPageFilterSet(ResidentFilterSet):
    institution_code = None

    class Meta(ResidentFilterSet.Meta):
        fields = ["institution", "team"]


class ResidentListView(ScopedListView):
    model = SignedResident
    queryset = SignedResident.objects.select_related("team", "institution")
    filterset_class = ResidentPageFilterSet
    template_name = "members/signedresident_list.html"
    title = _("Signed residents")
    export_name = _("Signed residents")
    create_url_name = "members:resident-create"
    columns = [
        Column("name", _("full name"), attr("masked_name"), "name"),
        Column("id_number", _("resident ID number"), attr("id_number_masked")),
        Column("gender", _("gender"), attr("get_gender_display"), "gender"),
        Column("team", _("team"), attr("team.name"), "team__name"),
        Column("institution", _("institution"), attr("institution.name"), "institution__name"),
        Column("signed_on", _("signed on"), attr("signed_on"), "signed_on"),
        Column("valid_to", _("contract ends"), attr("valid_to"), "valid_to"),
        Column("conditions", _("chronic conditions"), conditions_of),
    ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(find_form=FindResidentForm(), **kwargs)


@login_required
@require_POST
def find_resident(request):
    """Find by ID number among the residents the user may see: one match opens its page."""
    form = FindResidentForm(request.POST)
    matches = []
    if form.is_valid():
        matches = list(
            SignedResident.objects.for_user(request.user)
            .with_id_number(form.cleaned_data["id_number"])
            .select_related("team", "institution")
            .order_by("-signed_on")
        )
        if len(matches) == 1:
            return redirect(matches[0])
    return render(
        request,
        "members/signedresident_find.html",
        {"find_form": form, "matches": matches, "searched": form.is_valid()},
    )


def _masked(name, value):
    if name == "name" and value not in (None, "", "None"):
        return mask_name(value)
    return value


def masked_history(resident):
    """The resident's change history with the name masked and the birth date left out."""
    return readable_history(resident, hidden=HIDDEN_IN_HISTORY, mask=_masked)


class ResidentDetailView(RecordDetailView):
    model = SignedResident
    related = ("team", "institution")
    template_name = "members/signedresident_detail.html"

    def get_history(self):
        return masked_history(self.object)

    def get_context_data(self, **kwargs):
        return super().get_context_data(conditions=conditions_of(self.object), **kwargs)


class ResidentCreateView(PeopleFormView):
    model = SignedResident
    form_class = SignResidentForm
    title = _("Sign a resident")

    def perform(self, form):
        return services.sign_resident(acting_user=self.request.user, **form.cleaned_data)

    def get_cancel_url(self):
        return reverse("members:resident-list")


class ResidentUpdateView(PeopleFormView):
    model = SignedResident
    form_class = ResidentUpdateForm
    title = _("Edit signed resident")

    def get_object(self):
        return get_scoped_or_404(
            SignedResident.objects.select_related("team"), self.request.user, self.kwargs["pk"]
        )

    def get_initial(self):
        resident = self.object
        return {
            "team": resident.team_id,
            "signed_on": resident.signed_on,
            "valid_to": resident.valid_to,
            "chronic_conditions": resident.chronic_conditions,
        }

    def perform(self, form):
        data = dict(form.cleaned_data)
        if not data["name"]:
            data.pop("name")
        return services.update_resident(self.object, acting_user=self.request.user, **data)
