"""The referrals API (DESIGN §8): publish and list slots and beds, create referrals with an
Idempotency-Key, the transition actions, the error codes and scoping."""

import datetime

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alliance.choices import PlacementRole
from referrals.choices import ReferralState
from referrals.models import Referral, Slot
from tests.alliance.factories import InstitutionFactory, place
from tests.referrals.factories import api_body, beds, department, member, next_week, patient, referral, slots

S = ReferralState
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def lead_admin(county):
    return member("institution_admin", county.lead, username="lead_admin")


def body(county, lead_dept, **fields):
    return api_body(county.home, county.lead, department=lead_dept, **fields)


def test_publish_and_list_slots(client_for, county, lead_dept, lead_admin, sender):
    payload = {
        "institution": county.lead.code, "department": lead_dept.code, "date": str(next_week()),
        "period": "am", "count": 3, "reserved_for_primary": 1, "doctor": "李医生",
    }  # fmt: skip
    response = client_for(lead_admin).post("/api/v1/slots/publish/", payload, format="json")
    assert response.status_code == 201, response.json()
    rows = response.json()
    assert [(row["reserved"], row["available"], row["institution_code"]) for row in rows] == [
        (True, True, county.lead.code), (False, True, county.lead.code), (False, True, county.lead.code),
    ]  # fmt: skip
    listed = client_for(sender).get(
        "/api/v1/slots/", {"institution_code": county.lead.code, "available": "true", "reserved": "true"}
    )
    assert [row["id"] for row in listed.json()["results"]] == [rows[0]["id"]]
    assert set(rows[0]) >= {
        "id",
        "institution",
        "department",
        "date",
        "period",
        "doctor",
        "number",
        "expected_at",
        "reserved",
        "available",
    }


def test_slot_rows_carry_their_number_and_expected_time(client_for, county, lead_dept, lead_admin, sender):
    """`number` (号序) and `expected_at`: the session's start plus (number − 1) × `interval_minutes`;
    a second publication of the session numbers on."""
    day = next_week()
    payload = {
        "institution": county.lead.code, "department": lead_dept.code, "date": str(day), "period": "pm",
        "count": 3, "reserved_for_primary": 1, "doctor": "李医生", "interval_minutes": 15,
    }  # fmt: skip
    client = client_for(lead_admin)

    first = client.post("/api/v1/slots/publish/", payload, format="json")
    defaulted = client.post(
        "/api/v1/slots/publish/", {**payload, "doctor": "王医生", "count": 2}, format="json"
    )
    refused = client.post("/api/v1/slots/publish/", {**payload, "interval_minutes": 0}, format="json")

    assert first.status_code == 201, first.json()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14)))
    assert [(row["number"], parse_datetime(row["expected_at"])) for row in first.json()] == [
        (1, start), (2, start + 15 * MINUTE), (3, start + 30 * MINUTE),
    ]  # fmt: skip
    assert defaulted.status_code == 201, defaulted.json()
    assert [row["number"] for row in defaulted.json()] == [1, 2]  # 王医生's session
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["interval_minutes"]
    top_up = client.post("/api/v1/slots/publish/", {**payload, "count": 1}, format="json")
    assert [(row["number"], parse_datetime(row["expected_at"])) for row in top_up.json()] == [
        (4, start + 45 * MINUTE)
    ]
    listed = client_for(sender).get(
        "/api/v1/slots/", {"institution_code": county.lead.code, "date": str(day)}
    )
    row = next(row for row in listed.json()["results"] if row["id"] == first.json()[1]["id"])
    assert (row["number"], row["expected_at"], row["starts_at"]) == (
        2, first.json()[1]["expected_at"], first.json()[1]["starts_at"],
    )  # fmt: skip


def test_a_referral_books_the_slot_it_names_not_the_lowest_number(client_for, county, lead_dept, sender):
    pool = slots(lead_dept, count=3, reserved=3)

    made = client_for(sender).post(
        "/api/v1/referrals/", body(county, lead_dept, slot=pool[2].pk), format="json"
    )

    assert made.status_code == 201, made.json()
    assert made.json()["slot"] == pool[2].pk
    assert list(Slot.objects.filter(referral__isnull=False).values_list("number", flat=True)) == [3]


