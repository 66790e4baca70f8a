"""Thin Celery tasks of the indicators (issue 14 point 4), on their own `indicators` queue
(config/settings.py CELERY_TASK_ROUTES): one task computes one alliance, so several alliances
compute in parallel on several workers (a Celery group)."""

import datetime

from celery import group, shared_task

from alliance.models import Alliance
from core import services as core_services

from .services import indicators


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def compute_indicators_task(alliance_id, months, job_id=None):
    """Compute `months` (ISO dates of first days) of one alliance, for a Job when one waits."""
    alliance = Alliance.objects.filter(pk=alliance_id).first()
    if alliance is None:
        return None
    months = [datetime.date.fromisoformat(month) for month in months]
    if job_id is None:
        return indicators.compute_indicators(alliance, months)
    return core_services.run_job(job_id, lambda job: indicators.compute_indicators(alliance, months))


def _fan_out(months_by_alliance):
    """One task per alliance in a Celery group (each worker takes one alliance at a time)."""
    tasks = [
        compute_indicators_task.s(alliance_id, [m.isoformat() for m in months])
        for alliance_id, months in months_by_alliance.items()
        if months
    ]
    if tasks:
        group(tasks).apply_async()
    return len(tasks)


@shared_task(acks_late=True)
def recompute_dirty_months_task():
    """Nightly: the months whose inputs changed since they were computed, and those that read them."""
    months = indicators.dirty_months()
    indicators.forget_marks_of_uncomputed_months()
    return _fan_out(months)


@shared_task(acks_late=True)
def compute_all_months_task():
    """Early each month: every month of the year so far (and of last year in January and February)."""
    months = indicators.schedule_months()
    return _fan_out(dict.fromkeys(Alliance.objects.values_list("pk", flat=True), months))
