"""Shared models: the abstract timestamped base, background jobs and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils import timezone
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
    READY = "ready", _("Ready to confirm")  # an import's preview, waiting for its uploader
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
    # Work data that must not be readable in the database (an upload's rows with resident ID
    # numbers): Fernet-encrypted under RESIDENT_DATA_KEYS (core.identity), wiped when done.
    sealed = models.TextField(_("sealed data"), blank=True, editable=False)
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


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        """A user's inbox is their own: nobody else's notifications, none for anonymous users."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message in one user's in-app inbox (issue 6.5). Created by `core.notifications.notify`
    on commit of the change it reports; read once, by its owner only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    event = models.CharField(_("event"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        # The inbox list and the unread count in every page header both filter by user and read_at.
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="core_notif_inbox_idx")]

    def __str__(self):
        return self.title

    @property
    def is_read(self):
        return self.read_at is not None


class MeasureChange(models.Model):
    """A write that changed the inputs of an alliance's measures for one month (issue 14 point 5):
    an ingestion batch, a referral's move, a published pool, a secondment, a placement. Written in
    the same transaction as the change, through `core.measures.mark_changed`; the indicator
    computation reads them to know which months are dirty and which writes a restatement comes
    from, and deletes those it has taken in. `alliance_id` is a plain indexed id, as the encounter
    tables' `referral_id`: core imports no app (DESIGN §2)."""

    alliance_id = models.BigIntegerField(_("alliance"))
    month = models.DateField(_("month"))
    cause_type = models.CharField(_("cause"), max_length=100)  # a model label: encounters.ingestionbatch
    cause_id = models.BigIntegerField(_("cause id"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("measure input change")
        verbose_name_plural = _("measure input changes")
        indexes = [models.Index(fields=["alliance_id", "month"], name="core_measure_change_idx")]

    def __str__(self):
        return f"{self.alliance_id} {self.month:%Y-%m} ← {self.cause_type} {self.cause_id or ''}".strip()
