"""Thin Celery tasks of the alliance app: fetch by id, call one service."""

from celery import shared_task

from . import webhooks


@shared_task(bind=True, acks_late=True, max_retries=webhooks.MAX_ATTEMPTS - 1)
def deliver_webhook_task(self, delivery_id):
    """POST one webhook delivery; on failure retry after 60 s, 120 s, … (issue 6.5).

    The delivery row counts the attempts and marks itself failed after the last, so the task
    retries only while attempts remain. In eager mode the retries run at once, with no countdown.
    """
    try:
        webhooks.deliver_webhook(delivery_id)
    except webhooks.DeliveryFailed as exc:
        countdown = webhooks.backoff_seconds(exc.attempts)
        if self.request.is_eager:
            # No broker (embedded default): eager mode propagates a raised Retry as an error, but
            # a returned one makes Celery's apply() run the next attempt at once, without waiting.
            return self.retry(exc=exc, countdown=countdown, throw=False)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return None
