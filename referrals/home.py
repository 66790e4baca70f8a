"""The referral panel of the home page (issue 15 point 5; core.home): for an institution
administrator or a clinician, the referrals their institutions received that wait for an answer
(prioritised signed residents first, then by the answer's deadline), today's booked slots at
those institutions, and the buttons to refer up and down. Three queries, whatever the rows."""

from django.urls import reverse

from alliance.querysets import today
from core import access
from core.home import LATEST

from .choices import ReferralState
from .forms.refer import sending_institution_ids
from .models import Referral, Slot


def referrals_panel(user):
    institution_ids = sending_institution_ids(user)
    if not institution_ids:
        return None  # not a role that answers referrals on these pages
    waiting = (
        access.scope(Referral.objects.for_list(), user)
        .filter(to_institution__in=institution_ids, state=ReferralState.SUBMITTED)
        .order_by("-priority", "answer_due_at", "pk")
    )
    bookings = (
        access.scope(Slot.objects.all(), user)
        .filter(institution__in=institution_ids, date=today(), referral__isnull=False)
        .select_related("department", "referral")
        .order_by("expected_at", "pk")
    )
    return {
        "waiting": list(waiting[:LATEST]),
        "waiting_count": waiting.count(),
        "bookings": list(bookings[:LATEST]),
        "bookings_count": bookings.count(),
        "inbox_url": reverse("referrals:inbox") + f"?state={ReferralState.SUBMITTED}",
        "refer_up_url": reverse("referrals:refer-up"),
        "refer_down_url": reverse("referrals:refer-down"),
    }
