"""Admin screens of people (issue 3 point 7): hiring opens the first posting, secondments, teams
and memberships go through members.services, and a signed resident's ID number is typed once and
never stored or shown in the clear."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from alliance.querysets import today
from members.models import Membership, SignedResident, StaffMember, StaffPosting, TeamMembership
from tests.core.factories import UserFactory
from tests.members.factories import resident_id, staff

pytestmark = pytest.mark.django_db

D = datetime.date
RAW_ID = resident_id(777, birth="19800229")


def url(model, view, *args):
    return reverse(f"admin:members_{model}_{view}", args=args)


def form_errors(response):
    return response.context["adminform"].form.errors


def management(prefix, total, initial):
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


# --- Every page renders ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "query", "count"),
    [
        ("membership", "q=clinician&role__exact=clinician", 1),
        ("staffmember", "q=全科&active__exact=1&profession__exact=doctor", 2),
        ("secondment", "q=专家&kind__exact=stationed&open=yes", 2),
        ("familydoctorteam", "q=家庭医生团队&active__exact=1&institution__level__exact=primary", 2),
        ("signedresident", "q=王&open=yes&gender__exact=female", 1),
    ],
)
def test_changelist_renders_with_a_search_and_a_filter(admin_client, world, model, query, count):
    response = admin_client.get(f"{url(model, 'changelist')}?{query}")

    assert response.status_code == 200
    assert response.context["cl"].result_count == count


@pytest.mark.parametrize(
    "model", ["membership", "staffmember", "secondment", "familydoctorteam", "signedresident"]
)
def test_add_page_renders(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize(
    ("model", "row"),
    [
        ("staffmember", "staff"),
        ("secondment", "secondments"),
        ("familydoctorteam", "teams"),
        ("signedresident", "residents"),
    ],
)
def test_change_page_renders(admin_client, world, model, row):
    mine, _other, _users = world

    assert admin_client.get(url(model, "change", mine.rows[row].pk)).status_code == 200


def test_membership_page_is_read_only(admin_client, world):
    _mine, _other, users = world
    membership = users["clinician"].memberships.get()

    response = admin_client.get(url("membership", "change", membership.pk))

    assert (response.status_code, response.context["has_change_permission"]) == (200, False)


def test_staff_changelist_query_count_is_bounded(admin_client, world, django_assert_max_num_queries):
    mine, _other, _users = world
    for n in range(44):
        staff(mine.branches[n % 2], n=500 + n)

    with django_assert_max_num_queries(10):
        response = admin_client.get(f"{url('staffmember', 'changelist')}?active__exact=1")

    assert response.context["cl"].result_count == 50


# --- Staff and secondments ------------------------------------------------------------------------------
def hire_form(county, **fields):
    return {
        "alliance": county.alliance.pk,
        "institution": county.branches[1].pk,
        "department": "",
        "valid_from": "2024-03-01",
        "employee_number": "E90001",
        "name": "赵医生",
        "gender": "male",
        "profession": "doctor",
        "title_level": "junior",
        "title": "医师",
        "licence_number": "",
        "active": "on",
        "user": "",
        **fields,
    }


def test_hiring_staff_in_the_admin_creates_the_first_posting(admin_client, world):
    mine, _other, _users = world

    response = admin_client.post(url("staffmember", "add"), hire_form(mine))

    assert response.status_code == 302
    hired = StaffMember.objects.get(employee_number="E90001")
    assert (hired.name, hired.alliance, hired.institution) == ("赵医生", mine.alliance, mine.branches[1])
    postings = StaffPosting.objects.filter(staff=hired).values_list("institution", "valid_from", "valid_to")
    assert list(postings) == [(mine.branches[1].pk, D(2024, 3, 1), None)]


def test_hiring_into_another_alliances_institution_is_refused_on_the_form(admin_client, world):
    mine, other, _users = world

    response = admin_client.post(
        url("staffmember", "add"), hire_form(mine, institution=other.home.pk), HTTP_ACCEPT_LANGUAGE="en"
    )

    expected = "Staff can only be posted to a member institution of their alliance."
    assert form_errors(response) == {"institution": [expected]}
    assert not StaffMember.objects.filter(employee_number="E90001").exists()


def test_staff_change_page_shows_postings_read_only_and_updates_through_the_service(admin_client, world):
    mine, _other, _users = world
    member = mine.rows["staff"]
    data = {key: value for key, value in hire_form(mine).items() if key not in ("alliance", "institution")}

    data |= {
        "employee_number": "E1",
        **management("postings", 1, 1),
        "postings-0-id": member.postings.get().pk,
    }

    response = admin_client.post(url("staffmember", "change", member.pk), data)

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.name, member.employee_number, member.institution) == ("赵医生", "E1", mine.home)
    assert StaffPosting.objects.filter(staff=member).count() == 1
    assert admin_client.post(url("staffmember", "delete", member.pk), {"post": "yes"}).status_code == 403


def test_a_secondment_goes_from_the_staff_members_institution(admin_client, world):
    mine, _other, _users = world
    specialist = mine.rows["lead_staff"]
    data = {"staff": specialist.pk, "to_institution": mine.branches[1].pk, "kind": "patrol"}

    # before the stationing the world records from 2025-01-01: secondments may not overlap
    dates = {"start_date": "2024-03-01", "end_date": "2024-06-01"}
    response = admin_client.post(url("secondment", "add"), {**data, **dates, "notes": ""})

    assert response.status_code == 302
    row = specialist.secondments.get(to_institution=mine.branches[1])
    assert (row.from_institution, row.kind, row.start_date, row.end_date) == (
        mine.lead,
        "patrol",
        D(2024, 3, 1),
        D(2024, 6, 1),
    )


def test_an_upward_secondment_is_refused_on_the_form(admin_client, world):
    mine, _other, _users = world
    doctor = mine.rows["staff"]
    data = {
        "staff": doctor.pk,
        "to_institution": mine.lead.pk,
        "kind": "stationed",
        "start_date": "2025-03-01",
    }

    response = admin_client.post(url("secondment", "add"), data, HTTP_ACCEPT_LANGUAGE="en")

    expected = "A secondment goes from a higher-level institution to a lower-level one."
    assert form_errors(response) == {"to_institution": [expected]}
    assert not doctor.secondments.exists()


# --- Teams -------------------------------------------------------------------------------------------------
def team_form(team, members=(), new=()):
    """The team's change form: saved rows (id, delete?) then new rows (staff, role)."""
    data = {"name": team.name, "leader": "", "active": "on"}
    data |= management("memberships", len(members) + len(new), len(members))
    for i, (membership, delete) in enumerate(members):
        data[f"memberships-{i}-id"] = membership.pk
        if delete:
            data[f"memberships-{i}-DELETE"] = "on"
    for i, (member, role) in enumerate(new, start=len(members)):
        data |= {
            f"memberships-{i}-staff": member.pk,
            f"memberships-{i}-role": role,
            f"memberships-{i}-valid_from": today().isoformat(),
        }
    return data


