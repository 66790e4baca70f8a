"""Base viewsets: scoped by the access policy by default, idempotent creates (DESIGN §8)."""

import json

from auditlog.context import auditlog_value
from django.utils.translation import gettext as _
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core import access, services

from .permissions import PolicyWritePermission

IDEMPOTENCY_HEADER = "Idempotency-Key"


class IdempotentCreateMixin:
    """Create endpoints honour an `Idempotency-Key` header: the same key and body from the same
    user within 24 hours replays the first answer; the same key with another body is 409."""

    def create(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return super().create(request, *args, **kwargs)

        def perform():
            response = super(IdempotentCreateMixin, self).create(request, *args, **kwargs)
            return response.status_code, json.loads(json.dumps(response.data, cls=JSONEncoder))

        status, body, replayed = services.run_idempotent(
            acting_user=request.user,
            key=key[:255],
            endpoint=request.path,
            payload=request.data,
            perform=perform,
        )
        response = Response(body, status=status)
        response["Idempotent-Replayed"] = "true" if replayed else "false"
        return response


class AuditActorMixin:
    """The audit trail names the API caller: django-auditlog's middleware runs before DRF has
    authenticated the token, so it saw no user; once DRF has, the caller goes into the request's
    audit context (the same dict the middleware set, read when each log entry is saved)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        context = auditlog_value.get(None)
        if context is not None and request.user.is_authenticated and context.get("actor") is None:
            context["actor"] = request.user
            self._audit_context = context

    def finalize_response(self, request, response, *args, **kwargs):
        # The middleware's context outlives the request in its thread: leave no caller in it.
        context = getattr(self, "_audit_context", None)
        if context is not None:
            context["actor"] = None
        return super().finalize_response(request, response, *args, **kwargs)


class ScopedModelViewSet(AuditActorMixin, IdempotentCreateMixin, viewsets.ModelViewSet):
    """A viewset that is safe by default: rows come through `for_user`, writes ask the policy.

    Subclasses set `queryset` (with `select_related`), `serializer_class` and `filterset_class`.
    """

    permission_classes = [IsAuthenticated, PolicyWritePermission]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)

    def validated(self, serializer_class):
        """The validated body of a transition or sub-action, by its small input serializer."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def ensure_writable(self, obj):
        """403 unless the caller may write `obj` (an unsaved row: where it is about to be created).

        The permission class only knows the model on create; which institution a new row lands
        in comes from the body, so each `perform_create` asks here before calling its service.
        """
        if not access.can_write(self.request.user, type(obj), obj):
            raise PermissionDenied(_("Your role may not change records of this institution."))


class ScopedReadOnlyModelViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    """The read-only twin of ScopedModelViewSet."""

    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)
