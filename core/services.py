"""Writes of core: background jobs and idempotent creates. Every change goes through here."""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import Conflict
from .models import IdempotencyKey, Job, JobState, Notification


# --- Jobs (DESIGN §6) -----------------------------------------------------------------------
def create_job(kind, *, acting_user, enqueue):
    """Record a pending Job and hand its id to `enqueue` once the transaction commits.

    `enqueue` is a task's `delay` (or any callable taking the job id); enqueueing on commit means
    a worker never looks for a row that is not there yet.
    """
    with transaction.atomic():
        job = Job.objects.create(kind=kind, created_by=acting_user)
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def run_job(job_id, work):
    """Run `work(job)` for a pending Job and store its result or error.

    The pending → running move is a conditional update, so a job delivered twice runs once;
    a job that is gone or already started is left alone.
    """
    started = Job.objects.filter(pk=job_id, state=JobState.PENDING).update(
        state=JobState.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not started:
        return None
    job = Job.objects.get(pk=job_id)
    try:
        result = work(job)
    except Exception as exc:
        _finish_job(job_id, state=JobState.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish_job(job_id, state=JobState.SUCCEEDED, result=result, progress=100)
    return result


def set_job_progress(job, percent):
    """Record how far a running job has got (0–100), for pages and the API to poll."""
    percent = max(0, min(100, int(percent)))
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(progress=percent, updated_at=timezone.now())
    job.progress = percent


def _finish_job(job_id, *, state, result=None, error="", progress=None):
    fields = {"state": state, "result": result, "error": error, "finished_at": timezone.now()}
    if progress is not None:
        fields["progress"] = progress
    Job.objects.filter(pk=job_id).update(updated_at=timezone.now(), **fields)


# --- Idempotency keys (DESIGN §8) ------------------------------------------------------------
def request_fingerprint(payload):
    """A stable hash of a request body, to tell 'the same request again' from 'another one'."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(*, acting_user, key, endpoint, payload, perform):
    """Run `perform()` once per (user, key, endpoint) within the TTL and replay its answer.

    `perform` returns `(status, body)`. Returns `(status, body, replayed)`. The key row is
    inserted first, in the same transaction as the create: a concurrent second request with the
    same key waits on the unique index, then finds the committed answer and replays it. If the
    create fails, the transaction rolls back the key too, so the client may retry.
    """
    fingerprint = request_fingerprint(payload)
    with transaction.atomic():
        expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
        IdempotencyKey.objects.filter(
            user=acting_user, key=key, endpoint=endpoint, created_at__lt=expired_before
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=acting_user, key=key, endpoint=endpoint, request_hash=fingerprint
                )
        except IntegrityError:
            return _replay(acting_user, key, endpoint, fingerprint)
        status, body = perform()
        record.response_status, record.response_body = status, body
        record.save(update_fields=["response_status", "response_body"])
    return status, body, False


def _replay(acting_user, key, endpoint, fingerprint):
    record = IdempotencyKey.objects.get(user=acting_user, key=key, endpoint=endpoint)
    if record.request_hash != fingerprint:
        raise Conflict(
            _("This Idempotency-Key was already used with a different request body."),
            code="idempotency_key_reused",
        )
    return record.response_status, record.response_body, True


def purge_idempotency_keys(*, now=None):
    """Delete keys past their TTL; returns how many went."""
    now = now or timezone.now()
    expired_before = now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=expired_before).delete()
    return deleted


def start_idempotency_key_purge(*, acting_user):
    """Purge expired idempotency keys in the background, tracked by a Job (admin 'run now')."""
    from .tasks import purge_idempotency_keys_task

    return create_job(
        "purge_idempotency_keys", acting_user=acting_user, enqueue=purge_idempotency_keys_task.delay
    )


# --- Notifications (issue 6.5) --------------------------------------------------------------
def mark_read(notification, *, acting_user):
    """Mark one of the acting user's notifications read; reading it again changes nothing.

    A conditional update, so two clicks (or two tabs) keep the first read time. Someone else's
    notification is out of scope: the API answers 404 before it gets here.
    """
    if notification.user_id != acting_user.pk:
        raise PermissionDenied(_("This notification belongs to another user."))
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(user):
    """Mark every unread notification of `user` read; returns how many changed."""
    return Notification.objects.for_user(user).unread().update(read_at=timezone.now())
