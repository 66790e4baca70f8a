"""Signed-resident pages (issue 4): the name and ID number only masked, on every page, in the
export and in the history; the birth date nowhere; finding by ID number as a POST through the
keyed hash; a typed ID number never written back into a page."""

import pytest

from members.models import SignedResident
from tests.members.factories import resident_id

pytestmark = pytest.mark.django_db

RAW = resident_id(1)  # the first county's resident, 王1, born 1965-03-15
NEW = resident_id(7, birth="19800101")


def _clean(html, *secrets):
    return not any(secret in html for secret in secrets)


def test_resident_record_is_masked_and_has_no_birth_date(client, world):
    mine, _other, users = world
    resident = mine.rows["residents"]
    client.force_login(users["institution_admin"])

    html = client.get(f"/people/residents/{resident.pk}/").content.decode()

    assert "王*" in html and resident.id_number_masked in html
    assert _clean(html, RAW, "王1", "1965-03-15", "1965年3月15日", "19650315")


def test_resident_history_masks_the_name_and_hides_the_birth_date(client, world):
    mine, _other, users = world
    resident = mine.rows["residents"]
    client.force_login(users["alliance_admin"])
    client.post(
        f"/people/residents/{resident.pk}/edit/",
        {"team": resident.team_id, "name": "王一一", "signed_on": "2024-01-01", "valid_to": ""},
    )

    response = client.get(f"/people/residents/{resident.pk}/")

    html = response.content.decode()
    changes = [change for entry in response.context["history"] for change in entry.readable_changes]
    assert ("名称", "王*", "王**") in changes
    assert _clean(html, "王一一", "王1", "1965-03-15", RAW)


def test_resident_of_another_branch_is_not_found(client, world):
    _mine, other, users = world
    client.force_login(users["institution_admin"])

    assert client.get(f"/people/residents/{other.rows['residents'].pk}/").status_code == 404


def test_find_by_id_number_opens_the_record(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post("/people/residents/find/", {"id_number": RAW})

    assert response.status_code == 302
    assert response["Location"] == f"/people/residents/{mine.rows['residents'].pk}/"


def test_find_by_id_number_outside_scope_finds_nothing(client, world):
    _mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post("/people/residents/find/", {"id_number": resident_id(2)})  # the other county's

    html = response.content.decode()
    assert response.status_code == 200
    assert "在您可查看的签约居民中没有该身份证号。" in html
    assert _clean(html, resident_id(2))


def test_find_with_a_malformed_number_says_why_and_does_not_show_it_back(client, world, zh_hans):
    _mine, _other, users = world
    client.force_login(users["institution_admin"])
    typo = RAW[:-1] + ("0" if RAW[-1] != "0" else "1")

    response = client.post("/people/residents/find/", {"id_number": typo})

    html = response.content.decode()
    assert zh_hans("The check digit of this resident ID number is wrong; please check the number.") in html
    assert _clean(html, typo)


def test_find_is_post_only(client, world):
    _mine, _other, users = world
    client.force_login(users["institution_admin"])

    assert client.get("/people/residents/find/", {"id_number": RAW}).status_code == 405


def test_sign_a_resident(client, world):
    mine, _other, users = world
    team = mine.rows["teams"]
    client.force_login(users["institution_admin"])

    response = client.post(
        "/people/residents/new/",
        {
            "team": team.pk,
            "name": "赵小红",
            "id_number": NEW,
            "signed_on": "2025-02-01",
            "chronic_conditions": ["hypertension", "diabetes"],
        },
    )

    signed = SignedResident.objects.get(name="赵小红")
    assert response["Location"] == f"/people/residents/{signed.pk}/"
    assert signed.chronic_conditions == ["hypertension", "diabetes"]
    html = client.get(response["Location"]).content.decode()
    assert "赵**" in html and "高血压" in html and _clean(html, NEW, "赵小红")


def test_sign_with_a_bad_id_number_shows_the_message_and_clears_the_number(client, world, zh_hans):
    mine, _other, users = world
    client.force_login(users["institution_admin"])
    bad = NEW[:-1] + ("0" if NEW[-1] != "0" else "1")

    response = client.post(
        "/people/residents/new/",
        {"team": mine.rows["teams"].pk, "name": "赵小红", "id_number": bad, "signed_on": "2025-02-01"},
    )

    html = response.content.decode()
    assert response.context["form"].errors["id_number"] == [
        zh_hans("The check digit of this resident ID number is wrong; please check the number.")
    ]
    assert _clean(html, bad)
    assert 'name="id_number"' in html and not SignedResident.objects.filter(name="赵小红").exists()


def test_sign_a_resident_twice_shows_the_service_message_without_the_number(client, world, zh_hans):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post(
        "/people/residents/new/",
        {"team": mine.rows["teams"].pk, "name": "王1", "id_number": RAW, "signed_on": "2025-02-01"},
    )

    html = response.content.decode()
    assert zh_hans("This resident already has a family-doctor contract.") in html
    assert _clean(html, RAW)


def test_edit_with_an_empty_name_keeps_the_name(client, world):
    mine, _other, users = world
    resident = mine.rows["residents"]
    client.force_login(users["institution_admin"])
    form_html = client.get(f"/people/residents/{resident.pk}/edit/").content.decode()

    response = client.post(
        f"/people/residents/{resident.pk}/edit/",
        {"team": resident.team_id, "name": "", "signed_on": "2024-01-01", "valid_to": "2026-01-01"},
    )

    resident.refresh_from_db()
    assert response.status_code == 302
    assert resident.name == "王1" and str(resident.valid_to) == "2026-01-01"
    assert _clean(form_html, "王1", RAW)


def test_team_choices_of_the_sign_form_are_the_users_teams(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    form = client.get("/people/residents/new/").context["form"]

    assert list(form.fields["team"].queryset) == [mine.rows["teams"]]
