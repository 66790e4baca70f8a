"""The indicator panel of the home page (issue 15 point 5; core.home): for the committee, the
bureau and the alliance office, the alliance's figures of the latest computed month, each
indicator's month value beside its target, the ones off target first (the slot and bed shares
under a third and a quarter among them), provisional and restated marked: the dashboard's
summary, with the way to it. Three queries. Beside it the open warnings (two queries); the
committee, which reads and acts on nothing, lands on the dashboard itself when it logs in."""

from django.urls import reverse

from core.home import LATEST
from members.choices import MembershipRole as Role
from members.querysets import roles_of

from .models import IndicatorMonth, IndicatorValue, IndicatorWarning, Period, Scope, WarningState
from .services.warnings import describe
from .views import name_of, target_of

WATCHERS = frozenset({Role.COMMITTEE, Role.BUREAU, Role.ALLIANCE_ADMIN})


def figures_panel(user):
    if not roles_of(user) & WATCHERS:
        return None
    state = (
        IndicatorMonth.objects.for_user(user)
        .filter(computed_at__isnull=False)
        .order_by("-month", "alliance")
        .first()
    )
    if state is None:
        return {"state": None, "rows": [], "url": reverse("assessment:values")}
    values = (
        IndicatorValue.objects.for_user(user)
        .filter(alliance=state.alliance_id, month=state.month, scope=Scope.ALLIANCE, period=Period.MONTH)
        .select_related("definition")
        .order_by("indicator")
    )
    rows = [
        {"value": value, "name": name_of(value.definition), "target": target_of(value.definition),
         "met": value.definition.meets_target(value.value)}
        for value in values
    ]  # fmt: skip
    rows.sort(key=lambda row: (row["met"] is not False, row["name"]))
    return {
        "state": state,
        "rows": rows,
        "off_target": sum(row["met"] is False for row in rows),
        "url": reverse("assessment:values") + f"?alliance={state.alliance_id}&month={state.month:%Y-%m}",
        "dashboard": reverse("assessment:dashboard") + f"?alliance={state.alliance_id}",
    }


def warnings_panel(user):
    """The open warnings of the alliances the user watches, newest month first."""
    if not roles_of(user) & WATCHERS:
        return None
    open_ones = IndicatorWarning.objects.for_user(user).filter(state=WarningState.OPEN)
    latest = list(
        open_ones.select_related("institution", "alliance").order_by("-month", "-light", "kind", "pk")[
            :LATEST
        ]
    )
    return {
        "warnings": [(warning, describe(warning)) for warning in latest],
        "count": open_ones.count() if len(latest) == LATEST else len(latest),
        "url": reverse("assessment:warnings") + "?state=open",
    }


def committee_landing(user):
    """The committee lands on the dashboard after logging in (issue 15 point 6), unless the user
    has other work too."""
    roles = roles_of(user)
    return reverse("assessment:dashboard") if roles and roles <= {Role.COMMITTEE} else None
