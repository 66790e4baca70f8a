"""The small demo county, built once per test module: seeding takes seconds (about 3,000 staff
go through the services), so the tests of one module share it inside a transaction that is
rolled back when the module ends; each test still runs in its own savepoint (the `db` fixture)."""

import datetime
from unittest import mock

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from demo.services import DemoDates, seed_demo

SEED = 7
# The demo's day, pinned so the dates the tests check hold whenever they run (issue 13 point 5);
# early in its month, so that what would come after it (late rows, settled claims, the
# timelines of the last days) is held back.
ANCHOR = datetime.date(2026, 12, 3)
DATES = DemoDates(ANCHOR)
# The clock while seeding: the anchor's evening in Shanghai, running on from there. What the seed
# reads of the clock (the current month, whose silent sources the computation warns of, and the
# elapsed ones, which can be incomplete) then holds whenever the tests run.
SEEDED_AT = datetime.datetime(2026, 12, 3, 18, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
# One hasher for the module's seed and its tests alike: checking a password whose hash was made
# by another hasher than the preferred one upgrades (rewrites) it, as on a real login.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo_county(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        with clock_from(SEEDED_AT):
            result = seed_demo(seed=SEED, scale="small", today=ANCHOR)
        yield result
        transaction.set_rollback(True)


def clock_from(moment):
    """django.utils.timezone.now (and so localdate) starting at `moment` and running on."""
    real_now = timezone.now
    offset = moment - real_now()
    return mock.patch("django.utils.timezone.now", side_effect=lambda: real_now() + offset)


@pytest.fixture
def county(demo_county, db, settings):
    """The seeded county for one test (changes made by the test are rolled back)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    return demo_county
