"""Query counts of the referral API pinned (issue 6 point 9): the create and accept paths the
benchmark drives, and the list, whose count must not grow with its rows. Counted with token
authentication, as an HIS calls. Inside a test every atomic block adds a SAVEPOINT and its
RELEASE to the count (in production they are BEGIN and COMMIT, which are not counted).

The answers are built from the referral as the services leave it in memory, so each test also
checks that the answer is what a fresh read (`GET …/{id}/`) returns."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from referrals import services
from referrals.choices import ReferralState
from tests.referrals.factories import api_body, beds, referral, slots

URL = "/api/v1/referrals/"
# token and user, memberships, guardian grants (both modes), the alliances of the sender's
# institution (the scope of institutions), from and to institution, slot, department, both
# placements (with the alliance and its referral settings), savepoint + the referral's
# constraint check + release, savepoint + INSERT referral + UPDATE slot + INSERT both events +
# INSERT the month's mark of changed measures (issue 14 point 5) + release, the events of the answer
CREATE_QUERIES = 19
# token and user, memberships, guardian grants, the referral, the object permission, savepoint
# + the referral locked (with its ends, department, slot and bed) + UPDATE + INSERT event +
# INSERT the mark + release, the events of the answer
ACCEPT_QUERIES = 12
# token and user, memberships, guardian grants, count, page (with ends, department, slot, bed,
# team), events with their users
LIST_QUERIES = 7


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _body(county, dept, n, **fields):
    return api_body(county.home, county.lead, department=dept, n=n, **fields)


def test_create_with_a_slot_is_pinned(county, lead_dept, sender, django_assert_num_queries):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    client = _client(sender)
    with django_assert_num_queries(CREATE_QUERIES):
        made = client.post(URL, _body(county, lead_dept, 3, slot=slot.pk), format="json")
    assert made.status_code == 201, made.json()
    assert (made.json()["state"], made.json()["slot"], made.json()["bed"]) == ("submitted", slot.pk, None)
    assert [(e["from_state"], e["to_state"]) for e in made.json()["events"]] == [
        ("", "draft"),
        ("draft", "submitted"),
    ]
    assert made.json() == client.get(f"{URL}{made.json()['id']}/").json()


def test_accept_is_pinned(county, lead_dept, sender, receiver, django_assert_num_queries):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    made = referral(county.home, county.lead, to_department=lead_dept, slot=slot, acting_user=sender)
    client = _client(receiver)
    with django_assert_num_queries(ACCEPT_QUERIES):
        accepted = client.post(f"{URL}{made.pk}/accept/", {}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert (accepted.json()["state"], accepted.json()["slot"]) == (ReferralState.ACCEPTED, slot.pk)
    assert accepted.json() == client.get(f"{URL}{made.pk}/").json()


def test_accept_swapping_the_slot_and_adding_a_bed_answers_what_it_holds(
    county, lead_dept, sender, receiver, django_assert_num_queries
):
    first, second = slots(lead_dept, count=2, reserved=2)
    bed = beds(lead_dept, count=1)[0]
    made = referral(county.home, county.lead, to_department=lead_dept, slot=first, acting_user=sender)
    client = _client(receiver)
    # + the slot and the bed looked up (in the scope of the pools: + the alliances of the
    # receiver's institution), and per row booked the release of what it held and the booking
    with django_assert_num_queries(ACCEPT_QUERIES + 3 + 2 * 2):
        accepted = client.post(f"{URL}{made.pk}/accept/", {"slot": second.pk, "bed": bed.pk}, format="json")
    assert accepted.status_code == 200, accepted.json()
    assert (accepted.json()["slot"], accepted.json()["bed"]) == (second.pk, bed.pk)
    assert accepted.json() == client.get(f"{URL}{made.pk}/").json()
    first.refresh_from_db()
    assert first.referral_id is None


def test_a_closing_move_answers_without_the_released_slot(county, lead_dept, sender, receiver):
    slot = slots(lead_dept, count=1, reserved=1)[0]
    made = referral(county.home, county.lead, to_department=lead_dept, slot=slot, acting_user=sender)
    client = _client(receiver)
    rejected = client.post(f"{URL}{made.pk}/reject/", {"reason": "无床位"}, format="json")
    assert (rejected.json()["state"], rejected.json()["slot"]) == (ReferralState.REJECTED, None)
    assert rejected.json() == client.get(f"{URL}{made.pk}/").json()


@pytest.mark.parametrize("rows", [2, 6])
def test_list_queries_do_not_grow_with_rows(
    county, lead_dept, sender, receiver, rows, django_assert_num_queries
):
    pool = slots(lead_dept, count=rows, reserved=rows)
    for n in range(rows):
        made = referral(county.home, county.lead, n=n + 10, slot=pool[n], acting_user=sender)
        if n % 2:
            services.accept_referral(made, acting_user=receiver)
    client = _client(receiver)
    with django_assert_num_queries(LIST_QUERIES):
        listed = client.get(URL)
    assert listed.json()["count"] == rows
    assert all(row["events"] and row["slot"] for row in listed.json()["results"])
