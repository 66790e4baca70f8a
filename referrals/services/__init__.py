"""Writes of referrals (issue 6): publishing slots and beds, the referral workflow, booking.

The only path for the API, the pages, the admin, tasks and the demo seed (STYLE.md).
"""

from .actions import VERBS, allowed_actions
from .pools import (
    LEAD_BED_SHARE,
    LEAD_SLOT_SHARE,
    MAX_PUBLISH,
    create_template_entry,
    delete_template_entry,
    publish_beds,
    publish_slots,
    publish_week,
    return_unbooked_slots,
    update_template_entry,
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
    needs_reason_code,
    record_arrival,
    record_no_show,
    refer_back,
    reject_referral,
    submit_referral,
)

__all__ = [
    "LEAD_BED_SHARE",
    "LEAD_SLOT_SHARE",
    "MAX_PUBLISH",
    "PATIENT_COPIED",
    "STAMPS",
    "VERBS",
    "accept_referral",
    "allowed_actions",
    "cancel_referral",
    "classify",
    "complete_referral",
    "create_referral",
    "create_template_entry",
    "delete_template_entry",
    "expire_referrals",
    "needs_reason_code",
    "publish_beds",
    "publish_slots",
    "publish_week",
    "record_arrival",
    "record_no_show",
    "refer_back",
    "reject_referral",
    "return_unbooked_slots",
    "submit_referral",
    "update_template_entry",
]
