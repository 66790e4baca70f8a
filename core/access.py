"""The one door to the access policy (DESIGN.md §5, STYLE.md "Institution scoping").

Core imports no domain app: it finds the policy through `settings.ACCESS_POLICY`, a dotted path to
an object with three methods, the way Django finds its auth backends:

- `scope(queryset, user)` → the rows of `queryset` that `user` may see;
- `can_write(user, model, obj=None)` → whether `user` may create (obj None) or change `obj`;
- `can_read(user, model)` → whether `user` may see any rows of `model` (menus).
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def get_access_policy():
    return import_string(settings.ACCESS_POLICY)


def scope(queryset, user):
    """Restrict `queryset` to what `user` may see; nothing for anonymous or inactive users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    return get_access_policy().scope(queryset, user)


def can_write(user, model, obj=None):
    """Whether `user` may create a `model` row (obj None) or change `obj`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return get_access_policy().can_write(user, model, obj)


def can_read(user, model):
    """Whether `user` may see any `model` rows at all (menus show only what a role may use)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return get_access_policy().can_read(user, model)
