"""Shared fixtures. Markers `postgres`, `redis` and `e2e` name the real parts a test needs: when
one is missing the test is skipped on a developer's machine and fails under CI=true (issue 2)."""

import os
import shutil

import pytest
from rest_framework.test import APIClient

from tests.core.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"


def _redis_available():
    from django.conf import settings

    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def _postgres_available():
    from django.db import connection

    return connection.vendor == "postgresql"


REQUIREMENTS = {
    "postgres": (_postgres_available, "PostgreSQL (set DATABASE_URL=postgres://…)"),
    "redis": (_redis_available, "Redis and a real Celery broker (set REDIS_URL=redis://…)"),
    "e2e": (lambda: bool(shutil.which(CHROMIUM)), f"Chromium at {CHROMIUM} (apt-get install chromium)"),
}


def pytest_runtest_setup(item):
    for marker, (available, what) in REQUIREMENTS.items():
        if item.get_closest_marker(marker) and not available():
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI needs {what}, and it is missing", pytrace=False)
            pytest.skip(f"needs {what}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; PBKDF2's deliberate slowness buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_eager_by_default(settings):
    """Tests run tasks eagerly unless they ask for the real worker (fixture `celery_worker`)."""
    from celery import current_app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker(settings):
    """A real Celery worker in this process, consuming from Redis (mark the test `redis`).

    In-process, so it sees the test database; tests using it need `django_db(transaction=True)`.
    """
    from celery import current_app
    from celery.contrib.testing.worker import start_worker

    settings.CELERY_TASK_ALWAYS_EAGER = False
    current_app.conf.task_always_eager = False
    current_app.control.purge()
    with start_worker(
        current_app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=10,
        queues=["celery", "webhooks", "indicators"],
    ) as worker:
        yield worker


@pytest.fixture
def his_factory():
    """Start stand-in HIS servers (tests/his.py); all are shut down after the test."""
    from tests.his import HIS

    servers = []

    def make(**kwargs):
        servers.append(HIS(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """An API client authenticated as the given user (force_authenticate)."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def zh_hans(settings):
    """The Simplified Chinese text of a msgid as locale/zh_Hans/…/django.po has it.

    While a msgid is not yet translated the calling test xfails with the msgid as the reason, so
    the gap stays listed in every run and the test starts checking as soon as it is translated.
    """
    import polib

    path = settings.LOCALE_PATHS[0] / "zh_Hans" / "LC_MESSAGES" / "django.po"
    catalogue = {
        entry.msgid: entry.msgstr
        for entry in polib.pofile(str(path))
        if entry.msgstr and "fuzzy" not in entry.flags and not entry.obsolete
    }

    def text(msgid):
        if msgid not in catalogue:
            pytest.xfail(f"not yet translated into zh-hans: {msgid!r}")
        return catalogue[msgid]

    return text


@pytest.fixture
def world(db):
    """Two county alliances with a row of every kind, and one user per role of DESIGN §5 in the
    first: `(my county, the other county, {role: user})` (tests/world.py)."""
    from tests.world import build_world

    return build_world()


@pytest.fixture
def indicator_catalogue(db):
    """The indicator catalogue (assessment's data migration), loaded again when missing: a
    transactional test's flush empties every table, definitions included."""
    from assessment.services import load_catalogue

    load_catalogue(acting_user=None)
