"""Admin screens of the hierarchy (issue 3 point 7): every write goes through alliance.services,
the service's message lands on the form and nothing is written, the effective-dated placement is
joined, moved and left, and django-guardian grants made in the admin are audited and widen scope."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils.translation import override
from guardian.models import UserObjectPermission

from alliance import services
from alliance.choices import PlacementRole
from alliance.models import AlliancePopulation, Institution, Placement
from members.models import StaffMember
from tests.alliance.factories import FOUNDED, InstitutionFactory, place

pytestmark = pytest.mark.django_db

D = datetime.date
MOVED_ON = D(2026, 7, 1)
OVERLAP = "In this period the institution already belongs to %(alliance)s (from %(date)s)."


def url(model, view, *args):
    return reverse(f"admin:alliance_{model}_{view}", args=args)


def periods(institution):
    rows = Placement.objects.filter(institution=institution).order_by("valid_from")
    return list(rows.values_list("alliance", "role", "parent", "valid_from", "valid_to"))


def placement_form(institution, alliance, role, valid_from, parent=None):
    return {
        "institution": institution.pk,
        "alliance": alliance.pk,
        "role": role,
        "parent": parent.pk if parent else "",
        "valid_from": valid_from.isoformat(),
    }


def form_errors(response):
    return response.context["adminform"].form.errors


# --- Every page renders ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "query", "count"),
    [
        ("alliance", "q=义乌&kind__exact=county", 1),
        ("institution", "q=县人民医院&level__exact=secondary&role=lead", 2),
        ("placement", "q=县中医院&role__exact=collaborating&alliance__kind__exact=county&open=yes", 2),
        ("department", "q=全科&active__exact=1&institution__level__exact=primary", 2),
        ("committeemember", "q=县长&position__exact=chair", 0),
        ("meeting", "q=会议&kind__exact=government", 0),
        ("governancedocument", "q=章程&kind__exact=charter", 0),
    ],
)
def test_changelist_renders_with_a_search_and_a_filter(admin_client, world, model, query, count):
    response = admin_client.get(f"{url(model, 'changelist')}?{query}")

    assert response.status_code == 200
    assert response.context["cl"].result_count == count


@pytest.mark.parametrize(
    "model",
    [
        "alliance",
        "institution",
        "placement",
        "department",
        "committeemember",
        "meeting",
        "governancedocument",
    ],
)
def test_add_page_renders(admin_client, model):
    assert admin_client.get(url(model, "add")).status_code == 200


@pytest.fixture
def governance(world):
    mine, _other, _users = world
    alliance, day = mine.alliance, D(2024, 3, 1)
    return {
        "alliance": alliance,
        "institution": mine.home,
        "placement": Placement.objects.get(institution=mine.home),
        "department": mine.rows["departments"],
        "committeemember": services.add_committee_member(
            alliance=alliance,
            name="张县长",
            position="chair",
            organisation="县人民政府",
            valid_from=day,
            acting_user=None,
        ),
        "meeting": services.record_meeting(
            alliance=alliance, kind="government", held_on=day, title="常务会议", acting_user=None
        ),
        "governancedocument": services.publish_document(
            alliance=alliance, kind="charter", title="章程", effective_on=day, acting_user=None
        ),
    }


@pytest.mark.parametrize(
    "model",
    [
        "alliance",
        "institution",
        "placement",
        "department",
        "committeemember",
        "meeting",
        "governancedocument",
    ],
)
def test_change_page_renders(admin_client, governance, model):
    assert admin_client.get(url(model, "change", governance[model].pk)).status_code == 200


def test_institution_list_filters_by_the_alliance_of_today(admin_client, world):
    mine, _other, _users = world

    response = admin_client.get(f"{url('institution', 'changelist')}?alliance={mine.alliance.pk}&role=branch")

    assert sorted(row.pk for row in response.context["cl"].result_list) == sorted(b.pk for b in mine.branches)


def test_institution_changelist_query_count_is_bounded(admin_client, world, django_assert_max_num_queries):
    mine, _other, _users = world
    for _ in range(40):
        place(InstitutionFactory(), mine.alliance, PlacementRole.BRANCH)

    with django_assert_max_num_queries(10):
        response = admin_client.get(f"{url('institution', 'changelist')}?alliance={mine.alliance.pk}")

    assert response.context["cl"].result_count == 46
    assert response.content.decode().count(str(mine.alliance)) >= 46


# --- Placements: join, move, leave --------------------------------------------------------------------
def test_a_placement_overlapping_an_existing_period_shows_the_service_message_and_writes_nothing(
    admin_client, world
):
    mine, other, _users = world
    hospital = mine.collaborating
    before, log_rows = periods(hospital), LogEntry.objects.count()
    data = placement_form(hospital, other.alliance, PlacementRole.COLLABORATING, D(2019, 1, 1))

    response = admin_client.post(url("placement", "add"), data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert form_errors(response) == {"valid_from": [OVERLAP % {"alliance": mine.alliance, "date": FOUNDED}]}
    assert periods(hospital) == before
    assert LogEntry.objects.count() == log_rows


def test_the_overlap_message_is_in_chinese(admin_client, world, zh_hans):
    mine, other, _users = world
    expected = zh_hans(OVERLAP) % {"alliance": mine.alliance, "date": FOUNDED}
    data = placement_form(mine.collaborating, other.alliance, PlacementRole.COLLABORATING, D(2019, 1, 1))

    with override("zh-hans"):
        response = admin_client.post(url("placement", "add"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert form_errors(response) == {"valid_from": [expected]}


def test_a_placement_with_a_later_start_moves_the_institution(admin_client, world):
    mine, other, _users = world
    hospital = mine.collaborating
    data = placement_form(hospital, other.alliance, PlacementRole.COLLABORATING, MOVED_ON)

    response = admin_client.post(url("placement", "add"), data)

    assert response.status_code == 302
    assert periods(hospital) == [
        (mine.alliance.pk, "collaborating", None, FOUNDED, MOVED_ON),
        (other.alliance.pk, "collaborating", None, MOVED_ON, None),
    ]


def test_a_placement_of_an_institution_in_no_alliance_joins(admin_client, world):
    mine, _other, _users = world
    village = InstitutionFactory()
    data = placement_form(village, mine.alliance, PlacementRole.VILLAGE, MOVED_ON, parent=mine.branches[1])

    admin_client.post(url("placement", "add"), data)

    assert periods(village) == [(mine.alliance.pk, "village", mine.branches[1].pk, MOVED_ON, None)]


def test_setting_valid_to_on_a_running_period_leaves_the_alliance(admin_client, world):
    mine, _other, _users = world
    village = mine.villages[0]
    placement = Placement.objects.get(institution=village)

    response = admin_client.post(url("placement", "change", placement.pk), {"valid_to": "2026-07-01"})

    assert response.status_code == 302
    assert periods(village) == [(mine.alliance.pk, "village", mine.branches[0].pk, FOUNDED, MOVED_ON)]


def test_leaving_on_the_first_day_shows_the_service_message_on_valid_to(admin_client, world):
    mine, _other, _users = world
    placement = Placement.objects.get(institution=mine.villages[0])

    response = admin_client.post(
        url("placement", "change", placement.pk), {"valid_to": "2019-10-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    expected = "The change must be dated after the current period began (2019-10-01)."
    assert form_errors(response) == {"valid_to": [expected]}
    assert Placement.objects.get(pk=placement.pk).valid_to is None


def test_a_branch_cannot_leave_while_its_village_clinics_remain(admin_client, world):
    mine, _other, _users = world
    placement = Placement.objects.get(institution=mine.branches[0])

    response = admin_client.post(
        url("placement", "change", placement.pk), {"valid_to": "2026-07-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert form_errors(response) == {
        "valid_to": ["1 village clinics still belong to this branch; move them first."]
    }
    assert Placement.objects.get(pk=placement.pk).valid_to is None


def test_a_closed_period_is_read_only_and_no_placement_is_ever_deleted(admin_client, world):
    mine, _other, _users = world
    village = mine.villages[0]
    placement = Placement.objects.get(institution=village)
    placement.valid_to = MOVED_ON
    placement.save()

    changed = admin_client.post(url("placement", "change", placement.pk), {"valid_to": "2026-08-01"})
    deleted = admin_client.post(url("placement", "delete", placement.pk), {"post": "yes"})

    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert periods(village) == [(mine.alliance.pk, "village", mine.branches[0].pk, FOUNDED, MOVED_ON)]


def test_institution_page_shows_its_placement_history_oldest_first(admin_client, world):
    mine, other, _users = world
    hospital = mine.collaborating
    admin_client.post(
        url("placement", "add"),
        placement_form(hospital, other.alliance, PlacementRole.COLLABORATING, MOVED_ON),
    )

    response = admin_client.get(url("institution", "change", hospital.pk))

    formset = response.context["inline_admin_formsets"][0].formset
    assert [(f.instance.alliance, f.instance.valid_from) for f in formset.forms] == [
        (mine.alliance, FOUNDED),
        (other.alliance, MOVED_ON),
    ]
    assert url("institution", "permissions", hospital.pk) in response.content.decode()


# --- Institutions, alliances ------------------------------------------------------------------------------
def test_registering_an_institution_goes_through_the_service(admin_client):
    data = {
        "code": "H9001",
        "name": "新卫生院",
        "level": "primary",
        "credit_code": "",
        "region_code": "３３０７８２",
    }

    admin_client.post(url("institution", "add"), {**data, "licensed_beds": 20, "open_beds": 18})

    institution = Institution.objects.get(code="H9001")
    assert (institution.name, institution.region_code, institution.open_beds) == ("新卫生院", "330782", 18)


def test_a_population_row_is_recorded_through_the_service(admin_client, world):
    mine, _other, _users = world
    data = alliance_form(mine.alliance, populations=[(2024, 812000)])

    response = admin_client.post(url("alliance", "change", mine.alliance.pk), data)

    assert response.status_code == 302
    assert list(mine.alliance.populations.values_list("year", "resident_population")) == [(2024, 812000)]


def test_entering_a_recorded_year_again_corrects_its_figure(admin_client, world):
    mine, _other, _users = world
    recorded = services.set_population(mine.alliance, year=2024, resident_population=800000, acting_user=None)
    data = alliance_form(mine.alliance, populations=[(2024, 812000)], saved=[recorded])

    response = admin_client.post(url("alliance", "change", mine.alliance.pk), data)

    assert response.status_code == 302
    assert list(mine.alliance.populations.values_list("pk", "year", "resident_population")) == [
        (recorded.pk, 2024, 812000)
    ]


def test_an_invalid_alliance_form_writes_no_population_row_either(admin_client, world):
    mine, _other, _users = world
    data = {**alliance_form(mine.alliance, populations=[(2024, 812000)]), "region_code": "990000"}

    response = admin_client.post(url("alliance", "change", mine.alliance.pk), data)

    assert response.status_code == 200
    assert list(form_errors(response)) == ["region_code"]
    assert not AlliancePopulation.objects.exists()


def alliance_form(alliance, populations, saved=()):
    """The alliance's change form: `saved` population rows (read-only), then new `populations`."""
    data = {
        "name": alliance.name,
        "kind": alliance.kind,
        "region_code": alliance.region_code,
        "charter_date": "",
        "populations-TOTAL_FORMS": len(saved) + len(populations),
        "populations-INITIAL_FORMS": len(saved),
        "populations-MIN_NUM_FORMS": 0,
        "populations-MAX_NUM_FORMS": 1000,
    }
    data |= {f"populations-{i}-id": row.pk for i, row in enumerate(saved)}
    for i, (year, population) in enumerate(populations, start=len(saved)):
        data |= {f"populations-{i}-year": year, f"populations-{i}-resident_population": population}
    return data


