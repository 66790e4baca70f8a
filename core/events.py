"""The one door for telling people and systems that something happened (STYLE.md, "One door per
shared concern"; Zulip's `send_event_on_commit`).

A service calls `publish(event, payload, institutions, users=…, title=…, body=…, link=…)` inside
its transaction, having chosen the recipients itself:

- `users` (users, ids or a queryset of users) get one unread notification each in their inbox;
- `institutions` (institutions or ids) get the event at their HIS, as a signed webhook delivery
  when they registered one (`settings.WEBHOOK_SENDER`, a dotted path, since core imports no app:
  `alliance.webhooks.send_webhooks`, which queues each delivery on the `webhooks` Celery queue).

Nothing happens before the transaction commits, so nobody hears of a change that was rolled back,
and nothing slow happens in the request: the inbox rows and delivery rows are two inserts; the
HTTP POSTs run in a worker (or, in eager mode, in a background thread). The payload is the
event's documented JSON (docs/api.md, "Events"): the same for the inbox and the webhook.
"""

from functools import cache, partial

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from . import notifications


@cache
def get_webhook_sender():
    return import_string(settings.WEBHOOK_SENDER)


def publish(event, payload, institutions=(), *, users=(), title="", body="", link=""):
    """On commit: notify `users` in their inbox (with `title`, `body`, `link`) and send `event`
    with `payload` to the HIS of each of `institutions`. `payload` must be JSON-ready
    (dates as ISO strings); `title` and `body` are rendered text, not lazy strings."""
    institution_ids = list(dict.fromkeys(getattr(i, "pk", i) for i in institutions))
    message = {"title": str(title), "body": str(body), "link": link}
    transaction.on_commit(
        partial(_dispatch, event, {"event": event, **payload}, institution_ids, users, message),
        robust=True,
    )


def _dispatch(event, payload, institution_ids, users, message):
    """After commit: the inbox rows and the webhook deliveries, together or not at all."""
    user_ids = list(users.values_list("pk", flat=True)) if isinstance(users, QuerySet) else users
    with transaction.atomic():
        if user_ids:
            notifications.notify(user_ids, event=event, payload=payload, **message)
        if institution_ids:
            get_webhook_sender()(institution_ids, event=event, payload=payload)
