"""A small API over core.Job, mounted only in tests, to exercise the base viewset: scoping,
write permission, idempotent creates and the error envelope."""

import time

from django.core.exceptions import ValidationError
from django.urls import include, path
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from core.api.viewsets import ScopedModelViewSet
from core.exceptions import Conflict
from core.models import Job


class JobWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "kind", "state"]
        read_only_fields = ["state"]


class JobUnderTestViewSet(ScopedModelViewSet):
    queryset = Job.objects.all()
    serializer_class = JobWriteSerializer
    max_body_bytes = 1024
    slow_create_seconds = 0

    def perform_create(self, serializer):
        kind = serializer.validated_data["kind"]
        if kind == "conflict":
            raise Conflict("号源已被占用", code="slot_taken")
        if kind == "invalid":
            raise ValidationError({"kind": ["类型不正确"]})
        time.sleep(self.slow_create_seconds)
        serializer.save(created_by=self.request.user)


router = SimpleRouter()
router.register("jobs-under-test", JobUnderTestViewSet, basename="job-under-test")
urlpatterns = [path("api/v1/", include(router.urls)), path("", include("config.urls"))]
