"""Every transition allowed and refused by role (DESIGN §5, issue 6 point 6): the sending
institution's staff submit and cancel, the receiving institution's staff answer; the bureau and
the alliance office read but may not act (403); roles without patient-level rows get 403; another
county's staff do not see the referral (404). A refusal changes nothing."""

import pytest

from referrals import services
from referrals.choices import ReferralState
from referrals.models import Referral, Slot
from tests.referrals.factories import department, member, patient, referral, slots
from tests.world import user_with_role

S = ReferralState
INSTITUTION_ROLES = ["institution_admin", "clinician", "api_client"]
# verb → (state the referral is in, the side that may do it, body)
ACTIONS = {
    "submit": (S.DRAFT, "sender", {}),
    "cancel": (S.SUBMITTED, "sender", {"reason": "改约"}),
    "accept": (S.SUBMITTED, "receiver", {}),
    "reject": (S.SUBMITTED, "receiver", {"reason": "无号"}),
    "arrive": (S.ACCEPTED, "receiver", {}),
    "complete": (S.ARRIVED, "receiver", {"summary": "好转"}),
    "no-show": (S.ACCEPTED, "receiver", {}),
}
ACTORS = (
    [f"sender:{role}" for role in INSTITUTION_ROLES]
    + [f"receiver:{role}" for role in INSTITUTION_ROLES]
    + ["bureau", "alliance_admin", "committee", "finance", "insurance_feed", "other_county"]
)


def actor(name, world):
    mine, other, users = world
    if name.startswith("sender:"):
        return users[name.split(":")[1]]
    if name.startswith("receiver:"):
        return member(name.split(":")[1], mine.lead)
    if name == "other_county":
        return user_with_role("clinician", other, username="other_clinician")
    return users[name]


def expected(name, side):
    if name.startswith(("sender:", "receiver:")):
        return 200 if name.startswith(side) else 403
    return 404 if name == "other_county" else 403


def in_state(county, state):
    made = referral(county.home, county.lead, submit=state != S.DRAFT)
    if state in (S.ACCEPTED, S.ARRIVED):
        services.accept_referral(made, acting_user=None)
    if state == S.ARRIVED:
        services.record_arrival(made, acting_user=None)
    return Referral.objects.get(pk=made.pk)


@pytest.mark.parametrize("verb", ACTIONS)
@pytest.mark.parametrize("name", ACTORS)
def test_transition_matrix(client_for, world, county, name, verb):
    state, side, data = ACTIONS[verb]
    made = in_state(county, state)
    events = made.events.count()
    response = client_for(actor(name, world)).post(
        f"/api/v1/referrals/{made.pk}/{verb}/", data, format="json"
    )
    assert response.status_code == expected(name, side), response.content
    fresh = Referral.objects.get(pk=made.pk)
    if response.status_code == 200:
        assert fresh.state != state and fresh.events.count() == events + 1
    else:
        assert (fresh.state, fresh.events.count()) == (state, events)


CREATE_EXPECTED = {
    "sender:institution_admin": 201, "sender:clinician": 201, "sender:api_client": 201,
    "receiver:institution_admin": 403, "receiver:clinician": 403, "receiver:api_client": 403,
    "bureau": 403, "alliance_admin": 403, "committee": 403, "finance": 403, "insurance_feed": 403,
    "other_county": 400,  # the sending institution is not theirs to name: an unknown code
}  # fmt: skip


@pytest.mark.parametrize("name", ACTORS)
def test_create_matrix(client_for, world, county, name):
    body = {
        "direction": "up", "from_institution": county.home.code, "to_institution": county.lead.code,
        "patient": patient(9, name="赵六"), "diagnosis": "I10",
        "reason": "转上级", "urgency": "routine",
    }  # fmt: skip
    response = client_for(actor(name, world)).post("/api/v1/referrals/", body, format="json")
    assert response.status_code == CREATE_EXPECTED[name], response.content
    assert Referral.objects.count() == (1 if response.status_code == 201 else 0)


READ_EXPECTED = {
    "sender:institution_admin": 1, "sender:clinician": 1, "sender:api_client": 1,
    "receiver:institution_admin": 1, "receiver:clinician": 1, "receiver:api_client": 1,
    "bureau": 1, "alliance_admin": 1, "committee": 0, "finance": 0, "insurance_feed": 0, "other_county": 0,
}  # fmt: skip


@pytest.mark.parametrize("name", ACTORS)
def test_read_matrix(client_for, world, county, name):
    referral(county.home, county.lead)
    assert client_for(actor(name, world)).get("/api/v1/referrals/").json()["count"] == READ_EXPECTED[name]