def test_a_team_member_is_added_through_the_service(admin_client, world):
    mine, _other, _users = world
    team, specialist = mine.rows["teams"], mine.rows["lead_staff"]
    existing = TeamMembership.objects.get(team=team)

    response = admin_client.post(
        url("familydoctorteam", "change", team.pk),
        team_form(team, [(existing, False)], [(specialist, "specialist")]),
    )

    assert response.status_code == 302
    assert sorted(team.memberships.values_list("staff", "role")) == sorted(
        [(mine.rows["staff"].pk, "gp"), (specialist.pk, "specialist")]
    )


def test_a_refused_team_member_shows_the_message_on_its_row_and_nothing_is_written(admin_client, world):
    mine, _other, _users = world
    team, colleague = mine.rows["teams"], staff(mine.home, n=901)
    existing = TeamMembership.objects.get(team=team)
    data = team_form(team, [(existing, False)], [(colleague, "specialist")]) | {"name": "新名字"}

    response = admin_client.post(url("familydoctorteam", "change", team.pk), data, HTTP_ACCEPT_LANGUAGE="en")

    row = response.context["inline_admin_formsets"][0].formset.forms[1]
    assert row.errors == {
        "role": ["A specialist in a family-doctor team comes from a higher-level institution."]
    }
    team.refresh_from_db()
    assert (team.name, team.memberships.count()) == (mine.rows["teams"].name, 1)


def test_a_person_already_in_the_team_is_refused_on_the_new_row(admin_client, world):
    mine, _other, _users = world
    team, doctor = mine.rows["teams"], mine.rows["staff"]
    existing = TeamMembership.objects.get(team=team)
    data = team_form(team, [(existing, False)], [(doctor, "gp")])

    response = admin_client.post(url("familydoctorteam", "change", team.pk), data, HTTP_ACCEPT_LANGUAGE="en")

    row = response.context["inline_admin_formsets"][0].formset.forms[1]
    assert row.errors == {"staff": ["This person is already in the team on this day or later."]}
    assert list(team.memberships.values_list("pk", flat=True)) == [existing.pk]


def test_a_team_member_is_removed_through_the_service(admin_client, world):
    mine, _other, _users = world
    team = mine.rows["teams"]
    existing = TeamMembership.objects.get(team=team)

    response = admin_client.post(
        url("familydoctorteam", "change", team.pk), team_form(team, [(existing, True)])
    )

    assert response.status_code == 302
    assert not team.memberships.exists()


# --- Signed residents ---------------------------------------------------------------------------------------
def sign_form(team, **fields):
    data = {"team": team.pk, "name": "李小明", "id_number": RAW_ID, "signed_on": "2025-02-01", "valid_to": ""}
    return {**data, "chronic_conditions": ["hypertension", "diabetes"], **fields}


