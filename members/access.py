"""The access policy of DESIGN.md §5, reached by core through `settings.ACCESS_POLICY`.

Until the hierarchy issue brings memberships and roles, the table has no rows, so the policy
denies by default: superusers see and write everything, every other user sees nothing.
"""


class AccessPolicy:
    """Which rows a user may see and what they may write."""

    def scope(self, queryset, user):
        if user.is_superuser:
            return queryset
        return queryset.none()

    def can_write(self, user, model, obj=None):
        return user.is_superuser


policy = AccessPolicy()
