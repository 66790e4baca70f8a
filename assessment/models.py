"""Indicator definitions as data (issue 14 point 3, DESIGN §3 "IndicatorDefinition").

The bureau corrects a definition or adds an indicator without a code change. Rows are never
edited in place: `services.revise_definition` writes the next version, so every IndicatorValue
keeps the version it was computed with (point 4 adds the values).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.querysets import ScopedQuerySet

from . import expressions
from .querysets import IndicatorDefinitionQuerySet, IndicatorValueQuerySet

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


class Light(models.TextChoices):
    GREEN = "green", _("on target")
    AMBER = "amber", _("near the target")
    RED = "red", _("off target")


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
    warning_band = models.DecimalField(
        _("amber band"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_(
            "How far beyond the target a missed value is amber rather than red, in the indicator's "
            "unit. Blank: every miss is red."
        ),
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

    def light(self, value):
        """The traffic light of `value` (issue 15 point 1): green when it meets the target, amber
        when it misses by no more than the amber band (counted from the target, or for ≈ from
        the edge of the tolerance), red beyond; None without a target or a value."""
        met = self.meets_target(value)
        if met is None:
            return None
        if met:
            return Light.GREEN
        band = self.warning_band
        if band is None:
            return Light.RED
        reach = self.target_tolerance if self.target_comparison == TargetComparison.APPROX else 0
        return Light.AMBER if abs(value - self.target) <= reach + band else Light.RED


# --- Values (issue 14 points 2, 4–6) ---------------------------------------------------------------
class Scope(models.TextChoices):
    """The levels of DESIGN §8: the alliance, a township branch with its village clinics
    (乡村一体化, the row's institution is the branch), one institution."""

    ALLIANCE = "alliance", _("alliance")
    TOWNSHIP = "township", _("township (branch with its village clinics)")
    INSTITUTION = "institution", _("institution")


class Period(models.TextChoices):
    MONTH = "month", _("month")
    YTD = "ytd", _("year to date")


class Hierarchy(models.TextChoices):
    """Which hierarchy the institutions roll up by: the one of the month (the default and the
    only one stored), or today's, a labelled alternative view computed when asked."""

    OF_MONTH = "of_month", _("hierarchy of the month")
    TODAY = "today", _("today's hierarchy")


class NullReason(models.TextChoices):
    ZERO_DENOMINATOR = "zero_denominator", _("The denominator is 0.")


class IndicatorMonth(models.Model):
    """The state of one alliance-month's indicators: when they were last computed, and whether
    the bureau has published them (the analogue of DHIS2's data approval). Until published a
    month is provisional; after that a recompute that changes a value writes a Restatement.
    Its row is the lock one computation of the month holds (services.indicators)."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="+", verbose_name=_("alliance")
    )
    month = models.DateField(_("month"))
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator month")
        verbose_name_plural = _("indicator months")
        ordering = ["alliance", "-month"]
        constraints = [models.UniqueConstraint(fields=["alliance", "month"], name="indicator_month_unique")]

    def __str__(self):
        return f"{self.alliance_id} {self.month:%Y-%m}"

    @property
    def is_published(self):
        return self.published_at is not None


class MeasureSnapshot(models.Model):
    """The base measures of one institution in one alliance-month as the last computation read
    them (`institution` null: care at facilities outside the alliance). `values` maps measure
    codes to decimal strings, `rows` source names to the records counted. They are the trace
    of every value (point 6) and what today's hierarchy and the year to date roll up."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.CASCADE, related_name="+", verbose_name=_("alliance")
    )
    month = models.DateField(_("month"))
    institution = models.ForeignKey(
        "alliance.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("institution"),
    )
    values = models.JSONField(_("values"), default=dict)
    rows = models.JSONField(_("records counted"), default=dict)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("measure snapshot")
        verbose_name_plural = _("measure snapshots")
        indexes = [
            models.Index(fields=["alliance", "month"], name="measure_snapshot_month_idx"),
            models.Index(fields=["institution", "month"], name="measure_snapshot_inst_idx"),
        ]

    def __str__(self):
        return f"{self.alliance_id} {self.month:%Y-%m} {self.institution_id or '-'}"


