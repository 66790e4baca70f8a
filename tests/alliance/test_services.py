"""Writes of the hierarchy and governance (issue 3 points 1 and 3): registration with validated
codes, joining, moving and leaving an alliance over effective-dated periods, the rules of the
hierarchy, and the governance records."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, override

from alliance import services
from alliance.choices import CommitteePosition, DocumentKind, MeetingKind, PlacementRole
from alliance.models import (
    AlliancePopulation,
    CommitteeMember,
    GovernanceDocument,
    Institution,
    Meeting,
    Placement,
)
from core.models import DATES_IN_ORDER
from tests.alliance.factories import (
    COUNTY,
    FOUNDED,
    AllianceFactory,
    InstitutionFactory,
    build_alliance,
    credit_code,
    place,
    placement_of,
)

pytestmark = pytest.mark.django_db

D = datetime.date
MOVE_DAY = D(2023, 7, 1)


def message(msgid, **params):
    return gettext(msgid) % params if params else gettext(msgid)


def periods(institution):
    """(alliance, role, parent, valid_from, valid_to) of each of the institution's placements."""
    return list(
        Placement.objects.filter(institution=institution)
        .order_by("valid_from")
        .values_list("alliance", "role", "parent", "valid_from", "valid_to")
    )


def rejected(call, **kwargs):
    with pytest.raises(ValidationError) as caught:
        call(acting_user=None, **kwargs)
    return caught.value.message_dict


@pytest.fixture
def county():
    return build_alliance(branches=2, villages_per_branch=1)


# --- Registration ------------------------------------------------------------------------------------
def test_register_institution_stores_normalised_codes():
    institution = services.register_institution(
        code="H9001",
        name="某镇卫生院",
        level="primary",
        credit_code=credit_code(11).lower(),
        region_code="３３０７８２",
        licensed_beds=60,
        open_beds=55,
        acting_user=None,
    )

    institution.refresh_from_db()
    assert (institution.credit_code, institution.region_code) == (credit_code(11), COUNTY)
    assert (institution.licensed_beds, institution.open_beds) == (60, 55)


def test_a_lower_case_credit_code_cannot_register_a_second_institution():
    services.register_institution(
        code="H9001",
        name="甲",
        level="primary",
        credit_code=credit_code(12),
        region_code=COUNTY,
        acting_user=None,
    )

    errors = rejected(
        services.register_institution,
        code="H9002",
        name="乙",
        level="primary",
        credit_code=credit_code(12).lower(),
        region_code=COUNTY,
    )

    assert errors == {
        "__all__": [message("Another institution already has this unified social credit code.")]
    }
    assert list(Institution.objects.values_list("code", flat=True)) == ["H9001"]


def test_register_institution_rejects_a_bad_credit_code_and_region_code():
    errors = rejected(
        services.register_institution,
        code="H9003",
        name="丙",
        level="primary",
        credit_code=credit_code(13)[:-1] + ("0" if credit_code(13)[-1] != "0" else "1"),
        region_code="33078",
    )

    assert errors == {
        "credit_code": [message("The check character of this unified social credit code is wrong.")],
        "region_code": [message("A region code is six digits (GB/T 2260), e.g. 330782.")],
    }
    assert not Institution.objects.exists()


def test_a_village_clinic_registers_without_a_credit_code():
    institution = services.register_institution(
        code="V0001", name="某村卫生室", level="primary", region_code=COUNTY, acting_user=None
    )

    assert institution.credit_code == ""


def test_a_field_outside_the_service_is_refused():
    institution = InstitutionFactory(name="原名")

    errors = rejected(services.update_institution, institution=institution, name="新名", pk=999)

    assert errors == {"pk": [message("This field cannot be changed here.")]}
    institution.refresh_from_db()
    assert institution.name == "原名"


def test_create_alliance_normalises_the_region_code():
    alliance = services.create_alliance(
        name="义乌市医共体", kind="county", region_code=" ３３０７８２ ", acting_user=None
    )

    alliance.refresh_from_db()
    assert alliance.region_code == COUNTY


