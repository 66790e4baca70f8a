"""The people lists (issue 4): scoped by the access policy, filtered, sorted, paginated, exported
to .xlsx with the same rows, with a constant number of queries, and in the menu only for the
roles that may read them."""

import datetime

import pytest

from members.models import StaffMember
from tests.members import pages

pytestmark = pytest.mark.django_db

# session, user, memberships, guardian grants (read and write at once), count, page, the
# institution filter's choices, the unread count in the header (issue 6.5);
# + the second institution or the team filter.
QUERIES = {"staff": 8, "secondments": 9, "teams": 8, "residents": 9}
IN_THE_WORLD = {"staff": 3, "secondments": 1, "teams": 1, "residents": 1}  # tests/world.py, first county
ROWS = {
    "staff": pages.add_staff,
    "secondments": pages.add_secondments,
    "teams": pages.add_teams,
    "residents": pages.add_residents,
}


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize("name", list(QUERIES))
def test_list_query_count_does_not_grow_with_rows(client, world, django_assert_num_queries, name, rows):
    mine, _other, users = world
    ROWS[name](mine, rows)
    client.force_login(users["alliance_admin"])
    client.get(f"/people/{name}/")  # warm the process-wide caches (content types)

    with django_assert_num_queries(QUERIES[name]):
        response = client.get(f"/people/{name}/")

    assert response.status_code == 200
    assert len(response.context["rows"]) == min(rows + IN_THE_WORLD[name], 50)


def test_filtered_staff_list_query_count_is_pinned(client, world, django_assert_num_queries):
    mine, _other, users = world
    pages.add_staff(mine, 60)
    client.force_login(users["alliance_admin"])
    client.get("/people/staff/")

    # + the chosen institution (checked against the scope) and its departments (the choices)
    with django_assert_num_queries(QUERIES["staff"] + 2):
        response = client.get("/people/staff/", {"institution": mine.home.pk, "sort": "-name"})

    assert response.context["paginator"].count == 61


def _names(response):
    return [row.name for row, _values in response.context["rows"]]


def test_township_admin_sees_only_their_institutions_staff(client, world):
    mine, _other, users = world
    client.force_login(users["institution_admin"])

    response = client.get("/people/staff/")

    assert response.status_code == 200
    assert _names(response) == ["全科1"]
    html = response.content.decode()
    assert "全科1" in html and "医生1" not in html and "专家1" not in html and "全科2" not in html


