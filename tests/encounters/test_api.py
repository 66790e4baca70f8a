"""The encounters API of DESIGN §8: bulk endpoints (limits, 413, dry run, 403), scoped lists with
institution and month filters, masked patients, pinned query counts."""

import json

import pytest
from django.utils import translation

from encounters import services
from encounters.api.views import BULK_MAX_BODY_BYTES
from encounters.models import Admission, OutpatientVisit
from tests.encounters.factories import admission, alliance_client, department, outside, resident_id, visit

pytestmark = pytest.mark.django_db

VISITS, ADMISSIONS = "/api/v1/encounters/visits/", "/api/v1/encounters/admissions/"


def bulk(client, records, path=VISITS, source="HIS-A", query=""):
    return client.post(f"{path}bulk/{query}", {"source": source, "records": records}, format="json")


def test_bulk_answers_the_counts_and_the_rejected_records_in_chinese(world, client_for, zh_hans):
    mine, _other, users = world
    records = [visit(1, mine.home), visit(2, mine.home, total_cost="-5")]

    response = bulk(client_for(users["api_client"]), records)

    assert response.status_code == 200
    assert response.json() == {
        "created": 1, "updated": 0, "unchanged": 0, "rejected": 1,
        "errors": [{"index": 1, "field": "total_cost", "message": zh_hans("An amount cannot be negative.")}],
    }  # fmt: skip


def test_bulk_sent_three_times_reports_unchanged_and_keeps_the_rows(world, client_for):
    mine, _other, users = world
    client = client_for(users["api_client"])
    records = [visit(n, mine.home) for n in range(3)]

    answers = [bulk(client, records).json() for _ in range(3)]

    assert [(a["created"], a["unchanged"]) for a in answers] == [(3, 0), (0, 3), (0, 3)]
    assert OutpatientVisit.objects.count() == 3


def test_admissions_bulk(world, client_for):
    mine, _other, users = world

    response = bulk(client_for(users["api_client"]), [admission(1, mine.home)], path=ADMISSIONS)

    assert (response.status_code, response.json()["created"]) == (200, 1)
    assert Admission.objects.count() == 1


def test_dry_run_validates_without_writing(world, client_for):
    mine, _other, users = world

    response = bulk(client_for(users["api_client"]), [visit(1, mine.home)], query="?dry_run=true")

    assert response.json()["created"] == 1
    assert not OutpatientVisit.objects.exists()


def test_more_than_5000_records_is_400_with_a_chinese_message(world, client_for, zh_hans):
    mine, _other, users = world
    records = [{"external_id": str(n)} for n in range(5001)]

    response = bulk(client_for(users["api_client"]), records)

    assert response.status_code == 400
    expected = zh_hans("A batch holds at most %(max)s records; this one has %(n)s. Split it.")
    assert response.json() == {
        "code": "invalid",
        "message": expected % {"max": "5,000", "n": "5,001"},
        "errors": {"records": [expected % {"max": "5,000", "n": "5,001"}]},
    }
    assert not OutpatientVisit.objects.exists()


def test_5000_records_are_accepted(world, client_for):
    mine, _other, users = world
    records = [visit(n, mine.home) for n in range(5000)]

    response = bulk(client_for(users["api_client"]), records)

    assert response.json()["created"] == 5000


