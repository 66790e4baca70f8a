"""Thin Celery tasks of referrals: times from `timezone.now()` (Python, so tests can freeze the
clock), then one service. Beat runs both every 10 minutes (config/settings.py)."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(acks_late=True)
def return_unbooked_slots_task():
    """Reserved slots unbooked at their cut-off go back to the public pool."""
    return services.return_unbooked_slots(timezone.now())


@shared_task(acks_late=True)
def expire_referrals_task():
    """Submitted referrals not answered in time expire and release their slots and beds."""
    return services.expire_referrals(timezone.now())
