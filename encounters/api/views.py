"""API of encounters (DESIGN §8): bulk ingestion of visits and admissions, their scoped lists, and
submission control. Thin: the bulk endpoints check the envelope and call `encounters.services.ingest`."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from alliance.models import Institution
from core import access
from core.api.viewsets import ScopedReadOnlyModelViewSet
from encounters import services
from encounters.filtersets import AdmissionFilterSet, VisitFilterSet, parse_month
from encounters.models import Admission, EncounterKind, OutpatientVisit
from encounters.querysets import first_of_month, submission_institutions, submission_summary
from encounters.validation import MAX_RECORDS

from .serializers import (
    AdmissionBulkSerializer,
    AdmissionSerializer,
    BulkResultSerializer,
    SubmissionSerializer,
    VisitBulkSerializer,
    VisitSerializer,
)

# 5,000 records of about 1 KB each with room to spare; a larger body is 413 before it is read.
BULK_MAX_BODY_BYTES = 8 * 1024 * 1024
DRY_RUN = OpenApiParameter(
    "dry_run", OpenApiTypes.BOOL, description="validate and count only; nothing is written"
)
TRUE = {"1", "true", "yes", "on"}


class EncounterViewSet(ScopedReadOnlyModelViewSet):
    """Scoped lists (`?institution=&institution_code=&month=YYYY-MM`) and `POST …/bulk/`."""

    kind = None
    max_body_bytes = BULK_MAX_BODY_BYTES  # read by core.api.parsers on the bulk POST

    def get_queryset(self):
        return super().get_queryset().for_list()

    def ingest(self, request):
        if not access.can_write(request.user, self.queryset.model):
            raise PermissionDenied(_("Your role may not send encounter records."))
        source, records = _envelope(request.data)
        dry_run = request.query_params.get("dry_run", "").lower() in TRUE
        result = services.ingest(self.kind, records, client=request.user, source=source, dry_run=dry_run)
        return Response(result)


class VisitViewSet(EncounterViewSet):
    """Outpatient visits (门急诊), counted in the month of the visit."""

    kind = EncounterKind.VISITS
    queryset = OutpatientVisit.objects.all()
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet

    @extend_schema(request=VisitBulkSerializer, responses=BulkResultSerializer, parameters=[DRY_RUN])
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Upsert up to 5,000 visits by (institution, source, external_id); bad records come back."""
        return self.ingest(request)


class AdmissionViewSet(EncounterViewSet):
    """Admissions (住院), counted in the month of discharge."""

    kind = EncounterKind.ADMISSIONS
    queryset = Admission.objects.all()
    serializer_class = AdmissionSerializer
    filterset_class = AdmissionFilterSet

    @extend_schema(request=AdmissionBulkSerializer, responses=BulkResultSerializer, parameters=[DRY_RUN])
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Upsert up to 5,000 admissions by (institution, source, external_id); bad records come back."""
        return self.ingest(request)


def _envelope(data):
    """`{"source", "records": [...]}` with at most MAX_RECORDS records (400 otherwise)."""
    if not isinstance(data, dict):
        raise ValidationError(_('Send a JSON object {"source": …, "records": […]}.'))
    records = data.get("records")
    if not isinstance(records, list):
        raise ValidationError({"records": _("Send the records as a JSON list.")})
    if len(records) > MAX_RECORDS:
        raise ValidationError(
            {
                "records": _("A batch holds at most %(max)s records; this one has %(n)s. Split it.")
                % {"max": f"{MAX_RECORDS:,}", "n": f"{len(records):,}"}
            }
        )
    return data.get("source"), records


MONTH = OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: this month)")


class SubmissionViewSet(viewsets.GenericViewSet):
    """Submission control: per institution of the caller's scope, the records of a month, when
    the latest arrived and whether it has been silent longer than its alliance allows."""

    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer
    queryset = Institution.objects.none()  # rows come from submission_summary; this names the model

    @extend_schema(parameters=[MONTH], responses=SubmissionSerializer(many=True))
    def list(self, request):
        month = request.query_params.get("month")
        try:
            month = parse_month(month) if month else first_of_month(timezone.localdate())
        except ValidationError as error:
            raise ValidationError({"month": error.messages}) from None
        institutions = submission_institutions(request.user, month)
        rows = submission_summary(institutions, month, timezone.now())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
