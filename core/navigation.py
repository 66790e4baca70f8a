"""The site navigation: each app registers the entries it serves, so the menu shows only what
exists and each user only what their role may use (core imports no app; apps register here)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str  # a lazy translation
    url_name: str
    visible: Callable = lambda user: user.is_authenticated
    order: int = 100


_items: list[NavItem] = []


def register(item):
    """Add an entry to the navigation (called from an app's `AppConfig.ready`)."""
    if item not in _items:
        _items.append(item)
        _items.sort(key=lambda entry: entry.order)


def items_for(user):
    """The entries `user` may use, as (label, url) pairs."""
    return [(item.label, reverse(item.url_name)) for item in _items if item.visible(user)]
