"""Single-row rules of the hierarchy (issue 3 points 1 and 3): validators, check constraints, the
half-open period of a placement, and on PostgreSQL the exclusion constraint `placement_no_overlap`."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from alliance.choices import PlacementRole
from alliance.models import ROLE_RANK, Alliance, Department, Institution, Placement, department_code_validator
from core.models import DATES_IN_ORDER
from tests.alliance.factories import (
    COUNTY,
    FOUNDED,
    AllianceFactory,
    InstitutionFactory,
    credit_code,
    place,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def _raw_placement(institution, alliance, valid_from, valid_to=None, role=PlacementRole.BRANCH, parent=None):
    """A placement written straight to the table, bypassing the service (as a bad import would)."""
    with transaction.atomic():
        return Placement.objects.create(
            institution=institution,
            alliance=alliance,
            role=role,
            parent=parent,
            valid_from=valid_from,
            valid_to=valid_to,
        )


# --- The half-open period ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (D(2020, 12, 31), False),
        (D(2021, 1, 1), True),  # valid_from is inside
        (D(2021, 6, 30), True),
        (D(2021, 7, 1), False),  # valid_to is outside
    ],
)
def test_a_placement_covers_valid_from_but_not_valid_to(day, covered):
    placement = Placement(valid_from=D(2021, 1, 1), valid_to=D(2021, 7, 1))

    assert placement.covers(day) is covered


def test_an_open_ended_placement_covers_every_later_day():
    placement = Placement(valid_from=D(2021, 1, 1), valid_to=None)

    assert placement.covers(D(2099, 1, 1)) is True
    assert placement.covers(D(2020, 12, 31)) is False


def test_roles_rank_village_below_branch_below_the_hospitals():
    assert ROLE_RANK[PlacementRole.VILLAGE] < ROLE_RANK[PlacementRole.BRANCH]
    assert ROLE_RANK[PlacementRole.BRANCH] < ROLE_RANK[PlacementRole.COLLABORATING]
    assert ROLE_RANK[PlacementRole.COLLABORATING] == ROLE_RANK[PlacementRole.LEAD]


# --- Check constraints ------------------------------------------------------------------------------
@pytest.mark.parametrize("valid_to", [D(2021, 1, 1), D(2020, 12, 31)])
def test_a_placement_ending_on_or_before_its_start_fails_validation(valid_to):
    alliance, institution = AllianceFactory(), InstitutionFactory()
    placement = Placement(
        institution=institution,
        alliance=alliance,
        role=PlacementRole.BRANCH,
        valid_from=D(2021, 1, 1),
        valid_to=valid_to,
    )

    with pytest.raises(ValidationError) as caught:
        placement.full_clean()

    assert caught.value.message_dict == {"__all__": [gettext(DATES_IN_ORDER)]}


def test_the_database_rejects_a_placement_ending_before_its_start():
    alliance, institution = AllianceFactory(), InstitutionFactory()

    with pytest.raises(IntegrityError):
        _raw_placement(institution, alliance, D(2021, 1, 1), D(2021, 1, 1))

    assert not Placement.objects.filter(institution=institution).exists()


def test_the_database_rejects_an_institution_as_its_own_parent():
    alliance, institution = AllianceFactory(), InstitutionFactory()

    with pytest.raises(IntegrityError):
        _raw_placement(institution, alliance, D(2021, 1, 1), role=PlacementRole.VILLAGE, parent=institution)

    assert not Placement.objects.filter(institution=institution).exists()


# --- Validators -------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["03", "03.01", "50", "04.12"])
def test_a_standard_clinical_department_code_is_accepted(code):
    department_code_validator(code)


@pytest.mark.parametrize("code", ["3", "003", "03.1", "03-01", "98", "ab", ""])
def test_a_non_standard_department_code_is_rejected(code):
    with pytest.raises(ValidationError) as caught:
        department_code_validator(code)

    assert caught.value.code == "department_code"
    assert caught.value.messages == [
        gettext("Use a standard clinical department code (诊疗科目代码), e.g. 03 or 03.01.")
    ]


def test_an_institution_with_a_bad_credit_code_or_region_code_fails_validation():
    institution = InstitutionFactory.build(credit_code=credit_code(3)[:-1] + "0", region_code="99")

    with pytest.raises(ValidationError) as caught:
        institution.full_clean()

    assert caught.value.message_dict == {
        "credit_code": [gettext("The check character of this unified social credit code is wrong.")],
        "region_code": [gettext("A region code is six digits (GB/T 2260), e.g. 330782.")],
    }


def test_an_institution_without_a_credit_code_is_valid():
    # Many village clinics have no unified social credit code (DESIGN §3).
    InstitutionFactory.build(credit_code="").full_clean()


def test_two_institutions_without_a_credit_code_may_coexist_but_not_two_with_the_same():
    InstitutionFactory(credit_code=""), InstitutionFactory(credit_code="")
    InstitutionFactory(credit_code=credit_code(5))

    with pytest.raises(IntegrityError), transaction.atomic():
        InstitutionFactory(credit_code=credit_code(5))

    assert Institution.objects.filter(credit_code="").count() == 2
    assert Institution.objects.filter(credit_code=credit_code(5)).count() == 1


def test_an_alliance_region_code_must_be_a_gb_t_2260_code():
    with pytest.raises(ValidationError) as caught:
        Alliance(name="某县医共体", region_code="12345").full_clean()

    assert list(caught.value.message_dict) == ["region_code"]
    Alliance(name="某县医共体", region_code=COUNTY).full_clean()


def test_a_department_code_is_unique_within_its_institution_only():
    first, second = InstitutionFactory(), InstitutionFactory()
    Department.objects.create(institution=first, code="03", name="内科")
    Department.objects.create(institution=second, code="03", name="内科")

    duplicate = Department(institution=first, code="03", name="内科二")
    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()

    assert caught.value.message_dict == {
        "__all__": [gettext("This institution already has a department with this code.")]
    }


# --- The institution's placement on a date -----------------------------------------------------------
def test_placement_on_returns_the_placement_in_force_or_none():
    alliance, institution = AllianceFactory(), InstitutionFactory()
    placement = place(institution, alliance, PlacementRole.BRANCH)

    assert institution.placement_on(FOUNDED) == placement
    assert institution.placement_on(FOUNDED - datetime.timedelta(days=1)) is None


def test_placement_on_uses_the_prefetched_placement_without_a_query(django_assert_num_queries):
    alliance, institution = AllianceFactory(), InstitutionFactory()
    placement = place(institution, alliance, PlacementRole.BRANCH)
    fetched = Institution.objects.with_placement_on(FOUNDED).get(pk=institution.pk)

    with django_assert_num_queries(0):
        assert fetched.placement_on(FOUNDED) == placement
        assert fetched.placement_on(FOUNDED).alliance == alliance


# --- PostgreSQL: the exclusion constraint ------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((D(2021, 1, 1), None), (D(2022, 1, 1), None)),  # an open period and a later one
        ((D(2021, 1, 1), D(2022, 1, 1)), (D(2021, 12, 31), D(2023, 1, 1))),  # one day in common
        ((D(2021, 1, 1), D(2022, 1, 1)), (D(2020, 1, 1), None)),  # the new one encloses the old
        ((D(2021, 1, 1), D(2022, 1, 1)), (D(2021, 1, 1), D(2022, 1, 1))),  # the same period twice
    ],
)
def test_the_exclusion_constraint_rejects_a_raw_overlapping_insert(first, second):
    institution = InstitutionFactory()
    alliance_a, alliance_b = AllianceFactory(), AllianceFactory()
    kept = _raw_placement(institution, alliance_a, *first)

    with pytest.raises(IntegrityError) as caught:
        _raw_placement(institution, alliance_b, *second)

    assert "placement_no_overlap" in str(caught.value)
    assert list(Placement.objects.filter(institution=institution)) == [kept]


@pytest.mark.postgres
def test_the_exclusion_constraint_allows_adjacent_periods():
    institution = InstitutionFactory()
    alliance_a, alliance_b = AllianceFactory(), AllianceFactory()

    _raw_placement(institution, alliance_a, D(2021, 1, 1), D(2022, 1, 1))
    _raw_placement(institution, alliance_b, D(2022, 1, 1), D(2023, 1, 1))
    _raw_placement(institution, alliance_a, D(2023, 1, 1))

    periods = Placement.objects.filter(institution=institution).values_list("valid_from", "valid_to")
    assert list(periods) == [
        (D(2021, 1, 1), D(2022, 1, 1)),
        (D(2022, 1, 1), D(2023, 1, 1)),
        (D(2023, 1, 1), None),
    ]


@pytest.mark.postgres
def test_the_exclusion_constraint_concerns_one_institution_only():
    alliance = AllianceFactory()
    first, second = InstitutionFactory(), InstitutionFactory()

    _raw_placement(first, alliance, D(2021, 1, 1))
    _raw_placement(second, alliance, D(2021, 1, 1))

    assert Placement.objects.filter(alliance=alliance).count() == 2
