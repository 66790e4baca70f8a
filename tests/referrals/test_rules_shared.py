"""Rules live in the service, pages only offer them (issue 12 point 2): what the API refuses is
exactly what the refer page does not offer, each rule from one source (`querysets.route`,
`services.needs_reason_code`, the team check of `create_referral`), tested through the API."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from alliance.choices import PlacementRole
from alliance.models import Placement
from alliance.querysets import today
from referrals import services
from referrals.choices import Direction
from referrals.forms.refer import ReferForm
from referrals.models import Referral
from referrals.querysets import receivers_on
from tests.alliance.factories import InstitutionFactory, place
from tests.members.factories import resident, resident_id, team
from tests.referrals.factories import api_body, member, patient

URL = "/api/v1/referrals/"


def _body(sender, receiver, **fields):
    return api_body(
        sender,
        receiver,
        n=7,
        name="赵六",
        diagnosis="I10",
        reason="血压控制不佳",
        urgency="routine",
        **fields,
    )


# --- a village clinic refers up to its own township branch only -----------------------------------
def test_api_refuses_a_village_clinic_referring_to_another_townships_branch(client_for, county):
    village, other_branch = county.villages[0], county.branches[1]
    doctor = member("clinician", village)

    answer = client_for(doctor).post(URL, _body(village, other_branch), format="json")

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"] == {"to_institution": ["村卫生室只能向本乡镇卫生院上转。"]}
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("receiver", ["own_branch", "lead", "collaborating"])
def test_api_accepts_a_village_clinic_referring_to_its_branch_and_the_hospitals(client_for, county, receiver):
    village = county.villages[0]
    to = {"own_branch": county.branches[0], "lead": county.lead, "collaborating": county.collaborating}[
        receiver
    ]
    doctor = member("clinician", village)

    answer = client_for(doctor).post(URL, _body(village, to), format="json")

    assert answer.status_code == 201, answer.json()
    assert (answer.json()["direction"], answer.json()["to_institution"]) == ("up", to.pk)


def test_page_offers_what_the_service_accepts_for_every_pair(county):
    """For every sender and direction: the page's receivers are exactly the institutions the
    service's classify accepts in that direction (one rule, two uses)."""
    day = today()
    placements = list(Placement.objects.on(day).select_related("institution"))
    for sender in placements:
        for direction in (Direction.UP, Direction.DOWN):
            offered = {p.institution_id for p in receivers_on(day, sender, direction)}
            accepted = {r.institution_id for r in placements if _classified(sender, r, day) == direction}
            assert offered == accepted, (sender.institution.name, direction)


def _classified(sender, receiver, day):
    if receiver.institution_id == sender.institution_id:
        return None
    try:
        return services.classify(sender.institution, receiver.institution, day)[0]
    except ValidationError:
        return None


def test_the_village_rule_is_what_removes_another_townships_branch(county):
    day = today()
    village = Placement.objects.on(day).get(institution=county.villages[0])

    offered = {p.institution_id for p in receivers_on(day, village, Direction.UP)}

    assert county.branches[0].pk in offered
    assert county.branches[1].pk not in offered
    assert {county.lead.pk, county.collaborating.pk} <= offered


# --- the out-of-county reason: asked for exactly when required -------------------------------------
@pytest.fixture
def outside_hospital(county):
    """A hospital outside the county, a partner (协作单位) of the alliance."""
    hospital = InstitutionFactory(name="省人民医院")
    place(hospital, county.alliance, PlacementRole.PARTNER)
    return hospital


def test_api_refuses_an_out_of_county_up_referral_without_a_reason_code(
    client_for, county, sender, outside_hospital
):
    answer = client_for(sender).post(URL, _body(county.home, outside_hospital), format="json")

    assert answer.status_code == 400
    assert answer.json()["errors"] == {"reason_code": ["转往县外的上转须选择转出原因。"]}


def test_page_asks_for_the_reason_code_exactly_when_the_service_requires_it(county, sender, outside_hospital):
    day = today()
    home = Placement.objects.on(day).get(institution=county.home)
    asked = []
    for receiver in receivers_on(day, home, Direction.UP, Placement.objects.for_user(sender)):
        form = ReferForm(
            data={"from_institution": county.home.pk, "to_institution": receiver.institution_id},
            user=sender,
            direction=Direction.UP,
            day=day,
        )
        _, _, out_of_county = services.classify(county.home, receiver.institution, day)
        assert form.needs_reason_code is services.needs_reason_code(Direction.UP, out_of_county)
        assert ("reason_code" in form.fields) is form.needs_reason_code
        asked += [receiver.institution_id] if form.needs_reason_code else []
    assert asked == [outside_hospital.pk]


def test_a_partner_outside_the_alliance_is_out_of_county(county, outside_hospital):
    _, _, out_of_county = services.classify(county.home, outside_hospital, today())

    assert out_of_county is True
    assert services.needs_reason_code(Direction.UP, out_of_county) is True


# --- the team must be the signed resident's team on that day ---------------------------------------
def test_api_refuses_a_team_that_does_not_hold_the_patients_contract(client_for, county, sender):
    other_team = team(county.home, name="另一团队")
    body = _body(county.home, county.lead, patient=patient(1, name="王1"), team=other_team.pk)
    body["patient"]["id_number"] = resident_id(1)

    answer = client_for(sender).post(URL, body, format="json")

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"] == {"team": ["该患者当日与此家庭医生团队没有签约。"]}
    assert Referral.objects.count() == 0


def test_api_accepts_the_patients_own_team_and_marks_the_signed_resident(client_for, county, sender):
    home_team = county.rows["teams"]
    body = _body(county.home, county.lead, team=home_team.pk)
    body["patient"]["id_number"] = resident_id(1)

    answer = client_for(sender).post(URL, body, format="json")

    assert answer.status_code == 201, answer.json()
    made = Referral.objects.get()
    assert (made.team, made.signed_resident, made.priority) == (home_team, True, True)


def test_api_refuses_a_team_whose_contract_ended(client_for, county, sender):
    ended_team = team(county.home, name="旧团队")
    resident(ended_team, n=42, signed_on=datetime.date(2023, 1, 1), valid_to=datetime.date(2024, 1, 1))
    body = _body(county.home, county.lead, team=ended_team.pk)
    body["patient"]["id_number"] = resident_id(42)

    answer = client_for(sender).post(URL, body, format="json")

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["team"]


def test_signed_flag_alone_finds_the_team_of_the_current_contract(client_for, county, sender):
    body = _body(county.home, county.lead)
    body["patient"].update(id_number=resident_id(1), signed_resident=True)

    answer = client_for(sender).post(URL, body, format="json")

    assert answer.status_code == 201, answer.json()
    assert Referral.objects.get().team == county.rows["teams"]


def test_page_shows_the_services_team_error_above_the_form(client, county, sender):
    from tests.referrals.test_refer_page import UP, form_data

    other_team = team(county.home, name="另一团队")
    client.force_login(sender)
    data = form_data(county.home, county.lead, signed_resident="on", team=other_team)
    data["id_number"] = resident_id(1)

    page = client.post(UP, data)

    assert page.status_code == 200
    assert "该患者当日与此家庭医生团队没有签约。" in page.content.decode()
    assert Referral.objects.count() == 0
