"""Thin Celery tasks of encounters: call one service."""

from celery import shared_task

from . import imports


@shared_task(acks_late=True)
def expire_uploads_task():
    """Hourly (beat): abandoned upload previews lose their encrypted records after a day, so no
    resident ID, even encrypted, waits longer than that for a clerk who never confirmed."""
    imports.expire_uploads()
