"""Serializers of the catalogue (DESIGN §8): drugs are named by their national insurance code in
write payloads (codes in), rows carry ids and codes. They shape and check input only; every
write goes through `pharmacy.services`."""

from rest_framework import serializers

from alliance.models import Alliance, Institution
from core.api.fields import ScopedCodeField, ScopedIdField

from ..models import DrugCatalogueEntry, DrugPrice, Formulary

DRUG_FIELDS = [
    "nhsa_code", "standard_code", "approval_number", "generic_name", "trade_name", "dosage_form",
    "specification", "pack_material", "pack_quantity", "dispensing_unit", "pack_unit", "manufacturer",
    "authorisation_holder", "insurance_class", "is_essential", "essential_edition", "is_negotiated",
    "negotiated_from", "negotiated_to", "procurement_batch", "antibiotic_grade", "insurance_matched",
]  # fmt: skip
MONEY = {"max_digits": 12, "decimal_places": 4, "min_value": 0}


class PriceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DrugPrice
        fields = ["purchase_price", "retail_price", "valid_from", "valid_to"]


class DrugSerializer(serializers.ModelSerializer):
    """A catalogue entry with its unified prices of the day asked (`?on=`, default today)."""

    alliance = serializers.IntegerField(source="alliance_id", read_only=True)
    purchase_price = serializers.DecimalField(read_only=True, allow_null=True, **MONEY)
    retail_price = serializers.DecimalField(read_only=True, allow_null=True, **MONEY)

    class Meta:
        model = DrugCatalogueEntry
        fields = ["id", "alliance", *DRUG_FIELDS, "purchase_price", "retail_price"]
        read_only_fields = fields


class DrugDetailSerializer(DrugSerializer):
    prices = PriceSerializer(many=True, read_only=True)

    class Meta(DrugSerializer.Meta):
        fields = [*DrugSerializer.Meta.fields, "prices"]
        read_only_fields = fields


class DrugWriteSerializer(serializers.ModelSerializer):
    """A new entry (with its first prices) or a change of its fields."""

    alliance = ScopedIdField(model=Alliance)
    purchase_price = serializers.DecimalField(required=False, **MONEY)
    retail_price = serializers.DecimalField(required=False, **MONEY)
    price_from = serializers.DateField(required=False)

    class Meta:
        model = DrugCatalogueEntry
        fields = ["alliance", *DRUG_FIELDS, "purchase_price", "retail_price", "price_from"]
        # The model's checks run in the service (full_clean), which reports every field at once.
        extra_kwargs = {
            name: {"validators": []} for name in ("nhsa_code", "standard_code", "approval_number")
        }


class PriceChangeSerializer(serializers.Serializer):
    purchase_price = serializers.DecimalField(**MONEY)
    retail_price = serializers.DecimalField(**MONEY)
    valid_from = serializers.DateField(required=False)


class FormularySerializer(serializers.ModelSerializer):
    """A formulary with its size and its essential-drug share (percent of its entries)."""

    alliance = ScopedIdField(model=Alliance)
    institution = ScopedCodeField(model=Institution, required=False, allow_null=True)
    institution_code = serializers.CharField(source="institution.code", read_only=True, allow_null=True)
    drugs = serializers.ListField(child=serializers.CharField(), write_only=True, required=False)
    drug_count = serializers.IntegerField(read_only=True)
    essential_count = serializers.IntegerField(read_only=True)
    essential_share = serializers.SerializerMethodField()

    class Meta:
        model = Formulary
        fields = [
            "id", "alliance", "tier", "institution", "institution_code", "drugs", "drug_count",
            "essential_count", "essential_share",
        ]  # fmt: skip
        validators = []  # one formulary per tier and institution: services.formulary_of

    def get_essential_share(self, formulary) -> float | None:
        total = getattr(formulary, "drug_count", 0)
        return round(formulary.essential_count * 100 / total, 2) if total else None


class FormularyDetailSerializer(FormularySerializer):
    entries = serializers.SerializerMethodField()

    class Meta(FormularySerializer.Meta):
        fields = [*FormularySerializer.Meta.fields, "entries"]

    def get_entries(self, formulary) -> list[dict]:
        return [
            {"id": entry.pk, "nhsa_code": entry.nhsa_code}
            for entry in formulary.entries.order_by("nhsa_code")
        ]
