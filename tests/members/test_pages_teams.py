"""Family-doctor team pages (issue 4): the team's record (members with roles, residents under
contract, history) and the forms through create_team, update_team, add/remove_team_member."""

import datetime

import pytest

from members.models import FamilyDoctorTeam, TeamMembership
from tests.members.factories import staff

pytestmark = pytest.mark.django_db


def test_team_record_shows_members_residents_and_history(client, world):
    mine, _other, users = world
    team = mine.rows["teams"]
    client.force_login(users["institution_admin"])

    response = client.get(f"/people/teams/{team.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert [(m.staff.name, m.get_role_display()) for m in response.context["memberships"]] == [
        ("全科1", "全科医生")
    ]
    assert response.context["object"].resident_count == 1
    assert "变更记录" in html


def test_other_countys_team_is_not_found(client, world):
    _mine, other, users = world
    client.force_login(users["alliance_admin"])

    assert client.get(f"/people/teams/{other.rows['teams'].pk}/").status_code == 404
    assert client.get(f"/people/teams/{other.rows['teams'].pk}/edit/").status_code == 404


def test_create_team_at_the_branch(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post("/people/teams/new/", {"institution": mine.home.pk, "name": "第二团队"})

    team = FamilyDoctorTeam.objects.get(name="第二团队")
    assert response["Location"] == f"/people/teams/{team.pk}/"
    assert team.institution == mine.home


def test_team_institution_choices_are_branches_and_villages_the_user_may_write(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    choices = set(client.get("/people/teams/new/").context["form"].fields["institution"].queryset)

    assert choices == {*mine.branches, *mine.villages}


def test_duplicate_team_name_shows_the_chinese_message(client, world, zh_hans):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post(
        "/people/teams/new/", {"institution": mine.home.pk, "name": mine.rows["teams"].name}
    )

    assert zh_hans("This institution already has a team with this name.") in response.content.decode()
    assert FamilyDoctorTeam.objects.filter(institution=mine.home).count() == 1


def test_update_team_sets_the_leader(client, world):
    mine, _other, users = world
    team, leader = mine.rows["teams"], mine.rows["staff"]
    client.force_login(users["institution_admin"])

    response = client.post(
        f"/people/teams/{team.pk}/edit/", {"name": team.name, "leader": leader.pk, "active": "on"}
    )

    team.refresh_from_db()
    assert response.status_code == 302
    assert team.leader == leader


def test_add_a_member_by_employee_number_and_remove_them(client, world):
    mine, _other, users = world
    team = mine.rows["teams"]
    nurse = staff(mine.home, name="护士甲", profession="nurse")
    client.force_login(users["institution_admin"])

    added = client.post(
        f"/people/teams/{team.pk}/members/add/", {"employee_number": nurse.employee_number, "role": "nurse"}
    )
    membership = TeamMembership.objects.get(team=team, staff=nurse)
    removed = client.post(f"/people/teams/{team.pk}/members/{membership.pk}/remove/")

    assert added["Location"] == removed["Location"] == f"/people/teams/{team.pk}/"
    assert not TeamMembership.objects.filter(team=team, staff=nurse).exists()


def test_a_member_who_left_on_a_past_day_moves_to_former_members(client, world):
    mine, _other, users = world
    team = mine.rows["teams"]
    nurse = staff(mine.home, name="护士乙", profession="nurse")
    client.force_login(users["institution_admin"])

    client.post(
        f"/people/teams/{team.pk}/members/add/",
        {"employee_number": nurse.employee_number, "role": "nurse", "valid_from": "2025-02-01"},
    )
    membership = TeamMembership.objects.get(team=team, staff=nurse)
    form = client.get(f"/people/teams/{team.pk}/members/{membership.pk}/remove/")
    too_early = client.post(
        f"/people/teams/{team.pk}/members/{membership.pk}/remove/", {"valid_to": "2025-01-15"}
    )
    client.post(f"/people/teams/{team.pk}/members/{membership.pk}/remove/", {"valid_to": "2025-06-30"})
    page = client.get(f"/people/teams/{team.pk}/").content.decode()

    assert 'name="valid_to"' in form.content.decode()
    assert "该人员于 2025-02-01 加入团队，不能早于此日离开。" in too_early.content.decode()
    membership.refresh_from_db()
    assert (membership.valid_from, membership.valid_to) == (
        datetime.date(2025, 2, 1),
        datetime.date(2025, 6, 30),
    )
    current, former = page.split("以往成员")
    assert "护士乙" not in current
    assert "护士乙" in former and "2025-06-30" in former


def test_add_an_unknown_employee_number_shows_a_chinese_error(client, world):
    mine, _other, users = world
    team = mine.rows["teams"]
    client.force_login(users["institution_admin"])

    response = client.post(
        f"/people/teams/{team.pk}/members/add/", {"employee_number": "NOPE", "role": "nurse"}
    )

    assert "在您可查看的职工中没有该工号。" in response.content.decode()
    assert team.memberships.count() == 1


def test_add_a_non_gp_as_gp_shows_the_service_message(client, world, zh_hans):
    mine, _other, users = world
    team = mine.rows["teams"]
    nurse = staff(mine.home, name="护士乙", profession="nurse")
    client.force_login(users["institution_admin"])

    response = client.post(
        f"/people/teams/{team.pk}/members/add/", {"employee_number": nurse.employee_number, "role": "gp"}
    )

    assert response.context["form"].errors["role"] == [
        zh_hans("This staff member is not registered as a general practitioner.")
    ]


def test_reader_gets_403_on_team_member_forms(client, world):
    mine, _other, users = world
    team = mine.rows["teams"]
    membership = team.memberships.get()
    client.force_login(users["bureau"])

    assert client.post(f"/people/teams/{team.pk}/members/add/", {}).status_code == 403
    assert client.post(f"/people/teams/{team.pk}/members/{membership.pk}/remove/").status_code == 403
    assert team.memberships.count() == 1
