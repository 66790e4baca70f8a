"""Reusable reads: the scoped queryset every institution-owned model's manager is built on."""

from django.db import models

from . import access


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows how to restrict itself to what a user may see.

    `for_user(user)` is the one path (STYLE.md "Institution scoping"): lists, details, exports,
    filter choices and related fields in request bodies all go through it; `action` is
    `access.WRITE` for the rows a user may change, `access.AGGREGATE` for the rows a measure may
    count for them (NetBox's `restrict(user, action)`). Celery tasks use the unfiltered manager
    and say so in a comment.
    """

    def for_user(self, user, action=access.READ):
        return access.scope(self, user, action)


class JobQuerySet(models.QuerySet):
    """Jobs belong to whoever started them; superusers see all."""

    def for_user(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(created_by=user)
