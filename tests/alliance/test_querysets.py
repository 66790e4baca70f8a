"""Reads of the hierarchy (issue 3 point 1): "as it stood on a date" is `PlacementQuerySet.on`, used
by `Institution.objects.with_placement_on` and `placed_on`; history through `ever_in`."""

import datetime

import pytest

from alliance import services
from alliance.choices import MeetingKind, PlacementRole
from alliance.models import Institution, Meeting, Placement
from alliance.querysets import today
from tests.alliance.factories import FOUNDED, AllianceFactory, InstitutionFactory, build_alliance, place

pytestmark = pytest.mark.django_db

D = datetime.date
MOVE_DAY = D(2023, 7, 1)


@pytest.fixture
def moved():
    """An institution in alliance A until MOVE_DAY (exclusive) and in alliance B from MOVE_DAY."""
    first, second, institution = AllianceFactory(), AllianceFactory(), InstitutionFactory()
    place(institution, first, PlacementRole.COLLABORATING)
    services.move_institution(institution, on=MOVE_DAY, alliance=second, acting_user=None)
    return {"first": first, "second": second, "institution": institution}


@pytest.mark.parametrize(
    ("day", "alliance_key"),
    [
        (FOUNDED - datetime.timedelta(days=1), None),
        (FOUNDED, "first"),  # valid_from is inclusive
        (MOVE_DAY - datetime.timedelta(days=1), "first"),
        (MOVE_DAY, "second"),  # valid_to is exclusive: the old period is over, the new one began
        (D(2099, 12, 31), "second"),  # open-ended
    ],
)
def test_on_returns_the_placement_in_force_on_that_day(moved, day, alliance_key):
    in_force = Placement.objects.filter(institution=moved["institution"]).on(day)

    expected = [moved[alliance_key].pk] if alliance_key else []
    assert list(in_force.values_list("alliance", flat=True)) == expected


def test_current_is_on_today(moved):
    assert list(Placement.objects.current()) == list(Placement.objects.on(today()))
    assert Placement.objects.current().get().alliance == moved["second"]


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "expected"),
    [
        (D(2023, 1, 1), MOVE_DAY, ["first"]),
        (MOVE_DAY, None, ["second"]),  # adjacent to the first period: no overlap
        (D(2023, 6, 30), D(2023, 7, 2), ["first", "second"]),
        (D(2000, 1, 1), FOUNDED, []),  # ends the day the first began
        (D(2000, 1, 1), None, ["first", "second"]),
    ],
)
def test_overlapping_treats_periods_as_half_open(moved, valid_from, valid_to, expected):
    clashes = Placement.objects.filter(institution=moved["institution"]).overlapping(valid_from, valid_to)

    assert list(clashes.order_by("valid_from").values_list("alliance", flat=True)) == [
        moved[key].pk for key in expected
    ]


def test_with_placement_on_attaches_the_placement_of_that_day_in_two_queries(
    moved, django_assert_num_queries
):
    unplaced = InstitutionFactory()

    with django_assert_num_queries(2):
        before = {
            i.pk: i.placement_on(MOVE_DAY) for i in Institution.objects.with_placement_on(D(2023, 6, 30))
        }
    with django_assert_num_queries(2):
        after = {i.pk: i.placement_on(MOVE_DAY) for i in Institution.objects.with_placement_on(MOVE_DAY)}

    assert before[moved["institution"].pk].alliance == moved["first"]
    assert after[moved["institution"].pk].alliance == moved["second"]
    assert before[unplaced.pk] is None and after[unplaced.pk] is None


def test_placed_on_filters_by_the_placement_of_that_day():
    county = build_alliance(branches=2, villages_per_branch=2)
    alliance, branch = county["alliance"], county["branches"][0]
    village = county["villages"][0]
    services.move_institution(village, on=MOVE_DAY, parent=county["branches"][1], acting_user=None)

    def codes(queryset):
        return sorted(queryset.values_list("code", flat=True))

    assert codes(Institution.objects.placed_on(D(2023, 6, 30), parent=branch)) == codes(
        Institution.objects.filter(pk__in=[v.pk for v in county["villages"][:2]])
    )
    assert codes(Institution.objects.placed_on(MOVE_DAY, parent=branch)) == [county["villages"][1].code]
    assert Institution.objects.placed_on(MOVE_DAY, alliance=alliance, role="lead").get() == county["lead"]
    assert Institution.objects.placed_on(MOVE_DAY, alliance=alliance).count() == 8
    assert not Institution.objects.placed_on(FOUNDED - datetime.timedelta(days=1), alliance=alliance).exists()


def test_ever_in_includes_institutions_that_left(moved):
    stayed = InstitutionFactory()
    place(stayed, moved["second"], PlacementRole.BRANCH)
    never = InstitutionFactory()

    assert list(Institution.objects.ever_in([moved["first"]])) == [moved["institution"]]
    assert set(Institution.objects.ever_in([moved["second"]])) == {moved["institution"], stayed}
    assert never not in Institution.objects.ever_in([moved["first"], moved["second"]])


def test_government_count_by_year_groups_by_alliance_and_year():
    first, second = AllianceFactory(), AllianceFactory()
    for alliance, kind, day in [
        (first, MeetingKind.GOVERNMENT, D(2023, 5, 1)),
        (first, MeetingKind.GOVERNMENT, D(2024, 3, 1)),
        (first, MeetingKind.GOVERNMENT, D(2024, 9, 1)),
        (first, MeetingKind.COMMITTEE, D(2024, 10, 1)),
        (second, MeetingKind.GOVERNMENT, D(2024, 4, 1)),
    ]:
        services.record_meeting(alliance=alliance, kind=kind, held_on=day, title="会议", acting_user=None)

    rows = list(Meeting.objects.government_count_by_year())

    assert rows == [
        {"alliance": first.pk, "year": 2023, "count": 1},
        {"alliance": first.pk, "year": 2024, "count": 2},
        {"alliance": second.pk, "year": 2024, "count": 1},
    ]
