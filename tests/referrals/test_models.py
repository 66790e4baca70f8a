"""The referral table and the per-alliance settings."""

import datetime

import pytest

from referrals.choices import ReferralState, Urgency
from referrals.models import TRANSITIONS, Referral, ReferralSettings

S = ReferralState


def test_transitions_table_matches_the_issue():
    assert {
        S.DRAFT: {S.SUBMITTED, S.CANCELLED},
        S.SUBMITTED: {S.ACCEPTED, S.REJECTED, S.CANCELLED, S.EXPIRED},
        S.ACCEPTED: {S.ARRIVED, S.CANCELLED, S.NO_SHOW},
        S.ARRIVED: {S.COMPLETED},
    } == TRANSITIONS


@pytest.mark.parametrize("state", [S.COMPLETED, S.REJECTED, S.CANCELLED, S.EXPIRED, S.NO_SHOW])
def test_closed_states_allow_no_move(state):
    referral = Referral(state=state)
    assert not any(referral.can_move_to(target) for target in S.values)


@pytest.mark.parametrize(
    "urgency, hours", [(Urgency.ROUTINE, 48), (Urgency.URGENT, 4), (Urgency.EMERGENCY, 1)]
)
def test_default_answer_limits(urgency, hours):
    assert ReferralSettings.of(None).answer_limit(urgency) == datetime.timedelta(hours=hours)
    assert ReferralSettings.of(None).slot_cutoff_hours == 24
