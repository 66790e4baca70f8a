"""Webhooks to an institution's HIS (issue 6.5), received by a local HTTP server that checks the
HMAC signature the way an HIS would. No other network access."""

import json
import time

import pytest
from django.urls import reverse

from alliance import webhooks
from alliance.choices import WebhookDeliveryState
from alliance.models import InstitutionWebhook, WebhookDelivery
from alliance.tasks import deliver_webhook_task
from tests.alliance.factories import InstitutionFactory
from tests.his import join_eager_deliveries

pytestmark = pytest.mark.django_db

PAYLOAD = {"referral": 17, "state": "accepted", "patient": "张*", "amount": "12.50"}


def _webhook_for(his, *, active=True):
    webhook = webhooks.configure_webhook(InstitutionFactory(), url=his.url, active=active, acting_user=None)
    his.secret = webhook.secret
    return webhook


def _send(webhook, django_capture_on_commit_callbacks):
    """Send one event and deliver it as the worker would (the task, run in this thread)."""
    with django_capture_on_commit_callbacks(execute=False):
        (delivery,) = webhooks.send_webhooks(
            [webhook.institution], event="referral.accepted", payload=PAYLOAD
        )
    try:
        deliver_webhook_task.apply(args=[delivery.pk])
    finally:
        delivery.refresh_from_db()
    return delivery


# --- Which institutions get a delivery ---------------------------------------------------------
def test_no_delivery_without_a_webhook(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.send_webhooks([InstitutionFactory()], event="e", payload={}) == []

    assert callbacks == [] and not WebhookDelivery.objects.exists()


def test_no_delivery_for_a_switched_off_webhook(his_factory, django_capture_on_commit_callbacks):
    his = his_factory()
    webhook = _webhook_for(his, active=False)

    with django_capture_on_commit_callbacks() as callbacks:
        assert webhooks.send_webhooks([webhook.institution], event="e", payload={}) == []

    assert callbacks == [] and not WebhookDelivery.objects.exists() and his.received == []


def test_one_delivery_per_institution_with_a_webhook(his_factory, django_capture_on_commit_callbacks):
    first, second = _webhook_for(his_factory()), _webhook_for(his_factory())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = webhooks.send_webhooks(
            [first.institution, second.institution.pk, InstitutionFactory()], event="e", payload=PAYLOAD
        )

    assert len(callbacks) == 1  # one enqueueing, on commit, for all of them
    assert sorted(delivery.webhook_id for delivery in sent) == sorted([first.pk, second.pk])
    assert all(
        (delivery.state, delivery.attempts, delivery.payload) == (WebhookDeliveryState.PENDING, 0, PAYLOAD)
        for delivery in WebhookDelivery.objects.all()
    )


def test_the_task_is_routed_to_the_webhooks_queue(settings):
    from celery import current_app

    assert current_app.amqp.router.route({}, deliver_webhook_task.name)["queue"].name == "webhooks"


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


@pytest.mark.django_db(transaction=True)
def test_in_eager_mode_a_failing_his_never_holds_the_caller(his_factory, monkeypatch):
    """No broker: a background thread makes the attempts, with the backoff between them (here
    shortened), while the caller's transaction has long returned."""
    monkeypatch.setattr(webhooks, "BACKOFF_BASE_SECONDS", 0.01)
    his = his_factory(statuses=[503], delay=0.5)
    webhook = _webhook_for(his)

    started = time.monotonic()
    (delivery,) = webhooks.send_webhooks([webhook.institution], event="e", payload=PAYLOAD)
    returned = time.monotonic() - started
    join_eager_deliveries()

    assert returned < 0.4  # the first attempt alone takes 0.5 s at this HIS
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        WebhookDeliveryState.FAILED,
        6,
        503,
    )
    assert len(his.received) == 6 and all(request["verified"] for request in his.received)


@pytest.mark.django_db(transaction=True)
def test_in_eager_mode_the_thread_delivers_after_two_failures(his_factory, monkeypatch):
    monkeypatch.setattr(webhooks, "BACKOFF_BASE_SECONDS", 0.01)
    his = his_factory(statuses=[500, 502, 204])

    (delivery,) = webhooks.send_webhooks([_webhook_for(his).institution], event="e", payload=PAYLOAD)
    join_eager_deliveries()

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        WebhookDeliveryState.DELIVERED,
        3,
        204,
    )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_from_the_webhooks_queue(his_factory, celery_worker):
    his = his_factory()

    (delivery,) = webhooks.send_webhooks([_webhook_for(his).institution], event="e", payload=PAYLOAD)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not his.received:
        time.sleep(0.1)
    assert [request["verified"] for request in his.received] == [True]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.state == WebhookDeliveryState.DELIVERED:
            break
        time.sleep(0.1)
    assert delivery.state == WebhookDeliveryState.DELIVERED


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
