"""The in-app inbox (issue 6.5): other apps report events to users through `notify`.

Core imports no app, so callers pass users and ready-made text; call `notify` from a service
inside `transaction.on_commit`, so nobody is told about a change that was rolled back.
"""

from .models import Notification


def notify(users, *, title, body, link="", event="", payload=None):
    """Put one unread notification into the inbox of each of `users` (users or user ids; each
    user once). Returns the created rows."""
    user_ids = list(dict.fromkeys(getattr(user, "pk", user) for user in users))
    rows = [
        Notification(user_id=user_id, title=title, body=body, link=link, event=event, payload=payload)
        for user_id in user_ids
    ]
    return Notification.objects.bulk_create(rows)


def unread_count(user):
    """How many unread notifications `user` has (0 for anonymous users), in one query."""
    return Notification.objects.for_user(user).unread().count()
