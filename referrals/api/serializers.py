"""Serializers of referrals, slots and beds (DESIGN §8): codes in (institutions, departments),
ids out; the patient goes out masked and is never echoed back. Every write goes through
`referrals.services`."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance.models import Department, Institution
from core.api.fields import ScopedCodeField, ScopedIdField
from core.codes import ICD10_LENGTH
from members.models import FamilyDoctorTeam
from referrals.choices import Direction, OutOfCountyReason, SlotPeriod, Urgency
from referrals.models import (
    MAX_SLOT_MINUTES,
    SLOT_MINUTES,
    Bed,
    PoolPublication,
    PoolTemplateEntry,
    Referral,
    ReferralEvent,
    Slot,
)
from referrals.services import MAX_PUBLISH


class DepartmentCodeMixin:
    """Resolve a department code against an institution in the validated data."""

    def department_of(self, institution, code, field):
        if not code:
            return None
        department = (
            Department.objects.for_user(self.context["request"].user)
            .filter(institution=institution, code=code.strip())
            .first()
        )
        if department is None:
            raise serializers.ValidationError(
                {field: _("This institution has no department with code %(code)s.") % {"code": code}}
            )
        return department


# --- Slots and beds --------------------------------------------------------------------------------
class SlotSerializer(serializers.ModelSerializer):
    """A slot with its place in the session: `number` (号序, 1 … n) and `expected_at`, when the
    patient is expected (issue 13 point 5)."""

    institution_code = serializers.CharField(source="institution.code", read_only=True)
    department_code = serializers.CharField(source="department.code", read_only=True)
    reserved = serializers.BooleanField(source="reserved_now", read_only=True)
    available = serializers.BooleanField(read_only=True)

    class Meta:
        model = Slot
        fields = [
            "id", "institution", "institution_code", "department", "department_code", "date", "period",
            "doctor", "number", "starts_at", "expected_at", "reserved", "available", "returned_at",
        ]  # fmt: skip
        read_only_fields = fields


class BedSerializer(serializers.ModelSerializer):
    institution_code = serializers.CharField(source="institution.code", read_only=True)
    department_code = serializers.CharField(source="department.code", read_only=True)
    available = serializers.BooleanField(read_only=True)

    class Meta:
        model = Bed
        fields = [
            "id",
            "institution",
            "institution_code",
            "department",
            "department_code",
            "date",
            "available",
        ]
        read_only_fields = fields


class BedPublishSerializer(DepartmentCodeMixin, serializers.Serializer):
    institution = ScopedCodeField(model=Institution)
    department = serializers.CharField()
    date = serializers.DateField()
    count = serializers.IntegerField(min_value=1, max_value=MAX_PUBLISH)

    def validate(self, attrs):
        attrs["department"] = self.department_of(attrs["institution"], attrs["department"], "department")
        return attrs


class SlotPublishSerializer(BedPublishSerializer):
    period = serializers.ChoiceField(choices=SlotPeriod.choices)
    reserved_for_primary = serializers.IntegerField(min_value=0, max_value=MAX_PUBLISH)
    doctor = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    interval_minutes = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SLOT_MINUTES,
        required=False,
        default=SLOT_MINUTES,
        help_text=_("Minutes between two numbers of the session (default 10)."),
    )


# --- Weekly templates and the weeks published from them ----------------------------------------------
class DepartmentCodeField(serializers.CharField):
    """A department named by its code in a write (resolved against the row's institution by
    `DepartmentCodeMixin`), answered with its id (codes in, ids out)."""

    def to_representation(self, value):
        return value.pk


class DepartmentCodeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = DepartmentCodeField

    def map_serializer_field(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.STR if direction == "request" else OpenApiTypes.INT)


class PoolTemplateEntrySerializer(DepartmentCodeMixin, serializers.ModelSerializer):
    """A line of an institution's weekly template; `services` checks it (the lead hospital's
    third, one line per weekday, kind, department, period and doctor)."""

    institution = ScopedCodeField(model=Institution)
    institution_code = serializers.CharField(source="institution.code", read_only=True)
    department = DepartmentCodeField()
    department_code = serializers.CharField(source="department.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = PoolTemplateEntry
        fields = [
            "id", "institution", "institution_code", "weekday", "kind", "department", "department_code",
            "department_name", "period", "doctor", "count", "reserved_for_primary", "interval_minutes",
        ]  # fmt: skip
        validators = []  # uniqueness and the shares are the service's

    def validate(self, attrs):
        current = self.instance.institution if self.instance is not None else None
        institution = attrs.get("institution", current)
        if current is not None and institution != current:
            raise serializers.ValidationError({"institution": _("A template line stays at its institution.")})
        if "department" in attrs:
            attrs["department"] = self.department_of(institution, attrs["department"], "department")
        return attrs


class PublishWeekSerializer(serializers.Serializer):
    institution = ScopedCodeField(model=Institution)
    week_start = serializers.DateField(help_text=_("The Monday the week starts on."))


class PoolPublicationSerializer(serializers.ModelSerializer):
    institution_code = serializers.CharField(source="institution.code", read_only=True)

    class Meta:
        model = PoolPublication
        fields = ["id", "institution", "institution_code", "week_start", "slots", "beds", "published_at"]
        read_only_fields = fields


# --- Referrals ---------------------------------------------------------------------------------------
class PatientSerializer(serializers.Serializer):
    """In: the whole name and resident ID; out: masked."""

    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=32)
    insurance_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    signed_resident = serializers.BooleanField(required=False, default=False)


class MaskedPatientSerializer(serializers.Serializer):
    name = serializers.CharField(source="patient_name_masked")
    id_number = serializers.CharField(source="patient_id_masked")
    insurance_number = serializers.CharField()
    signed_resident = serializers.BooleanField()


class ReferralEventSerializer(serializers.ModelSerializer):
    acting_user = serializers.CharField(source="acting_user.username", read_only=True, allow_null=True)

    class Meta:
        model = ReferralEvent
        fields = ["from_state", "to_state", "acting_user", "at", "note"]
        read_only_fields = fields


class ReferralSerializer(serializers.ModelSerializer):
    from_institution_code = serializers.CharField(source="from_institution.code", read_only=True)
    to_institution_code = serializers.CharField(source="to_institution.code", read_only=True)
    to_department_code = serializers.CharField(source="to_department.code", read_only=True, allow_null=True)
    patient = MaskedPatientSerializer(source="*", read_only=True)
    slot = serializers.SerializerMethodField()
    bed = serializers.SerializerMethodField()
    events = ReferralEventSerializer(many=True, read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id", "direction", "state", "from_institution", "from_institution_code", "to_institution",
            "to_institution_code", "to_department", "to_department_code", "slot", "bed", "patient",
            "team", "diagnosis", "reason", "reason_code", "urgency", "out_of_county",
            "deductible_continuity", "priority", "summary", "closing_reason", "return_of",
            "created_at", "submitted_at", "answer_due_at", "accepted_at", "arrived_at", "completed_at",
            "closed_at", "events",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_slot(self, referral):
        return referral.held_id("slot")

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_bed(self, referral):
        return referral.held_id("bed")


class ReferralCreateSerializer(DepartmentCodeMixin, serializers.Serializer):
    direction = serializers.ChoiceField(choices=Direction.choices)
    from_institution = ScopedCodeField(model=Institution)
    to_institution = ScopedCodeField(model=Institution)
    to_department = serializers.CharField(required=False, allow_blank=True)
    patient = PatientSerializer()
    diagnosis = serializers.CharField(max_length=ICD10_LENGTH)
    reason = serializers.CharField()
    reason_code = serializers.ChoiceField(choices=OutOfCountyReason.choices, required=False, allow_blank=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    team = ScopedIdField(model=FamilyDoctorTeam, required=False, allow_null=True)
    slot = ScopedIdField(model=Slot, required=False, allow_null=True)
    bed = ScopedIdField(model=Bed, required=False, allow_null=True)

    def to_representation(self, instance):
        return ReferralSerializer(instance, context=self.context).data

    def validate(self, attrs):
        attrs["to_department"] = self.department_of(
            attrs["to_institution"], attrs.get("to_department"), "to_department"
        )
        return attrs


class AcceptSerializer(serializers.Serializer):
    slot = ScopedIdField(model=Slot, required=False, allow_null=True)
    bed = ScopedIdField(model=Bed, required=False, allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class SummarySerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class ReferBackSerializer(SummarySerializer):
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