PUBLISH_EXPECTED = {
    "receiver:institution_admin": 201, "alliance_admin": 201,
    "sender:institution_admin": 403, "receiver:clinician": 403, "receiver:api_client": 403,
    "sender:clinician": 403, "bureau": 403, "committee": 403, "finance": 403,
}  # fmt: skip


@pytest.mark.parametrize("kind", ["slots", "beds"])
@pytest.mark.parametrize("name", PUBLISH_EXPECTED)
def test_publish_matrix(client_for, world, county, name, kind):
    lead_dept = department(county.lead)
    body = {"institution": county.lead.code, "department": lead_dept.code, "date": "2099-01-05", "count": 3}
    if kind == "slots":
        body.update(period="am", reserved_for_primary=1)
    response = client_for(actor(name, world)).post(f"/api/v1/{kind}/publish/", body, format="json")
    assert response.status_code == PUBLISH_EXPECTED[name], response.content


def test_free_slots_visible_to_every_referring_institution(client_for, world, county):
    slots(department(county.lead))
    for name in ("sender:clinician", "sender:api_client", "bureau", "alliance_admin"):
        assert client_for(actor(name, world)).get("/api/v1/slots/").json()["count"] == 3
    assert client_for(actor("committee", world)).get("/api/v1/slots/").json()["count"] == 0
    assert Slot.objects.count() == 3


# --- Weekly templates and publishing a week from them (issue 6 point 1) ---------------------------------
# actor: (sees the lead's template line, create, update, delete, publish a week). A write by a role
# that may write no pool is 403 before any row is looked up; another county's administrator
# names an institution it cannot see (400) and finds no line (404).
TEMPLATE_EXPECTED = {
    "receiver:institution_admin": (True, 201, 200, 204, 201),
    "alliance_admin": (True, 201, 200, 204, 201),
    "sender:institution_admin": (True, 403, 403, 403, 403),
    "sender:clinician": (True, 403, 403, 403, 403),
    "sender:api_client": (True, 403, 403, 403, 403),
    "receiver:clinician": (True, 403, 403, 403, 403),
    "receiver:api_client": (True, 403, 403, 403, 403),
    "bureau": (True, 403, 403, 403, 403),
    "committee": (False, 403, 403, 403, 403),
    "finance": (False, 403, 403, 403, 403),
    "insurance_feed": (False, 403, 403, 403, 403),
    "other_county": (False, 403, 403, 403, 403),
    "other_county_admin": (False, 400, 404, 404, 400),
}


def pool_actor(name, world):
    if name == "other_county_admin":
        return user_with_role("institution_admin", world[1], username="other_admin")
    return actor(name, world)


@pytest.mark.parametrize("name", TEMPLATE_EXPECTED)
def test_template_matrix(client_for, world, county, name):
    from referrals.models import PoolTemplateEntry
    from tests.referrals.test_pools import line

    seen, create, update, delete, _publish = TEMPLATE_EXPECTED[name]
    lead_dept = department(county.lead)
    existing = line(county.lead, lead_dept)
    client = client_for(pool_actor(name, world))
    body = {
        "institution": county.lead.code, "weekday": 1, "kind": "bed", "department": lead_dept.code, "count": 12,
    }  # fmt: skip

    listed = client.get("/api/v1/pool-templates/").json()["results"]
    created = client.post("/api/v1/pool-templates/", body, format="json")
    updated = client.patch(f"/api/v1/pool-templates/{existing.pk}/", {"count": 6, "reserved_for_primary": 2})

    assert ([row["id"] for row in listed] == [existing.pk]) is seen
    assert (created.status_code, updated.status_code) == (create, update), (created.content, updated.content)
    assert PoolTemplateEntry.objects.count() == (2 if create == 201 else 1)
    assert PoolTemplateEntry.objects.get(pk=existing.pk).count == (6 if update == 200 else 9)
    assert client.delete(f"/api/v1/pool-templates/{existing.pk}/").status_code == delete
    assert PoolTemplateEntry.objects.filter(pk=existing.pk).exists() is (delete != 204)


@pytest.mark.parametrize("name", TEMPLATE_EXPECTED)
def test_publish_week_matrix(client_for, world, county, name):
    from referrals.models import PoolPublication
    from tests.referrals.test_pools import lead_template, monday_ahead

    publish = TEMPLATE_EXPECTED[name][4]
    lead_template(county.lead, department(county.lead))
    body = {"institution": county.lead.code, "week_start": monday_ahead().isoformat()}

    response = client_for(pool_actor(name, world)).post("/api/v1/slots/publish-week/", body, format="json")

    assert response.status_code == publish, response.content
    assert PoolPublication.objects.count() == Slot.objects.count() // 15 == (1 if publish == 201 else 0)
