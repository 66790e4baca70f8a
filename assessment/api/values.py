"""API of the indicator values (DESIGN §8 "indicators", issue 14 points 2, 5, 6, 7):

- `GET /api/v1/indicator-values/?indicator=<code>&alliance=&institution=&month=YYYY-MM&period=month|ytd
  &scope=&hierarchy=of_month|today`: the stored figures (hierarchy of the month, the default), or
  today's-hierarchy view built on the fly (`hierarchy=today`, which needs `alliance` and `month`);
- `GET /api/v1/indicator-values/{id}/`: one figure with the measures behind it per institution;
- `GET /api/v1/indicator-values/{id}/records/?measure=<code>`: the records one of its measures
  counted, for the roles that may read them (the committee sees counts, never records: 403);
- `GET /api/v1/indicator-restatements/?alliance=&month=`: published figures a recompute changed.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from alliance.models import Alliance, Institution
from core import access
from core import measures as registry
from core.api.fields import ScopedIdField
from core.api.serializers import JobSerializer
from core.api.viewsets import ScopedReadOnlyModelViewSet
from encounters.filtersets import parse_month

from .. import figures, services
from ..filtersets import IndicatorValueFilterSet, RestatementFilterSet
from ..models import Hierarchy, IndicatorMonth, IndicatorValue, Restatement


# --- Serializers -----------------------------------------------------------------------------------
class MonthField(serializers.DateField):
    def to_representation(self, value):
        return value.strftime("%Y-%m")


class IndicatorValueSerializer(serializers.ModelSerializer):
    alliance = serializers.IntegerField(source="alliance_id", read_only=True)
    institution = serializers.IntegerField(source="institution_id", read_only=True, allow_null=True)
    institution_code = serializers.SerializerMethodField()
    month = MonthField(read_only=True)
    value = serializers.SerializerMethodField()
    numerator = serializers.SerializerMethodField()
    denominator = serializers.SerializerMethodField()
    unit = serializers.CharField(source="definition.unit", read_only=True)
    definition_version = serializers.IntegerField(source="definition.version", read_only=True)
    hierarchy = serializers.CharField(read_only=True)
    provisional = serializers.SerializerMethodField()

    class Meta:
        model = IndicatorValue
        fields = [
            "id", "indicator", "alliance", "scope", "institution", "institution_code", "month", "period",
            "numerator", "denominator", "value", "unit", "null_reason", "definition_version", "input_rows",
            "computed_at", "restated", "provisional", "hierarchy",
        ]  # fmt: skip

    def _places(self, row):
        return max(2, row.definition.decimals)

    def get_value(self, row) -> str | None:
        return None if row.value is None else f"{row.value:.{self._places(row)}f}"

    def get_numerator(self, row) -> str:
        return f"{row.numerator.normalize():f}"

    def get_denominator(self, row) -> str:
        return f"{row.denominator.normalize():f}"

    def get_institution_code(self, row) -> str | None:
        return self.context.get("codes", {}).get(row.institution_id) if row.institution_id else None

    def get_provisional(self, row) -> bool:
        return (row.alliance_id, row.month) not in self.context.get("published", set())


class InputSerializer(serializers.Serializer):
    measure = serializers.CharField()
    name = serializers.SerializerMethodField()
    offset = serializers.IntegerField()
    ytd = serializers.BooleanField()
    months = serializers.ListField(child=serializers.CharField())
    total = serializers.DecimalField(max_digits=24, decimal_places=2)
    institutions = serializers.SerializerMethodField()

    def get_name(self, item) -> str:
        return str(registry.measure(item["measure"]).name)

    def get_institutions(self, item) -> list[dict]:
        codes = self.context.get("codes", {})
        return [
            {"institution": pk, "institution_code": codes.get(pk), "value": f"{amount:.2f}"}
            for pk, amount in sorted(
                item["institutions"].items(), key=lambda pair: (pair[0] is None, pair[0] or 0)
            )
        ]


class IndicatorValueDetailSerializer(IndicatorValueSerializer):
    inputs = serializers.SerializerMethodField()

    class Meta(IndicatorValueSerializer.Meta):
        fields = [*IndicatorValueSerializer.Meta.fields, "inputs"]

    def get_inputs(self, row) -> list[dict]:
        items = figures.inputs_of(row)
        codes = _codes({pk for item in items for pk in item["institutions"] if pk})
        return InputSerializer(items, many=True, context={**self.context, "codes": codes}).data


class RecordSerializer(serializers.Serializer):
    """One record a measure counted, whatever its table: what it is, where and when it counts."""

    id = serializers.IntegerField(source="pk")
    kind = serializers.SerializerMethodField()
    institution = serializers.IntegerField(source="record_institution", allow_null=True)
    institution_code = serializers.SerializerMethodField()
    date = serializers.DateField(source="record_date")
    month = MonthField(source="record_month")
    label = serializers.SerializerMethodField()

    def get_kind(self, record) -> str:
        return record._meta.label_lower

    def get_institution_code(self, record) -> str | None:
        return self.context.get("codes", {}).get(record.record_institution)

    def get_label(self, record) -> str:
        return str(record)


class RestatementSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="value.indicator")
    scope = serializers.CharField(source="value.scope")
    institution = serializers.IntegerField(source="value.institution_id", allow_null=True)
    period = serializers.CharField(source="value.period")
    alliance = serializers.IntegerField(source="alliance_id")
    month = MonthField()

    class Meta:
        model = Restatement
        fields = [
            "id", "value", "indicator", "alliance", "scope", "institution", "month", "period",
            "old_numerator", "old_denominator", "old_value", "old_version",
            "new_numerator", "new_denominator", "new_value", "new_version", "causes", "restated_at",
        ]  # fmt: skip


class MonthInputField(serializers.CharField):
    """A month written YYYY-MM, validated to its first day."""

    def to_internal_value(self, data):
        try:
            return parse_month(super().to_internal_value(data))
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class ComputeRequestSerializer(serializers.Serializer):
    alliance = ScopedIdField(model=Alliance)
    month = MonthInputField(required=False)
    months = serializers.ListField(child=MonthInputField(), required=False, max_length=36)

    def validate(self, attrs):
        months = [*attrs.get("months", []), *([attrs["month"]] if "month" in attrs else [])]
        if not months:
            raise serializers.ValidationError({"month": [_("Give a month (YYYY-MM) or a list of months.")]})
        return {"alliance": attrs["alliance"], "months": months}


class PublishRequestSerializer(serializers.Serializer):
    alliance = ScopedIdField(model=Alliance)
    month = MonthInputField()


class IndicatorMonthSerializer(serializers.ModelSerializer):
    alliance = serializers.IntegerField(source="alliance_id")
    month = MonthField()
    published_by = serializers.CharField(source="published_by.username", allow_null=True, default=None)

    class Meta:
        model = IndicatorMonth
        fields = ["alliance", "month", "computed_at", "published_at", "published_by"]


class MonthActionsMixin:
    """`POST /api/v1/indicators/compute/` → 202 with a Job to poll at /api/v1/jobs/{id}/;
    `POST /api/v1/indicators/publish/` → 200 with the month. The bureau of the alliance only."""

    @extend_schema(request=ComputeRequestSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"])
    def compute(self, request):
        data = self.validated(ComputeRequestSerializer)
        job = services.start_computation(data["alliance"], data["months"], acting_user=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=PublishRequestSerializer, responses=IndicatorMonthSerializer)
    @action(detail=False, methods=["post"])
    def publish(self, request):
        data = self.validated(PublishRequestSerializer)
        state = services.publish_month(data["alliance"], data["month"], acting_user=request.user)
        return Response(IndicatorMonthSerializer(state).data)


def _codes(ids):
    return dict(Institution.objects.filter(pk__in=ids).values_list("pk", "code")) if ids else {}


def _context_of(rows):
    """Two queries for a page of values: the institutions' codes, the months published."""
    if not rows:
        return {"codes": {}, "published": set()}
    published = IndicatorMonth.objects.filter(
        alliance__in={row.alliance_id for row in rows},
        month__in={row.month for row in rows},
        published_at__isnull=False,
    )
    return {
        "codes": _codes({row.institution_id for row in rows if row.institution_id}),
        "published": set(published.values_list("alliance_id", "month")),
    }


