"""Thin Celery tasks of core: fetch by id, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def purge_idempotency_keys_task(job_id=None):
    """Nightly (beat) and on demand: drop idempotency keys older than their TTL."""
    if job_id is None:
        return services.purge_idempotency_keys()
    return services.run_job(job_id, lambda job: {"deleted": services.purge_idempotency_keys()})


@shared_task(acks_late=True)
def preview_import_task(job_id, importer_path):
    """The preview of an upload (core.imports): its Job records the progress and the result."""
    from .imports import run_preview

    return bool(run_preview(importer_path, job_id))


@shared_task(acks_late=True)
def expire_import_previews_task():
    """Hourly (beat): import previews never confirmed fail after a day and lose what they sealed
    (an encounter upload's resident IDs), so nothing waits longer for a clerk who never came back."""
    from .imports import expire_previews

    return expire_previews()
