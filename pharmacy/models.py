"""The alliance's one drug catalogue (统一目录, 统一价格) and its formularies (issue 16; DESIGN §3,
../shared/domain/indicators-and-standards.md §d).

An entry is a drug as the national insurance catalogue codes it (国家医保药品编码), kept once for
the alliance. Its unified purchase and retail prices are effective-dated (`DrugPrice`, half-open
periods [valid_from, valid_to)): a price change ends the price in force and starts the next, so
a past day's price is never rewritten and the price on any date is one indexed read. A
formulary says which entries a tier (county, township, village) or one institution may stock.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

from .codes import approval_number_validator, nhsa_code_validator, standard_code_validator
from .querysets import DrugCatalogueEntryQuerySet, DrugPriceQuerySet, FormularyQuerySet


class InsuranceClass(models.TextChoices):
    """医保目录甲/乙/丙类 (chrgitm_lv 01/02/03)."""

    A = "A", _("class A (甲类)")
    B = "B", _("class B (乙类)")
    C = "C", _("class C (丙类, self-paid)")


class AntibioticGrade(models.TextChoices):
    """抗菌药物分级管理: the grades a prescriber's rank may use."""

    NONE = "", _("not an antibiotic")
    UNRESTRICTED = "unrestricted", _("unrestricted (非限制使用级)")
    RESTRICTED = "restricted", _("restricted (限制使用级)")
    SPECIAL = "special", _("special (特殊使用级)")


