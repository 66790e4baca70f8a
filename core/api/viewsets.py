"""Base viewsets: scoped by the access policy by default, idempotent creates (DESIGN §8)."""

import json

from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from core import services

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


class ScopedModelViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """A viewset that is safe by default: rows come through `for_user`, writes ask the policy.

    Subclasses set `queryset` (with `select_related`), `serializer_class` and `filterset_class`.
    """

    permission_classes = [IsAuthenticated, PolicyWritePermission]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)


class ScopedReadOnlyModelViewSet(viewsets.ReadOnlyModelViewSet):
    """The read-only twin of ScopedModelViewSet."""

    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)
