"""Referral moves published through `core.events.publish` (issue 12 point 3): every transition
reaches the inbox of the side that must act and the HIS of both ends; through the API, a real
local HTTP receiver gets signed deliveries it verifies; a failing HIS never holds a request."""

import datetime
import json
import time

import pytest
from django.utils import timezone

from alliance import webhooks
from alliance.models import WebhookDelivery
from core.models import Notification
from referrals import services
from tests.his import join_eager_deliveries
from tests.referrals.factories import api_body, referral

URL = "/api/v1/referrals/"


def _hook(institution, his):
    webhook = webhooks.configure_webhook(institution, url=his.url, acting_user=None)
    his.secret = webhook.secret
    return webhook


def _accepted(county, sender, receiver):
    made = referral(county.home, county.lead, acting_user=sender)
    return services.accept_referral(made, acting_user=receiver)


def _arrived(county, sender, receiver):
    return services.record_arrival(_accepted(county, sender, receiver), acting_user=receiver)


def _completed(county, sender, receiver):
    return services.complete_referral(
        _arrived(county, sender, receiver), acting_user=receiver, summary="好转"
    )


# Each move, the event it publishes and whose staff read it in their inbox.
MOVES = {
    "submitted": (lambda c, s, r: referral(c.home, c.lead, acting_user=s), "receiver"),
    "accepted": (_accepted, "sender"),
    "rejected": (
        lambda c, s, r: services.reject_referral(
            referral(c.home, c.lead, acting_user=s), acting_user=r, reason="无床位"
        ),
        "sender",
    ),
    "cancelled": (
        lambda c, s, r: services.cancel_referral(
            referral(c.home, c.lead, acting_user=s), acting_user=s, reason="患者拒绝"
        ),
        "receiver",
    ),
    "arrived": (_arrived, "sender"),
    "completed": (_completed, "sender"),
    "no_show": (lambda c, s, r: services.record_no_show(_accepted(c, s, r), acting_user=r), "sender"),
    "expired": (
        lambda c, s, r: (
            referral(c.home, c.lead, acting_user=s),
            services.expire_referrals(timezone.now() + datetime.timedelta(days=30)),
        ),
        "sender",
    ),
    "referred_back": (
        lambda c, s, r: services.refer_back(_completed(c, s, r), acting_user=r, summary="出院，回基层康复"),
        "sender",  # the down-referral's receiver: the branch that sent the patient up
    ),
}


