"""Pages of referrals (issue 7), under /referrals/: one module per part (inbox and outbox, the
referral page and its actions, the refer form with its slot calendar, pool management)."""
