"""Thin Celery tasks of the alliance app: fetch by id, call one service."""

from celery import shared_task

from . import webhooks


@shared_task(bind=True, acks_late=True, max_retries=webhooks.MAX_ATTEMPTS - 1)
def deliver_webhook_task(self, delivery_id):
    """POST one webhook delivery; on failure retry after 60 s, 120 s, … (issue 6.5). Routed to the
    `webhooks` queue (settings.CELERY_TASK_ROUTES), so a slow HIS never delays other work.

    The delivery row counts the attempts and marks itself failed after the last, so the task
    retries only while attempts remain. Eager mode never runs this task: a thread delivers
    (`webhooks._enqueue`).
    """
    try:
        webhooks.deliver_webhook(delivery_id)
    except webhooks.DeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=webhooks.backoff_seconds(exc.attempts)) from exc
    return None
