"""The one door to the access policy (DESIGN.md §5, STYLE.md "One door per shared concern").

Pages, the API, imports, measures and tasks ask this module, never `members.access` (an
import-linter contract in pyproject.toml forbids it). Core imports no domain app: it finds the
policy through `settings.ACCESS_POLICY`, a dotted path, the way Django finds its auth backends.

Three actions (NetBox's `restrict(user, action)`):

- `READ`: the rows a user may see one by one (lists, details, exports, filter choices);
- `WRITE`: the rows a user may create or change;
- `AGGREGATE`: the rows a user may count and sum without seeing them. Every reader may
  aggregate; the committee (DESIGN §5: "aggregates, no patient-level rows") aggregates
  encounters and referrals it may not read, so a dashboard scopes its measures with this action.

What a caller may ask:

- `scope(queryset, user, action)` → the rows of `queryset` inside the user's reach
  (`ScopedQuerySet.for_user(user, action)` is the same door on a manager);
- `can_read(user, model, action)`, `can_write(user, model, obj=None)` → booleans (menus, 403s);
- `institutions(user, model, action, on=date)` → the institutions whose `model` rows the user
  reaches (filter choices, an institution named in a request body): on a date, an alliance's
  reach is the institutions placed in it that day; without one, every institution it ever held
  (for rows that describe an institution as it is now, a team or a weekly template: today's);
- `reach(user, model, action)` → the `Reach` itself (whole alliances, single institutions, the
  rows one sent), read from the memberships cached on the request's user, for a page that must
  know whether a user reaches one institution or many without a query.

`interactive=True` leaves out the machine roles (an HIS, the insurance feed): pages are for
people, and an HIS writes through the API only.
"""

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

READ, WRITE, AGGREGATE = "read", "write", "aggregate"
ACTIONS = (READ, WRITE, AGGREGATE)


@dataclass(frozen=True)
class Reach:
    """How far one user reaches for one model and action: `alliances` (every row of them),
    `institutions` (rows of these institutions), `sender` (the user's id when they reach the rows
    they sent themselves) and `sent_alliances` (the alliances they send such rows for)."""

    alliances: frozenset = field(default_factory=frozenset)
    institutions: frozenset = field(default_factory=frozenset)
    sender: int | None = None
    sent_alliances: frozenset = field(default_factory=frozenset)

    def __bool__(self):
        return bool(self.alliances or self.institutions or self.sender)

    @property
    def single_institution(self):
        """The one institution reached when that is all the reach is (else None)."""
        if self.alliances or self.sender or len(self.institutions) != 1:
            return None
        return next(iter(self.institutions))


NOWHERE = Reach()


@cache
def get_access_policy():
    return import_string(settings.ACCESS_POLICY)


def _known(user):
    return user is not None and user.is_authenticated and user.is_active


def _check(action):
    if action not in ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    return action


def scope(queryset, user, action=READ):
    """Restrict `queryset` to the rows `user` may `action`; nothing for anonymous or inactive users."""
    if not _known(user):
        return queryset.none()
    return get_access_policy().scope(queryset, user, _check(action))


def can_read(user, model, action=READ):
    """Whether `user` may see (or, with AGGREGATE, count) any `model` rows at all: for menus."""
    if not _known(user):
        return False
    return get_access_policy().can_read(user, model, _check(action))


def can_write(user, model, obj=None):
    """Whether `user` may create a `model` row (obj None) or change `obj`."""
    if not _known(user):
        return False
    return get_access_policy().can_write(user, model, obj)


def institutions(user, model, action=READ, *, on=None, interactive=False):
    """The institutions (a queryset) whose `model` rows `user` may `action`; placed on `on`
    when given (a month's hierarchy: its last day), any time otherwise."""
    policy = get_access_policy()
    if not _known(user):
        return policy.institution_queryset().none()
    return policy.institutions(user, model, _check(action), on=on, interactive=interactive)


def reach(user, model, action=READ, *, interactive=False):
    """The `Reach` of `user` for `model` and `action` (NOWHERE for anonymous users); a superuser's
    reach is not a set: ask `user.is_superuser` first, as `institutions` does."""
    if not _known(user):
        return NOWHERE
    return get_access_policy().reach(user, model, _check(action), interactive=interactive)
