"""What the benchmarks share: the full demo county, seeded once per module (~4 min on
PostgreSQL). tests/bench/timing.py has the median and p95 they print."""

import time

import pytest
from django.core.management import call_command

from alliance.models import Alliance
from demo.services.county import ALLIANCE_NAME


@pytest.fixture(scope="module")
def full_demo(django_db_setup, django_db_blocker):
    """The demo county at the `full` scale; its alliance."""
    with django_db_blocker.unblock():
        started = time.perf_counter()
        call_command("seed_demo", "--scale", "full", verbosity=0)
        print(f"\nseed_demo --scale full: {time.perf_counter() - started:.1f} s")
        return Alliance.objects.get(name=ALLIANCE_NAME)
