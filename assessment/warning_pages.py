"""Pages of the warnings (issue 15 point 1), under /indicators/warnings/: the list with its
filters (and its Excel export), for whoever watches the alliance; the acknowledgement form of
an open warning for the bureau and the alliance office, through `services.acknowledge_warning`."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import access
from core.detail import get_scoped_or_404
from core.forms import ServiceFormView
from core.listing import Column, ScopedListView, attr

from . import services
from .filtersets import WarningFilterSet
from .models import IndicatorWarning, WarningState
from .services.warnings import describe


def _month(warning):
    return warning.month.strftime("%Y-%m")


class WarningListView(ScopedListView):
    model = IndicatorWarning
    filterset_class = WarningFilterSet
    template_name = "assessment/indicatorwarning_list.html"
    title = _("Warnings")
    columns = [
        Column("month", _("month"), _month, "month"),
        Column("alliance", _("alliance"), attr("alliance.name"), "alliance__name"),
        Column("kind", _("kind"), attr("get_kind_display"), "kind"),
        Column("light", _("light"), attr("get_light_display"), "light"),
        Column("message", _("warning"), describe),
        Column("state", _("state"), attr("get_state_display"), "state"),
        Column("note", _("note"), attr("note")),
        Column("raised_at", _("raised at"), attr("raised_at"), "raised_at"),
    ]

    def get_queryset(self):
        return super().get_queryset().select_related("alliance", "institution")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_acknowledge"] = access.can_write(self.request.user, IndicatorWarning)
        context["open"] = WarningState.OPEN
        return context


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("What is being done about it, for the committee and the next meeting."),
    )


class AcknowledgeView(ServiceFormView):
    model = IndicatorWarning
    form_class = AcknowledgeForm
    template_name = "assessment/warning_acknowledge.html"

    def get_object(self):
        return get_scoped_or_404(
            IndicatorWarning.objects.select_related("alliance", "institution"),
            self.request.user,
            self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"message": describe(self.object)}

    def perform(self, form):
        return services.acknowledge_warning(
            self.object, note=form.cleaned_data["note"], acting_user=self.request.user
        )

    def get_success_url(self):
        return f"{reverse('assessment:warnings')}?alliance={self.object.alliance_id}&month={self.object.month:%Y-%m}"