def test_set_population_records_one_row_per_year_and_corrects_it():
    alliance = AllianceFactory()
    services.set_population(alliance, year=2023, resident_population=860_000, acting_user=None)
    services.set_population(alliance, year=2024, resident_population=870_000, acting_user=None)

    services.set_population(alliance, year=2024, resident_population=871_500, acting_user=None)

    rows = AlliancePopulation.objects.filter(alliance=alliance).order_by("year")
    assert list(rows.values_list("year", "resident_population")) == [(2023, 860_000), (2024, 871_500)]


@pytest.mark.parametrize(
    ("year", "population", "field"),
    [(2024, -1, "resident_population"), (1999, 500_000, "year")],
)
def test_set_population_rejects_impossible_figures_without_writing(year, population, field):
    alliance = AllianceFactory()

    with pytest.raises(ValidationError) as caught:
        services.set_population(alliance, year=year, resident_population=population, acting_user=None)

    assert list(caught.value.message_dict) == [field]
    assert not AlliancePopulation.objects.exists()


def test_create_department_requires_a_standard_code_unique_in_the_institution():
    institution = InstitutionFactory()
    services.create_department(institution=institution, code="03.01", name="心血管内科", acting_user=None)

    bad = rejected(services.create_department, institution=institution, code="99", name="未知")
    duplicate = rejected(services.create_department, institution=institution, code="03.01", name="心内二科")

    assert bad == {
        "code": [message("Use a standard clinical department code (诊疗科目代码), e.g. 03 or 03.01.")]
    }
    assert duplicate == {"__all__": [message("This institution already has a department with this code.")]}
    assert list(institution.departments.values_list("code", flat=True)) == ["03.01"]


# --- Join, move, leave -----------------------------------------------------------------------------------
def test_join_opens_an_open_ended_period():
    alliance, institution = AllianceFactory(), InstitutionFactory()

    placement = services.join_alliance(
        institution, alliance=alliance, role=PlacementRole.COLLABORATING, valid_from=FOUNDED, acting_user=None
    )

    assert periods(institution) == [(alliance.pk, "collaborating", None, FOUNDED, None)]
    assert placement.valid_to is None


def test_move_closes_the_old_period_and_opens_the_new_one_on_the_same_day(county):
    other = build_alliance()["alliance"]
    collaborating, alliance = county["collaborating"], county["alliance"]

    services.move_institution(collaborating, on=MOVE_DAY, alliance=other, acting_user=None)

    assert periods(collaborating) == [
        (alliance.pk, "collaborating", None, FOUNDED, MOVE_DAY),
        (other.pk, "collaborating", None, MOVE_DAY, None),
    ]
    assert placement_of(collaborating, MOVE_DAY - datetime.timedelta(days=1)).alliance == alliance
    assert placement_of(collaborating, MOVE_DAY).alliance == other


def test_move_keeps_alliance_and_role_when_omitted_and_takes_the_new_parent(county):
    village, new_branch = county["villages"][0], county["branches"][1]

    services.move_institution(village, on=MOVE_DAY, parent=new_branch, acting_user=None)

    assert periods(village)[1] == (county["alliance"].pk, "village", new_branch.pk, MOVE_DAY, None)
    assert periods(village)[0][4] == MOVE_DAY


def test_leave_closes_the_period_on_the_day_given(county):
    collaborating = county["collaborating"]

    services.leave_alliance(collaborating, on=MOVE_DAY, acting_user=None)

    assert periods(collaborating) == [(county["alliance"].pk, "collaborating", None, FOUNDED, MOVE_DAY)]
    assert placement_of(collaborating, MOVE_DAY) is None


def test_an_institution_that_left_can_join_again_from_the_day_it_left(county):
    collaborating, alliance = county["collaborating"], county["alliance"]
    services.leave_alliance(collaborating, on=MOVE_DAY, acting_user=None)

    services.join_alliance(
        collaborating, alliance=alliance, role=PlacementRole.PARTNER, valid_from=MOVE_DAY, acting_user=None
    )

    assert [row[3:] for row in periods(collaborating)] == [(FOUNDED, MOVE_DAY), (MOVE_DAY, None)]