@pytest.mark.parametrize("event", list(MOVES))
def test_every_move_reaches_the_inbox_of_the_side_that_acts_and_both_his(
    event, county, sender, receiver, his_factory, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(webhooks, "_enqueue", queued.extend)  # delivery itself: the tests below
    home_hook, lead_hook = _hook(county.home, his_factory()), _hook(county.lead, his_factory())
    move, told = MOVES[event]

    with django_capture_on_commit_callbacks(execute=True):
        move(county, sender, receiver)

    name = f"referral.{event}"
    reader = {"sender": sender, "receiver": receiver}[told]
    other = {"sender": receiver, "receiver": sender}[told]
    assert Notification.objects.filter(user=reader, event=name).count() == 1
    assert not Notification.objects.filter(user=other, event=name).exists()
    deliveries = WebhookDelivery.objects.filter(event=name)
    assert sorted(deliveries.values_list("webhook", flat=True)) == sorted([home_hook.pk, lead_hook.pk])
    assert set(queued) >= set(deliveries.values_list("pk", flat=True))
    (delivery,) = deliveries.filter(webhook=lead_hook)
    note = Notification.objects.get(user=reader, event=name)
    assert delivery.payload == note.payload  # one payload for the inbox and the HIS
    assert delivery.payload["event"] == name and delivery.payload["state"] in services.STAMPS


def test_the_payload_names_both_ends_by_id_and_code_and_carries_no_patient_data(
    county, lead_dept, sender, receiver, django_capture_on_commit_callbacks
):
    from tests.referrals.factories import slots

    slot = slots(lead_dept, count=1, reserved=1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        made = referral(county.home, county.lead, acting_user=sender, to_department=lead_dept, slot=slot)

    payload = Notification.objects.get(user=receiver).payload
    assert payload == {
        "event": "referral.submitted",
        "referral": made.pk,
        "state": "submitted",
        "direction": "up",
        "urgency": "routine",
        "from_institution": county.home.pk,
        "from_institution_code": county.home.code,
        "to_institution": county.lead.pk,
        "to_institution_code": county.lead.code,
        "to_department": lead_dept.pk,
        "to_department_code": lead_dept.code,
        "slot": slot.pk,
        "bed": None,
        "return_of": None,
        "occurred_at": payload["occurred_at"],
    }
    assert datetime.datetime.fromisoformat(payload["occurred_at"]) == made.submitted_at
    assert "张" not in json.dumps(payload, ensure_ascii=False)


def test_nothing_is_published_when_the_move_is_rolled_back(
    county, sender, receiver, his_factory, django_capture_on_commit_callbacks
):
    from core.exceptions import Conflict

    _hook(county.lead, his_factory())
    made = referral(county.home, county.lead, acting_user=sender)
    services.reject_referral(made, acting_user=receiver, reason="无床位")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict):
        services.accept_referral(made, acting_user=receiver)  # rejected cannot become accepted

    assert not WebhookDelivery.objects.filter(event="referral.accepted").exists()
    assert not Notification.objects.filter(event="referral.accepted").exists()


def _body(county, dept, n):
    return api_body(county.home, county.lead, department=dept, n=n)


@pytest.mark.django_db(transaction=True)
def test_a_referral_moved_through_the_api_reaches_a_real_his_signed(
    county, lead_dept, sender, receiver, his_factory, client_for
):
    home_his, lead_his = his_factory(), his_factory()
    _hook(county.home, home_his), _hook(county.lead, lead_his)

    made = client_for(sender).post(URL, _body(county, lead_dept, 5), format="json")
    assert made.status_code == 201, made.json()
    referral_id = made.json()["id"]
    join_eager_deliveries()  # SQLite's in-memory test database locks whole tables: one writer at a time
    accepted = client_for(receiver).post(f"{URL}{referral_id}/accept/", {}, format="json")
    assert accepted.status_code == 200, accepted.json()
    join_eager_deliveries()

    for his in (home_his, lead_his):
        assert [request["verified"] for request in his.received] == [True, True]
        bodies = {
            request["headers"]["X-Alliance-Event"]: json.loads(request["body"]) for request in his.received
        }
        assert set(bodies) == {"referral.submitted", "referral.accepted"}
        assert bodies["referral.accepted"]["referral"] == referral_id
        assert bodies["referral.accepted"]["state"] == "accepted"
        assert bodies["referral.accepted"]["to_institution_code"] == county.lead.code
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.django_db(transaction=True)
def test_a_failing_his_never_holds_the_request(
    county, lead_dept, sender, his_factory, client_for, monkeypatch
):
    monkeypatch.setattr(webhooks, "BACKOFF_BASE_SECONDS", 0.01)
    his = his_factory(statuses=[500], delay=1.0)
    _hook(county.lead, his)

    started = time.monotonic()
    made = client_for(sender).post(URL, _body(county, lead_dept, 6), format="json")
    took = time.monotonic() - started
    join_eager_deliveries(timeout=30)

    assert made.status_code == 201 and took < 1.0  # one attempt alone takes a second at this HIS
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 6, 500)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_referral_event(
    county, lead_dept, sender, his_factory, client_for, celery_worker
):
    his = his_factory()
    _hook(county.lead, his)

    made = client_for(sender).post(URL, _body(county, lead_dept, 7), format="json")
    assert made.status_code == 201

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not his.received:
        time.sleep(0.1)
    (request,) = his.received
    assert request["verified"] and json.loads(request["body"])["referral"] == made.json()["id"]
