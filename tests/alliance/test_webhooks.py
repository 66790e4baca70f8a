"""Webhooks to an institution's HIS (issue 6.5), received by a local HTTP server that checks the
HMAC signature the way an HIS would. No other network access."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from alliance import webhooks
from alliance.models import InstitutionWebhook, WebhookDelivery, WebhookDeliveryState
from alliance.tasks import deliver_webhook_task
from tests.alliance.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

PAYLOAD = {"referral": 17, "state": "accepted", "patient": "张*", "amount": "12.50"}


class HIS:
    """A stand-in HIS on 127.0.0.1 and an ephemeral port: answers with `statuses` in turn (the
    last one repeats), records each request and whether its signature verified."""

    def __init__(self, statuses=(200,), delay=0.0):
        self.statuses, self.delay, self.received = list(statuses), delay, []
        self.secret = None
        his = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                his.received.append(
                    {"headers": dict(self.headers), "body": body, "verified": his.verify(self, body)}
                )
                time.sleep(his.delay)
                status = his.statuses.pop(0) if len(his.statuses) > 1 else his.statuses[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, request, body):
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.headers.get("X-Alliance-Signature", ""), expected)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def his_factory():
    servers = []

    def make(**kwargs):
        servers.append(HIS(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _webhook_for(his, *, active=True):
    webhook = webhooks.configure_webhook(InstitutionFactory(), url=his.url, active=active, acting_user=None)
    his.secret = webhook.secret
    return webhook


def _send(webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return webhooks.send_webhook(webhook.institution, event="referral.accepted", payload=PAYLOAD)


# --- Which institutions get a delivery ---------------------------------------------------------
def test_no_delivery_without_a_webhook(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.send_webhook(InstitutionFactory(), event="e", payload={}) is None

    assert callbacks == [] and not WebhookDelivery.objects.exists()


def test_no_delivery_for_a_switched_off_webhook(his_factory, django_capture_on_commit_callbacks):
    his = his_factory()
    webhook = _webhook_for(his, active=False)

    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.send_webhook(webhook.institution, event="e", payload={}) is None

    assert callbacks == [] and not WebhookDelivery.objects.exists() and his.received == []


def test_the_task_is_enqueued_only_on_commit(his_factory, django_capture_on_commit_callbacks):
    webhook = _webhook_for(his_factory())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = webhooks.send_webhook(webhook.institution, event="e", payload=PAYLOAD)

    assert len(callbacks) == 1
    assert (delivery.state, delivery.attempts, delivery.payload) == (WebhookDeliveryState.PENDING, 0, PAYLOAD)


def test_each_webhook_has_its_own_generated_secret(his_factory):
    first, second = _webhook_for(his_factory()), _webhook_for(his_factory())

    assert len(first.secret) >= 40 and first.secret != second.secret


# --- Delivering --------------------------------------------------------------------------------
def test_the_his_receives_signed_sorted_compact_json(his_factory, django_capture_on_commit_callbacks):
    his = his_factory()
    webhook = _webhook_for(his)

    delivery = _send(webhook, django_capture_on_commit_callbacks)

    (request,) = his.received
    assert request["verified"] is True
    assert (
        request["body"]
        == json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert json.loads(request["body"]) == PAYLOAD
    assert request["headers"]["X-Alliance-Event"] == "referral.accepted"
    assert request["headers"]["X-Alliance-Delivery"] == str(delivery.pk)
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        WebhookDeliveryState.DELIVERED,
        1,
        200,
        "",
    )
    assert delivery.delivered_at is not None


def test_a_signature_under_another_secret_does_not_verify(his_factory, django_capture_on_commit_callbacks):
    his = his_factory()
    webhook = _webhook_for(his)
    webhooks.rotate_webhook_secret(webhook, acting_user=None)  # the HIS still holds the old one

    _send(webhook, django_capture_on_commit_callbacks)

    assert [request["verified"] for request in his.received] == [False]


def test_a_failing_his_keeps_the_delivery_pending_until_the_last_attempt(his_factory):
    his = his_factory(statuses=[500])
    webhook = _webhook_for(his)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="e", payload=PAYLOAD)

    for attempt in range(1, webhooks.MAX_ATTEMPTS):
        with pytest.raises(webhooks.DeliveryFailed) as failure:
            webhooks.deliver_webhook(delivery.pk)
        delivery.refresh_from_db()
        assert (failure.value.attempts, delivery.attempts, delivery.state) == (
            attempt,
            attempt,
            WebhookDeliveryState.PENDING,
        )
        assert (delivery.last_status_code, delivery.last_error) == (500, "The HIS answered HTTP 500.")

    webhooks.deliver_webhook(delivery.pk)  # the last attempt: recorded, no retry asked for

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.delivered_at) == (
        WebhookDeliveryState.FAILED,
        6,
        None,
    )
    assert len(his.received) == 6
    assert webhooks.deliver_webhook(delivery.pk) is None and len(his.received) == 6


def test_the_task_retries_at_once_in_eager_mode_and_then_gives_up(
    his_factory, django_capture_on_commit_callbacks
):
    his = his_factory(statuses=[503])
    started = time.monotonic()

    delivery = _send(_webhook_for(his), django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        WebhookDeliveryState.FAILED,
        6,
        503,
    )
    assert len(his.received) == 6 and all(request["verified"] for request in his.received)
    assert time.monotonic() - started < 5  # no countdown was waited for


def test_the_task_delivers_after_two_failures(his_factory, django_capture_on_commit_callbacks):
    his = his_factory(statuses=[500, 502, 204])

    delivery = _send(_webhook_for(his), django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        WebhookDeliveryState.DELIVERED,
        3,
        204,
    )


def test_retries_back_off_exponentially_up_to_six_attempts():
    assert [webhooks.backoff_seconds(n) for n in range(1, 6)] == [60, 120, 240, 480, 960]
    assert deliver_webhook_task.max_retries == webhooks.MAX_ATTEMPTS - 1 == 5


def test_the_task_asks_celery_for_a_retry_with_the_backoff(his_factory, monkeypatch):
    delivery = WebhookDelivery.objects.create(
        webhook=_webhook_for(his_factory(statuses=[500])), event="e", payload={}
    )
    asked = {}

    def fake_retry(*, exc, countdown):
        asked.update(exc=exc, countdown=countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(deliver_webhook_task, "retry", fake_retry)

    with pytest.raises(RuntimeError, match="retry"):
        deliver_webhook_task.run(delivery.pk)

    assert asked["countdown"] == 60 and asked["exc"].attempts == 1


def test_a_refused_connection_is_a_failed_attempt(his_factory):
    his = his_factory()
    webhook = _webhook_for(his)
    his.close()  # nobody listens on the port any more
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="e", payload={})

    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.state) == (
        1,
        None,
        WebhookDeliveryState.PENDING,
    )
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


def test_a_timeout_is_a_failed_attempt(his_factory, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    his = his_factory(delay=1.0)
    delivery = WebhookDelivery.objects.create(webhook=_webhook_for(his), event="e", payload={})

    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "timed out" in delivery.last_error


def test_a_redirect_is_a_failed_attempt_and_not_followed(his_factory):
    his = his_factory(statuses=[302])
    delivery = WebhookDelivery.objects.create(webhook=_webhook_for(his), event="e", payload={})

    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.last_status_code, len(his.received)) == (302, 1)


def test_a_webhook_switched_off_after_sending_fails_without_a_request(his_factory):
    his = his_factory()
    webhook = _webhook_for(his)
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="e", payload={})
    webhooks.update_webhook(webhook, active=False, acting_user=None)

    webhooks.deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, his.received) == (WebhookDeliveryState.FAILED, 1, [])


def test_only_http_urls_are_accepted():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        webhooks.configure_webhook(InstitutionFactory(), url="file:///etc/passwd", acting_user=None)


# --- Admin -------------------------------------------------------------------------------------
def test_admin_shows_the_secret_once_after_adding(superuser, client):
    institution = InstitutionFactory()
    client.force_login(superuser)

    response = client.post(
        reverse("admin:alliance_institutionwebhook_add"),
        {"institution": institution.pk, "url": "https://his.example/hook", "active": "on"},
        follow=True,
    )

    webhook = InstitutionWebhook.objects.get()
    assert response.redirect_chain and webhook.institution == institution
    assert webhook.secret in response.content.decode()
    change = client.get(reverse("admin:alliance_institutionwebhook_change", args=[webhook.pk]))
    assert change.status_code == 200 and webhook.secret not in change.content.decode()


def test_admin_webhooks_are_for_superusers_only(client):
    from tests.core.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:alliance_institutionwebhook_changelist")).status_code == 403