class IndicatorValue(models.Model):
    """One figure: an indicator × scope × month × period of an alliance, on the hierarchy of the
    month, computed with one definition version. `value` = numerator ÷ denominator in the
    indicator's unit, null with `null_reason` when the denominator is 0."""

    # No single-column index on the alliance or the institution: the composite indexes below
    # begin with them, and every index costs each of the year's 30,000 inserts.
    alliance = models.ForeignKey(
        "alliance.Alliance",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("alliance"),
    )
    indicator = models.CharField(_("indicator"), max_length=64)
    definition = models.ForeignKey(
        IndicatorDefinition, on_delete=models.PROTECT, related_name="values", verbose_name=_("definition")
    )
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices)
    institution = models.ForeignKey(
        "alliance.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("institution"),
    )
    month = models.DateField(_("month"))
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    numerator = models.DecimalField(_("numerator"), max_digits=24, decimal_places=6)
    denominator = models.DecimalField(_("denominator"), max_digits=24, decimal_places=6)
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True, blank=True)
    null_reason = models.CharField(_("why no value"), max_length=32, choices=NullReason.choices, blank=True)
    input_rows = models.PositiveIntegerField(_("records counted"), default=0)
    computed_at = models.DateTimeField(_("computed at"))
    restated = models.BooleanField(_("restated"), default=False)

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["alliance", "-month", "indicator", "scope", "institution"]
        constraints = [
            # NULLS NOT DISTINCT on PostgreSQL (the alliance row has no institution); SQLite skips
            # it, and there the month's lock (IndicatorMonth) keeps one row per key.
            models.UniqueConstraint(
                fields=["alliance", "month", "indicator", "period", "scope", "institution"],
                name="indicator_value_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["alliance", "month", "indicator"], name="indicator_value_month_idx"),
            models.Index(fields=["institution", "month"], name="indicator_value_inst_idx"),
        ]

    def __str__(self):
        return f"{self.indicator} {self.scope} {self.institution_id or ''} {self.month:%Y-%m} {self.period}"

    @property
    def hierarchy(self):
        """Stored rows are on the hierarchy of the month; assessment.today builds the others."""
        return getattr(self, "view_hierarchy", Hierarchy.OF_MONTH)


class Restatement(models.Model):
    """A published value that a recompute changed (point 5): old → new, when, and what caused it
    (the writes marked through core.measures.mark_changed, or a new definition version)."""

    value = models.ForeignKey(
        IndicatorValue, on_delete=models.CASCADE, related_name="restatements", verbose_name=_("value")
    )
    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="+", verbose_name=_("alliance")
    )
    month = models.DateField(_("month"))
    old_numerator = models.DecimalField(_("old numerator"), max_digits=24, decimal_places=6)
    old_denominator = models.DecimalField(_("old denominator"), max_digits=24, decimal_places=6)
    old_value = models.DecimalField(_("old value"), max_digits=24, decimal_places=6, null=True)
    old_version = models.PositiveIntegerField(_("old definition version"))
    new_numerator = models.DecimalField(_("new numerator"), max_digits=24, decimal_places=6)
    new_denominator = models.DecimalField(_("new denominator"), max_digits=24, decimal_places=6)
    new_value = models.DecimalField(_("new value"), max_digits=24, decimal_places=6, null=True)
    new_version = models.PositiveIntegerField(_("new definition version"))
    causes = models.JSONField(_("causes"), default=list)
    restated_at = models.DateTimeField(_("restated at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("restatement")
        verbose_name_plural = _("restatements")
        ordering = ["-restated_at", "-id"]
        indexes = [models.Index(fields=["alliance", "month"], name="restatement_month_idx")]

    def __str__(self):
        return f"{self.value_id}: {self.old_value} → {self.new_value}"


# --- Warnings (issue 15 point 1, DESIGN §4.3) ------------------------------------------------------
class WarningKind(models.TextChoices):
    OFF_TARGET = "off_target", _("off target")
    WRONG_WAY = "wrong_way", _("three months the wrong way")
    SIPHONING = "siphoning", _("siphoning (虹吸)")
    SILENT_SOURCE = "silent_source", _("silent data source")
    INCOMPLETE_MONTH = "incomplete_month", _("incomplete month")


class WarningState(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    RESOLVED = "resolved", _("resolved")


class IndicatorWarning(models.Model):
    """Something in an alliance-month that needs the bureau's or the alliance office's attention,
    raised by the computation of the month (assessment.services.warnings): one row per kind ×
    subject (`subject`: the indicator's code, "visits" or "admissions" for siphoning, blank for
    the month) × scope × institution. A later computation updates the row: it stays acknowledged
    while its condition holds, is resolved when the condition clears and opens again when it
    comes back. `detail` holds the figures behind the message, JSON-ready."""

    alliance = models.ForeignKey(
        "alliance.Alliance", on_delete=models.PROTECT, related_name="+", verbose_name=_("alliance")
    )
    month = models.DateField(_("month"))
    kind = models.CharField(_("kind"), max_length=20, choices=WarningKind.choices)
    subject = models.CharField(_("subject"), max_length=64, blank=True)
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.ALLIANCE)
    institution = models.ForeignKey(
        "alliance.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("institution"),
    )
    light = models.CharField(_("light"), max_length=8, choices=Light.choices, default=Light.RED)
    detail = models.JSONField(_("detail"), default=dict)
    state = models.CharField(
        _("state"), max_length=16, choices=WarningState.choices, default=WarningState.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"))
    updated_at = models.DateTimeField(_("updated at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-month", "state", "kind", "subject", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "month", "kind", "subject", "scope", "institution"],
                name="indicator_warning_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["alliance", "month", "state"], name="indicator_warning_month_idx")]

    def __str__(self):
        return f"{self.alliance_id} {self.month:%Y-%m} {self.kind} {self.subject}"
