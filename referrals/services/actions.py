"""Which workflow verbs a user may use on a referral right now (issue 7 point 3): the one place
the pages ask, so a button is offered exactly when its service would accept it.

It reads the same two facts the services check: the TRANSITIONS table (through
`Referral.can_move_to`) and which side the user acts for (`ensure_acts_for`, i.e. the access
policy's `can_write`, guardian grants included). The sender's staff submit and cancel; the
receiver's staff accept, reject, record arrival, completion and no-show, and refer a completed
up-referral back. Expiry is the system's and is never offered. A test checks this agrees with
the services for every state, side and role (tests/referrals/test_referral_pages.py).
"""

from django.core.exceptions import PermissionDenied

from ..choices import Direction, ReferralState
from ..models import Referral
from .common import ensure_acts_for

S = ReferralState
# verb → (side, the state it moves to); refer_back creates a new referral instead of moving.
VERBS = {
    "submit": ("sender", S.SUBMITTED),
    "accept": ("receiver", S.ACCEPTED),
    "reject": ("receiver", S.REJECTED),
    "arrive": ("receiver", S.ARRIVED),
    "complete": ("receiver", S.COMPLETED),
    "no_show": ("receiver", S.NO_SHOW),
    "refer_back": ("receiver", None),
    "cancel": ("sender", S.CANCELLED),
}


def acts_for(user, institution):
    """Whether `user` may act for `institution` on referrals: the services' own check."""
    try:
        ensure_acts_for(user, institution)
    except PermissionDenied:
        return False
    return user is not None


def can_refer_back(referral):
    """Only a completed up-referral is referred back (down, with its discharge summary), once
    while its down-referral is under way (the service's two checks)."""
    if referral.state != S.COMPLETED or referral.direction != Direction.UP:
        return False
    return not Referral.objects.open_returns_of(referral).exists()


def allowed_actions(referral: Referral, user):
    """The verbs of VERBS (in their order) that `user` may use on `referral` in its current state."""
    sides = {
        "sender": acts_for(user, referral.from_institution),
        "receiver": acts_for(user, referral.to_institution),
    }
    allowed = []
    for verb, (side, to_state) in VERBS.items():
        if not sides[side]:
            continue
        if verb == "refer_back" and not can_refer_back(referral):
            continue
        if to_state is not None and not referral.can_move_to(to_state):
            continue
        allowed.append(verb)
    return allowed
