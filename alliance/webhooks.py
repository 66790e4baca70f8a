"""Webhooks to an institution's HIS (issue 6.5): configuration, sending and delivery.

An event published through `core.events.publish` for an institution with an active webhook
becomes a WebhookDelivery row, and `deliver_webhook_task` (on the `webhooks` queue) POSTs it once
the transaction commits. The body is compact JSON with
sorted keys in UTF-8; `X-Alliance-Signature: sha256=<hex>` is the HMAC-SHA256 of exactly those
bytes under the webhook's secret. A failed attempt (no connection, timeout, an answer other than
2xx) is recorded and retried by Celery with exponential backoff; after MAX_ATTEMPTS the delivery
is marked failed. Without a broker (eager mode) a background thread makes the same attempts, so
no request ever waits for an HIS. The standard library's urllib does the POST: no new dependency for one request.
"""

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPException

from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.utils import timezone

from .choices import WebhookDeliveryState
from .models import InstitutionWebhook, WebhookDelivery, generate_webhook_secret

MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5
BACKOFF_BASE_SECONDS = 30
ERROR_LENGTH = 1000  # enough to diagnose; an HIS error page can be megabytes
EAGER_THREAD_PREFIX = "webhook-delivery-"


class DeliveryFailed(Exception):
    """An attempt failed and attempts remain: the task retries after `backoff_seconds(attempts)`."""

    def __init__(self, message, *, attempts):
        super().__init__(message)
        self.attempts = attempts


def backoff_seconds(attempts):
    """Seconds to wait after the `attempts`-th failed attempt: 60, 120, 240, 480, 960."""
    return 2**attempts * BACKOFF_BASE_SECONDS


# --- Configuration ----------------------------------------------------------------------------
@transaction.atomic
def configure_webhook(institution, *, url, active=True, acting_user):
    """Give `institution` a webhook with a freshly generated secret (one per institution)."""
    webhook = InstitutionWebhook(institution=institution, url=url, active=active)
    webhook.full_clean()
    webhook.save()
    return webhook


@transaction.atomic
def update_webhook(webhook, *, acting_user, **fields):
    """Change the URL or switch the webhook on or off; the secret changes only by rotation."""
    for name in set(fields) & {"url", "active"}:
        setattr(webhook, name, fields[name])
    webhook.full_clean()
    webhook.save()
    return webhook


@transaction.atomic
def rotate_webhook_secret(webhook, *, acting_user):
    """Replace the secret (it leaked, or the HIS vendor changed); returns the new one to show once."""
    webhook.secret = generate_webhook_secret()
    webhook.save(update_fields=["secret", "updated_at"])
    return webhook.secret


# --- Sending ----------------------------------------------------------------------------------
def encode_body(payload):
    """The exact bytes sent and signed: compact JSON, sorted keys, UTF-8."""
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return text.encode("utf-8")


def sign(secret, body):
    """The `X-Alliance-Signature` header value for `body` under `secret`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@transaction.atomic
def send_webhooks(institutions, *, event, payload):
    """Queue `event` for the HIS of each of `institutions` (or ids) that has an active webhook;
    returns the deliveries. `core.events.publish` calls this on commit (settings.WEBHOOK_SENDER).

    The payload is stored as JSON (dates and decimals as strings) and each delivery is enqueued
    on commit, so an HIS never hears of a change that was rolled back.
    """
    ids = [getattr(institution, "pk", institution) for institution in institutions]
    stored = json.loads(encode_body(payload))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=webhook, event=event, payload=stored)
        for webhook in InstitutionWebhook.objects.filter(institution__in=ids, active=True)
    )
    if deliveries:
        delivery_ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: _enqueue(delivery_ids), robust=True)
    return deliveries


def _enqueue(delivery_ids):
    """Hand the deliveries to the `webhooks` queue (settings.CELERY_TASK_ROUTES). Without a broker
    (eager mode) a background thread delivers them instead, so a slow or failing HIS never holds
    the request that caused the event; it waits out the same backoff between attempts."""
    from .tasks import deliver_webhook_task

    if current_app.conf.task_always_eager:
        name = f"{EAGER_THREAD_PREFIX}{delivery_ids[0]}"
        threading.Thread(target=_deliver_in_thread, args=(delivery_ids,), name=name, daemon=True).start()
        return
    for delivery_id in delivery_ids:
        deliver_webhook_task.delay(delivery_id)


def _deliver_in_thread(delivery_ids):
    try:
        for delivery_id in delivery_ids:
            while True:
                try:
                    deliver_webhook(delivery_id)
                    break
                except DeliveryFailed as failure:
                    time.sleep(backoff_seconds(failure.attempts))
    finally:
        connections.close_all()  # this thread's own connections


# --- Delivering -------------------------------------------------------------------------------
def deliver_webhook(delivery_id):
    """Make one attempt at a pending delivery and record it; None if it is gone or finished.

    Raises DeliveryFailed while attempts remain, so the task retries; the last failed attempt
    marks the delivery failed instead. The record is a conditional update on the attempt count,
    so a delivery handed to two workers at once is recorded once per attempt.
    """
    # Tasks use the unfiltered manager: the delivery belongs to no user's scope.
    delivery = (
        WebhookDelivery.objects.select_related("webhook")
        .filter(pk=delivery_id, state=WebhookDeliveryState.PENDING)
        .first()
    )
    if delivery is None:
        return None
    status, error = _attempt(delivery)
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_status_code": status, "last_error": error[:ERROR_LENGTH]}
    if not error:
        fields.update(state=WebhookDeliveryState.DELIVERED, delivered_at=timezone.now())
    elif attempts >= MAX_ATTEMPTS or not delivery.webhook.active:
        fields["state"] = WebhookDeliveryState.FAILED
    WebhookDelivery.objects.filter(
        pk=delivery.pk, state=WebhookDeliveryState.PENDING, attempts=delivery.attempts
    ).update(**fields)
    delivery.refresh_from_db()
    if delivery.state == WebhookDeliveryState.PENDING:
        raise DeliveryFailed(error, attempts=delivery.attempts)
    return delivery


def _attempt(delivery):
    """POST the delivery once: (HTTP status or None, error text or "" on a 2xx answer).

    The error text is a stored diagnostic record, like the exception texts beside it, so it is
    not translated: it would freeze in whichever language the worker happened to run.
    """
    webhook = delivery.webhook
    if not webhook.active:
        return None, "The webhook was switched off before this event could be delivered."
    if not webhook.url.lower().startswith(("http://", "https://")):  # urllib would also open file://
        return None, "The webhook URL must start with http:// or https://."
    body = encode_body(delivery.payload)
    headers = _headers(delivery, body)
    request = urllib.request.Request(webhook.url, data=body, method="POST", headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, f"The HIS answered HTTP {exc.code}."
    except (OSError, HTTPException) as exc:  # refused, unreachable, timed out, TLS, bad answer
        return None, f"{type(exc).__name__}: {exc}"
    if not 200 <= status < 300:
        return status, f"The HIS answered HTTP {status}."
    return status, ""


def _headers(delivery, body):
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "healthalliance-webhook/1",
        "X-Alliance-Event": delivery.event,
        "X-Alliance-Delivery": str(delivery.pk),
        "X-Alliance-Signature": sign(delivery.webhook.secret, body),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed attempt: following it would send the signed body somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)
