"""Fixtures of the referral tests: the `world`'s first county, a department with slots at its
lead hospital, the sender (a clinician of the home branch) and a receiver (one of the lead)."""

import pytest

from tests.referrals.factories import department, member


@pytest.fixture
def county(world):
    mine, _other, _users = world
    return mine


@pytest.fixture
def users(world):
    return world[2]


@pytest.fixture
def lead_dept(county):
    return department(county.lead)


@pytest.fixture
def sender(users):
    return users["clinician"]


@pytest.fixture
def receiver(county):
    return member("clinician", county.lead, username="lead_clinician")