def test_publishing_a_document_numbers_its_version(admin_client, world):
    mine, _other, _users = world
    data = {"alliance": mine.alliance.pk, "kind": "charter", "title": "章程", "effective_on": "2024-01-01"}

    admin_client.post(url("governancedocument", "add"), {**data, "notes": ""})
    admin_client.post(url("governancedocument", "add"), {**data, "title": "章程（修订）", "notes": ""})

    documents = mine.alliance.documents.order_by("version").values_list("version", "title")
    assert list(documents) == [(1, "章程"), (2, "章程（修订）")]


# --- django-guardian grants ----------------------------------------------------------------------------------
def test_a_guardian_grant_in_the_admin_is_audited_and_widens_the_grantees_scope(
    admin_client, admin_user, world
):
    mine, other, users = world
    grantee, branch = users["clinician"], other.home
    assert not StaffMember.objects.for_user(grantee).filter(institution=branch).exists()

    response = admin_client.post(
        url("institution", "permissions_manage_user", branch.pk, grantee.pk),
        {"permissions": ["view_institution"]},
    )

    assert response.status_code == 302
    assert admin_client.get(url("institution", "permissions", branch.pk)).status_code == 200
    grant = UserObjectPermission.objects.get(user=grantee)
    assert (grant.permission.codename, grant.object_pk) == ("view_institution", str(branch.pk))
    entry = LogEntry.objects.get_for_object(grant).get()
    assert (entry.action, entry.actor) == (LogEntry.Action.CREATE, admin_user)
    fresh = type(grantee).objects.get(pk=grantee.pk)  # access facts are cached per user object
    assert list(StaffMember.objects.for_user(fresh).filter(institution=branch)) == [other.rows["staff"]]
    assert Institution.objects.for_user(fresh).filter(pk=branch.pk).exists()