@pytest.mark.parametrize("valid_from", [FOUNDED, MOVE_DAY, D(2030, 1, 1)])
def test_joining_a_second_alliance_while_in_one_is_rejected_and_writes_nothing(county, valid_from):
    collaborating, alliance = county["collaborating"], county["alliance"]
    other = AllianceFactory()

    errors = rejected(
        services.join_alliance,
        institution=collaborating,
        alliance=other,
        role=PlacementRole.COLLABORATING,
        valid_from=valid_from,
    )

    assert errors == {
        "valid_from": [
            message(
                "In this period the institution already belongs to %(alliance)s (from %(date)s).",
                alliance=alliance,
                date=FOUNDED,
            )
        ]
    }
    assert periods(collaborating) == [(alliance.pk, "collaborating", None, FOUNDED, None)]


def test_joining_before_a_closed_period_that_would_reach_into_it_is_rejected(county):
    collaborating = county["collaborating"]
    services.leave_alliance(collaborating, on=MOVE_DAY, acting_user=None)

    errors = rejected(
        services.join_alliance,
        institution=collaborating,
        alliance=AllianceFactory(),
        role=PlacementRole.PARTNER,
        valid_from=D(2023, 6, 30),
    )

    assert list(errors) == ["valid_from"]
    assert len(periods(collaborating)) == 1


def test_overlap_is_reported_in_chinese(zh_hans, county):
    msgid = "In this period the institution already belongs to %(alliance)s (from %(date)s)."
    expected = zh_hans(msgid) % {"alliance": county["alliance"], "date": FOUNDED}

    with override("zh-hans"):
        errors = rejected(
            services.join_alliance,
            institution=county["collaborating"],
            alliance=AllianceFactory(),
            role=PlacementRole.COLLABORATING,
            valid_from=MOVE_DAY,
        )

    assert errors == {"valid_from": [expected]}


@pytest.mark.parametrize(
    ("on", "msgid", "params"),
    [
        (FOUNDED, "The change must be dated after the current period began (%(date)s).", {"date": FOUNDED}),
        (D(2019, 9, 30), "The institution belongs to no alliance on %(date)s.", {"date": D(2019, 9, 30)}),
    ],
)
def test_a_rejected_move_leaves_the_old_placement_open_and_unchanged(county, on, msgid, params):
    collaborating = county["collaborating"]
    before = periods(collaborating)
    updated_at = Placement.objects.get(institution=collaborating).updated_at

    errors = rejected(services.move_institution, institution=collaborating, on=on, alliance=AllianceFactory())

    assert errors == {"on": [message(msgid, **params)]}
    assert periods(collaborating) == before
    assert Placement.objects.get(institution=collaborating).updated_at == updated_at


def test_a_move_rejected_by_the_new_placement_rolls_back_the_close(county):
    village = county["villages"][0]
    before = periods(village)

    errors = rejected(services.move_institution, institution=village, on=MOVE_DAY, parent=county["lead"])

    assert errors == {
        "parent": [
            message("A village clinic's parent must be a branch of the same alliance for the whole period.")
        ]
    }
    assert periods(village) == before
    assert before[0][4] is None


def test_a_move_before_a_later_recorded_period_is_rejected(county):
    collaborating = county["collaborating"]
    services.move_institution(collaborating, on=MOVE_DAY, role=PlacementRole.PARTNER, acting_user=None)
    before = periods(collaborating)

    errors = rejected(
        services.move_institution, institution=collaborating, on=D(2022, 1, 1), alliance=AllianceFactory()
    )

    assert errors == {"on": [message("A later period is already recorded; change that one instead.")]}
    assert periods(collaborating) == before


def test_leaving_when_in_no_alliance_is_rejected():
    institution = InstitutionFactory()

    errors = rejected(services.leave_alliance, institution=institution, on=MOVE_DAY)

    assert errors == {"on": [message("The institution belongs to no alliance on %(date)s.", date=MOVE_DAY)]}
    assert periods(institution) == []


# --- Rules of the hierarchy ----------------------------------------------------------------------------
def _join(institution, alliance, role, parent=None, valid_from=FOUNDED):
    return rejected(
        services.join_alliance,
        institution=institution,
        alliance=alliance,
        role=role,
        parent=parent,
        valid_from=valid_from,
    )


