"""The people API of DESIGN §8: who am I, staff with postings, secondments, teams, signed
residents (masked out, never echoed), Chinese errors, pinned query counts."""

import datetime

import pytest

from members import services
from members.models import Secondment, SignedResident, StaffMember, StaffPosting
from tests.members.factories import resident, resident_id, staff, team

pytestmark = pytest.mark.django_db


def has_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_me_lists_the_callers_memberships(world, client_for):
    mine, _other, users = world

    bureau = client_for(users["bureau"]).get("/api/v1/me/").json()
    his = client_for(users["api_client"]).get("/api/v1/me/").json()

    assert bureau == {
        "username": users["bureau"].username,
        "memberships": [
            {"role": "bureau", "alliance": mine.alliance.pk, "institution": None, "institution_code": None}
        ],
    }
    assert his["memberships"] == [
        {"role": "api_client", "alliance": mine.alliance.pk, "institution": mine.home.pk,
         "institution_code": mine.home.code},
    ]  # fmt: skip


def test_me_needs_authentication(api_client):
    assert api_client.get("/api/v1/me/").status_code == 401


def staff_payload(mine, **changes):
    return {
        "institution": mine.home.code, "department": "02", "employee_number": "N0100", "name": "赵医生",
        "gender": "female", "profession": "doctor", "title_level": "intermediate", "title": "主治医师",
        "licence_number": "110330100000100", "is_general_practitioner": True, "valid_from": "2026-02-01",
    } | changes  # fmt: skip


def test_hire_posts_to_institution_and_department_by_code(world, client_for):
    mine, _other, users = world

    response = client_for(users["institution_admin"]).post(
        "/api/v1/staff/", staff_payload(mine), format="json"
    )

    assert response.status_code == 201, response.json()
    row = response.json()
    assert (row["institution"], row["institution_code"]) == (mine.home.pk, mine.home.code)
    assert (row["department"], row["department_code"]) == (mine.rows["departments"].pk, "02")
    assert row["alliance"] == mine.alliance.pk
    posting = StaffPosting.objects.get(staff_id=row["id"])
    assert (posting.institution, posting.valid_from, posting.valid_to) == (
        mine.home,
        datetime.date(2026, 2, 1),
        None,
    )


def test_hire_with_unknown_department_code_is_400_and_writes_nothing(world, client_for):
    mine, _other, users = world

    response = client_for(users["alliance_admin"]).post(
        "/api/v1/staff/", staff_payload(mine, department="03.01"), format="json"
    )

    assert response.status_code == 400
    assert "department" in response.json()["errors"]
    assert not StaffMember.objects.filter(employee_number="N0100").exists()


def test_hire_with_duplicate_employee_number_is_400(world, client_for):
    mine, _other, users = world
    taken = mine.rows["staff"].employee_number

    response = client_for(users["alliance_admin"]).post(
        "/api/v1/staff/", staff_payload(mine, employee_number=taken), format="json"
    )

    assert response.status_code == 400
    assert StaffMember.objects.filter(employee_number=taken, alliance=mine.alliance).count() == 1


def test_hire_with_bad_licence_number_is_400(world, client_for):
    mine, _other, users = world

    response = client_for(users["alliance_admin"]).post(
        "/api/v1/staff/", staff_payload(mine, licence_number="abc 123"), format="json"
    )

    assert response.status_code == 400
    assert "licence_number" in response.json()["errors"]


