"""Pages of the dashboard (issue 15 points 2–4), under /indicators/dashboard/: the screen (one
request: its data comes in the page), a tile's detail (one JSON request when a tile opens),
and the printable monthly report. Read-only, for the committee, the bureau, the alliance
office and finance, who watch the alliance (DESIGN §5); an alliance out of reach is 404."""

import datetime

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.generic import TemplateView, View

from alliance.models import Alliance
from core import access

from . import dashboard
from .models import IndicatorWarning, Restatement, Scope
from .services.warnings import describe
from .views import name_of


def watched_alliances(user):
    if user.is_superuser:
        return list(Alliance.objects.order_by("pk"))
    reach = access.reach(user, IndicatorWarning, interactive=True)
    if not reach.alliances:
        raise PermissionDenied
    return list(Alliance.objects.filter(pk__in=reach.alliances).order_by("pk"))


def _chosen(request):
    """(alliances, alliance, months, month) of the request: `?alliance=<id>&month=YYYY-MM`, by
    default the first alliance and its latest published month; 404 for anything else."""
    alliances = watched_alliances(request.user)
    wanted = request.GET.get("alliance")
    if wanted:
        alliance = next((a for a in alliances if str(a.pk) == wanted), None)
        if alliance is None:
            raise Http404
    else:
        alliance = alliances[0] if alliances else None
    if alliance is None:
        raise Http404
    months = dashboard.months_of(alliance)
    text = request.GET.get("month")
    if text:
        month = next((m for m, _published in months if m.strftime("%Y-%m") == text), None)
        if month is None:
            raise Http404
    else:
        month = dashboard.opening_month(months)
    return alliances, alliance, months, month


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "assessment/dashboard.html"

    def get_context_data(self, **kwargs):
        alliances, alliance, months, month = _chosen(self.request)
        data = dashboard.screen(self.request.user, alliance, month) if month else None
        return super().get_context_data(
            alliances=alliances,
            alliance=alliance,
            months=[(m.strftime("%Y-%m"), published is not None) for m, published in months],
            month=month,
            data=data,
            wall=self.request.GET.get("wall") == "1",
            tile_url=reverse("assessment:dashboard-tile"),
            **kwargs,
        )


class TileView(LoginRequiredMixin, View):
    """`GET /indicators/dashboard/tile/?alliance=&month=&indicator=` → the tile's detail (JSON)."""

    def get(self, request):
        _alliances, alliance, _months, month = _chosen(request)
        detail = (
            dashboard.tile(request.user, alliance, month, request.GET.get("indicator", "")) if month else None
        )
        if detail is None:
            raise Http404
        return JsonResponse(detail)


class ReportView(LoginRequiredMixin, TemplateView):
    """The month's report for the committee meeting: an A4 page to print (print CSS), with the
    indicator table and their 12-month charts, the month's warnings and its restatements."""

    template_name = "assessment/report.html"

    def get_context_data(self, **kwargs):
        _alliances, alliance, _months, month = _chosen(self.request)
        if month is None:
            raise Http404
        user = self.request.user
        warnings = (
            IndicatorWarning.objects.for_user(user)
            .filter(alliance=alliance, month=month)
            .select_related("institution")
            .order_by("state", "-light", "kind", "subject", "pk")
        )
        restatements = (
            Restatement.objects.for_user(user)
            .filter(alliance=alliance, month=month, value__scope=Scope.ALLIANCE)
            .select_related("value__definition")
            .order_by("value__indicator", "value__period", "-restated_at")
        )
        return super().get_context_data(
            alliance=alliance,
            month=month,
            data=dashboard.screen(user, alliance, month),
            warnings=[(warning, describe(warning)) for warning in warnings],
            restatements=[(r, name_of(r.value.definition)) for r in restatements],
            printed_at=datetime.datetime.now(datetime.UTC),
            **kwargs,
        )
