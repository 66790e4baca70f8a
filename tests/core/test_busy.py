"""No server error under concurrent use (issue 13 point 2): the embedded SQLite takes writers one
after the other (WAL, IMMEDIATE transactions, a busy timeout), and a write that still finds the
database busy answers the API's JSON 503 `busy` or a Chinese page, never a 500."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper

from core import notifications, services
from core.exceptions import is_busy

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['OPTIONS'])"
)


def _embedded_options():
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update(ENV_FILE=os.devnull, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="true")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return eval(result.stdout)  # noqa: S307 (our own settings' repr)


def test_the_embedded_database_queues_writers_instead_of_failing():
    options = _embedded_options()

    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] == 20
    assert "journal_mode=WAL" in options["init_command"] and "busy_timeout" in options["init_command"]


def test_two_writers_at_once_on_the_embedded_database_both_succeed(tmp_path, django_db_blocker):
    """Two connections with the embedded default's options write at the same moment, each holding
    its transaction a while (read, then write what it read): the second waits for the first,
    neither gets "database is locked", and no update is lost (IMMEDIATE takes the write lock at
    BEGIN, so the second reads after the first committed)."""
    name = str(tmp_path / "two-writers.sqlite3")
    settings_dict = {
        "ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": _embedded_options(),
        "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
        "TIME_ZONE": None, "USER": "", "PASSWORD": "", "HOST": "", "PORT": "", "TEST": {},
    }  # fmt: skip
    django_db_blocker.unblock()  # our own database file, not the test database
    setup = DatabaseWrapper(settings_dict, alias="two-writers")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n INTEGER)")
        cursor.execute("INSERT INTO counter VALUES (0)")
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    setup.close()
    errors, start = [], threading.Barrier(2)

    def write():
        connection = DatabaseWrapper(settings_dict, alias="two-writers")
        connections["two-writers"] = connection  # this thread's own (connections are per thread)
        try:
            start.wait()
            with transaction.atomic(using="two-writers"), connection.cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                value = cursor.fetchone()[0]
                time.sleep(0.3)  # a long transaction: the other writer arrives meanwhile
                cursor.execute("UPDATE counter SET n = %s", [value + 1])
        except Exception as error:  # noqa: BLE001 (collected for the assertion)
            errors.append(error)
        finally:
            connection.close()
            del connections["two-writers"]

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    check = DatabaseWrapper(settings_dict, alias="two-writers")
    with check.cursor() as cursor:
        total = cursor.execute("SELECT n FROM counter").fetchone()[0]
    check.close()
    django_db_blocker.restore()
    assert (journal, errors, total) == ("wal", [], 2)  # no lost update either


def test_busy_is_the_lock_errors_only():
    assert is_busy(OperationalError("database is locked"))
    assert not is_busy(OperationalError("no such table: x"))
    assert not is_busy(ValueError("database is locked"))


@pytest.fixture
def locked(monkeypatch):
    def raise_locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "mark_read", raise_locked)


@pytest.mark.django_db
def test_the_api_answers_a_busy_database_with_503_busy_in_chinese(user, client_for, locked):
    (note,) = notifications.notify([user], title="新转诊", body="")

    response = client_for(user).post(f"/api/v1/inbox/{note.pk}/read/")

    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response.json() == {
        "code": "busy",
        "message": "系统正忙于保存其他修改，本次未保存任何内容，请稍后重试。",
        "errors": {},
    }


@pytest.mark.django_db
def test_a_page_answers_a_busy_database_with_a_chinese_message(client, user, locked):
    (note,) = notifications.notify([user], title="新转诊", body="")
    client.force_login(user)

    response = client.post(f"/inbox/{note.pk}/read/")

    assert response.status_code == 503
    assert "系统繁忙" in response.content.decode()
