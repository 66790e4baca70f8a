"""API of the warnings (DESIGN §8 "warnings", issue 15 point 1):

- `GET /api/v1/warnings/?alliance=&month=YYYY-MM&kind=&state=` (also `light`, `subject`): the
  warnings the computations raised, for those who watch the alliance;
- `POST /api/v1/warnings/{id}/acknowledge/` `{"note"}` → 200 with the warning: the bureau and the
  alliance office acknowledge an open warning (409 `warning_not_open` otherwise; the committee
  reads only: 403).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.viewsets import ScopedReadOnlyModelViewSet

from .. import services
from ..filtersets import WarningFilterSet
from ..models import IndicatorWarning
from ..services.warnings import describe
from .values import MonthField


class WarningSerializer(serializers.ModelSerializer):
    alliance = serializers.IntegerField(source="alliance_id")
    institution = serializers.IntegerField(source="institution_id", allow_null=True)
    institution_code = serializers.CharField(source="institution.code", allow_null=True, default=None)
    month = MonthField()
    message = serializers.SerializerMethodField()
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)

    class Meta:
        model = IndicatorWarning
        fields = [
            "id", "alliance", "month", "kind", "subject", "scope", "institution", "institution_code",
            "light", "state", "message", "detail", "raised_at", "updated_at", "acknowledged_at",
            "acknowledged_by", "note", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_message(self, warning) -> str:
        return describe(warning)


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, allow_blank=True)


class WarningViewSet(ScopedReadOnlyModelViewSet):
    """Warnings, newest month first, open ones first."""

    queryset = IndicatorWarning.objects.select_related("institution", "acknowledged_by")
    serializer_class = WarningSerializer
    filterset_class = WarningFilterSet

    @extend_schema(request=AcknowledgeSerializer, responses=WarningSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        warning = services.acknowledge_warning(
            self.get_object(), note=serializer.validated_data["note"], acting_user=request.user
        )
        return Response(WarningSerializer(warning).data)
