"""Shared models: the abstract timestamped base, background jobs and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import JobQuerySet

# The message of every "valid_to after valid_from" check constraint.
DATES_IN_ORDER = _("The end date must be after the start date.")


class TimeStampedModel(models.Model):
    """Every domain row records when it was created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class JobState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Job(TimeStampedModel):
    """Long work (a monthly computation, a big import) that pages and the API poll (DESIGN §6).

    Tasks update this row rather than a Celery result backend, so eager mode and a real worker
    look the same to a user.
    """

    kind = models.CharField(_("kind"), max_length=64)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices, default=JobState.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.get_state_display()})"

    @property
    def is_finished(self):
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class IdempotencyKey(models.Model):
    """The first answer to a create request sent with an `Idempotency-Key` header (DESIGN §8).

    The same key from the same user within the TTL replays the stored answer; the same key with
    a different body is a conflict. The unique constraint makes two concurrent first requests
    with one key serialise on the insert.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "endpoint"], name="core_idempotency_key_unique")
        ]

    def __str__(self):
        return f"{self.key} → {self.endpoint}"
