"""Thin Celery tasks of referrals: times from `timezone.now()` (Python, so tests can freeze the
clock), then one service. Beat runs the first two every 10 minutes (config/settings.py)."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import notifications
from members.models import MembershipRole

from . import services
from .models import Referral, ReferralState

S = ReferralState
# Who hears of a move: the receiver of a new or withdrawn referral, the sender of every answer.
TO_RECEIVER = {S.SUBMITTED, S.CANCELLED}
RECIPIENT_ROLES = [MembershipRole.INSTITUTION_ADMIN, MembershipRole.CLINICIAN]


@shared_task(acks_late=True)
def return_unbooked_slots_task():
    """Reserved slots unbooked at their cut-off go back to the public pool."""
    return services.return_unbooked_slots(timezone.now())


@shared_task(acks_late=True)
def expire_referrals_task():
    """Submitted referrals not answered in time expire and release their slots and beds."""
    return services.expire_referrals(timezone.now())


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def notify_referral_task(referral_id, event):
    """Tell the staff of the other side that a referral moved, in their inbox (issue 6 point 5).
    Unfiltered manager: a task."""
    referral = (
        Referral.objects.select_related("from_institution", "to_institution").filter(pk=referral_id).first()
    )
    if referral is None:
        return None
    institution = referral.to_institution if event in TO_RECEIVER else referral.from_institution
    users = (
        get_user_model()
        .objects.filter(
            memberships__institution=institution, memberships__role__in=RECIPIENT_ROLES, is_active=True
        )
        .distinct()
    )
    state = S(event).label if event in S.values else event
    sent = notifications.notify(
        users,
        title=_("Referral #%(id)s: %(state)s") % {"id": referral.pk, "state": state},
        body=_("%(name)s, from %(sender)s to %(receiver)s.")
        % {
            "name": referral.patient_name_masked,
            "sender": referral.from_institution.name,
            "receiver": referral.to_institution.name,
        },
        link=reverse("referrals:detail", args=[referral.pk]),  # the referral page (issue 7)
        event=f"referral.{event}",
        payload={"referral": referral.pk, "state": referral.state},
    )
    return len(sent)
