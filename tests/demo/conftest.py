"""The small demo county, built once per test module: seeding takes seconds (about 3,000 staff
go through the services), so the tests of one module share it inside a transaction that is
rolled back when the module ends; each test still runs in its own savepoint (the `db` fixture)."""

import datetime

import pytest
from django.db import transaction
from django.test import override_settings

from demo.services import DemoDates, seed_demo

SEED = 7
# The demo's day, pinned so the dates the tests check hold whenever they run (issue 13 point 5);
# early in its month, so that what would come after it (late rows, settled claims, the
# timelines of the last days) is held back.
ANCHOR = datetime.date(2026, 12, 3)
DATES = DemoDates(ANCHOR)
# One hasher for the module's seed and its tests alike: checking a password whose hash was made
# by another hasher than the preferred one upgrades (rewrites) it, as on a real login.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo_county(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        result = seed_demo(seed=SEED, scale="small", today=ANCHOR)
        yield result
        transaction.set_rollback(True)


@pytest.fixture
def county(demo_county, db, settings):
    """The seeded county for one test (changes made by the test are rolled back)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    return demo_county
