"""API of the catalogue (DESIGN §8 "pharmacy"): `/api/v1/drugs/?search=` and `/api/v1/formularies/`.
Every role reads its alliance's; the alliance office writes, through `pharmacy.services`."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from alliance.querysets import today
from core.api.viewsets import ScopedModelViewSet

from .. import services
from ..filtersets import DrugFilterSet, FormularyFilterSet
from ..models import DrugCatalogueEntry, Formulary
from .serializers import (
    DrugDetailSerializer,
    DrugSerializer,
    DrugWriteSerializer,
    FormularyDetailSerializer,
    FormularySerializer,
    PriceChangeSerializer,
    PriceSerializer,
)

WRITE_METHODS = ["get", "post", "patch", "head", "options"]
ON = OpenApiParameter("on", OpenApiTypes.DATE, description="the day whose prices are shown (default today)")


def _day(request):
    text = request.query_params.get("on")
    if not text:
        return today()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationError({"on": [_("Enter a date as YYYY-MM-DD.")]}) from None


@extend_schema_view(list=extend_schema(parameters=[ON]), retrieve=extend_schema(parameters=[ON]))
class DrugViewSet(ScopedModelViewSet):
    """The alliance's drug catalogue, with the unified prices of the day (`?on=`)."""

    queryset = DrugCatalogueEntry.objects.all()
    serializer_class = DrugSerializer
    filterset_class = DrugFilterSet
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        queryset = super().get_queryset().with_prices(_day(self.request))
        return queryset.prefetch_related("prices") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return DrugWriteSerializer
        return DrugDetailSerializer if self.action == "retrieve" else DrugSerializer

    def _answer(self, entry, code=status.HTTP_200_OK):
        """The entry as read back, with the day's prices and their history."""
        read = self.get_queryset().prefetch_related("prices").get(pk=entry.pk)
        return Response(DrugDetailSerializer(read).data, status=code)

    @extend_schema(request=DrugWriteSerializer, responses={201: DrugDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = self.validated(DrugWriteSerializer)
        alliance = data.pop("alliance")
        self.ensure_writable(DrugCatalogueEntry(alliance=alliance))
        return self._answer(
            services.create_entry(alliance, acting_user=request.user, **data), status.HTTP_201_CREATED
        )

    @extend_schema(request=DrugWriteSerializer, responses=DrugDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        entry = self.get_object()
        serializer = DrugWriteSerializer(
            entry, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("alliance", None)  # an entry stays in its alliance's catalogue
        for name in ("purchase_price", "retail_price", "price_from"):
            data.pop(name, None)  # prices change through /prices/, never in place
        return self._answer(services.update_entry(entry, acting_user=request.user, **data))

    @extend_schema(request=PriceChangeSerializer, responses={201: PriceSerializer})
    @action(detail=True, methods=["post"])
    def prices(self, request, pk=None):
        """New unified prices from `valid_from` (today or later); the earlier days keep theirs."""
        entry = self.get_object()
        self.ensure_writable(entry)
        price = services.change_price(
            entry, acting_user=request.user, **self.validated(PriceChangeSerializer)
        )
        return Response(PriceSerializer(price).data, status=status.HTTP_201_CREATED)


class FormularyViewSet(ScopedModelViewSet):
    """Formularies of a tier or an institution, with their essential-drug share; `drugs` (the
    national insurance codes) sets what one holds."""

    queryset = Formulary.objects.select_related("institution")
    serializer_class = FormularySerializer
    filterset_class = FormularyFilterSet
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        return super().get_queryset().with_counts()

    def get_serializer_class(self):
        return FormularyDetailSerializer if self.action == "retrieve" else FormularySerializer

    def _entries(self, alliance, codes):
        entries = list(
            DrugCatalogueEntry.objects.for_user(self.request.user).filter(
                alliance=alliance, nhsa_code__in=codes
            )
        )
        missing = sorted(set(codes) - {entry.nhsa_code for entry in entries})
        if missing:
            raise ValidationError(
                {"drugs": [_("Not in the alliance's catalogue: %(codes)s") % {"codes": "、".join(missing)}]}
            )
        return entries

    def perform_create(self, serializer):
        data = serializer.validated_data
        formulary = Formulary(
            alliance=data["alliance"], tier=data["tier"], institution=data.get("institution")
        )
        self.ensure_writable(formulary)
        formulary = services.formulary_of(
            formulary.alliance, formulary.tier, formulary.institution, acting_user=self.request.user
        )
        services.set_formulary(
            formulary, self._entries(formulary.alliance, data.get("drugs", [])), acting_user=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=formulary.pk)

    def perform_update(self, serializer):
        formulary = serializer.instance
        if "drugs" in serializer.validated_data:
            entries = self._entries(formulary.alliance_id, serializer.validated_data["drugs"])
            services.set_formulary(formulary, entries, acting_user=self.request.user)
        serializer.instance = self.get_queryset().get(pk=formulary.pk)
