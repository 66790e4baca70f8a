"""API of the indicators (DESIGN §8 "indicators"): the definitions, named by code. Every role
reads them; the bureau adds an indicator and revises one through `assessment.services`, a
revision being the next version (a definition is never edited in place, nor deleted)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from assessment import services
from assessment.filtersets import IndicatorDefinitionFilterSet
from assessment.models import INDICATOR_CODE, IndicatorDefinition
from core.api.viewsets import ScopedModelViewSet

from .serializers import (
    IndicatorCreateSerializer,
    IndicatorDetailSerializer,
    IndicatorReviseSerializer,
    IndicatorSerializer,
)
from .values import MonthActionsMixin

CODE = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="the indicator's code")


@extend_schema_view(
    retrieve=extend_schema(parameters=[CODE]),
    create=extend_schema(request=IndicatorCreateSerializer, responses={201: IndicatorDetailSerializer}),
    partial_update=extend_schema(
        parameters=[CODE], request=IndicatorReviseSerializer, responses=IndicatorDetailSerializer
    ),
)
class IndicatorViewSet(MonthActionsMixin, ScopedModelViewSet):
    """Indicator definitions: by default one version per code, the one in force today (or the
    latest, for an indicator not in force); `?all_versions=true` lists every version. The detail
    `/{code}/` is that version with the history of the code."""

    queryset = IndicatorDefinition.objects.all()
    serializer_class = IndicatorSerializer
    filterset_class = IndicatorDefinitionFilterSet
    lookup_field = "code"
    lookup_value_regex = INDICATOR_CODE.regex.pattern.strip("^$")
    http_method_names = ["get", "post", "patch", "head", "options"]  # versions are never deleted

    def get_serializer_class(self):
        return {
            "retrieve": IndicatorDetailSerializer,
            "create": IndicatorCreateSerializer,
            "partial_update": IndicatorReviseSerializer,
        }.get(self.action, super().get_serializer_class())

    def get_object(self):
        """The version of the code shown by default; the list's filters do not apply here."""
        versions = self.get_queryset().filter(code=self.kwargs["code"])
        definition = versions.current_or_latest().first()
        if definition is None:
            raise Http404
        self.check_object_permissions(self.request, definition)
        return definition

    def perform_create(self, serializer):
        self.ensure_writable(IndicatorDefinition())
        serializer.instance = services.create_definition(
            acting_user=self.request.user, **serializer.service_fields()
        )

    def perform_update(self, serializer):
        revised = self._version_revised(serializer.instance, serializer.validated_data.get("version"))
        serializer.instance = services.revise_definition(
            revised, acting_user=self.request.user, **serializer.service_fields()
        )

    def _version_revised(self, shown, version):
        """The version the caller read (`version`), else the latest: the service refuses any but
        the latest with 409 `definition_not_latest`."""
        versions = IndicatorDefinition.objects.filter(code=shown.code)
        if version is None:
            return versions.latest_versions().get()
        revised = versions.filter(version=version).first()
        if revised is None:
            raise ValidationError({"version": _("This indicator has no such version.")})
        return revised