# --- Viewsets ----------------------------------------------------------------------------------------
MEASURE = OpenApiParameter(
    "measure", OpenApiTypes.STR, description="a measure of the value (default: the first)"
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "hierarchy",
                OpenApiTypes.STR,
                enum=Hierarchy.values,
                description="of_month (default) or today",
            )
        ]
    )
)
class IndicatorValueViewSet(ScopedReadOnlyModelViewSet):
    """Indicator values, scoped by the access door: the alliance's for those who watch it, an
    institution's own for its staff."""

    queryset = IndicatorValue.objects.select_related("definition").order_by(
        "-month", "indicator", "scope", "institution_id", "period"
    )
    serializer_class = IndicatorValueSerializer
    filterset_class = IndicatorValueFilterSet

    def get_serializer_class(self):
        return IndicatorValueDetailSerializer if self.action == "retrieve" else super().get_serializer_class()

    def list(self, request, *args, **kwargs):
        if request.query_params.get("hierarchy") != Hierarchy.TODAY:
            return super().list(request, *args, **kwargs)
        rows = self._todays_rows()
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self._serialized(page))

    def _todays_rows(self):
        """Today's-hierarchy view of one alliance and month, cut to the caller's reach."""
        filters = self.filter_queryset(self.get_queryset())  # validates the parameters
        params = self.request.query_params
        form = self.filterset_class(params, queryset=filters, request=self.request).form
        form.is_valid()
        alliance, month = form.cleaned_data.get("alliance"), form.cleaned_data.get("month")
        if alliance is None or month is None:
            raise ValidationError(
                {
                    "hierarchy": [
                        _(
                            "Today's hierarchy is shown for one alliance and one month: give alliance and month."
                        )
                    ]
                }
            )
        codes = [params["indicator"]] if params.get("indicator") else None
        rows = figures.values_on_todays_hierarchy(alliance, month, codes=codes)
        reach = access.reach(self.request.user, IndicatorValue)
        every = self.request.user.is_superuser or alliance.pk in reach.alliances
        wanted = {name: form.cleaned_data.get(name) for name in ("period", "scope")}
        institution = form.cleaned_data.get("institution") or form.cleaned_data.get("institution_code")
        return [
            row
            for row in rows
            if (every or row.institution_id in reach.institutions)
            and all(not v or getattr(row, name) == v for name, v in wanted.items())
            and (institution is None or row.institution_id == institution.pk)
        ]

    def _serialized(self, rows):
        return self.get_serializer(rows, many=True).data

    def get_serializer(self, *args, **kwargs):
        """The institutions' codes and the months published, read once for the page."""
        if args:
            rows = [args[0]] if isinstance(args[0], IndicatorValue) else list(args[0])
            kwargs["context"] = {**self.get_serializer_context(), **_context_of(rows)}
            args = (rows if not isinstance(args[0], IndicatorValue) else args[0], *args[1:])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(parameters=[MEASURE], responses=RecordSerializer(many=True))
    @action(detail=True, methods=["get"])
    def records(self, request, pk=None):
        """The records one measure of the value counted, through the access door."""
        value = self.get_object()
        item = self._measure(value, request.query_params.get("measure"))
        months = [datetime.date(int(m[:4]), int(m[5:7]), 1) for m in item["months"]]
        try:
            records = registry.records(
                value.alliance_id, min(months), max(months), item["measure"], item["members"]
            )
        except registry.Untraceable:
            raise ValidationError({"measure": [_("The records of this measure cannot be listed.")]}) from None
        if not access.can_read(request.user, records.model):
            raise PermissionDenied(_("Your role sees the counts of this figure, not its records."))
        records = access.scope(records, request.user)
        page = self.paginate_queryset(records)
        codes = _codes({record.record_institution for record in page if record.record_institution})
        return self.get_paginated_response(RecordSerializer(page, many=True, context={"codes": codes}).data)

    def _measure(self, value, code):
        items = figures.inputs_of(value)
        if not items:
            raise ValidationError({"measure": [_("This figure reads no measure.")]})
        if code is None:
            return items[0]
        for item in items:
            if item["measure"] == code:
                return item
        raise ValidationError(
            {"measure": [_("This figure does not read the measure %(code)s.") % {"code": code}]}
        )


class IndicatorRestatementViewSet(ScopedReadOnlyModelViewSet):
    """Restatements of published figures, newest first."""

    queryset = Restatement.objects.select_related("value")
    serializer_class = RestatementSerializer
    filterset_class = RestatementFilterSet