VILLAGE_PARENT = "A village clinic's parent must be a branch of the same alliance for the whole period."
BRANCH_PARENT = "A branch's parent must be the lead hospital of the same alliance for the whole period."


def test_a_village_clinic_needs_a_parent(county):
    village = InstitutionFactory()

    errors = _join(village, county["alliance"], PlacementRole.VILLAGE)

    assert errors == {"parent": [message("A village clinic must belong to a township branch.")]}
    assert periods(village) == []


def test_a_village_clinic_joins_under_a_branch_of_its_alliance(county):
    village, branch = InstitutionFactory(), county["branches"][0]

    place(village, county["alliance"], PlacementRole.VILLAGE, parent=branch, valid_from=MOVE_DAY)

    assert periods(village) == [(county["alliance"].pk, "village", branch.pk, MOVE_DAY, None)]


@pytest.mark.parametrize("parent_key", ["lead", "collaborating", "village"])
def test_a_village_clinics_parent_must_be_a_branch(county, parent_key):
    village = InstitutionFactory()
    parent = county["villages"][0] if parent_key == "village" else county[parent_key]

    errors = _join(village, county["alliance"], PlacementRole.VILLAGE, parent=parent)

    assert errors == {"parent": [message(VILLAGE_PARENT)]}
    assert periods(village) == []


def test_a_village_clinics_parent_must_be_a_branch_of_the_same_alliance(county):
    other = build_alliance()
    village = InstitutionFactory()

    errors = _join(village, county["alliance"], PlacementRole.VILLAGE, parent=other["branches"][0])

    assert errors == {"parent": [message(VILLAGE_PARENT)]}


def test_a_village_clinics_parent_must_already_be_a_branch_on_the_first_day(county):
    branch, village = InstitutionFactory(), InstitutionFactory()
    place(branch, county["alliance"], PlacementRole.BRANCH, valid_from=MOVE_DAY)

    errors = _join(
        village, county["alliance"], PlacementRole.VILLAGE, parent=branch, valid_from=D(2023, 6, 30)
    )

    assert errors == {"parent": [message(VILLAGE_PARENT)]}


def test_a_village_clinics_parent_must_stay_a_branch_for_the_whole_period(county):
    branch, village = county["branches"][0], InstitutionFactory()
    # The branch is recorded to become a collaborating hospital from MOVE_DAY (its village first moves).
    services.move_institution(
        county["villages"][0], on=D(2023, 1, 1), parent=county["branches"][1], acting_user=None
    )
    services.move_institution(branch, on=MOVE_DAY, role=PlacementRole.COLLABORATING, acting_user=None)

    errors = _join(
        village, county["alliance"], PlacementRole.VILLAGE, parent=branch, valid_from=D(2023, 3, 1)
    )

    assert errors == {"parent": [message(VILLAGE_PARENT)]}
    assert periods(village) == []


def test_a_branch_may_hang_under_the_lead_hospital(county):
    branch = InstitutionFactory()

    place(branch, county["alliance"], PlacementRole.BRANCH, parent=county["lead"])

    assert periods(branch)[0][2] == county["lead"].pk


@pytest.mark.parametrize("parent_key", ["collaborating", "branch"])
def test_a_branchs_parent_must_be_the_lead_hospital(county, parent_key):
    branch = InstitutionFactory()
    parent = county["branches"][0] if parent_key == "branch" else county[parent_key]

    errors = _join(branch, county["alliance"], PlacementRole.BRANCH, parent=parent)

    assert errors == {"parent": [message(BRANCH_PARENT)]}
    assert periods(branch) == []


@pytest.mark.parametrize("role", [PlacementRole.LEAD, PlacementRole.COLLABORATING, PlacementRole.PARTNER])
def test_hospitals_and_partners_have_no_parent(county, role):
    hospital = InstitutionFactory()

    errors = _join(hospital, AllianceFactory(), role, parent=county["lead"])

    assert errors == {"parent": [message("Only village clinics and branches have a parent institution.")]}