def test_lead_share_refused_with_400(client_for, county, lead_dept, lead_admin):
    payload = {
        "institution": county.lead.code, "department": lead_dept.code, "date": str(next_week()),
        "period": "pm", "count": 9, "reserved_for_primary": 2,
    }  # fmt: skip
    response = client_for(lead_admin).post("/api/v1/slots/publish/", payload, format="json")
    assert response.status_code == 400
    assert "reserved_for_primary" in response.json()["errors"]
    assert not Slot.objects.exists()


def test_publish_and_list_beds(client_for, county, lead_dept, lead_admin, sender):
    payload = {
        "institution": county.lead.code,
        "department": lead_dept.code,
        "date": str(next_week()),
        "count": 2,
    }
    response = client_for(lead_admin).post("/api/v1/beds/publish/", payload, format="json")
    assert response.status_code == 201
    listed = client_for(sender).get("/api/v1/beds/", {"available": "true", "institution": county.lead.pk})
    assert listed.json()["count"] == 2


def test_create_with_idempotency_key(client_for, county, lead_dept, sender):
    slot = slots(lead_dept)[0]
    client = client_for(sender)
    data = body(county, lead_dept, slot=slot.pk)
    first = client.post("/api/v1/referrals/", data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    row = first.json()
    assert (row["state"], row["direction"], row["slot"], row["urgency"]) == (
        "submitted",
        "up",
        slot.pk,
        "urgent",
    )
    assert row["patient"]["name"] == "李*" and row["patient"]["id_number"].startswith("330782********")
    assert "李四" not in first.content.decode()
    again = client.post("/api/v1/referrals/", data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()["id"]) == (201, row["id"])
    assert Referral.objects.count() == 1


def test_slot_taken_is_409(client_for, county, lead_dept, sender):
    slot = slots(lead_dept)[0]
    referral(county.home, county.lead, slot=slot)
    response = client_for(sender).post(
        "/api/v1/referrals/", body(county, lead_dept, slot=slot.pk), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken" and response.json()["message"]
    assert Referral.objects.count() == 1


def test_out_of_county_needs_reason_code(client_for, county, sender):
    provincial = InstitutionFactory(level="tertiary", name="省人民医院", region_code="330100")
    place(provincial, county.alliance, PlacementRole.PARTNER)
    data = body(county, department(county.lead), to_institution=provincial.code, to_department="")
    refused = client_for(sender).post("/api/v1/referrals/", data, format="json")
    assert refused.status_code == 400 and "reason_code" in refused.json()["errors"]
    assert not Referral.objects.exists()
    data["reason_code"] = "beyond_capability"
    made = client_for(sender).post("/api/v1/referrals/", data, format="json").json()
    assert (made["direction"], made["out_of_county"], made["deductible_continuity"]) == ("up", True, False)


def test_transitions_through_the_api(client_for, county, lead_dept, sender, receiver):
    slot_a, slot_b, _ = slots(lead_dept)
    made = referral(county.home, county.lead, slot=slot_a)
    client = client_for(receiver)
    url = f"/api/v1/referrals/{made.pk}"
    accepted = client.post(f"{url}/accept/", {"slot": slot_b.pk}, format="json")
    assert (accepted.status_code, accepted.json()["state"], accepted.json()["slot"]) == (
        200,
        "accepted",
        slot_b.pk,
    )
    assert client.post(f"{url}/arrive/").json()["state"] == "arrived"
    done = client.post(f"{url}/complete/", {"summary": "好转出院"}, format="json").json()
    assert (done["state"], done["summary"]) == ("completed", "好转出院")
    assert [event["to_state"] for event in done["events"]] == [
        "draft",
        "submitted",
        "accepted",
        "arrived",
        "completed",
    ]
    back = client.post(f"{url}/refer-back/", {}, format="json")
    assert back.status_code == 201
    assert (back.json()["direction"], back.json()["return_of"]) == ("down", made.pk)


def test_reject_needs_a_reason(client_for, county, receiver):
    made = referral(county.home, county.lead)
    response = client_for(receiver).post(f"/api/v1/referrals/{made.pk}/reject/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    assert Referral.objects.get(pk=made.pk).state == S.SUBMITTED


def test_illegal_transition_is_409(client_for, county, receiver):
    made = referral(county.home, county.lead)
    response = client_for(receiver).post(f"/api/v1/referrals/{made.pk}/arrive/")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_no_show_and_cancel_urls(client_for, county, sender, receiver):
    made = referral(county.home, county.lead)
    client_for(receiver).post(f"/api/v1/referrals/{made.pk}/accept/", {}, format="json")
    assert client_for(receiver).post(f"/api/v1/referrals/{made.pk}/no-show/").json()["state"] == "no_show"
    other = referral(county.home, county.lead, n=2)
    cancelled = client_for(sender).post(
        f"/api/v1/referrals/{other.pk}/cancel/", {"reason": "改约"}, format="json"
    )
    assert cancelled.json()["state"] == "cancelled"


def test_filters_and_priority_first(client_for, county, lead_dept, receiver):
    plain = referral(county.home, county.lead, n=5)
    signed = referral(county.home, county.lead, patient=patient(1, name="王1", signed=True))
    down = referral(county.lead, county.home, n=6)
    client = client_for(receiver)
    listed = client.get("/api/v1/referrals/", {"direction": "up", "to_institution_code": county.lead.code})
    assert [row["id"] for row in listed.json()["results"]] == [signed.pk, plain.pk]
    assert listed.json()["results"][0]["priority"] is True
    sent = client.get("/api/v1/referrals/", {"from_institution": county.lead.pk, "state": "submitted"})
    assert [row["id"] for row in sent.json()["results"]] == [down.pk]


def test_list_query_count_is_pinned(client_for, county, lead_dept, receiver, django_assert_max_num_queries):
    for n in range(5):
        referral(county.home, county.lead, n=n + 10, slot=slots(lead_dept, count=1, reserved=1)[0])
    with django_assert_max_num_queries(12):
        response = client_for(receiver).get("/api/v1/referrals/")
    assert response.json()["count"] == 5


def test_other_county_referrals_are_invisible(client_for, world):
    mine, other, users = world
    theirs = referral(other.home, other.lead)
    client = client_for(users["clinician"])
    assert client.get(f"/api/v1/referrals/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/referrals/").json()["count"] == 0
    assert (
        client.post(f"/api/v1/referrals/{theirs.pk}/cancel/", {"reason": "x"}, format="json").status_code
        == 404
    )


def test_other_county_slots_are_invisible(client_for, world):
    mine, other, users = world
    theirs = slots(department(other.lead), count=3, reserved=1)[0]
    client = client_for(users["clinician"])
    assert client.get(f"/api/v1/slots/{theirs.pk}/").status_code == 404
    made_body = {
        "direction": "up", "from_institution": mine.home.code, "to_institution": mine.lead.code,
        "patient": patient(4), "diagnosis": "I10", "reason": "x", "urgency": "routine", "slot": theirs.pk,
    }  # fmt: skip
    response = client.post("/api/v1/referrals/", made_body, format="json")
    assert response.status_code == 400 and "slot" in response.json()["errors"]


def test_beds_other_county_invisible(client_for, world):
    _mine, other, users = world
    bed = beds(department(other.lead))[0]
    assert client_for(users["clinician"]).get(f"/api/v1/beds/{bed.pk}/").status_code == 404


def test_a_referral_keeps_the_clinical_editions_icd10_code(county, lead_dept, sender, client_for):
    """Issue 13 point 3: I10.x00x002 is 11 characters and its x is lower case."""
    from tests.referrals.factories import patient

    response = client_for(sender).post(
        "/api/v1/referrals/",
        {
            "direction": "up", "from_institution": county.home.code, "to_institution": county.lead.code,
            "patient": patient(9), "diagnosis": "i10.X00X002", "reason": "血压控制不佳", "urgency": "routine",
        },
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    assert response.json()["diagnosis"] == "I10.x00x002"