def test_a_body_over_the_cap_is_413(world, client_for):
    _mine, _other, users = world
    body = json.dumps({"source": "HIS-A", "records": [], "padding": "x" * BULK_MAX_BODY_BYTES})

    response = client_for(users["api_client"]).post(f"{VISITS}bulk/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_the_envelope_is_checked(world, client_for):
    mine, _other, users = world
    client = client_for(users["api_client"])

    not_a_list = client.post(f"{VISITS}bulk/", {"source": "HIS-A", "records": "x"}, format="json")
    no_source = bulk(client, [visit(1, mine.home)], source="")
    not_json = client.post(f"{VISITS}bulk/", "{", content_type="application/json")

    assert (not_a_list.status_code, list(not_a_list.json()["errors"])) == (400, ["records"])
    assert (no_source.status_code, list(no_source.json()["errors"])) == (400, ["source"])
    assert (not_json.status_code, not_json.json()["code"]) == (400, "parse_error")


@pytest.mark.parametrize("role", ["bureau", "committee", "finance", "clinician"])
def test_a_role_that_may_not_send_encounters_gets_403(world, client_for, role):
    mine, _other, users = world

    response = bulk(client_for(users[role]), [visit(1, mine.home)])

    assert response.status_code == 403
    assert not OutpatientVisit.objects.exists()


def test_bulk_needs_authentication(world, api_client):
    mine, _other, _users = world

    assert bulk(api_client, [visit(1, mine.home)]).status_code == 401


def test_another_institutions_record_is_rejected_not_403(world, client_for):
    mine, _other, users = world
    department(mine.lead)

    response = bulk(client_for(users["api_client"]), [visit(1, mine.lead)])

    assert (response.status_code, response.json()["rejected"]) == (200, 1)


def test_the_resident_id_is_never_echoed(world, client_for):
    mine, _other, users = world
    number = resident_id(5)
    wrong = number[:17] + ("1" if number[17] == "0" else "0")
    client = client_for(users["api_client"])

    sent = bulk(
        client, [visit(1, mine.home, patient_id_number=number), visit(2, mine.home, patient_id_number=wrong)]
    )
    listed = client.get(VISITS)

    for response in (sent, listed):
        assert number not in response.content.decode() and wrong not in response.content.decode()


# --- Reads ----------------------------------------------------------------------------------------------
@pytest.fixture
def sent(world):
    """Visits of both counties (home in March and April, the lead hospital, the other county's
    home) and one insurance record of the first county."""
    mine, other, users = world
    department(mine.lead)
    services.ingest("visits", [visit(1, mine.home), visit(2, mine.home, visit_date="2026-04-02")],
                    client=users["api_client"], source="HIS-A")  # fmt: skip
    services.ingest("visits", [visit(3, mine.lead)], client=users["alliance_admin"], source="HIS-B")
    his_other = alliance_client(other.alliance, role="alliance_admin")
    services.ingest("visits", [visit(4, other.home)], client=his_other, source="HIS-C")
    feed = alliance_client(mine.alliance)
    services.ingest("visits", [outside(5)], client=feed, source="医保")
    services.ingest("admissions", [admission(6, mine.home, discharge_date="2026-04-01")],
                    client=users["api_client"], source="HIS-A")  # fmt: skip
    return feed


def ids(response):
    assert response.status_code == 200, response.json()
    return sorted(row["external_id"] for row in response.json()["results"])


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("bureau", ["V0000001", "V0000002", "V0000003", "V0000005"]),
        ("alliance_admin", ["V0000001", "V0000002", "V0000003", "V0000005"]),
        ("institution_admin", ["V0000001", "V0000002"]),
        ("clinician", ["V0000001", "V0000002"]),
        ("api_client", ["V0000001", "V0000002"]),
        ("committee", []),
        ("finance", []),
        ("insurance_feed", []),  # the world's insurance user sent nothing
    ],
)
def test_visits_are_scoped_by_role(world, sent, client_for, role, expected):
    _mine, _other, users = world

    assert ids(client_for(users[role]).get(VISITS)) == expected


def test_the_insurance_feed_reads_back_only_what_it_sent(world, sent, client_for):
    assert ids(client_for(sent).get(VISITS)) == ["V0000005"]


def test_a_row_of_another_county_is_404(world, sent, client_for):
    _mine, other, users = world
    row = OutpatientVisit.objects.get(institution=other.home)

    assert client_for(users["alliance_admin"]).get(f"{VISITS}{row.pk}/").status_code == 404


def test_lists_filter_by_institution_and_month(world, sent, client_for):
    mine, _other, users = world
    client = client_for(users["alliance_admin"])

    assert ids(client.get(VISITS, {"month": "2026-03"})) == ["V0000001", "V0000003", "V0000005"]
    assert ids(client.get(VISITS, {"institution": mine.home.pk, "month": "2026-04"})) == ["V0000002"]
    assert ids(client.get(VISITS, {"institution_code": mine.lead.code})) == ["V0000003"]
    assert ids(client.get(ADMISSIONS, {"month": "2026-04"})) == ["A0000006"]
    assert ids(client.get(ADMISSIONS, {"month": "2026-03"})) == []