def test_transfer_keeps_the_posting_history(world, client_for):
    mine, _other, users = world
    person = mine.rows["staff"]

    response = client_for(users["alliance_admin"]).post(
        f"/api/v1/staff/{person.pk}/transfer/",
        {"institution": mine.branches[1].code, "on": "2026-08-01"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["institution"] == mine.branches[1].pk
    assert list(person.postings.order_by("valid_from").values_list("institution", "valid_to")) == [
        (mine.home.pk, datetime.date(2026, 8, 1)),
        (mine.branches[1].pk, None),
    ]


def test_institution_admin_cannot_transfer_staff_away_to_an_institution_it_does_not_run(world, client_for):
    mine, _other, users = world
    person = mine.rows["staff"]

    response = client_for(users["institution_admin"]).post(
        f"/api/v1/staff/{person.pk}/transfer/",
        {"institution": mine.lead.code, "on": "2026-08-01"},
        format="json",
    )

    assert response.status_code == 403
    assert person.postings.count() == 1


def test_posting_cannot_be_patched(world, client_for):
    mine, _other, users = world

    response = client_for(users["alliance_admin"]).patch(
        f"/api/v1/staff/{mine.rows['staff'].pk}/", {"institution": mine.lead.code}, format="json"
    )

    assert response.status_code == 400


def test_secondment_reports_the_years_it_reaches_six_months(world, client_for):
    mine, _other, users = world
    client = client_for(users["alliance_admin"])

    response = client.post(
        "/api/v1/secondments/",
        {
            "staff": mine.rows["lead_staff"].pk,
            "to_institution": mine.branches[1].code,
            "start_date": "2023-09-01",
            "end_date": "2024-08-01",
        },
        format="json",
    )  # fmt: skip  (before the world's stationing from 2025-01-01: they may not overlap)
    reaching = client.get("/api/v1/secondments/?reaches_six_months_in=2024").json()["results"]

    assert response.status_code == 201, response.json()
    # 2023: 122 days; 2024: 213 days (≥ 183).
    assert response.json()["years_reaching_six_months"] == [2024]
    assert response.json()["from_institution"] == mine.lead.pk
    assert {row["id"] for row in reaching} == {response.json()["id"]}


def test_secondment_upwards_is_400_in_chinese(world, client_for):
    mine, _other, users = world

    response = client_for(users["alliance_admin"]).post(
        "/api/v1/secondments/",
        {"staff": mine.rows["staff"].pk, "to_institution": mine.lead.code, "start_date": "2026-01-01"},
        format="json",
    )

    assert response.status_code == 400
    assert "to_institution" in response.json()["errors"]
    assert Secondment.objects.count() == 2


def test_team_members_are_added_and_removed(world, client_for):
    mine, _other, users = world
    the_team, specialist = mine.rows["teams"], mine.rows["lead_staff"]
    client = client_for(users["alliance_admin"])

    added = client.post(
        f"/api/v1/teams/{the_team.pk}/add-member/",
        {"staff": specialist.pk, "role": "specialist"},
        format="json",
    )
    removed = client.post(
        f"/api/v1/teams/{the_team.pk}/remove-member/", {"staff": specialist.pk}, format="json"
    )

    assert added.status_code == 200, added.json()
    assert (added.json()["member_count"], added.json()["specialist_count"]) == (2, 1)
    assert removed.json()["member_count"] == 1


def test_team_changes_are_recorded_as_of_a_past_day(world, client_for):
    mine, _other, users = world
    the_team, specialist = mine.rows["teams"], mine.rows["lead_staff"]
    client = client_for(users["alliance_admin"])
    url = f"/api/v1/teams/{the_team.pk}/"

    added = client.post(
        url + "add-member/",
        {"staff": specialist.pk, "role": "specialist", "valid_from": "2025-03-01"},
        format="json",
    )
    ahead = client.post(
        url + "remove-member/", {"staff": specialist.pk, "valid_to": "2099-01-01"}, format="json"
    )
    removed = client.post(
        url + "remove-member/", {"staff": specialist.pk, "valid_to": "2025-10-01"}, format="json"
    )
    again = client.post(url + "remove-member/", {"staff": specialist.pk}, format="json")

    member = next(m for m in added.json()["members"] if m["staff"] == specialist.pk)
    assert (member["valid_from"], member["valid_to"]) == ("2025-03-01", None)
    assert ahead.status_code == 400
    assert ahead.json()["errors"]["valid_to"] == ["团队变动的日期不能晚于今天。"]
    assert removed.status_code == 200
    assert specialist.pk not in [m["staff"] for m in removed.json()["members"]]
    assert removed.json()["specialist_count"] == 0
    assert again.status_code == 404  # no place still open to end
    assert list(the_team.memberships.filter(staff=specialist).values_list("valid_from", "valid_to")) == [
        (datetime.date(2025, 3, 1), datetime.date(2025, 10, 1))
    ]


def test_a_specialist_from_the_same_level_is_refused(world, client_for):
    mine, _other, users = world
    same_level = staff(mine.branches[1])

    response = client_for(users["alliance_admin"]).post(
        f"/api/v1/teams/{mine.rows['teams'].pk}/add-member/",
        {"staff": same_level.pk, "role": "specialist"},
        format="json",
    )

    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_sign_resident_stores_no_raw_id_and_answers_masked(world, client_for):
    mine, _other, users = world
    number = resident_id(321, birth="19580704")

    response = client_for(users["institution_admin"]).post(
        "/api/v1/residents/",
        {"team": mine.rows["teams"].pk, "name": "欧阳明华", "id_number": number, "signed_on": "2026-03-01",
         "chronic_conditions": ["hypertension", "diabetes"]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    row = response.json()
    assert row["masked_name"] == "欧阳**"
    assert row["id_number_masked"] == number[:6] + "********" + number[-4:]
    assert number not in response.content.decode()
    assert "name" not in row and "id_number" not in row
    stored = SignedResident.objects.filter(pk=row["id"]).values().get()
    assert all(number not in str(value) for value in stored.values())


def test_sign_resident_with_a_bad_check_digit_is_400_in_chinese(world, client_for):
    mine, _other, users = world
    number = resident_id(5)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")

    response = client_for(users["institution_admin"]).post(
        "/api/v1/residents/",
        {"team": mine.rows["teams"].pk, "name": "张三", "id_number": wrong, "signed_on": "2026-03-01"},
        format="json",
    )

    assert response.status_code == 400
    assert has_chinese(response.json()["errors"]["id_number"][0])
    assert wrong not in response.content.decode()


def test_lookup_finds_the_resident_by_id_number_in_the_body(world, client_for):
    mine, _other, users = world
    the_team = mine.rows["teams"]
    found = resident(the_team, n=777, name="刘一")

    response = client_for(users["clinician"]).post(
        "/api/v1/residents/lookup/", {"id_number": resident_id(777).lower()}, format="json"
    )

    assert [row["id"] for row in response.json()] == [found.pk]


def test_lookup_does_not_find_residents_of_another_institution(world, client_for):
    mine, other, users = world
    resident(team(other.home), n=778)

    response = client_for(users["clinician"]).post(
        "/api/v1/residents/lookup/", {"id_number": resident_id(778)}, format="json"
    )

    assert response.json() == []


# memberships, count, rows (and prefetches): the same for 1 row or 500
QUERIES = {"staff": 4, "secondments": 4, "teams": 5, "residents": 4}


@pytest.mark.parametrize("endpoint", ["staff", "secondments", "teams", "residents"])
def test_list_query_counts_are_pinned_and_do_not_grow(world, client_for, django_assert_num_queries, endpoint):
    mine, _other, users = world
    the_team = mine.rows["teams"]
    for n in range(5):
        person = staff(mine.home, is_general_practitioner=True)
        services.add_team_member(the_team, staff=person, role="gp", acting_user=None)
        resident(the_team, n=500 + n)
        services.second_staff(
            staff(mine.lead), to_institution=mine.home, start_date=datetime.date(2026, 1, 1), acting_user=None
        )
        team(mine.home)

    with django_assert_num_queries(QUERIES[endpoint]):
        response = client_for(users["alliance_admin"]).get(f"/api/v1/{endpoint}/")

    assert response.json()["count"] >= 6


@pytest.mark.parametrize("year", ["0", "-6972443374531175.0", "2025.5", "abc"])
def test_a_year_filter_outside_the_calendar_is_400_not_a_crash(world, client_for, year):
    _mine, _other, users = world

    response = client_for(users["alliance_admin"]).get(f"/api/v1/secondments/?reaches_six_months_in={year}")

    assert response.status_code == 400
    assert "reaches_six_months_in" in response.json()["errors"]
