"""Secondment pages (issue 4): the record with its days per year against the six-month rule,
the forms through second_staff and update_secondment."""

import datetime

import pytest

from members.models import Secondment

pytestmark = pytest.mark.django_db


def test_secondment_record_shows_the_years_reaching_six_months(client, world):
    mine, _other, users = world
    secondment = mine.rows["secondments"]  # stationed since 2025-01-01, open-ended
    client.force_login(users["institution_admin"])

    response = client.get(f"/people/secondments/{secondment.pk}/")

    years = response.context["years"]
    assert years[0] == (2025, 365, True)
    assert all(reaches for _year, _days, reaches in years[:-1])
    assert "变更记录" in response.content.decode()


def test_secondment_of_another_county_is_not_found(client, world):
    _mine, other, users = world
    client.force_login(users["alliance_admin"])

    assert client.get(f"/people/secondments/{other.rows['secondments'].pk}/").status_code == 404


def test_record_a_secondment_by_employee_number(client, world):
    mine, _other, users = world
    doctor = mine.rows["lead_staff"]
    client.force_login(users["alliance_admin"])

    response = client.post(
        "/people/secondments/new/",
        {
            "employee_number": doctor.employee_number,
            "to_institution": mine.branches[1].pk,
            "kind": "patrol",
            "start_date": "2024-03-01",  # before the world's stationing from 2025-01-01
            "end_date": "2024-04-01",
            "notes": "",
        },
    )

    secondment = Secondment.objects.get(to_institution=mine.branches[1])
    assert response["Location"] == f"/people/secondments/{secondment.pk}/"
    assert (secondment.staff, secondment.from_institution) == (doctor, mine.lead)


def test_an_overlapping_secondment_shows_the_service_message_in_chinese(client, world):
    """Issue 13 point 5: the world's specialist is stationed at the home branch from 2025-01-01."""
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.post(
        "/people/secondments/new/",
        {
            "employee_number": mine.rows["lead_staff"].employee_number, "to_institution": mine.branches[1].pk,
            "kind": "patrol", "start_date": "2025-03-01", "end_date": "2025-04-01", "notes": "",
        },
    )  # fmt: skip

    assert response.status_code == 200
    assert f"该医生自 2025-01-01 起已下沉到{mine.home.name}" in response.content.decode()
    assert not Secondment.objects.filter(to_institution=mine.branches[1]).exists()


def test_secondment_upwards_shows_the_service_message(client, world, zh_hans):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.post(
        "/people/secondments/new/",
        {
            "employee_number": mine.rows["staff"].employee_number,
            "to_institution": mine.lead.pk,
            "kind": "stationed",
            "start_date": "2025-03-01",
        },
    )

    assert response.context["form"].errors["to_institution"] == [
        zh_hans("A secondment goes from a higher-level institution to a lower-level one.")
    ]
    assert Secondment.objects.filter(to_institution=mine.lead).count() == 0


def test_update_secondment_records_its_end(client, world):
    mine, _other, users = world
    secondment = mine.rows["secondments"]
    client.force_login(users["alliance_admin"])

    response = client.post(
        f"/people/secondments/{secondment.pk}/edit/",
        {"kind": "stationed", "start_date": "2025-01-01", "end_date": "2025-05-01", "notes": "期满"},
    )

    secondment.refresh_from_db()
    assert response.status_code == 302
    assert secondment.end_date == datetime.date(2025, 5, 1)
    years = client.get(f"/people/secondments/{secondment.pk}/").context["years"]
    assert years == [(2025, 120, False)]


def test_institution_admin_may_not_edit_a_secondment_into_another_branch(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.post(
        "/people/secondments/new/",
        {
            "employee_number": "E99999",
            "to_institution": mine.branches[1].pk,
            "kind": "stationed",
            "start_date": "2025-03-01",
        },
    )

    assert "employee_number" in response.context["form"].errors
    assert not Secondment.objects.filter(to_institution=mine.branches[1]).exists()
