"""Serializers of the indicator definitions (DESIGN §8): an indicator is named by its code
everywhere. They shape and check input only; every write goes through `assessment.services`,
whose ValidationError (a bad expression, a target without its comparison) answers 400 on the
field it names."""

from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessment.models import IndicatorDefinition, Scope

FIELDS = [
    "code", "version", "name_zh", "name_en", "name", "definition", "data_source", "numerator",
    "denominator", "unit", "decimals", "target", "target_comparison", "target_tolerance", "warning_band",
    "direction", "scopes", "effective_from", "effective_to",
]  # fmt: skip
# What a body may set: the definition's own fields, with the three level flags as `scopes`.
WRITABLE = [name for name in FIELDS if name not in ("version", "name")]


class IndicatorSerializer(serializers.ModelSerializer):
    """One version of an indicator; `name` is the name in the request's language."""

    name = serializers.SerializerMethodField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), read_only=True)

    class Meta:
        model = IndicatorDefinition
        fields = FIELDS
        read_only_fields = FIELDS

    @extend_schema_field(serializers.CharField())
    def get_name(self, definition):
        english = (get_language() or "").startswith("en")
        return definition.name_en if english and definition.name_en else definition.name_zh


class VersionSerializer(serializers.ModelSerializer):
    """A version in brief, for the history of a code."""

    class Meta:
        model = IndicatorDefinition
        fields = ["version", "name_zh", "effective_from", "effective_to", "created_at"]
        read_only_fields = fields


class IndicatorDetailSerializer(IndicatorSerializer):
    """The version shown, with every version of its code, the latest first."""

    versions = serializers.SerializerMethodField()

    class Meta(IndicatorSerializer.Meta):
        fields = [*FIELDS, "versions"]
        read_only_fields = fields

    @extend_schema_field(VersionSerializer(many=True))
    def get_versions(self, definition):
        versions = IndicatorDefinition.objects.filter(code=definition.code).order_by("-version")
        return VersionSerializer(versions, many=True).data


class ScopesField(serializers.ListField):
    """`scopes` in a body: the levels the indicator is computed for, at least one."""

    child = serializers.ChoiceField(choices=Scope.choices)

    def __init__(self, **kwargs):
        super().__init__(allow_empty=False, **kwargs)


class _DefinitionWriteSerializer(serializers.ModelSerializer):
    """The fields of a body as the services take them (`scopes` as the three level flags);
    answered with the row written, as it reads."""

    scopes = ScopesField(required=False)

    def service_fields(self):
        data = dict(self.validated_data)
        data.pop("version", None)
        if "scopes" in data:
            chosen = set(data.pop("scopes"))
            data.update({f"for_{scope}": scope in chosen for scope in Scope.values})
        return data

    def to_representation(self, definition):
        return IndicatorDetailSerializer(definition, context=self.context).data


class IndicatorCreateSerializer(_DefinitionWriteSerializer):
    """A new indicator (version 1); `effective_from` defaults to today, `scopes` to every level."""

    class Meta:
        model = IndicatorDefinition
        fields = WRITABLE
        extra_kwargs = {"effective_from": {"required": False}}


class IndicatorReviseSerializer(_DefinitionWriteSerializer):
    """The next version of an indicator with the fields sent changed. `version`: the version the
    caller read; when a newer one exists the revision is stale (409 `definition_not_latest`)."""

    version = serializers.IntegerField(required=False, min_value=1)

    class Meta:
        model = IndicatorDefinition
        fields = ["version", *(name for name in WRITABLE if name != "code")]
