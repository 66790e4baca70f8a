"""The indicator tasks (issue 14 points 4 and 5): the compute request as a Job through a real
worker on the `indicators` queue, and the early-month run fanning out one task per alliance in a
Celery group, so several alliances compute on several workers."""

import datetime
import time

import pytest
from django.conf import settings

from assessment import services, tasks
from assessment.models import IndicatorMonth, IndicatorValue
from core.models import Job, JobState
from tests.alliance.factories import build_alliance
from tests.members.factories import MembershipFactory

JAN = datetime.date(2026, 1, 1)


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the worker did not finish in time")


def test_the_compute_task_runs_on_its_own_queue():
    route = settings.CELERY_TASK_ROUTES["assessment.tasks.compute_indicators_task"]
    assert route == {"queue": "indicators"}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_computation_job_round_trips_through_a_real_worker(celery_worker, indicator_catalogue):
    alliance = build_alliance()["alliance"]
    bureau = MembershipFactory(role="bureau", alliance=alliance).user

    job = services.start_computation(alliance, [JAN], acting_user=bureau)

    wait_until(lambda: Job.objects.get(pk=job.pk).state in (JobState.SUCCEEDED, JobState.FAILED))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["months"] == ["2026-01"] and job.result["values"] > 0
    assert IndicatorMonth.objects.get(alliance=alliance, month=JAN).computed_at is not None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_early_month_run_computes_every_alliance_through_a_group(
    celery_worker, indicator_catalogue, monkeypatch
):
    counties = [build_alliance()["alliance"] for _ in range(2)]
    monkeypatch.setattr(services.indicators, "schedule_months", lambda on=None: [JAN])

    tasks.compute_all_months_task.delay()
    wait_until(lambda: IndicatorMonth.objects.filter(computed_at__isnull=False).count() == 2)

    for alliance in counties:
        assert IndicatorValue.objects.filter(alliance=alliance, month=JAN, scope="alliance").exists()


@pytest.mark.django_db
def test_the_fan_out_sends_one_task_per_alliance_with_months(monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks,
        "group",
        lambda signatures: type("G", (), {"apply_async": lambda self: sent.extend(signatures)})(),
    )

    count = tasks._fan_out({1: [JAN], 2: [], 3: [JAN, datetime.date(2026, 2, 1)]})

    assert count == 2
    assert [(s.args[0], s.args[1]) for s in sent] == [(1, ["2026-01-01"]), (3, ["2026-01-01", "2026-02-01"])]
