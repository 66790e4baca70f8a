"""The site navigation: each app registers the entries it serves, so the menu shows only what
exists and each user only what their role may use (core imports no app; apps register here).

Entries are grouped by task (issue 15 point 5): the header shows the groups, each opening a
menu of its entries, so no role's menu wraps at 1366 px. An entry without a group (Home) stands
on its own. The groups are core's, since they name tasks, not apps.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str  # a lazy translation
    order: int


ALLIANCE, PEOPLE, ENCOUNTERS, REFERRALS, PHARMACY, ASSESSMENT, SYSTEM = (
    "alliance", "people", "encounters", "referrals", "pharmacy", "assessment", "system",
)  # fmt: skip
GROUPS = {
    group.key: group
    for group in (
        NavGroup(ALLIANCE, pgettext_lazy("menu group", "Alliance"), 10),
        NavGroup(PEOPLE, pgettext_lazy("menu group", "People"), 20),
        NavGroup(ENCOUNTERS, pgettext_lazy("menu group", "Care data"), 30),
        NavGroup(REFERRALS, pgettext_lazy("menu group", "Referrals"), 40),
        NavGroup(PHARMACY, pgettext_lazy("menu group", "Drugs"), 45),
        NavGroup(ASSESSMENT, pgettext_lazy("menu group", "Indicators and evaluation"), 50),
        NavGroup(SYSTEM, pgettext_lazy("menu group", "System"), 90),
    )
}


@dataclass(frozen=True)
class NavItem:
    label: str  # a lazy translation
    url_name: str
    visible: Callable = lambda user: user.is_authenticated
    order: int = 100
    group: str = ""  # a key of GROUPS, or "" for an entry of its own


@dataclass
class MenuEntry:
    """One place in the header: a group with its links, or a link of its own (`url`)."""

    label: str
    url: str = ""
    links: list = field(default_factory=list)  # (label, url) pairs of a group
    order: int = 0


_items: list[NavItem] = []


def register(item):
    """Add an entry to the navigation (called from an app's `AppConfig.ready`)."""
    if item.group and item.group not in GROUPS:
        raise ValueError(f"unknown navigation group {item.group!r}")
    if item not in _items:
        _items.append(item)
        _items.sort(key=lambda entry: entry.order)


def menu_for(user):
    """The header of `user`: MenuEntry per group holding at least one entry they may use, and
    the entries of their own, in order (a group takes the place of its first entry's group)."""
    entries, groups = [], {}
    for item in _items:
        if not item.visible(user):
            continue
        url = reverse(item.url_name)
        if not item.group:
            entries.append(MenuEntry(item.label, url=url, order=item.order))
            continue
        if item.group not in groups:
            group = GROUPS[item.group]
            groups[item.group] = MenuEntry(group.label, order=group.order)
            entries.append(groups[item.group])
        groups[item.group].links.append((item.label, url))
    return sorted(entries, key=lambda entry: (entry.url == "", entry.order))


def links_of(menu):
    """The (label, url) pairs of a `menu_for` menu, in the header's order."""
    return [pair for entry in menu for pair in ([(entry.label, entry.url)] if entry.url else entry.links)]
