"""What the benchmarks share: the full demo county, seeded once per session (~4 min on
PostgreSQL) and only read by the benchmarks that use it. tests/bench/timing.py has the median
and p95 they print.

Every benchmark owns the rows it measures (issue 12 point 6): one that writes builds its own
alliance and counts, copies and compares only that alliance's rows, so it gives the same figures
whether the full demo county sits in the same tables or not. pytest-django runs the benchmarks
that read the demo (plain `django_db`) before the transactional ones, whose teardown empties
the database."""

import gc
import time

import pytest
from django.core.management import call_command

from alliance.models import Alliance
from demo.services.county import ALLIANCE_NAME

# The demo's day, pinned (issue 13 point 5): the same rows on every run, so figures compare
# across runs; its thirteen months of activity (2025-10 … 2026-10) holds the month the page benchmarks
# filter on (test_referral_pages_bench.py: 2026-03).
BENCH_ANCHOR = "2026-11-22"


@pytest.fixture(scope="session")
def full_demo(django_db_setup, django_db_blocker):
    """The demo county at the `full` scale, anchored to BENCH_ANCHOR; its alliance."""
    with django_db_blocker.unblock():
        started = time.perf_counter()
        call_command("seed_demo", "--scale", "full", "--today", BENCH_ANCHOR, verbosity=0)
        print(f"\nseed_demo --scale full: {time.perf_counter() - started:.1f} s")
        # The seed ran in this process; a worker computing the indicators or serving a page did
        # not. Collected and frozen (gc.freeze), what it left no longer slows the collections
        # of the code timed: the roll-up of one dirty month took 0.37 s here unfrozen, 0.14 s
        # frozen, and 0.10-0.15 s in a fresh process (issue 14 point 9).
        objects = len(gc.get_objects())
        gc.collect()
        gc.freeze()
        print(f"objects tracked after the seed: {objects}, frozen: {gc.get_freeze_count()}")
        return Alliance.objects.get(name=ALLIANCE_NAME)
