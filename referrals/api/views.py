"""API of referrals (DESIGN §8): publish and list slots and beds; create referrals (with an
Idempotency-Key) and move them through their states by `POST …/{id}/<verb>/`. Thin: each action
checks its small input serializer and calls one service, which checks who may do it."""

from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.permissions import PolicyWritePermission
from core.api.viewsets import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from referrals import services
from referrals.filtersets import BedFilterSet, PoolTemplateEntryFilterSet, ReferralFilterSet, SlotFilterSet
from referrals.models import Bed, PoolTemplateEntry, Referral, ReferralEvent, Slot

from .serializers import (
    AcceptSerializer,
    BedPublishSerializer,
    BedSerializer,
    PoolPublicationSerializer,
    PoolTemplateEntrySerializer,
    PublishWeekSerializer,
    ReasonSerializer,
    ReferBackSerializer,
    ReferralCreateSerializer,
    ReferralSerializer,
    SlotPublishSerializer,
    SlotSerializer,
    SummarySerializer,
)


class _PoolViewSet(ScopedReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, PolicyWritePermission]

    def published(self, input_serializer, publish):
        serializer = input_serializer(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        rows = publish(acting_user=self.request.user, **serializer.validated_data)
        rows = self.get_queryset().filter(pk__in=[row.pk for row in rows])
        return Response(self.get_serializer(rows, many=True).data, status=status.HTTP_201_CREATED)


class SlotViewSet(_PoolViewSet):
    """Outpatient slots (门诊号源); `?available=true&reserved=true` lists what a referral may book."""

    queryset = Slot.objects.select_related("institution", "department")
    serializer_class = SlotSerializer
    filterset_class = SlotFilterSet

    @extend_schema(request=SlotPublishSerializer, responses={201: SlotSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def publish(self, request):
        """Create `count` slots of one session, the first `reserved_for_primary` reserved."""
        return self.published(SlotPublishSerializer, services.publish_slots)

    @extend_schema(request=PublishWeekSerializer, responses={201: PoolPublicationSerializer})
    @action(detail=False, methods=["post"], url_path="publish-week")
    def publish_week(self, request):
        """Publish a week (from its Monday) of slots and beds from the institution's weekly
        template, all or nothing: 409 `week_published` when that week was published already."""
        serializer = PublishWeekSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        publication = services.publish_week(
            data["institution"], week_start=data["week_start"], acting_user=request.user
        )
        return Response(PoolPublicationSerializer(publication).data, status=status.HTTP_201_CREATED)


class BedViewSet(_PoolViewSet):
    """Beds reserved for referred patients, per department and day."""

    queryset = Bed.objects.select_related("institution", "department")
    serializer_class = BedSerializer
    filterset_class = BedFilterSet

    @extend_schema(request=BedPublishSerializer, responses={201: BedSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def publish(self, request):
        """Reserve `count` beds of a department on one day."""
        return self.published(BedPublishSerializer, services.publish_beds)


class PoolTemplateViewSet(ScopedModelViewSet):
    """The weekly templates slots and beds are published from (one row per line)."""

    queryset = PoolTemplateEntry.objects.select_related("institution", "department")
    serializer_class = PoolTemplateEntrySerializer
    filterset_class = PoolTemplateEntryFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        institution = data.pop("institution")
        self.ensure_writable(PoolTemplateEntry(institution=institution))
        serializer.instance = services.create_template_entry(
            institution, acting_user=self.request.user, **data
        )

    def perform_update(self, serializer):
        data = {name: value for name, value in serializer.validated_data.items() if name != "institution"}
        serializer.instance = services.update_template_entry(
            serializer.instance, acting_user=self.request.user, **data
        )

    def perform_destroy(self, instance):
        services.delete_template_entry(instance, acting_user=self.request.user)


class ReferralViewSet(ScopedModelViewSet):
    """Two-way referrals (双向转诊) the caller's institution sent or received; the receiver's
    list puts prioritised signed residents first (优先就诊)."""

    queryset = Referral.objects.for_list()
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilterSet
    http_method_names = ["get", "post", "head", "options"]
    # The events with who made them, in one query.
    events = Prefetch("events", queryset=ReferralEvent.objects.select_related("acting_user"))

    def get_queryset(self):
        queryset = super().get_queryset()
        # The verbs re-read the referral under a lock and answer with that copy (`moved`).
        return queryset.prefetch_related(self.events) if self.action in ("list", "retrieve") else queryset

    def filter_queryset(self, queryset):
        # Filters narrow lists; on one referral's URL without a query string they would only
        # build their form (scoped choices and all) to change nothing.
        if self.detail and not self.request.query_params:
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        return ReferralCreateSerializer if self.action == "create" else super().get_serializer_class()

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralSerializer})
    def create(self, request, *args, **kwargs):
        """Create and submit a referral, booking its slot or bed (409 `slot_taken` when gone)."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        referral = services.create_referral(acting_user=self.request.user, **serializer.validated_data)
        prefetch_related_objects([referral], self.events)
        serializer.instance = referral

    def moved(self, referral, code=status.HTTP_200_OK):
        """The answer to a verb: the referral as the service left it (its ends, department, slot
        and bed are up to date in memory), with its events."""
        prefetch_related_objects([referral], self.events)
        return Response(ReferralSerializer(referral).data, status=code)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft."""
        return self.moved(services.submit_referral(self.get_object(), acting_user=request.user))

    @extend_schema(request=AcceptSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The receiver accepts, optionally booking or swapping a slot or bed."""
        data = self.validated(AcceptSerializer)
        return self.moved(services.accept_referral(self.get_object(), acting_user=request.user, **data))

    @extend_schema(request=ReasonSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The receiver declines, with a reason."""
        data = self.validated(ReasonSerializer)
        return self.moved(services.reject_referral(self.get_object(), acting_user=request.user, **data))

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def arrive(self, request, pk=None):
        """The patient arrived."""
        return self.moved(services.record_arrival(self.get_object(), acting_user=request.user))

    @extend_schema(request=SummarySerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The receiver closes the episode with its discharge summary."""
        data = self.validated(SummarySerializer)
        return self.moved(services.complete_referral(self.get_object(), acting_user=request.user, **data))

    @extend_schema(request=ReasonSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The sender withdraws, with a reason."""
        data = self.validated(ReasonSerializer)
        return self.moved(services.cancel_referral(self.get_object(), acting_user=request.user, **data))

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        """The patient did not come."""
        return self.moved(services.record_no_show(self.get_object(), acting_user=request.user))

    @extend_schema(request=ReferBackSerializer, responses={201: ReferralSerializer})
    @action(detail=True, methods=["post"], url_path="refer-back")
    def refer_back(self, request, pk=None):
        """From a completed up-referral, the down-referral back with the discharge summary."""
        data = self.validated(ReferBackSerializer)
        back = services.refer_back(self.get_object(), acting_user=request.user, **data)
        return self.moved(back, code=status.HTTP_201_CREATED)
