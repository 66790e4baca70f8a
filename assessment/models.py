"""Indicator definitions as data (issue 14 point 3, DESIGN §3 "IndicatorDefinition").

The bureau corrects a definition or adds an indicator without a code change. Rows are never
edited in place: `services.revise_definition` writes the next version, so every IndicatorValue
keeps the version it was computed with (point 4 adds the values).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from . import expressions
from .querysets import IndicatorDefinitionQuerySet

# An indicator's code is its name everywhere (DESIGN §8: `?indicator=county_inpatient_share`).
INDICATOR_CODE = RegexValidator(
    r"^[a-z][a-z0-9_]*$", _("A code is lower-case letters, digits and underscores, starting with a letter.")
)


class IndicatorUnit(models.TextChoices):
    PERCENT = "percent", _("percent (%)")
    PERMILLE = "permille", _("per mille (‰)")
    RATIO = "ratio", _("ratio")
    COUNT = "count", _("count")
    YUAN = "yuan", _("yuan")


# What the quotient numerator ÷ denominator is multiplied by to be shown in the unit.
UNIT_FACTOR = {"percent": 100, "permille": 1000, "ratio": 1, "count": 1, "yuan": 1}


class TargetComparison(models.TextChoices):
    GTE = "gte", _("at least (≥)")
    LTE = "lte", _("at most (≤)")
    APPROX = "approx", _("about (≈, within the tolerance)")


class Direction(models.TextChoices):
    HIGHER_BETTER = "higher_better", _("higher is better")
    LOWER_BETTER = "lower_better", _("lower is better")
    MONITOR = "monitor", _("monitored, no better direction")


class IndicatorDefinition(models.Model):
    """One version of an indicator: value = numerator ÷ denominator × the unit's factor, in the
    unit, with `decimals` decimals. A blank denominator is 1 (a count or an amount). Versions of
    one code follow each other over half-open periods [effective_from, effective_to); a month's
    value uses the version effective on the month's last day (the compute, point 4).

    Year to date needs no second definition: the value rows carry `period` month|ytd (DESIGN §8)
    and the compute evaluates the same expressions with every measure read year to date
    (`Expression.evaluate(values, ytd=True)`)."""

    code = models.SlugField(_("code"), max_length=64, validators=[INDICATOR_CODE])
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    definition = models.TextField(_("definition (口径)"), blank=True)
    data_source = models.TextField(_("data source"), blank=True)
    numerator = models.TextField(
        _("numerator"), help_text=_("An expression over measures, e.g. #{visits.in_county}.")
    )
    denominator = models.TextField(
        _("denominator"), blank=True, help_text=_("Blank for a count or an amount (denominator 1).")
    )
    unit = models.CharField(_("unit"), max_length=16, choices=IndicatorUnit.choices)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=2, validators=[MaxValueValidator(6)])
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=4, null=True, blank=True)
    target_comparison = models.CharField(
        _("target comparison"), max_length=8, choices=TargetComparison.choices, blank=True
    )
    target_tolerance = models.DecimalField(
        _("target tolerance"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("For ≈: how far from the target still meets it, in the indicator's unit."),
    )
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    # The levels of DESIGN §8 `scope`: three flags are simpler to edit and check than a list.
    for_alliance = models.BooleanField(_("for the alliance"), default=True)
    for_township = models.BooleanField(_("for townships"), default=True)
    for_institution = models.BooleanField(_("for institutions"), default=True)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = IndicatorDefinitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator definition")
        verbose_name_plural = _("indicator definitions")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="indicator_code_version_unique"),
            # A version revised from its first day keeps an empty period [d, d): never current.
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="indicator_effective_dates_in_order",
                violation_error_message=_("The end date must not be before the start date."),
            ),
        ]

    def __str__(self):
        return f"{self.name_zh} ({self.code} v{self.version})"

    @property
    def scopes(self):
        """The DESIGN §8 scopes the indicator is computed for."""
        flags = (("alliance", self.for_alliance), ("township", self.for_township))
        return [scope for scope, on in (*flags, ("institution", self.for_institution)) if on]

    def numerator_expression(self):
        return expressions.parse(self.numerator)

    def denominator_expression(self):
        return expressions.parse(self.denominator or "1")

    def clean(self):
        errors = {}
        for name in ("numerator", "denominator"):
            text = getattr(self, name)
            if name == "denominator" and not (text or "").strip():
                continue
            try:
                expressions.parse(text)
            except ValidationError as error:
                errors[name] = error.messages
        errors.update(self._target_errors())
        if not self.scopes:
            errors["for_alliance"] = [_("Choose at least one level the indicator applies to.")]
        if errors:
            raise ValidationError(errors)

    def _target_errors(self):
        """A target has a comparison and a comparison a target; only ≈ has a tolerance."""
        if (self.target is None) != (not self.target_comparison):
            return {"target_comparison": [_("A target and its comparison go together.")]}
        approx = self.target_comparison == TargetComparison.APPROX
        if approx != (self.target_tolerance is not None):
            return {"target_tolerance": [_("A tolerance is given for ≈ targets, and only for them.")]}
        return {}

    def meets_target(self, value):
        """Whether `value` (in the unit) meets the target; None without a target or a value. An
        ≈ target is met within the tolerance, and beyond it on the better side ("about 85%" is
        not missed at 90% when higher is better)."""
        if self.target is None or value is None:
            return None
        if self.target_comparison == TargetComparison.GTE:
            return value >= self.target
        if self.target_comparison == TargetComparison.LTE:
            return value <= self.target
        better = {Direction.HIGHER_BETTER: value > self.target, Direction.LOWER_BETTER: value < self.target}
        return abs(value - self.target) <= self.target_tolerance or better.get(self.direction, False)
