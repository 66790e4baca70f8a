"""Helpers of the people-page tests: rows in bulk for the query-count tests, and reading an
.xlsx export back."""

import datetime
from io import BytesIO

from openpyxl import load_workbook

from members import services
from members.choices import SecondmentKind, TeamRole
from tests.members.factories import resident, resident_id, staff, team


def add_staff(county, n):
    return [staff(county.home, name=f"批量职工{i:03d}") for i in range(n)]


def add_secondments(county, n):
    return [
        services.second_staff(
            staff(county.lead, name=f"派驻专家{i:03d}"),
            to_institution=county.home,
            start_date=datetime.date(2024, 1, 1) + datetime.timedelta(days=i),
            kind=SecondmentKind.STATIONED,
            acting_user=None,
        )
        for i in range(n)
    ]


def add_teams(county, n):
    teams = []
    for i in range(n):
        new = team(county.home, name=f"批量团队{i:03d}")
        doctor = staff(county.home, name=f"团队全科{i:03d}", is_general_practitioner=True)
        services.add_team_member(new, staff=doctor, role=TeamRole.GENERAL_PRACTITIONER, acting_user=None)
        teams.append(new)
    return teams


def add_residents(county, n):
    home_team = county.rows["teams"]
    return [resident(home_team, id_number=resident_id(100 + i), name=f"李{i:03d}") for i in range(n)]


def sheet_rows(response):
    """The rows of the first sheet of an .xlsx response (header first)."""
    workbook = load_workbook(BytesIO(response.content))
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
