"""Settings from the environment: embedded defaults, and one clear line for a malformed URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.LANGUAGE_CODE, s.TIME_ZONE)"
)


def start(**variables):
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    environment.update(ENV_FILE=os.devnull, DJANGO_SETTINGS_MODULE="config.settings", **variables)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_no_environment_means_sqlite_eager_chinese_shanghai():
    result = start(DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "zh-hans", "Asia/Shanghai"]


def test_database_and_redis_urls_switch_to_real_parts():
    result = start(DEBUG="true", DATABASE_URL="postgres://u@db:5432/x", REDIS_URL="redis://cache:6379/0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.db.backends.postgresql", "False"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysqll://nobody"),
        ("DATABASE_URL", "postgres://"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "http://cache:6379"),
        ("REDIS_URL", "redis://cache:port/0"),
        ("RESIDENT_DATA_KEYS", "not-a-fernet-key"),
    ],
)
def test_malformed_url_stops_start_up_with_one_line_naming_it(variable, value):
    result = start(DEBUG="true", **{variable: value})

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1
    assert variable in lines[0]


FERNET_KEY = "0" * 43 + "="


@pytest.mark.parametrize("variable", ["SECRET_KEY", "PATIENT_KEY_SECRET", "RESIDENT_DATA_KEYS"])
def test_secrets_have_no_default_outside_debug(variable):
    other = {"SECRET_KEY": "s" * 50, "PATIENT_KEY_SECRET": "p" * 50, "RESIDENT_DATA_KEYS": FERNET_KEY}
    other.pop(variable)

    result = start(DEBUG="false", **other)

    assert result.returncode == 1
    assert variable in result.stderr.strip().splitlines()[-1]


def test_the_embedded_default_keeps_celery_quiet_and_a_real_worker_keeps_its_own_level():
    """Issue 13 point 5: `make demo` (eager tasks) prints no Celery INFO line per task."""
    probe = "import django; django.setup(); from django.conf import settings as s; print(s.LOGGING['loggers'].get('celery'))"

    def celery_logger(**variables):
        environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
        environment.update(
            ENV_FILE=os.devnull, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="true", **variables
        )
        result = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert celery_logger() == "{'level': 'WARNING'}"
    assert celery_logger(REDIS_URL="redis://cache:6379/0") == "None"


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """The monthly aggregates spent longer in JIT compilation than in running (issue 14 point 9)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
