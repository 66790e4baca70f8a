"""What a referral's moves tell people and systems (issue 12 point 3; docs/api.md, "Events").

Every move but the draft publishes `referral.<state>` through `core.events.publish`; the
down-referral created by `refer_back` publishes `referral.referred_back` instead of
`referral.submitted`. Recipients are chosen here: in the inbox, the staff (institution
administrators and clinicians) of the side that must act next: the receiver of a new or
withdrawn referral, the sender of every answer; at the HIS, both ends' institutions.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import events
from members.choices import MembershipRole

from ..choices import ReferralState

S = ReferralState
REFERRED_BACK = "referred_back"
EVENTS = [S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.ARRIVED, S.COMPLETED, S.CANCELLED, S.EXPIRED, S.NO_SHOW]
TO_RECEIVER = {S.SUBMITTED, S.CANCELLED, REFERRED_BACK}
RECIPIENT_ROLES = [MembershipRole.INSTITUTION_ADMIN, MembershipRole.CLINICIAN]


def publish_move(referral, event, now):
    """Publish `event` (a state, or REFERRED_BACK) of `referral` on commit. No query here: the
    payload is read from the referral in memory and the recipients' query runs after commit."""
    told = referral.to_institution_id if event in TO_RECEIVER else referral.from_institution_id
    users = (
        get_user_model()
        .objects.filter(memberships__institution=told, memberships__role__in=RECIPIENT_ROLES, is_active=True)
        .distinct()
    )
    with translation.override(settings.LANGUAGE_CODE):  # the inbox text, in the site's language
        label = _("Referred back") if event == REFERRED_BACK else S(event).label
        title = _("Referral #%(id)s: %(state)s") % {"id": referral.pk, "state": label}
        body = _("%(name)s, from %(sender)s to %(receiver)s.") % {
            "name": referral.patient_name_masked,
            "sender": referral.from_institution.name,
            "receiver": referral.to_institution.name,
        }
    events.publish(
        f"referral.{event}",
        payload(referral, now),
        [referral.from_institution_id, referral.to_institution_id],
        users=users,
        title=title,
        body=body,
        link=reverse("referrals:detail", args=[referral.pk]),
    )


def payload(referral, now):
    """The documented payload of every referral event: ids and codes, no patient data (an HIS
    reads the referral itself, in its scope, through `GET /api/v1/referrals/{id}/`)."""
    department = referral.to_department
    return {
        "referral": referral.pk,
        "state": referral.state,
        "direction": referral.direction,
        "urgency": referral.urgency,
        "from_institution": referral.from_institution_id,
        "from_institution_code": referral.from_institution.code,
        "to_institution": referral.to_institution_id,
        "to_institution_code": referral.to_institution.code,
        "to_department": referral.to_department_id,
        "to_department_code": department.code if department else None,
        "slot": referral.held_id("slot"),
        "bed": referral.held_id("bed"),
        "return_of": referral.return_of_id,
        "occurred_at": timezone.localtime(now).isoformat(),
    }
