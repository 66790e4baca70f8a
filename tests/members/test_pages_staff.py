"""Staff pages (issue 4): a staff member's record within scope (404 outside), and the forms that
hire, edit and transfer through the services, with their Chinese messages."""

import datetime

import pytest

from alliance import services as alliance_services
from alliance.choices import PlacementRole
from alliance.querysets import today
from members.models import StaffMember, StaffPosting
from tests.alliance.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def hire_data(institution, **changes):
    data = {
        "institution": institution.pk,
        "department": "",
        "valid_from": today().isoformat(),
        "employee_number": "N0001",
        "name": "陈新",
        "gender": "female",
        "profession": "doctor",
        "title_level": "junior",
        "title": "医师",
        "licence_number": "110330100000999",
        "is_general_practitioner": "on",
    }
    return {**data, **changes}


def test_staff_record_shows_facts_postings_teams_secondments_and_history(client, world):
    mine, _other, users = world
    staff = mine.rows["staff"]
    client.force_login(users["institution_admin"])

    response = client.get(f"/people/staff/{staff.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>全科1</h1>" in html
    assert staff.employee_number in html and staff.licence_number in html
    assert [posting.institution for posting in response.context["postings"]] == [mine.home]
    assert [m.team for m in response.context["team_memberships"]] == [mine.rows["teams"]]
    assert "变更记录" in html and response.context["history"][0].get_action_display() == "新建"
    assert f'href="/people/staff/{staff.pk}/edit/"' in html


@pytest.mark.parametrize("whose", ["other branch", "other county"])
def test_staff_record_outside_scope_is_not_found(client, world, whose):
    mine, other, users = world
    outsider = StaffMember.objects.get(name="医生1") if whose == "other branch" else other.rows["staff"]
    client.force_login(users["institution_admin"])

    response = client.get(f"/people/staff/{outsider.pk}/")

    assert response.status_code == 404
    assert "页面未找到" in response.content.decode()


def test_reader_who_may_not_write_sees_no_edit_link_and_gets_403(client, world):
    mine, _other, users = world
    staff = mine.rows["staff"]
    client.force_login(users["bureau"])

    page = client.get(f"/people/staff/{staff.pk}/")
    form = client.get(f"/people/staff/{staff.pk}/edit/")

    assert page.status_code == 200
    assert "/edit/" not in page.content.decode()
    assert form.status_code == 403
    assert "无权操作" in form.content.decode()


@pytest.mark.parametrize(
    "url", ["/people/staff/new/", "/people/secondments/new/", "/people/teams/new/", "/people/residents/new/"]
)
def test_committee_gets_403_on_every_create_form(client, world, url):
    _mine, _other, users = world
    client.force_login(users["committee"])

    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


def test_alliance_admin_hires_a_staff_member_with_a_department(client, world):
    mine, _other, users = world
    department = mine.rows["departments"]
    client.force_login(users["alliance_admin"])

    response = client.post("/people/staff/new/", hire_data(mine.home, department=department.pk))

    hired = StaffMember.objects.get(employee_number="N0001")
    assert response.status_code == 302 and response["Location"] == f"/people/staff/{hired.pk}/"
    assert (hired.alliance, hired.institution, hired.department) == (mine.alliance, mine.home, department)
    assert list(hired.postings.values_list("institution", "valid_from")) == [(mine.home.pk, today())]


def test_hire_form_offers_departments_of_the_chosen_institution_only(client, world):
    mine, _other, users = world
    DepartmentFactory(institution=mine.lead, code="03", name="内科")
    client.force_login(users["alliance_admin"])

    options = client.get("/people/staff/departments/", {"institution": mine.home.pk}).content.decode()
    refused = client.post(
        "/people/staff/new/",
        hire_data(mine.home, department=mine.lead.departments.get().pk),
    )

    assert "全科医疗科" in options and "内科" not in options
    assert "department" in refused.context["form"].errors
    assert not StaffMember.objects.filter(employee_number="N0001").exists()


def test_hire_into_an_institution_now_in_another_alliance_is_refused(client, world, zh_hans):
    """The village's new staff are its new alliance's (issue 13 point 5): the access door refuses
    before the service would ("Staff can only be posted to a member institution of their alliance")."""
    mine, other, users = world
    village = mine.villages[0]
    alliance_services.move_institution(
        village,
        on=today() - datetime.timedelta(days=1),
        alliance=other.alliance,
        role=PlacementRole.VILLAGE,
        parent=other.home,
        acting_user=None,
    )
    client.force_login(users["alliance_admin"])

    response = client.post("/people/staff/new/", hire_data(village))

    message = zh_hans("You may not hire staff for this institution.")
    assert response.status_code == 200
    assert response.context["form"].errors["institution"] == [message]
    assert message in response.content.decode()
    assert not StaffMember.objects.filter(employee_number="N0001").exists()


def test_hire_with_a_bad_licence_number_shows_the_chinese_message(client, world, zh_hans):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.post("/people/staff/new/", hire_data(mine.home, licence_number="12-34"))

    message = zh_hans("A practising licence number is 9 to 30 digits or capital letters, without spaces.")
    assert response.context["form"].errors["licence_number"] == [message]
    assert not StaffMember.objects.filter(employee_number="N0001").exists()


def test_township_admin_cannot_hire_for_another_branch(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    form = client.get("/people/staff/new/").context["form"]
    response = client.post("/people/staff/new/", hire_data(mine.branches[1]))

    assert list(form.fields["institution"].queryset) == [mine.home]
    assert "institution" in response.context["form"].errors
    assert not StaffMember.objects.filter(employee_number="N0001").exists()


def test_township_admin_hires_for_their_own_branch(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post("/people/staff/new/", hire_data(mine.home))

    assert response.status_code == 302
    assert StaffMember.objects.get(employee_number="N0001").alliance == mine.alliance


def test_edit_staff_changes_details_and_records_history(client, world):
    mine, _other, users = world
    staff = mine.rows["staff"]
    client.force_login(users["institution_admin"])
    data = client.get(f"/people/staff/{staff.pk}/edit/").context["form"].initial

    response = client.post(
        f"/people/staff/{staff.pk}/edit/",
        {
            **data,
            "title": "副主任医师",
            "title_level": "deputy_senior",
            "is_general_practitioner": "on",
            "active": "on",
        },
    )

    staff.refresh_from_db()
    assert response.status_code == 302
    assert (staff.title, staff.title_level) == ("副主任医师", "deputy_senior")
    page = client.get(f"/people/staff/{staff.pk}/").content.decode()
    assert "副主任医师" in page and "主治医师" in page  # old → new in the history


def test_edit_with_a_duplicate_employee_number_shows_the_chinese_message(client, world, zh_hans):
    mine, _other, users = world
    staff, other_staff = mine.rows["staff"], mine.rows["lead_staff"]
    client.force_login(users["alliance_admin"])
    data = client.get(f"/people/staff/{staff.pk}/edit/").context["form"].initial

    response = client.post(
        f"/people/staff/{staff.pk}/edit/",
        {**data, "employee_number": other_staff.employee_number, "active": "on"},
    )

    html = response.content.decode()
    assert zh_hans("Another staff member of the alliance has this employee number.") in html
    staff.refresh_from_db()
    assert staff.employee_number != other_staff.employee_number


def test_transfer_posts_the_staff_member_elsewhere(client, world):
    mine, _other, users = world
    staff = mine.rows["staff"]
    client.force_login(users["alliance_admin"])

    response = client.post(
        f"/people/staff/{staff.pk}/transfer/",
        {"institution": mine.branches[1].pk, "department": "", "on": "2025-06-01"},
    )

    staff.refresh_from_db()
    assert response.status_code == 302
    assert staff.institution == mine.branches[1]
    postings = StaffPosting.objects.filter(staff=staff).order_by("valid_from")
    assert [(p.institution, p.valid_to) for p in postings] == [
        (mine.home, datetime.date(2025, 6, 1)),
        (mine.branches[1], None),
    ]


def test_transfer_before_the_current_posting_shows_the_service_message(client, world, zh_hans):
    mine, _other, users = world
    staff = mine.rows["staff"]
    client.force_login(users["alliance_admin"])

    response = client.post(
        f"/people/staff/{staff.pk}/transfer/",
        {"institution": mine.branches[1].pk, "department": "", "on": "2019-01-01"},
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert errors["institution"] == [
        zh_hans("Staff can only be posted to a member institution of their alliance.")
    ]
    staff.refresh_from_db()
    assert staff.institution == mine.home
