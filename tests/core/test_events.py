"""`core.events.publish` (issue 12 point 3): on commit only, the inbox rows for the users the
service chose and the webhook sender named in settings for the institutions it chose."""

import pytest

from core import events
from core.models import Notification
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

sent = []


def record_sender(institutions, *, event, payload):
    sent.append((list(institutions), event, payload))


@pytest.fixture
def recording_sender(settings):
    events.get_webhook_sender.cache_clear()
    settings.WEBHOOK_SENDER = "tests.core.test_events.record_sender"
    sent.clear()
    yield sent
    events.get_webhook_sender.cache_clear()


def test_publish_waits_for_the_commit(recording_sender, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.publish("thing.done", {"id": 1}, [7], users=[user], title="完成", body="")

    assert len(callbacks) == 1 and recording_sender == [] and not Notification.objects.exists()


def test_publish_notifies_the_chosen_users_and_sends_to_the_chosen_institutions(
    recording_sender, django_capture_on_commit_callbacks
):
    first, second, _bystander = UserFactory(), UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(
            "thing.done",
            {"id": 1},
            [7, 7, 9],
            users=type(first).objects.filter(pk__in=[first.pk, second.pk]),
            title="完成",
            body="已办结",
            link="/things/1/",
        )

    rows = Notification.objects.order_by("user_id")
    assert [(n.user_id, n.event, n.title, n.body, n.link) for n in rows] == [
        (first.pk, "thing.done", "完成", "已办结", "/things/1/"),
        (second.pk, "thing.done", "完成", "已办结", "/things/1/"),
    ]
    assert rows[0].payload == {"event": "thing.done", "id": 1}
    assert recording_sender == [([7, 9], "thing.done", {"event": "thing.done", "id": 1})]


def test_nobody_to_tell_sends_nothing(recording_sender, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("thing.done", {}, [], users=[])

    assert recording_sender == [] and not Notification.objects.exists()
