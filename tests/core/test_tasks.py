"""A Job-tracked task round-trips through a real Celery worker on Redis, and in eager mode."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core import services
from core.models import IdempotencyKey, Job, JobState
from tests.core.factories import UserFactory


def _given_two_expired_keys_and_one_fresh():
    user = UserFactory()
    for key in ("old-1", "old-2", "fresh"):
        IdempotencyKey.objects.create(user=user, key=key, endpoint="/x/", request_hash="h")
    IdempotencyKey.objects.filter(key__startswith="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    return user


def _wait_until_finished(job, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} still {job.state} after {seconds}s")


def _then_the_job_purged_the_expired_keys(job):
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"deleted": 2}
    assert job.progress == 100
    assert job.started_at <= job.finished_at
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_job_round_trips_through_a_real_worker(celery_worker):
    user = _given_two_expired_keys_and_one_fresh()

    job = services.start_idempotency_key_purge(acting_user=user)

    _then_the_job_purged_the_expired_keys(_wait_until_finished(job))


@pytest.mark.django_db
def test_job_round_trips_in_eager_mode(django_capture_on_commit_callbacks):
    user = _given_two_expired_keys_and_one_fresh()

    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_idempotency_key_purge(acting_user=user)

    _then_the_job_purged_the_expired_keys(_wait_until_finished(job))


@pytest.mark.django_db
def test_job_is_enqueued_only_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.start_idempotency_key_purge(acting_user=UserFactory())

    assert len(callbacks) == 1
    assert Job.objects.get(pk=job.pk).state == JobState.PENDING


@pytest.mark.django_db
def test_a_job_runs_once_even_if_delivered_twice():
    job = Job.objects.create(kind="k")
    calls = []

    services.run_job(job.pk, lambda j: calls.append(j.pk) or {"ok": True})
    services.run_job(job.pk, lambda j: calls.append(j.pk) or {"ok": True})

    assert calls == [job.pk]


@pytest.mark.django_db
def test_a_failing_job_records_its_error():
    job = Job.objects.create(kind="k")

    def fail(_job):
        raise ValueError("找不到数据")

    with pytest.raises(ValueError):
        services.run_job(job.pk, fail)

    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "ValueError: 找不到数据"
    assert job.finished_at is not None


@pytest.mark.django_db
def test_progress_is_clamped_and_recorded():
    job = Job.objects.create(kind="k", state=JobState.RUNNING)

    services.set_job_progress(job, 140)

    job.refresh_from_db()
    assert job.progress == 100


def test_beat_schedule_is_declared_in_code_and_loaded_by_the_database_scheduler(settings):
    from celery import current_app

    assert current_app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    current_app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks
    entry = current_app.conf.beat_schedule["purge-expired-idempotency-keys"]
    assert entry["task"] == "core.tasks.purge_idempotency_keys_task"
    assert entry["task"] in current_app.tasks


# The scheduler closes the thread's connection on start-up, so run outside the test transaction.
@pytest.mark.django_db(transaction=True)
def test_database_scheduler_stores_the_schedule_for_the_admin():
    from celery import current_app
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    DatabaseScheduler(app=current_app)

    assert PeriodicTask.objects.filter(
        name="purge-expired-idempotency-keys", task="core.tasks.purge_idempotency_keys_task", enabled=True
    ).exists()
