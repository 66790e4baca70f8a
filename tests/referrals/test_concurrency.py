"""Booking under contention (issue 6 point 7): 50 threads create referrals on 10 slots; exactly 10
succeed, the others get `slot_taken`, and no slot is held twice. PostgreSQL only (SQLite ignores
row locks): skipped on a developer's machine without it, failed under CI=true."""

import threading

import pytest
from django.db import connection

from core.exceptions import Conflict
from referrals.models import Referral, Slot
from tests.referrals.factories import department, referral, slots

THREADS, SLOTS = 50, 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_ten_slots(world):
    county = world[0]
    pool = slots(department(county.lead), count=SLOTS, reserved=SLOTS)
    start = threading.Barrier(THREADS)
    outcomes, lock = [], threading.Lock()

    def book(index):
        try:
            start.wait()
            referral(county.home, county.lead, n=index, slot=pool[index % SLOTS])
            outcome = "booked"
        except Conflict as error:
            outcome = error.code
        except Exception as error:  # noqa: BLE001 - any other failure is reported by the assertion
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=book, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(set(outcomes)) == ["booked", "slot_taken"]
    assert outcomes.count("booked") == SLOTS
    assert Referral.objects.count() == SLOTS
    held = list(Slot.objects.filter(referral__isnull=False).values_list("referral", flat=True))
    assert len(held) == SLOTS == len(set(held))