def test_an_institution_cannot_be_its_own_parent(county):
    village = InstitutionFactory()

    errors = _join(village, county["alliance"], PlacementRole.VILLAGE, parent=village)

    assert errors == {"parent": [message("An institution cannot be its own parent.")]}


def test_a_parent_chain_that_comes_back_to_the_institution_is_a_cycle(county):
    # A bad import left branch → C → (newcomer) upwards; placing the newcomer under the branch
    # would close the circle.
    alliance, branch = county["alliance"], InstitutionFactory()
    middle, newcomer = InstitutionFactory(), InstitutionFactory()
    Placement.objects.create(
        institution=middle, alliance=alliance, role="branch", parent=newcomer, valid_from=FOUNDED
    )
    Placement.objects.create(
        institution=branch, alliance=alliance, role="branch", parent=middle, valid_from=FOUNDED
    )

    errors = _join(newcomer, alliance, PlacementRole.VILLAGE, parent=branch, valid_from=MOVE_DAY)

    assert errors == {"parent": [message("This parent would make the hierarchy circular.")]}
    assert periods(newcomer) == []


def test_a_lead_hospital_cannot_become_a_branch_under_its_own_branch(county):
    lead, branch = county["lead"], county["branches"][0]
    services.move_institution(branch, on=D(2022, 1, 1), parent=lead, acting_user=None)
    before = periods(lead)

    errors = rejected(
        services.move_institution, institution=lead, on=MOVE_DAY, role=PlacementRole.BRANCH, parent=branch
    )

    assert list(errors) == ["on"]  # its branch still hangs under it
    assert periods(lead) == before


def test_an_alliance_has_one_lead_hospital_at_a_time(county):
    second = InstitutionFactory(name="县第二人民医院")

    errors = _join(second, county["alliance"], PlacementRole.LEAD, valid_from=MOVE_DAY)

    assert errors == {
        "role": [message("%(name)s is already the lead hospital in this period.", name=county["lead"].name)]
    }
    assert periods(second) == []


def test_a_new_lead_takes_over_on_the_day_the_old_one_stops(county):
    second = InstitutionFactory()
    services.move_institution(county["lead"], on=MOVE_DAY, role=PlacementRole.COLLABORATING, acting_user=None)

    place(second, county["alliance"], PlacementRole.LEAD, valid_from=MOVE_DAY)

    leads = Placement.objects.filter(alliance=county["alliance"], role="lead").order_by("valid_from")
    assert list(leads.values_list("institution", "valid_from", "valid_to")) == [
        (county["lead"].pk, FOUNDED, MOVE_DAY),
        (second.pk, MOVE_DAY, None),
    ]


def test_a_branch_cannot_leave_while_village_clinics_hang_under_it(county):
    branch = county["branches"][0]
    before = periods(branch)

    errors = rejected(services.leave_alliance, institution=branch, on=MOVE_DAY)

    assert errors == {
        "on": [message("%(count)d village clinics still belong to this branch; move them first.", count=1)]
    }
    assert periods(branch) == before


@pytest.mark.parametrize(
    "change", [{"alliance": "other"}, {"role": PlacementRole.COLLABORATING}], ids=["alliance", "role"]
)
def test_a_branch_cannot_change_alliance_or_role_while_village_clinics_hang_under_it(county, change):
    branch = county["branches"][0]
    before = periods(branch)
    if "alliance" in change:
        change = {"alliance": AllianceFactory()}

    errors = rejected(services.move_institution, institution=branch, on=MOVE_DAY, **change)

    assert list(errors) == ["on"]
    assert periods(branch) == before


def test_a_branch_may_leave_once_its_village_clinics_have_left(county):
    branch, village = county["branches"][0], county["villages"][0]
    services.leave_alliance(village, on=MOVE_DAY, acting_user=None)

    services.leave_alliance(branch, on=MOVE_DAY, acting_user=None)

    assert periods(branch)[0][4] == MOVE_DAY


def test_a_branch_moving_inside_its_alliance_keeps_its_village_clinics(county):
    branch = county["branches"][0]

    services.move_institution(branch, on=MOVE_DAY, parent=county["lead"], acting_user=None)

    assert periods(branch)[1] == (county["alliance"].pk, "branch", county["lead"].pk, MOVE_DAY, None)