def test_signing_a_resident_stores_no_raw_id_number(admin_client, world):
    mine, _other, _users = world

    response = admin_client.post(url("signedresident", "add"), sign_form(mine.rows["teams"]))

    assert response.status_code == 302
    row = SignedResident.objects.filter(name="李小明").values().get()
    assert [name for name, value in row.items() if RAW_ID in str(value)] == []
    assert (row["id_number_masked"], row["birth_date"]) == (
        RAW_ID[:6] + "********" + RAW_ID[-4:],
        D(1980, 2, 29),
    )
    assert row["chronic_conditions"] == ["hypertension", "diabetes"]
    assert not [entry for entry in LogEntry.objects.all() if RAW_ID in str(entry.changes)]


def test_resident_pages_show_only_the_masked_name_and_number(admin_client, world):
    mine, _other, _users = world
    admin_client.post(url("signedresident", "add"), sign_form(mine.rows["teams"]))
    resident = SignedResident.objects.get(name="李小明")

    listing = admin_client.get(url("signedresident", "changelist")).content.decode()
    page = admin_client.get(url("signedresident", "change", resident.pk)).content.decode()

    for html in (listing, page):
        assert "李**" in html and resident.id_number_masked in html
        secrets = [RAW_ID, "李小明", resident.id_number_encrypted, resident.patient_key, RAW_ID[6:14]]
        assert [secret for secret in secrets if secret in html] == []


def test_a_bad_id_number_is_refused_on_the_form(admin_client, world):
    mine, _other, _users = world
    wrong = RAW_ID[:-1] + ("0" if RAW_ID[-1] != "0" else "1")

    response = admin_client.post(
        url("signedresident", "add"),
        sign_form(mine.rows["teams"], id_number=wrong),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    expected = "The check digit of this resident ID number is wrong; please check the number."
    assert form_errors(response) == {"id_number": [expected]}
    assert not SignedResident.objects.filter(name="李小明").exists()


def test_the_search_box_does_not_look_up_id_numbers(admin_client, world):
    # A search goes into the URL and URLs reach server logs: ID lookup is the API's POST body only.
    mine, _other, _users = world
    admin_client.post(url("signedresident", "add"), sign_form(mine.rows["teams"]))

    response = admin_client.get(f"{url('signedresident', 'changelist')}?q={RAW_ID}")

    assert list(response.context["cl"].result_list) == []


def test_a_corrected_name_replaces_the_name_through_the_service(admin_client, world):
    mine, _other, _users = world
    resident = mine.rows["residents"]
    data = {
        "team": resident.team.pk,
        "corrected_name": "王小红",
        "signed_on": "2024-01-01",
        "valid_to": "2026-01-01",
    }

    response = admin_client.post(url("signedresident", "change", resident.pk), data)

    assert response.status_code == 302
    resident.refresh_from_db()
    assert (resident.name, resident.valid_to, resident.chronic_conditions) == ("王小红", D(2026, 1, 1), [])


# --- Memberships --------------------------------------------------------------------------------------------
def test_a_membership_is_granted_and_revoked_never_edited(admin_client, world):
    mine, _other, _users = world
    person = UserFactory(username="newcomer")
    data = {"user": person.pk, "role": "institution_admin", "institution": mine.home.pk, "alliance": ""}

    added = admin_client.post(url("membership", "add"), data)
    membership = Membership.objects.get(user=person)
    edited = admin_client.post(url("membership", "change", membership.pk), {**data, "role": "clinician"})
    revoked = admin_client.post(url("membership", "delete", membership.pk), {"post": "yes"})

    assert (added.status_code, edited.status_code, revoked.status_code) == (302, 403, 302)
    assert not Membership.objects.filter(user=person).exists()


def test_a_membership_whose_scope_does_not_match_its_role_is_refused(admin_client, world):
    mine, _other, _users = world
    person = UserFactory(username="newcomer")
    data = {"user": person.pk, "role": "bureau", "institution": mine.home.pk, "alliance": ""}

    response = admin_client.post(url("membership", "add"), data, HTTP_ACCEPT_LANGUAGE="en")

    expected = "Alliance roles need an alliance and no institution; institution roles need an institution."
    assert form_errors(response) == {"__all__": [expected]}
    assert not Membership.objects.filter(user=person).exists()


def test_a_staff_user_who_is_not_superuser_sees_only_the_rows_of_their_reach(client, world):
    from django.contrib.auth.models import Permission

    mine, _other, users = world
    bureau = users["bureau"]
    bureau.is_staff = True
    bureau.save()
    bureau.user_permissions.add(Permission.objects.get(codename="view_staffmember"))
    client.force_login(bureau)

    response = client.get(url("staffmember", "changelist"))

    assert {row.alliance for row in response.context["cl"].result_list} == {mine.alliance}
