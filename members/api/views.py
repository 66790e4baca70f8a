"""API of people (DESIGN §8): who am I, staff, secondments, family-doctor teams, signed
residents. Viewsets are thin: they check scope and call `members.services`."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.models import Placement
from alliance.querysets import today
from core.api.viewsets import ScopedModelViewSet
from members import services
from members.filtersets import ResidentFilterSet, SecondmentFilterSet, StaffFilterSet, TeamFilterSet
from members.models import (
    FamilyDoctorTeam,
    Membership,
    Secondment,
    SignedResident,
    StaffMember,
    TeamMembership,
)

from .serializers import (
    MeSerializer,
    ResidentLookupSerializer,
    ResidentSerializer,
    SecondmentSerializer,
    StaffSerializer,
    StaffWriteSerializer,
    TeamMemberAddSerializer,
    TeamMemberRemoveSerializer,
    TeamSerializer,
    TransferSerializer,
)

WRITE_METHODS = ["get", "post", "patch", "head", "options"]  # people's history is never deleted


class MeView(APIView):
    """`GET /api/v1/me/`: the caller and their memberships."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        memberships = list(Membership.objects.for_user(request.user).select_related("institution"))
        institution_ids = [m.institution_id for m in memberships if m.institution_id]
        current = dict(
            Placement.objects.on(today())
            .filter(institution_id__in=institution_ids)
            .values_list("institution_id", "alliance_id")
        )
        data = {"username": request.user.get_username(), "memberships": memberships}
        return Response(MeSerializer(data, context={"current_alliances": current}).data)


@extend_schema_view(
    create=extend_schema(request=StaffWriteSerializer, responses={201: StaffSerializer}),
    partial_update=extend_schema(request=StaffWriteSerializer, responses=StaffSerializer),
)
class StaffViewSet(ScopedModelViewSet):
    """Staff employed by the alliance and posted to an institution (统一招聘, 统筹使用)."""

    queryset = StaffMember.objects.select_related("institution", "department")
    serializer_class = StaffSerializer
    filterset_class = StaffFilterSet
    http_method_names = WRITE_METHODS

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return StaffWriteSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.ensure_writable(StaffMember(institution=data["institution"]))
        serializer.instance = services.hire_staff(acting_user=self.request.user, **data)

    def perform_update(self, serializer):
        services.update_staff(serializer.instance, acting_user=self.request.user, **serializer.validated_data)

    @extend_schema(request=TransferSerializer, responses=StaffSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """Post the staff member elsewhere from `on`; the posting history keeps the old one."""
        staff = self.get_object()
        data = self.validated(TransferSerializer)
        self.ensure_writable(StaffMember(institution=data["institution"]))
        services.post_staff(staff, acting_user=request.user, **data)
        return Response(StaffSerializer(self.get_queryset().get(pk=staff.pk)).data)


class SecondmentViewSet(ScopedModelViewSet):
    """Secondments (下沉/派驻) of doctors from higher-level institutions to lower-level ones."""

    queryset = Secondment.objects.select_related("staff", "from_institution", "to_institution")
    serializer_class = SecondmentSerializer
    filterset_class = SecondmentFilterSet
    http_method_names = WRITE_METHODS

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        staff = data.pop("staff")
        self.ensure_writable(
            Secondment(from_institution=staff.institution, to_institution=data["to_institution"])
        )
        serializer.instance = services.second_staff(staff, acting_user=self.request.user, **data)

    def perform_update(self, serializer):
        services.update_secondment(
            serializer.instance, acting_user=self.request.user, **serializer.validated_data
        )


class TeamViewSet(ScopedModelViewSet):
    """Family-doctor teams (家庭医生签约服务团队): general practitioners plus specialists (全专结合)."""

    queryset = FamilyDoctorTeam.objects.select_related("institution")
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        # A GROUP BY query drops Meta.ordering; pages need a stable order.
        current = Prefetch(
            "memberships", TeamMembership.objects.on().select_related("staff"), to_attr="current_memberships"
        )
        return (
            super()
            .get_queryset()
            .with_composition()
            .prefetch_related(current)
            .order_by("institution", "name", "pk")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        institution = data.pop("institution")
        self.ensure_writable(FamilyDoctorTeam(institution=institution))
        team = services.create_team(institution=institution, acting_user=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=team.pk)

    def perform_update(self, serializer):
        data = {name: value for name, value in serializer.validated_data.items() if name != "institution"}
        services.update_team(serializer.instance, acting_user=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(request=TeamMemberAddSerializer, responses=TeamSerializer)
    @action(detail=True, methods=["post"], url_path="add-member")
    def add_member(self, request, pk=None):
        """Add a staff member to the team in a role from `valid_from` (default today; a specialist
        comes from a higher level)."""
        team = self.get_object()
        data = self.validated(TeamMemberAddSerializer)
        services.add_team_member(
            team,
            acting_user=request.user,
            staff=data["staff"],
            role=data.get("role"),
            valid_from=data.get("valid_from"),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=team.pk)).data)

    @extend_schema(request=TeamMemberRemoveSerializer, responses=TeamSerializer)
    @action(detail=True, methods=["post"], url_path="remove-member")
    def remove_member(self, request, pk=None):
        """Take a staff member off the team as of `valid_to` (default today); the place stays as
        history."""
        team = self.get_object()
        data = self.validated(TeamMemberRemoveSerializer)
        membership = get_object_or_404(team.memberships.open(), staff=data["staff"])
        services.remove_team_member(membership, acting_user=request.user, valid_to=data.get("valid_to"))
        return Response(self.get_serializer(self.get_queryset().get(pk=team.pk)).data)


class ResidentViewSet(ScopedModelViewSet):
    """Signed residents (签约居民) of family-doctor teams, shown masked."""

    queryset = SignedResident.objects.select_related("institution")
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilterSet
    http_method_names = WRITE_METHODS

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        self.ensure_writable(SignedResident(institution=data["team"].institution))
        serializer.instance = services.sign_resident(acting_user=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "team" in data:
            self.ensure_writable(SignedResident(institution=data["team"].institution))
        services.update_resident(serializer.instance, acting_user=self.request.user, **data)

    @extend_schema(request=ResidentLookupSerializer, responses=ResidentSerializer(many=True))
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])  # a read, sent as POST
    def lookup(self, request):
        """The caller's signed residents with this ID number (matched by its keyed hash)."""
        data = self.validated(ResidentLookupSerializer)
        residents = self.get_queryset().with_id_number(data["id_number"])
        return Response(self.get_serializer(residents, many=True).data)