def test_alliance_admin_sees_the_alliance_staff_and_not_the_other_countys(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.get("/people/staff/", {"sort": "name"})

    assert sorted(_names(response)) == ["专家1", "全科1", "医生1"]


def test_staff_filter_by_institution_as_the_tree_links_to_it(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.get("/people/staff/", {"institution": mine.branches[1].pk})

    assert _names(response) == ["医生1"]


def test_staff_filter_on_another_countys_institution_is_refused(client, world):
    _mine, other, users = world
    client.force_login(users["alliance_admin"])

    response = client.get("/people/staff/", {"institution": other.home.pk})

    assert _names(response) == []
    assert "institution" in response.context["filter"].errors


def test_staff_search_by_name_or_employee_number(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    by_name = client.get("/people/staff/", {"search": "专家"})
    by_number = client.get("/people/staff/", {"search": mine.rows["staff"].employee_number})

    assert _names(by_name) == ["专家1"]
    assert _names(by_number) == ["全科1"]


def test_staff_sort_descending_by_name(client, world):
    mine, _other, users = world
    pages.add_staff(mine, 3)
    client.force_login(users["alliance_admin"])

    response = client.get("/people/staff/", {"sort": "-name"})

    names = _names(response)
    assert names == sorted(names, reverse=True)
    assert 'aria-sort="descending"' in response.content.decode()


def test_pagination_keeps_the_filter(client, world):
    mine, _other, users = world
    pages.add_staff(mine, 60)
    client.force_login(users["alliance_admin"])

    first = client.get("/people/staff/", {"institution": mine.home.pk})
    second = client.get("/people/staff/", {"institution": mine.home.pk, "page": 2})

    assert first.context["paginator"].count == 61
    assert f"institution={mine.home.pk}&amp;page=2" in first.content.decode()
    assert len(second.context["rows"]) == 11


def test_staff_export_has_the_rows_of_the_filtered_list(client, world):
    mine, _other, users = world
    pages.add_staff(mine, 4)
    client.force_login(users["alliance_admin"])
    query = {"institution": mine.home.pk, "sort": "-name"}

    listed = client.get("/people/staff/", query)
    exported = client.get("/people/staff/", {**query, "export": "xlsx"})

    assert exported["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in exported["Content-Disposition"]
    header, *rows = pages.sheet_rows(exported)
    assert header[:3] == ["姓名", "工号", "任职机构"]
    assert [row[:2] for row in rows] == [
        [staff.name, staff.employee_number] for staff, _values in listed.context["rows"]
    ]
    assert len(rows) == 5


def test_institution_admin_export_is_scoped(client, world):
    _mine, _other, users = world
    client.force_login(users["institution_admin"])

    _header, *rows = pages.sheet_rows(client.get("/people/staff/", {"export": "xlsx"}))

    assert [row[0] for row in rows] == ["全科1"]


def test_team_list_shows_composition_and_residents(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.get("/people/teams/")

    ((team, values),) = response.context["rows"]
    assert team == mine.rows["teams"]
    assert (team.member_count, team.gp_count, team.specialist_count, team.resident_count) == (1, 1, 0, 1)


def test_secondment_list_filters_six_months_in_a_year(client, world):
    mine, _other, users = world
    client.force_login(users["alliance_admin"])

    reaching = client.get("/people/secondments/", {"reaches_six_months_in": 2025})
    before = client.get("/people/secondments/", {"reaches_six_months_in": 2024})

    assert [row for row, _ in reaching.context["rows"]] == [mine.rows["secondments"]]
    assert list(before.context["rows"]) == []


def test_resident_list_and_export_show_masked_name_and_id_only(client, world):
    mine, _other, users = world
    resident = mine.rows["residents"]
    number = pages.resident_id(1)
    client.force_login(users["alliance_admin"])

    html = client.get("/people/residents/").content.decode()
    rows = pages.sheet_rows(client.get("/people/residents/", {"export": "xlsx"}))

    assert resident.id_number_masked in html and "王*" in html
    assert number not in html and "王1" not in html and "1965-03-15" not in html
    assert rows[1][:2] == ["王*", resident.id_number_masked]
    cells = [str(cell) for row in rows for cell in row]
    assert number not in cells and "王1" not in cells
    assert not any("1965" in cell for cell in cells)


def test_add_button_only_for_roles_that_write(client, world):
    _mine, _other, users = world

    client.force_login(users["alliance_admin"])
    writer = client.get("/people/staff/").content.decode()
    client.force_login(users["bureau"])
    reader = client.get("/people/staff/").content.decode()

    assert 'href="/people/staff/new/"' in writer
    assert 'href="/people/staff/new/"' not in reader


PEOPLE_LINKS = [
    'href="/people/staff/"',
    'href="/people/secondments/"',
    'href="/people/teams/"',
    'href="/people/residents/"',
]


@pytest.mark.parametrize(
    "role, shown",
    [
        ("bureau", True),
        ("alliance_admin", True),
        ("institution_admin", True),
        ("clinician", True),
        ("committee", False),
        ("finance", False),
        ("insurance_feed", False),
    ],
)
def test_navigation_shows_people_pages_only_to_roles_that_read_them(client, world, role, shown):
    _mine, _other, users = world
    client.force_login(users[role])

    html = client.get("/").content.decode()

    assert [link in html for link in PEOPLE_LINKS] == [shown] * 4


def test_committee_gets_no_rows_from_the_people_lists(client, world):
    _mine, _other, users = world
    client.force_login(users["committee"])

    for name in QUERIES:
        response = client.get(f"/people/{name}/")
        assert response.context["paginator"].count == 0


def test_lists_need_a_login(client, db):
    response = client.get("/people/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert StaffMember.objects.count() == 0


def test_a_staff_name_that_looks_like_a_formula_is_exported_as_text(client, world):
    """Issue 13 point 4: a cell starting with =, +, - or @ opens as typed, never as a live formula."""
    from io import BytesIO

    from openpyxl import load_workbook

    from members import services

    mine, _other, users = world
    names = ['=HYPERLINK("http://evil.example","点我")', "+1+2", "-3+4", "@SUM(A1)"]
    for n, name in enumerate(names):
        services.hire_staff(
            alliance=mine.alliance, institution=mine.home, valid_from=datetime.date(2024, 1, 1), acting_user=None,
            employee_number=f"E71{n:02d}", name=name, gender="female", profession="doctor",
        )  # fmt: skip
    client.force_login(users["alliance_admin"])

    exported = client.get("/people/staff/", {"export": "xlsx"})

    sheet = load_workbook(BytesIO(exported.content)).worksheets[0]
    cells = {cell.value: cell.data_type for row in sheet.iter_rows(min_row=2) for cell in row[:1]}
    assert {name: cells.get(name) for name in names} == dict.fromkeys(names, "s")
