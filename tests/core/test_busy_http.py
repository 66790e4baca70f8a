"""No server error under concurrent use, through HTTP on the embedded default (issue 13 point 2).

`make demo` serves a SQLite file with a threaded runserver. Here the same: a migrated SQLite file
and `runserver` in a subprocess with no DATABASE_URL options of our own, then an HIS that sends
one batch several times at once (a retry while the first is still running) while other HIS
calls write other batches and a reader lists. Every answer is a success or the JSON 503 `busy`,
never a 500, and the database holds each record once.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.encounters.factories import visit

ROOT = Path(__file__).resolve().parents[2]
SETUP = textwrap.dedent(
    """
    from tests.alliance.factories import build_alliance
    from tests.encounters.factories import client_of, department
    county = build_alliance(branches=1, villages_per_branch=0)
    lead = county["lead"]
    department(lead)
    his = client_of(lead, username="his-lead")
    his.set_password("his-secret-1")
    his.save()
    print(lead.code)
    """
)


def _environment(database):
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environment.update(
        ENV_FILE=os.devnull,
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{database}",
    )
    return environment


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(base, path, body=None, token=None, timeout=60):
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Token {token}"} if token else {}),
        },
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload)
        except ValueError:
            return error.code, payload.decode(errors="replace")[:300]


@pytest.fixture
def served(tmp_path):
    """A migrated SQLite file with one county and an HIS account, served by runserver."""
    database = tmp_path / "embedded.sqlite3"
    environment = _environment(database)
    run = {"cwd": ROOT, "env": environment, "capture_output": True, "text": True, "timeout": 180}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    assert migrated.returncode == 0, migrated.stderr
    made = subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP], **run)
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        status, answer = _call(
            base, "/api/v1/auth/token/", {"username": "his-lead", "password": "his-secret-1"}
        )
        assert status == 200, answer
        yield base, answer["token"], code, database
    finally:
        server.terminate()
        server.wait(10)


def _batch(code, first, count):
    lead = SimpleNamespace(code=code)
    return {"source": "HIS-LEAD", "records": [visit(n, lead) for n in range(first, first + count)]}


def test_concurrent_batches_and_a_retry_on_the_embedded_database_never_answer_500(served):
    base, token, code, database = served
    same = _batch(code, 1, 400)  # sent four times at once: the HIS retries while it runs
    others = [_batch(code, 1000 + 400 * i, 400) for i in range(2)]
    jobs = [same] * 4 + others
    answers, start = [None] * (len(jobs) + 1), threading.Barrier(len(jobs) + 1)

    def send(i, body):
        start.wait()
        answers[i] = _call(base, "/api/v1/encounters/visits/bulk/", body, token)

    def read():
        start.wait()
        time.sleep(0.2)
        began = time.monotonic()
        status, _body = _call(base, "/api/v1/encounters/visits/?page_size=1", token=token)
        answers[-1] = (status, time.monotonic() - began)

    threads = [threading.Thread(target=send, args=(i, body)) for i, body in enumerate(jobs)]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    statuses = [answer[0] for answer in answers]
    assert all(status in (200, 201, 503) for status in statuses), answers
    busy = [answer[1] for answer in answers[:-1] if answer[0] == 503]
    assert all(body["code"] == "busy" for body in busy), busy
    reader_status, reader_wait = answers[-1]
    assert reader_status == 200 and reader_wait < 10  # WAL: a reader does not wait for writers
    repeated = [answer[1] for answer in answers[:4] if answer[0] in (200, 201)]
    assert repeated and sum(body["created"] for body in repeated) == 400  # stored once, then unchanged
    assert all(body["created"] + body["unchanged"] == 400 for body in repeated), repeated
    status, listed = _call(base, "/api/v1/encounters/visits/?page_size=1", token=token)
    stored_others = sum(400 for answer in answers[4:-1] if answer[0] in (200, 201))
    assert (status, listed["count"]) == (200, 400 + stored_others)  # each record once
