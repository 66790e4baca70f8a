"""Writes of referrals (issue 6): publishing slots and beds, the referral workflow, booking.

The only path for the API, the pages, the admin, tasks and the demo seed (STYLE.md).
"""

from .pools import (
    LEAD_SLOT_SHARE,
    MAX_PUBLISH,
    publish_beds,
    publish_slots,
    publish_week,
    return_unbooked_slots,
)
from .workflow import (
    PATIENT_COPIED,
    STAMPS,
    accept_referral,
    cancel_referral,
    classify,
    complete_referral,
    create_referral,
    expire_referrals,
    record_arrival,
    record_no_show,
    refer_back,
    reject_referral,
    submit_referral,
)

__all__ = [
    "LEAD_SLOT_SHARE",
    "MAX_PUBLISH",
    "PATIENT_COPIED",
    "STAMPS",
    "accept_referral",
    "cancel_referral",
    "classify",
    "complete_referral",
    "create_referral",
    "expire_referrals",
    "publish_beds",
    "publish_slots",
    "publish_week",
    "record_arrival",
    "record_no_show",
    "refer_back",
    "reject_referral",
    "return_unbooked_slots",
    "submit_referral",
]
