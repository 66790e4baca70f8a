"""Write permission from the access policy: read-only roles writing get 403 (DESIGN §5)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core import access


class PolicyWritePermission(BasePermission):
    """Reads are scoped by the queryset (other rows are 404); writes ask the policy."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return access.can_write(request.user, view.get_queryset().model)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return access.can_write(request.user, type(obj), obj)
