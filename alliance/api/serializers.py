"""Serializers of the hierarchy (DESIGN §8): codes in, ids out. Serializers shape and check
input; every write goes through `alliance.services`."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance.choices import PlacementRole
from alliance.models import Alliance, Department, Institution, Placement
from alliance.querysets import today
from core.api.fields import ScopedCodeField, ScopedIdField


class PopulationSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    resident_population = serializers.IntegerField(min_value=0)


class AllianceSerializer(serializers.ModelSerializer):
    lead_institution = serializers.SerializerMethodField()
    lead_institution_code = serializers.SerializerMethodField()
    populations = PopulationSerializer(many=True, read_only=True)

    class Meta:
        model = Alliance
        fields = [
            "id", "name", "kind", "region_code", "charter_date",
            "lead_institution", "lead_institution_code", "populations",
        ]  # fmt: skip
        read_only_fields = ["populations"]
        validators = []  # uniqueness is checked by the service's full_clean, with its Chinese message
        extra_kwargs = {"name": {"validators": []}}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_lead_institution(self, alliance):
        lead = _lead(alliance)
        return lead.institution_id if lead else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_lead_institution_code(self, alliance):
        lead = _lead(alliance)
        return lead.institution.code if lead else None


def _lead(alliance):
    leads = getattr(alliance, "leads_on_date", None)
    if leads is None:
        leads = list(
            alliance.placements.on(today()).filter(role=PlacementRole.LEAD).select_related("institution")
        )
    return leads[0] if leads else None


class InstitutionSerializer(serializers.ModelSerializer):
    """An institution and its place in an alliance on the date asked (`as_of`, default today);
    the place fields are null when it belongs to no alliance on that date."""

    region = serializers.CharField(source="region_code", read_only=True)
    alliance = serializers.IntegerField(source="place.alliance_id", read_only=True, allow_null=True)
    role = serializers.CharField(source="place.role", read_only=True, allow_null=True)
    parent = serializers.IntegerField(source="place.parent_id", read_only=True, allow_null=True)
    parent_code = serializers.CharField(source="place.parent.code", read_only=True, allow_null=True)
    valid_from = serializers.DateField(source="place.valid_from", read_only=True, allow_null=True)
    valid_to = serializers.DateField(source="place.valid_to", read_only=True, allow_null=True)

    class Meta:
        model = Institution
        fields = [
            "id", "code", "name", "level", "credit_code", "region", "licensed_beds", "open_beds",
            "alliance", "role", "parent", "parent_code", "valid_from", "valid_to",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, institution):
        institution.place = institution.placement_on(self.context.get("as_of") or today())
        return super().to_representation(institution)


class InstitutionWriteSerializer(serializers.ModelSerializer):
    """Register (POST) or correct (PATCH) an institution. On registration `alliance`, `role`,
    `parent` (code) and `valid_from` place it at once; afterwards its place changes only through
    the join, move and leave actions, which keep the history."""

    region = serializers.CharField(source="region_code", max_length=6)
    alliance = ScopedIdField(model=Alliance, required=False)
    role = serializers.ChoiceField(choices=PlacementRole.choices, required=False)
    parent = ScopedCodeField(model=Institution, required=False, allow_null=True)
    valid_from = serializers.DateField(required=False)

    PLACEMENT_FIELDS = ("alliance", "role", "parent", "valid_from")

    class Meta:
        model = Institution
        fields = [
            "code", "name", "level", "credit_code", "region", "licensed_beds", "open_beds",
            "alliance", "role", "parent", "valid_from",
        ]  # fmt: skip
        # Uniqueness and check digits are the model's, checked by the service with its messages.
        extra_kwargs = {"code": {"validators": []}, "credit_code": {"validators": [], "required": False}}

    def validate(self, attrs):
        given = [name for name in self.PLACEMENT_FIELDS if name in attrs]
        if self.instance is not None and given:
            raise serializers.ValidationError(
                {
                    given[0]: _(
                        "An institution's place changes through join, move or leave, which keep its history."
                    )
                }
            )
        if self.instance is None and given:
            missing = [name for name in ("alliance", "role", "valid_from") if not attrs.get(name)]
            if missing:
                raise serializers.ValidationError(
                    {missing[0]: _("This field is required to place the institution.")}
                )
        return attrs

    def split(self):
        """(institution fields, placement fields) of the validated data."""
        data = dict(self.validated_data)
        placement = {name: data.pop(name) for name in self.PLACEMENT_FIELDS if name in data}
        return data, placement

    def to_representation(self, institution):
        """Answered with the row as it reads (ids out), fetched afresh with its place."""
        fresh = Institution.objects.with_placement_on(self.context.get("as_of") or today()).get(
            pk=institution.pk
        )
        return InstitutionSerializer(fresh, context=self.context).data


class PlacementSerializer(serializers.ModelSerializer):
    """One period of an institution's history in an alliance."""

    alliance_name = serializers.CharField(source="alliance.name", read_only=True)
    parent_code = serializers.CharField(source="parent.code", read_only=True, allow_null=True)

    class Meta:
        model = Placement
        fields = [
            "id",
            "alliance",
            "alliance_name",
            "role",
            "parent",
            "parent_code",
            "valid_from",
            "valid_to",
        ]
        read_only_fields = fields


class JoinSerializer(serializers.Serializer):
    alliance = ScopedIdField(model=Alliance)
    role = serializers.ChoiceField(choices=PlacementRole.choices)
    parent = ScopedCodeField(model=Institution, required=False, allow_null=True)
    valid_from = serializers.DateField()


class MoveSerializer(serializers.Serializer):
    on = serializers.DateField()
    alliance = ScopedIdField(model=Alliance, required=False, allow_null=True)
    role = serializers.ChoiceField(choices=PlacementRole.choices, required=False)
    parent = ScopedCodeField(model=Institution, required=False, allow_null=True)


class LeaveSerializer(serializers.Serializer):
    on = serializers.DateField()


class DepartmentSerializer(serializers.ModelSerializer):
    institution = ScopedCodeField(model=Institution)
    institution_code = serializers.CharField(source="institution.code", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "institution", "institution_code", "active"]
        validators = []

    def validate(self, attrs):
        moved = self.instance is not None and attrs.get("institution", self.instance.institution)
        if moved and moved != self.instance.institution:
            raise serializers.ValidationError(
                {"institution": _("A department cannot move to another institution.")}
            )
        return attrs
