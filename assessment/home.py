"""The indicator panel of the home page (issue 15 point 5; core.home): for the committee, the
bureau and the alliance office, the alliance's figures of the latest computed month, each
indicator's month value beside its target, the ones off target first (the slot and bed shares
under a third and a quarter among them), provisional and restated marked. Until the dashboard
(the rest of issue 15) it is the summary they open every morning. Three queries."""

from django.urls import reverse

from members.choices import MembershipRole as Role
from members.querysets import roles_of

from .models import IndicatorMonth, IndicatorValue, Period, Scope
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
    }