def test_a_lead_hospital_cannot_leave_while_branches_hang_under_it(county):
    lead, branch = county["lead"], county["branches"][1]
    services.move_institution(branch, on=D(2022, 1, 1), parent=lead, acting_user=None)
    before = periods(lead)

    errors = rejected(services.leave_alliance, institution=lead, on=MOVE_DAY)

    assert errors == {
        "on": [
            message(
                "%(count)d branches still have this lead hospital as their parent; move them first.", count=1
            )
        ]
    }
    assert periods(lead) == before


# --- Governance --------------------------------------------------------------------------------------------
def _meeting(alliance, kind, held_on):
    return services.record_meeting(
        alliance=alliance,
        kind=kind,
        held_on=held_on,
        title="研究医共体建设",
        attendees="县长、分管副县长、卫健局局长",
        decisions="通过医共体章程修订",
        acting_user=None,
    )


@pytest.mark.parametrize(
    ("held", "met"),
    [
        ([D(2024, 3, 1), D(2024, 9, 1)], True),
        ([D(2024, 3, 1), D(2024, 6, 1), D(2024, 9, 1)], True),
        ([D(2024, 3, 1)], False),
        ([D(2024, 3, 1), D(2023, 12, 31)], False),  # the other one was held the year before
        ([D(2024, 1, 1), D(2024, 12, 31)], True),
        ([], False),
    ],
)
def test_the_government_meeting_rule_needs_two_government_meetings_in_the_year(held, met):
    alliance = AllianceFactory()
    for day in held:
        _meeting(alliance, MeetingKind.GOVERNMENT, day)

    assert Meeting.objects.government_rule_met(alliance, 2024) is met


def test_committee_and_board_meetings_do_not_count_for_the_government_rule():
    alliance, other = AllianceFactory(), AllianceFactory()
    _meeting(alliance, MeetingKind.GOVERNMENT, D(2024, 3, 1))
    _meeting(alliance, MeetingKind.COMMITTEE, D(2024, 4, 1))
    _meeting(alliance, MeetingKind.BOARD, D(2024, 5, 1))
    _meeting(other, MeetingKind.GOVERNMENT, D(2024, 6, 1))

    assert Meeting.objects.government_rule_met(alliance, 2024) is False


def test_a_meeting_keeps_its_attendees_and_decisions():
    alliance = AllianceFactory()

    meeting = _meeting(alliance, MeetingKind.GOVERNMENT, D(2024, 3, 1))

    meeting.refresh_from_db()
    assert (meeting.attendees, meeting.decisions) == ("县长、分管副县长、卫健局局长", "通过医共体章程修订")


def test_committee_member_dates_must_be_in_order():
    alliance = AllianceFactory()

    errors = rejected(
        services.add_committee_member,
        alliance=alliance,
        name="王五",
        position=CommitteePosition.CHAIR,
        organisation="县人民政府 县长",
        valid_from=D(2024, 1, 1),
        valid_to=D(2024, 1, 1),
    )

    assert errors == {"__all__": [message(DATES_IN_ORDER)]}
    assert not CommitteeMember.objects.exists()


def _publish(alliance, kind, title):
    return services.publish_document(
        alliance=alliance, kind=kind, title=title, effective_on=D(2024, 1, 1), acting_user=None
    )


def test_document_versions_count_up_per_alliance_and_kind():
    alliance, other = AllianceFactory(), AllianceFactory()

    first = _publish(alliance, DocumentKind.CHARTER, "章程")
    second = _publish(alliance, DocumentKind.CHARTER, "章程（修订）")
    listing = _publish(alliance, DocumentKind.RESPONSIBILITY_LIST, "权责清单")
    elsewhere = _publish(other, DocumentKind.CHARTER, "章程")

    assert [first.version, second.version, listing.version, elsewhere.version] == [1, 2, 1, 1]
    first.refresh_from_db()
    assert first.title == "章程"  # an old version is never overwritten
    assert GovernanceDocument.objects.filter(alliance=alliance).count() == 3
