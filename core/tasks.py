"""Thin Celery tasks of core: fetch by id, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def purge_idempotency_keys_task(job_id=None):
    """Nightly (beat) and on demand: drop idempotency keys older than their TTL."""
    if job_id is None:
        return services.purge_idempotency_keys()
    return services.run_job(job_id, lambda job: {"deleted": services.purge_idempotency_keys()})
