"""Late data restated visibly (issue 14 point 5): a placement change changes the hierarchy of
every month from its date's month on, so it marks those months through the current one for the
alliance left and the alliance joined, the placement as the cause; a change of open beds marks
the current month of the institution's alliance (`beds.open_days` reads today's figure). Refused
changes mark nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from alliance import services
from alliance.choices import PlacementRole
from core.measures import month_range
from tests.alliance.factories import AllianceFactory, InstitutionFactory, build_alliance, place
from tests.core.marks import marks, months_marked

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 16)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The marks run through the current month: the tests run on 16 March 2026."""
    monkeypatch.setattr(services, "today", lambda: TODAY)


@pytest.fixture
def county():
    return build_alliance(branches=1, villages_per_branch=1)


def joined(alliance, valid_from, role=PlacementRole.COLLABORATING):
    return services.join_alliance(
        InstitutionFactory(), alliance=alliance, role=role, valid_from=valid_from, acting_user=None
    )


def test_joining_marks_the_months_from_valid_from_through_today_with_the_placement_as_cause(county):
    placement = joined(county["alliance"], D(2025, 11, 20))

    assert marks(placement) == [
        (county["alliance"].pk, month, "alliance.placement", placement.pk)
        for month in month_range(D(2025, 11, 1), D(2026, 3, 1))
    ]


def test_a_join_dated_ahead_marks_its_own_month(county):
    placement = joined(county["alliance"], D(2026, 6, 1))

    assert months_marked(county["alliance"], placement) == [D(2026, 6, 1)]


def test_moving_to_another_alliance_marks_both_from_the_month_of_the_move(county):
    other = AllianceFactory()
    collaborating = county["collaborating"]

    placement = services.move_institution(collaborating, on=D(2026, 2, 10), alliance=other, acting_user=None)

    assert placement.alliance == other
    assert months_marked(county["alliance"], placement) == [D(2026, 2, 1), D(2026, 3, 1)]
    assert months_marked(other, placement) == [D(2026, 2, 1), D(2026, 3, 1)]


def test_a_move_on_the_first_leaves_the_month_before_unmarked(county):
    """A month's hierarchy is its last day's: a move on 1 March changes March on, not February."""
    placement = services.move_institution(
        county["collaborating"], on=D(2026, 3, 1), role=PlacementRole.PARTNER, acting_user=None
    )

    assert marks(placement) == [(county["alliance"].pk, D(2026, 3, 1), "alliance.placement", placement.pk)]


def test_leaving_marks_the_alliance_left_with_the_closed_placement_as_cause(county):
    placement = joined(county["alliance"], D(2024, 1, 1))
    before = len(marks(placement))

    closed = services.leave_alliance(placement.institution, on=D(2026, 1, 5), acting_user=None)

    assert closed.pk == placement.pk
    assert len(marks(placement)) == before + 3  # January to March 2026


def test_refused_placement_changes_mark_nothing(county):
    before = marks()

    with pytest.raises(ValidationError):  # already in an alliance in that period
        services.join_alliance(
            county["collaborating"], alliance=AllianceFactory(), role=PlacementRole.LEAD,
            valid_from=D(2025, 1, 1), acting_user=None,
        )  # fmt: skip
    with pytest.raises(ValidationError):  # a village clinic's parent must be a branch
        services.move_institution(
            county["villages"][0], on=D(2026, 1, 1), parent=county["lead"], acting_user=None
        )
    with pytest.raises(ValidationError):  # a branch with village clinics cannot leave
        services.leave_alliance(county["branches"][0], on=D(2026, 1, 1), acting_user=None)

    assert marks() == before


def test_registering_a_member_marks_through_its_placement(county):
    institution = services.register_member(
        alliance=county["alliance"], role=PlacementRole.BRANCH, valid_from=D(2026, 1, 1), acting_user=None,
        code="H9001", name="新乡镇卫生院", level="primary", region_code="330782", licensed_beds=20, open_beds=18,
    )  # fmt: skip

    placement = institution.placements.get()
    assert months_marked(county["alliance"], placement) == [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)]


# --- Open beds ------------------------------------------------------------------------------------
def test_a_change_of_open_beds_marks_the_current_month_with_the_institution_as_cause(county):
    lead = county["lead"]

    services.update_institution(lead, open_beds=lead.open_beds + 10, acting_user=None)

    assert marks(lead) == [(county["alliance"].pk, D(2026, 3, 1), "alliance.institution", lead.pk)]


def test_other_changes_and_the_same_figure_again_mark_nothing(county):
    lead = county["lead"]

    services.update_institution(lead, name="县第一人民医院", open_beds=lead.open_beds, acting_user=None)
    services.update_institution(lead, licensed_beds=lead.licensed_beds + 5, acting_user=None)

    assert marks(lead) == []


def test_the_figure_already_set_on_the_instance_still_counts_as_a_change(county):
    """A page's form sets the instance's fields before the service runs: the stored figure decides."""
    lead = county["lead"]
    lead.open_beds += 10

    services.update_institution(lead, open_beds=lead.open_beds, acting_user=None)

    assert months_marked(county["alliance"], lead) == [D(2026, 3, 1)]


def test_open_beds_of_a_partner_or_an_unplaced_institution_mark_nothing(county):
    partner = InstitutionFactory()
    place(partner, county["alliance"], PlacementRole.PARTNER)
    unplaced = InstitutionFactory()

    for institution in (partner, unplaced):
        services.update_institution(institution, open_beds=institution.open_beds + 1, acting_user=None)

    assert marks(partner) == marks(unplaced) == []


def test_refused_open_beds_mark_nothing(county):
    lead = county["lead"]

    with pytest.raises(ValidationError):
        services.update_institution(lead, open_beds=-1, acting_user=None)

    assert marks(lead) == []
