"""The referral page (issue 7 point 2) and its printable slip (point 3).

The page shows the referral's facts, its timeline (every ReferralEvent) and the actions the
user may take now (`services.allowed_actions`, the one place that decides). An action posts to
`/referrals/<id>/<verb>/` and calls one service. With htmx the answer is the page's main
section, swapped in place; without JavaScript it is a redirect back to the page (or the page
with the form's errors). When the referral moved on in another tab, the action is refused in
place with the current state, never a server error. Referrals outside the user's scope are 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.detail import ScopedDetailView, get_scoped_or_404
from core.exceptions import Conflict
from core.forms import attach_errors

from .. import services
from ..forms.actions import ACTION_FORMS, booking_label
from ..models import Referral, ReferralEvent

SERVICES = {
    "submit": services.submit_referral,
    "accept": services.accept_referral,
    "reject": services.reject_referral,
    "arrive": services.record_arrival,
    "complete": services.complete_referral,
    "no_show": services.record_no_show,
    "refer_back": services.refer_back,
    "cancel": services.cancel_referral,
}
# The button of each verb, and what the page says once it is done.
LABELS = {
    "submit": _("Submit"),
    "accept": _("Accept"),
    "reject": _("Reject"),
    "arrive": _("Record arrival"),
    "complete": _("Complete"),
    "no_show": _("Record no-show"),
    "refer_back": _("Refer back"),
    "cancel": _("Cancel referral"),
}
DONE = {
    "submit": _("The referral was submitted."),
    "accept": _("The referral was accepted."),
    "reject": _("The referral was rejected."),
    "arrive": _("The patient's arrival was recorded."),
    "complete": _("The referral was completed."),
    "no_show": _("The no-show was recorded."),
    "cancel": _("The referral was cancelled."),
}
# URL slugs of the verbs (/referrals/<id>/no-show/).
SLUGS = {verb: verb.replace("_", "-") for verb in SERVICES}


def serial_number(referral):
    """The number printed on the slip and shown on the page: day of creation and id."""
    return f"{timezone.localtime(referral.created_at):%Y%m%d}-{referral.pk:06d}"


def scoped(user, pk):
    return get_scoped_or_404(Referral.objects.for_detail(), user, pk)


def timeline(referral, user):
    """The referral's history: every ReferralEvent the user may see, oldest first."""
    events = ReferralEvent.objects.for_user(user).filter(referral=referral)
    return events.select_related("acting_user").order_by("at", "pk")


def page_context(request, referral, *, bound=None, notice=None, notice_kind="success"):
    """What the page's main section shows: facts, timeline and the allowed actions (a fresh form
    for each, or the bound one that failed)."""
    user = request.user
    allowed = services.allowed_actions(referral, user)
    actions = []
    for verb in allowed:
        form = bound if bound is not None and bound.verb == verb else None
        form = form or ACTION_FORMS[verb](referral=referral, user=user, verb=verb)
        actions.append({"verb": verb, "slug": SLUGS[verb], "label": LABELS[verb], "form": form})
    returns = Referral.objects.for_user(user).filter(return_of=referral).order_by("pk")
    return {
        "referral": referral,
        "serial": serial_number(referral),
        "booking": booking_label(referral),
        "events": timeline(referral, user),
        "returns": returns.only("pk", "state", "created_at"),
        "actions": actions,
        "notice": notice,
        "notice_kind": notice_kind,
    }


class ReferralDetailView(ScopedDetailView):
    """The referral page; its history is the timeline of its events (`events`)."""

    queryset = Referral.objects.for_detail()
    template_name = "referrals/referral_detail.html"
    context_object_name = "referral"
    history_context_name = "events"

    def get_history(self):
        return timeline(self.object, self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**page_context(self.request, self.object), **kwargs)


class ReferralSlipView(ReferralDetailView):
    """The printable two-way referral slip (双向转诊单)."""

    template_name = "referrals/referral_slip.html"

    def get_context_data(self, **kwargs):
        referral = self.object
        return {
            "referral": referral,
            "serial": serial_number(referral),
            "slot": getattr(referral, "slot", None),
            "bed": getattr(referral, "bed", None),
        }


def _stale(referral):
    return gettext(
        "This referral has already been handled by someone else; its current state is “%(state)s”."
    ) % {"state": referral.get_state_display()}


@login_required
@require_POST
def act(request, pk, verb):
    """Take one action on a referral: check the form, refuse a stale tab, call the service."""
    verb = verb.replace("-", "_")
    if verb not in SERVICES:
        raise Http404
    referral = scoped(request.user, pk)
    seen = request.POST.get("seen_state")
    if seen and seen != referral.state:  # the page was out of date (another tab moved it on)
        return _answer(request, referral, notice=_stale(referral), notice_kind="error", status=409)
    form = ACTION_FORMS[verb](request.POST, referral=referral, user=request.user, verb=verb)
    if not form.is_valid():
        return _answer(request, referral, bound=form, status=400)
    try:
        result = SERVICES[verb](referral, acting_user=request.user, **form.service_kwargs())
    except Conflict as error:
        referral = scoped(request.user, pk)
        if error.code == "illegal_transition":
            return _answer(request, referral, notice=_stale(referral), notice_kind="error", status=409)
        form.add_error(None, error.message)
        return _answer(request, referral, bound=form, status=409)
    except ValidationError as error:
        attach_errors(form, error)
        return _answer(request, scoped(request.user, pk), bound=form, status=400)
    if verb == "refer_back":
        notice = gettext("The patient was referred back: referral %(serial)s.") % {
            "serial": serial_number(result)
        }
    else:
        notice = str(DONE[verb])
    if not request.htmx:
        messages.success(request, notice)
        return redirect("referrals:detail", pk=pk)
    return _answer(request, scoped(request.user, pk), notice=notice)


def _answer(request, referral, *, bound=None, notice=None, notice_kind="success", status=200):
    """htmx: the main section, always 200 (htmx swaps only successful answers); otherwise the
    whole page with the error status."""
    context = page_context(request, referral, bound=bound, notice=notice, notice_kind=notice_kind)
    if request.htmx:
        return render(request, "referrals/_referral_main.html", context)
    return render(request, "referrals/referral_detail.html", context, status=status)
