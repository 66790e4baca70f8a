"""API views of core: the token endpoint, background jobs and the caller's inbox."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core import services
from core.models import Job, Notification

from .serializers import (
    JobSerializer,
    MarkedReadSerializer,
    NotificationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from .throttles import TokenThrottle
from .viewsets import ScopedReadOnlyModelViewSet


class ObtainTokenView(ObtainAuthToken):
    """`POST /api/v1/auth/token/` {"username", "password"} → {"token"}."""

    renderer_classes = [JSONRenderer]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # DRF's view names its own, English ones
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer, tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class JobViewSet(ScopedReadOnlyModelViewSet):
    """Background jobs the caller started: poll `GET /api/v1/jobs/{id}/` until finished."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer


UNREAD_PARAMETER = OpenApiParameter(
    "unread", OpenApiTypes.BOOL, description="true: only notifications not read yet."
)


@extend_schema_view(list=extend_schema(parameters=[UNREAD_PARAMETER]))
class InboxViewSet(ScopedReadOnlyModelViewSet):
    """The caller's own notifications, newest first (issue 6.5); anyone else's answer 404."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list" and self.request.query_params.get("unread", "").lower() in ("true", "1"):
            queryset = queryset.unread()
        return queryset

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """`POST /api/v1/inbox/{id}/read/` → 200 with the row, also when it was read already."""
        notification = services.mark_read(self.get_object(), acting_user=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=MarkedReadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """`POST /api/v1/inbox/read-all/` → {"marked": n}."""
        return Response({"marked": services.mark_all_read(request.user)})