class DrugCatalogueEntry(TimeStampedModel):
    """One drug of the alliance's catalogue, named by its national insurance code."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="drugs", verbose_name=_("alliance")
    )
    nhsa_code = models.CharField(
        _("national insurance drug code"), max_length=23, validators=[nhsa_code_validator]
    )
    standard_code = models.CharField(
        _("drug standard code (本位码)"), max_length=14, blank=True, validators=[standard_code_validator]
    )
    approval_number = models.CharField(
        _("approval number (批准文号)"), max_length=20, blank=True, validators=[approval_number_validator]
    )
    generic_name = models.CharField(_("generic name"), max_length=200)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    dosage_form = models.CharField(_("dosage form"), max_length=50)
    specification = models.CharField(_("specification"), max_length=100)
    pack_material = models.CharField(_("packaging material"), max_length=100, blank=True)
    pack_quantity = models.PositiveIntegerField(
        _("dispensing units per pack"), default=1, validators=[MinValueValidator(1)]
    )
    dispensing_unit = models.CharField(_("dispensing unit"), max_length=20, help_text=_("e.g. 粒, 片, 支"))
    pack_unit = models.CharField(_("pack unit"), max_length=20, help_text=_("e.g. 盒, 瓶"))
    manufacturer = models.CharField(_("manufacturer"), max_length=200)
    authorisation_holder = models.CharField(_("marketing-authorisation holder"), max_length=200, blank=True)
    insurance_class = models.CharField(_("insurance class"), max_length=1, choices=InsuranceClass.choices)
    is_essential = models.BooleanField(_("essential drug (基本药物)"), default=False)
    essential_edition = models.CharField(_("essential-drug list edition"), max_length=10, blank=True)
    is_negotiated = models.BooleanField(_("nationally negotiated (国谈)"), default=False)
    negotiated_from = models.DateField(_("negotiated agreement from"), null=True, blank=True)
    negotiated_to = models.DateField(_("negotiated agreement until"), null=True, blank=True)
    procurement_batch = models.CharField(
        _("volume-based procurement batch (集采)"), max_length=50, blank=True
    )
    antibiotic_grade = models.CharField(
        _("antibiotic grade"), max_length=16, choices=AntibioticGrade.choices, blank=True, default=""
    )
    insurance_matched = models.BooleanField(_("matched to the insurance code"), default=False)
    # Every reading of the names, initials and full pinyin, for search (services.search_keys).
    search_keys = models.TextField(_("search keys"), blank=True, editable=False)

    objects = DrugCatalogueEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("drug catalogue entry")
        verbose_name_plural = _("drug catalogue entries")
        ordering = ["generic_name", "specification", "nhsa_code"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "nhsa_code"], name="drug_code_unique_in_alliance")
        ]
        indexes = [models.Index(fields=["alliance", "generic_name"], name="drug_alliance_name_idx")]

    def __str__(self):
        return f"{self.generic_name} {self.specification} ({self.nhsa_code})"

    @property
    def is_chinese_patent_medicine(self):
        return self.nhsa_code.startswith("Z")

    def clean(self):
        errors = {}
        if self.is_essential and not self.essential_edition:
            errors["essential_edition"] = [_("Give the edition of the essential-drug list, e.g. 2018.")]
        if not self.is_essential and self.essential_edition:
            errors["essential_edition"] = [_("Only an essential drug has an edition of the list.")]
        if self.is_negotiated and not self.negotiated_from:
            errors["negotiated_from"] = [_("Give the start of the negotiated agreement.")]
        if self.negotiated_from and self.negotiated_to and self.negotiated_to <= self.negotiated_from:
            errors["negotiated_to"] = [_("The agreement ends after it starts.")]
        if errors:
            raise ValidationError(errors)


class DrugPrice(models.Model):
    """A unified purchase and retail price of an entry (per pack, yuan) over [valid_from,
    valid_to): written only by `services.change_price`, which ends the price in force."""

    entry = models.ForeignKey(
        DrugCatalogueEntry, on_delete=models.CASCADE, related_name="prices", verbose_name=_("drug")
    )
    purchase_price = models.DecimalField(
        _("unified purchase price"), max_digits=12, decimal_places=4, validators=[MinValueValidator(0)]
    )
    retail_price = models.DecimalField(
        _("unified retail price"), max_digits=12, decimal_places=4, validators=[MinValueValidator(0)]
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DrugPriceQuerySet.as_manager()

    class Meta:
        verbose_name = _("drug price")
        verbose_name_plural = _("drug prices")
        ordering = ["entry", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "valid_from"], name="drug_price_one_per_start"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="drug_price_dates_in_order",
                violation_error_message=_("A price ends after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.entry_id} {self.retail_price} from {self.valid_from}"


class FormularyTier(models.TextChoices):
    """用药目录衔接: the levels whose formularies follow each other when a patient moves down."""

    COUNTY = "county", _("county hospitals")
    TOWNSHIP = "township", _("township health centres")
    VILLAGE = "village", _("village clinics")


class Formulary(TimeStampedModel):
    """Which catalogue entries a tier of the alliance, or one institution, may stock. An
    institution's own formulary, when it has one, replaces its tier's."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="formularies", verbose_name=_("alliance")
    )
    tier = models.CharField(_("tier"), max_length=16, choices=FormularyTier.choices)
    institution = models.ForeignKey(
        "alliance.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="formularies",
        verbose_name=_("institution"),
    )
    entries = models.ManyToManyField(
        DrugCatalogueEntry, through="FormularyItem", related_name="formularies", verbose_name=_("drugs")
    )

    objects = FormularyQuerySet.as_manager()

    class Meta:
        verbose_name = _("formulary")
        verbose_name_plural = _("formularies")
        ordering = ["alliance", "tier", "institution"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "tier", "institution"], name="formulary_unique", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"{self.get_tier_display()} {self.institution_id or ''}".strip()


class FormularyItem(models.Model):
    """One entry on a formulary (audited: who added or removed it, when)."""

    formulary = models.ForeignKey(
        Formulary, on_delete=models.CASCADE, related_name="items", verbose_name=_("formulary")
    )
    entry = models.ForeignKey(
        DrugCatalogueEntry, on_delete=models.PROTECT, related_name="formulary_items", verbose_name=_("drug")
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("formulary item")
        verbose_name_plural = _("formulary items")
        constraints = [models.UniqueConstraint(fields=["formulary", "entry"], name="formulary_item_unique")]

    def __str__(self):
        return f"{self.formulary_id}: {self.entry_id}"


class FormularyChange(models.Model):
    """The history of a formulary (issue 16 point 3): one row per drug added or removed, by whom."""

    class Action(models.TextChoices):
        ADDED = "added", _("added")
        REMOVED = "removed", _("removed")

    formulary = models.ForeignKey(
        Formulary, on_delete=models.CASCADE, related_name="changes", verbose_name=_("formulary")
    )
    entry = models.ForeignKey(
        DrugCatalogueEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("drug")
    )
    action = models.CharField(_("change"), max_length=8, choices=Action.choices)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("by")
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("formulary change")
        verbose_name_plural = _("formulary changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.formulary_id} {self.action} {self.entry_id}"