def test_a_bad_month_is_400_in_chinese(world, client_for, zh_hans):
    _mine, _other, users = world

    response = client_for(users["alliance_admin"]).get(VISITS, {"month": "2026-3"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"month": [zh_hans("Enter a month as YYYY-MM, e.g. 2026-03.")]}


def test_a_row_carries_codes_ids_and_a_short_patient_key_only(world, sent, client_for):
    mine, _other, users = world
    stored = OutpatientVisit.objects.get(external_id="V0000001")

    row = client_for(users["api_client"]).get(VISITS, {"month": "2026-03"}).json()["results"][0]

    assert row == {
        "id": stored.pk, "source": "HIS-A", "external_id": "V0000001", "alliance": mine.alliance.pk,
        "month": "2026-03", "institution": mine.home.pk, "institution_code": mine.home.code,
        "outside_facility": None, "department": mine.rows["departments"].pk, "department_code": "02",
        "patient": stored.patient_key[:8], "resident_region": "330782", "is_resident": True, "in_county": True,
        "diagnosis": "J06.9", "total_cost": "125.50", "insurance_paid": "80.00", "tcm": False, "referral": None,
        "received_at": row["received_at"], "visit_date": "2026-03-16",
    }  # fmt: skip
    assert stored.patient_key not in json.dumps(row)


def test_an_insurance_row_names_its_outside_facility(world, sent, client_for):
    row = client_for(sent).get(VISITS).json()["results"][0]

    assert row["outside_facility"] == {"code": "ZJ-HZ-001", "name": "浙江大学医学院附属第一医院", "region": "330106",
                                       "level": "tertiary"}  # fmt: skip
    assert (row["institution"], row["institution_code"], row["in_county"]) == (None, None, False)


LIST_QUERIES = 2  # the count, the page (institution, department, facility joined); the access
# facts (memberships, guardian grants) are cached on this user object since the world was built


@pytest.mark.parametrize("path", [VISITS, ADMISSIONS])
def test_list_query_counts_are_pinned(world, sent, client_for, django_assert_num_queries, path):
    mine, _other, users = world
    client = client_for(users["alliance_admin"])
    services.ingest(
        "visits", [visit(n, mine.home) for n in range(10, 40)], client=users["api_client"], source="X"
    )

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(path)

    assert response.status_code == 200


def test_messages_follow_the_accept_language(world, client_for):
    mine, _other, users = world
    client = client_for(users["api_client"])

    with translation.override("en"):
        response = client.post(
            f"{VISITS}bulk/", {"source": "H", "records": [visit(1, mine.home, tcm="x")]}, format="json",
            HTTP_ACCEPT_LANGUAGE="en",
        )  # fmt: skip

    assert response.json()["errors"][0]["message"] == "Send true or false."


def test_the_policy_grants_encounter_writes_as_designed(world, sent):
    """members.access ENCOUNTER_WRITERS; the SENT extent reaches exactly the rows one sent."""
    from core import access

    _mine, _other, users = world
    row = OutpatientVisit.objects.get(client=sent)
    others = OutpatientVisit.objects.exclude(client=sent).first()

    writers = {role for role, user in users.items() if access.can_write(user, OutpatientVisit)}

    assert writers == {"alliance_admin", "institution_admin", "api_client", "insurance_feed"}
    assert access.can_write(sent, OutpatientVisit, row) and not access.can_write(
        sent, OutpatientVisit, others
    )
    assert list(OutpatientVisit.objects.for_user(sent)) == [row]


def test_icd10_codes_of_the_clinical_and_insurance_editions_are_stored_in_their_official_form(
    world, client_for
):
    """Issue 13 point 3: HIS send the national clinical edition 2.0 (lowercase x) and the
    insurance edition; both are accepted, on the fast path and the checked one alike."""
    mine, _other, users = world
    sent = {1: "I10.x00x002", 2: "E11.900", 3: "i10.X00X002", 4: "E11.900x001"}
    records = [visit(n, mine.home, diagnosis=code) for n, code in sent.items()]
    records.append(visit(5, mine.home, diagnosis="E11.900", total_cost="-1"))  # a rejected one: checked path

    response = bulk(client_for(users["api_client"]), records)

    assert (response.json()["created"], response.json()["rejected"]) == (4, 1)
    stored = dict(OutpatientVisit.objects.values_list("external_id", "diagnosis"))
    assert sorted(stored.values()) == ["E11.900", "E11.900x001", "I10.x00x002", "I10.x00x002"]


def test_a_referral_id_that_names_no_referral_of_the_alliance_is_a_rejected_record(
    world, client_for, zh_hans
):
    """Issue 13 point 3: the referral must exist and be of the alliance the record counts in."""
    from tests.referrals.factories import referral

    mine, other, users = world
    ours = referral(mine.home, mine.lead, acting_user=users["clinician"])
    theirs = referral(other.home, other.lead, acting_user=other_clinician(other))
    records = [
        visit(1, mine.home, referral=ours.pk),
        visit(2, mine.home, referral=theirs.pk),  # another county's referral
        visit(3, mine.home, referral=ours.pk + theirs.pk + 1000),  # none at all
    ]

    response = bulk(client_for(users["api_client"]), records)

    assert (response.json()["created"], response.json()["rejected"]) == (1, 2)
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "referral"), (2, "referral")]
    assert response.json()["errors"][0]["message"] == zh_hans(
        "There is no referral %(id)d in this alliance; check the referral number."
    ) % {"id": theirs.pk}
    assert list(OutpatientVisit.objects.values_list("referral_id", flat=True)) == [ours.pk]


def other_clinician(county):
    from members.choices import MembershipRole
    from tests.referrals.factories import member

    return member(MembershipRole.CLINICIAN, county.home)
