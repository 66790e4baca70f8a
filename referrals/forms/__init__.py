"""Forms of the referral pages: one module per part, each calling `referrals.services`."""
