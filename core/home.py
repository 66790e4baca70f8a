"""Each role's home page (issue 15 point 5): apps register panels of what a user must act on,
the way they register menu entries (core imports no app). A panel is a template and a function
of the user answering its context, or None when the panel has nothing for that user (a role
that does not do this work); the home shows the panels that answered, in order.

Each panel reads through the access door and costs a fixed number of queries whatever the rows.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from .models import Notification

LATEST = 5  # rows a panel lists; its link leads to the whole list


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    context: Callable  # user -> dict, or None: nothing for this user
    order: int = 100


_panels: dict[str, HomePanel] = {}
# Functions of the user answering the page a login lands on, or None (the committee lands on
# the dashboard: it acts on nothing, it reads; issue 15 point 6).
_landings: list[Callable] = []


def register(panel):
    """Add a panel to the home page (called from an app's `AppConfig.ready`)."""
    _panels[panel.key] = panel


def register_landing(landing):
    """Let `landing(user)` send a user whose work is one page straight there after logging in."""
    if landing not in _landings:
        _landings.append(landing)


def landing_for(user):
    """The page `user` lands on after logging in instead of the home, or None."""
    return next((url for url in (landing(user) for landing in _landings) if url), None)


def panels_for(user):
    """`[(template, context)]` of the panels with something for `user`, in order."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda item: item.order):
        context = panel.context(user)
        if context is not None:
            shown.append((panel.template, context))
    return shown


def inbox_panel(user):
    """The user's latest unread notifications (the clinician's inbox): on every home. Their
    count is the header's (`unread_notifications`, core.context_processors), not counted again."""
    return {
        "notifications": list(Notification.objects.for_user(user).unread()[:LATEST]),
        "url": reverse("inbox"),
    }
