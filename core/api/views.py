"""API views of core: the token endpoint and background jobs."""

from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.renderers import JSONRenderer

from core.models import Job

from .serializers import JobSerializer, TokenRequestSerializer, TokenSerializer
from .viewsets import ScopedReadOnlyModelViewSet


class ObtainTokenView(ObtainAuthToken):
    """`POST /api/v1/auth/token/` {"username", "password"} → {"token"}."""

    renderer_classes = [JSONRenderer]

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer, tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class JobViewSet(ScopedReadOnlyModelViewSet):
    """Background jobs the caller started: poll `GET /api/v1/jobs/{id}/` until finished."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
