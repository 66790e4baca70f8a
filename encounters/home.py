"""The encounters panels of the home page (issue 15 point 5; core.home).

- The alliance office and the bureau: the institutions silent for longer than their alliance's
  setting (submission control, this month), the first few and how many.
- An HIS or insurance-feed account: the API's documents and the last batches it sent.
"""

from django.urls import reverse
from django.utils import timezone

from core.home import LATEST
from members.choices import MembershipRole as Role
from members.querysets import roles_of

from .models import IngestBatch
from .querysets import first_of_month, submission_institutions, submission_summary

WATCHERS = frozenset({Role.ALLIANCE_ADMIN, Role.BUREAU})
MACHINES = frozenset({Role.API_CLIENT, Role.INSURANCE_FEED})


def silent_sources_panel(user):
    if not roles_of(user) & WATCHERS:
        return None
    month = first_of_month(timezone.localdate())
    silent = [
        row
        for row in submission_summary(submission_institutions(user, month), month, timezone.now())
        if row["silent"]
    ]
    return {"silent": silent[:LATEST], "silent_count": len(silent), "url": reverse("encounters:submissions")}


def api_account_panel(user):
    if not roles_of(user) & MACHINES:
        return None
    return {
        "batches": list(IngestBatch.objects.filter(client=user)[:LATEST]),
        "docs_url": reverse("api-docs"),
    }
