"""Serializers of encounters (DESIGN §8). Read rows only: the bulk endpoints validate records with
the plain validator of encounters.validation (a DRF serializer per record is far too slow for
5,000 records), so the record serializers here document the payload in the schema and are never
run on it."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance.choices import InstitutionLevel
from encounters.models import Admission, OutpatientVisit, OutsideFacility

PATIENT_SHOWN = 8  # hex characters of the patient key a row shows: enough to tell patients apart


class OutsideFacilitySerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_code")
    level = serializers.CharField(help_text="primary, secondary, tertiary or empty")

    class Meta:
        model = OutsideFacility
        fields = ["code", "name", "region", "level"]


class EncounterSerializer(serializers.ModelSerializer):
    """One record; the patient as a short prefix of the keyed hash, never the resident ID."""

    month = serializers.SerializerMethodField()
    institution_code = serializers.CharField(source="institution.code", read_only=True, allow_null=True)
    department_code = serializers.CharField(source="department.code", read_only=True, allow_null=True)
    outside_facility = OutsideFacilitySerializer(read_only=True, allow_null=True)
    patient = serializers.SerializerMethodField()
    referral = serializers.IntegerField(source="referral_id", read_only=True, allow_null=True)

    COMMON = [
        "id", "source", "external_id", "alliance", "month", "institution", "institution_code",
        "outside_facility", "department", "department_code", "patient", "resident_region",
        "is_resident", "in_county", "diagnosis", "total_cost", "insurance_paid", "tcm", "referral",
        "received_at",
    ]  # fmt: skip

    @extend_schema_field(serializers.CharField(help_text="YYYY-MM"))
    def get_month(self, encounter):
        return f"{encounter.month:%Y-%m}"

    @extend_schema_field(serializers.CharField(help_text=_("first characters of the patient key")))
    def get_patient(self, encounter):
        return encounter.patient_key[:PATIENT_SHOWN]


class VisitSerializer(EncounterSerializer):
    class Meta:
        model = OutpatientVisit
        fields = [*EncounterSerializer.COMMON, "visit_date"]
        read_only_fields = fields


class AdmissionSerializer(EncounterSerializer):
    class Meta:
        model = Admission
        fields = [*EncounterSerializer.COMMON, "admit_date", "discharge_date"]
        read_only_fields = fields


# --- The bulk payload and answer, for the schema ---------------------------------------------------
class OutsideFacilityRecordSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=100)
    region = serializers.CharField(help_text=_("6-digit GB/T 2260 region code"))
    level = serializers.ChoiceField(choices=InstitutionLevel.choices, required=False)


class RecordSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    institution = serializers.CharField(required=False, help_text=_("code of a registered institution"))
    outside_facility = OutsideFacilityRecordSerializer(required=False, help_text=_("insurance feed only"))
    department = serializers.CharField(required=False, help_text=_("department code"))
    patient_id_number = serializers.CharField(help_text=_("18-character resident ID; never stored"))
    resident_region = serializers.CharField(help_text=_("6-digit GB/T 2260 code of the insured region"))
    diagnosis = serializers.CharField(help_text="ICD-10")
    total_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    insurance_paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    tcm = serializers.BooleanField(required=False, default=False)
    referral = serializers.IntegerField(required=False, allow_null=True)


class VisitRecordSerializer(RecordSerializer):
    visit_date = serializers.DateField()


class AdmissionRecordSerializer(RecordSerializer):
    admit_date = serializers.DateField()
    discharge_date = serializers.DateField()


class VisitBulkSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=64)
    records = VisitRecordSerializer(many=True, help_text=_("at most 5,000 records"))


class AdmissionBulkSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=64)
    records = AdmissionRecordSerializer(many=True, help_text=_("at most 5,000 records"))


class RecordErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("0-based position in records"))
    field = serializers.CharField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = RecordErrorSerializer(many=True)


class SubmissionSerializer(serializers.Serializer):
    """Submission control: one institution's records of a month and whether it has gone silent."""

    institution = serializers.IntegerField()
    institution_code = serializers.CharField()
    institution_name = serializers.CharField()
    alliance = serializers.IntegerField()
    role = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)
    visits = serializers.IntegerField()
    admissions = serializers.IntegerField()
    received = serializers.IntegerField()
    last_received = serializers.DateTimeField(allow_null=True)
    silence_days = serializers.IntegerField()
    silent = serializers.BooleanField()
