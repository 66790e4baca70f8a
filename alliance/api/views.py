"""API of the hierarchy (DESIGN §8): alliances, institutions with their place as of a date,
departments. Viewsets are thin: they check scope and call `alliance.services`."""

from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from alliance import services
from alliance.filtersets import AllianceFilterSet, DepartmentFilterSet, InstitutionFilterSet
from alliance.models import Alliance, AlliancePopulation, Department, Institution, Placement
from alliance.querysets import today
from core.api.viewsets import ScopedModelViewSet

from .serializers import (
    AllianceSerializer,
    DepartmentSerializer,
    InstitutionSerializer,
    InstitutionWriteSerializer,
    JoinSerializer,
    LeaveSerializer,
    MoveSerializer,
    PlacementSerializer,
    PopulationSerializer,
)

WRITE_METHODS = ["get", "post", "patch", "head", "options"]  # history is never deleted


class AllianceViewSet(ScopedModelViewSet):
    """Alliances (医共体 / 城市医疗集团) the caller belongs to; the bureau registers and edits them."""

    queryset = Alliance.objects.all()
    serializer_class = AllianceSerializer
    filterset_class = AllianceFilterSet
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        return super().get_queryset().with_lead_on(today())

    def perform_create(self, serializer):
        self.ensure_writable(Alliance())
        serializer.instance = services.create_alliance(
            acting_user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.update_alliance(
            serializer.instance, acting_user=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=PopulationSerializer, responses=AllianceSerializer)
    @action(detail=True, methods=["post"])
    def population(self, request, pk=None):
        """Record (or correct) the resident population (常住人口) of one year."""
        alliance = self.get_object()
        self.ensure_writable(AlliancePopulation(alliance=alliance))
        data = self.validated(PopulationSerializer)
        services.set_population(alliance, acting_user=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=alliance.pk)).data)


AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="the place as it stood on this date")


@extend_schema_view(
    list=extend_schema(parameters=[AS_OF]),
    retrieve=extend_schema(parameters=[AS_OF]),
    create=extend_schema(request=InstitutionWriteSerializer, responses={201: InstitutionSerializer}),
    partial_update=extend_schema(request=InstitutionWriteSerializer, responses=InstitutionSerializer),
)
class InstitutionViewSet(ScopedModelViewSet):
    """Member institutions with their place (alliance, role, parent) on `as_of` (default today)."""

    queryset = Institution.objects.all()  # the place on `as_of` is attached by the filter set
    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilterSet
    http_method_names = WRITE_METHODS

    def get_serializer_class(self):
        if self.action in ("create", "partial_update", "update"):
            return InstitutionWriteSerializer
        return super().get_serializer_class()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "as_of": self.as_of()}

    def as_of(self):
        try:
            return forms.DateField(required=False).clean(self.request.query_params.get("as_of")) or today()
        except ValidationError:
            return today()  # the filter set has answered 400 already

    def perform_create(self, serializer):
        fields, placement = serializer.split()
        self.ensure_writable(Institution())
        if placement:
            self.ensure_writable(Placement(alliance=placement["alliance"]))
            serializer.instance = services.register_member(
                acting_user=self.request.user, **placement, **fields
            )
        else:
            serializer.instance = services.register_institution(acting_user=self.request.user, **fields)

    def perform_update(self, serializer):
        fields, _placement = serializer.split()
        services.update_institution(serializer.instance, acting_user=self.request.user, **fields)

    @extend_schema(request=JoinSerializer, responses=InstitutionSerializer)
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        """Place the institution in an alliance from `valid_from` on."""
        institution = self.get_object()
        data = self.validated(JoinSerializer)
        self.ensure_writable(Placement(alliance=data["alliance"], institution=institution))
        services.join_alliance(institution, acting_user=request.user, **data)
        return Response(self._row(institution))

    @extend_schema(request=MoveSerializer, responses=InstitutionSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Close the current period the day before `on` and open the new one on `on`."""
        institution = self.get_object()
        data = self.validated(MoveSerializer)
        if data.get("alliance"):
            self.ensure_writable(Placement(alliance=data["alliance"], institution=institution))
        services.move_institution(institution, acting_user=request.user, **data)
        return Response(self._row(institution))

    @extend_schema(request=LeaveSerializer, responses=InstitutionSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        """End the current period on `on`."""
        institution = self.get_object()
        services.leave_alliance(institution, acting_user=request.user, **self.validated(LeaveSerializer))
        return Response(self._row(institution))

    @extend_schema(responses=PlacementSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every period of the institution in an alliance, oldest first."""
        institution = self.get_object()
        placements = institution.placements.select_related("alliance", "parent").order_by("valid_from")
        return Response(PlacementSerializer(placements, many=True).data)

    def _row(self, institution):
        return InstitutionWriteSerializer(institution, context=self.get_serializer_context()).data


class DepartmentViewSet(ScopedModelViewSet):
    """Clinical departments, named by standard department code (诊疗科目)."""

    queryset = Department.objects.select_related("institution")
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilterSet
    http_method_names = WRITE_METHODS

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.ensure_writable(Department(institution=data["institution"]))
        serializer.instance = services.create_department(acting_user=self.request.user, **data)

    def perform_update(self, serializer):
        services.update_department(
            serializer.instance, acting_user=self.request.user, **serializer.validated_data
        )
