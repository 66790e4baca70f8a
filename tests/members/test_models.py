"""Single-row rules of people (issue 3 points 2 and 3): the six-months-in-a-year count of a
secondment, licence numbers, membership scope, date order and masking."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from members.choices import MembershipRole, SecondmentKind
from members.models import Membership, Secondment, SignedResident, licence_number_validator
from members.querysets import SIX_MONTHS_DAYS
from tests.alliance.factories import AllianceFactory, InstitutionFactory
from tests.core.factories import UserFactory

D = datetime.date


@pytest.mark.parametrize(
    ("start", "end", "year", "days"),
    [
        (D(2024, 1, 1), D(2024, 7, 1), 2024, 182),  # end date exclusive
        (D(2024, 1, 1), D(2024, 7, 2), 2024, 183),
        (D(2024, 7, 2), None, 2024, 183),  # open-ended: to the end of the year
        (D(2023, 9, 1), D(2024, 6, 30), 2023, 122),  # spanning a year end: only the days inside
        (D(2023, 9, 1), D(2024, 6, 30), 2024, 181),
        (D(2023, 1, 1), None, 2024, 366),  # a leap year, whole
        (D(2025, 1, 1), None, 2024, 0),  # begins after the year
        (D(2023, 1, 1), D(2024, 1, 1), 2024, 0),  # ended the day the year began
    ],
)
def test_days_in_year_counts_only_the_days_inside_that_year(start, end, year, days):
    secondment = Secondment(start_date=start, end_date=end)

    assert secondment.days_in_year(year) == days


@pytest.mark.parametrize(
    ("kind", "start", "end", "reaches"),
    [
        (SecondmentKind.STATIONED, D(2024, 1, 1), D(2024, 7, 2), True),
        (SecondmentKind.STATIONED, D(2024, 1, 1), D(2024, 7, 1), False),
        (SecondmentKind.PATROL, D(2024, 1, 1), None, False),  # visiting rounds never count
    ],
)
def test_reaches_six_months_needs_stationing_of_183_days_in_the_year(kind, start, end, reaches):
    secondment = Secondment(kind=kind, start_date=start, end_date=end)

    assert SIX_MONTHS_DAYS == 183
    assert secondment.reaches_six_months(2024) is reaches


@pytest.mark.parametrize("number", ["110330100000001", "A12345678", "1" * 30])
def test_a_practising_licence_number_of_digits_and_capitals_is_accepted(number):
    licence_number_validator(number)


@pytest.mark.parametrize("number", ["12345678", "1" * 31, "1103 3010 0000", "a12345678", "110330-10000"])
def test_a_malformed_practising_licence_number_is_rejected(number):
    with pytest.raises(ValidationError) as caught:
        licence_number_validator(number)

    assert caught.value.messages == [
        gettext("A practising licence number is 9 to 30 digits or capital letters, without spaces.")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (MembershipRole.BUREAU, "institution"),
        (MembershipRole.BUREAU, "both"),
        (MembershipRole.CLINICIAN, "alliance"),
        (MembershipRole.API_CLIENT, "none"),
    ],
)
def test_a_membership_scope_must_match_its_role(role, scope):
    alliance, institution = AllianceFactory(), InstitutionFactory()
    membership = Membership(
        user=UserFactory(),
        role=role,
        alliance=alliance if scope in ("alliance", "both") else None,
        institution=institution if scope in ("institution", "both") else None,
    )

    with pytest.raises(ValidationError) as caught:
        membership.full_clean()

    assert caught.value.message_dict == {
        "__all__": [
            gettext(
                "Alliance roles need an alliance and no institution; institution roles need an institution."
            )
        ]
    }


@pytest.mark.django_db
def test_secondment_dates_must_be_in_order():
    secondment = Secondment(
        staff_id=1,
        from_institution_id=1,
        to_institution_id=2,
        start_date=D(2024, 3, 1),
        end_date=D(2024, 3, 1),
    )

    with pytest.raises(ValidationError) as caught:
        secondment.full_clean(exclude=["staff", "from_institution", "to_institution"])

    assert caught.value.message_dict == {"__all__": [gettext("The end date must be after the start date.")]}


def test_a_signed_resident_is_shown_masked():
    resident = SignedResident(name="欧阳娜娜", id_number_masked="330782********0016")

    assert resident.masked_name == "欧阳**"
    assert str(resident) == "欧阳** 330782********0016"
