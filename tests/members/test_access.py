"""The access policy of DESIGN §5 at the queryset level (issue 3 point 4): for each role and each
model of `members.access.RULES`, which rows `Model.objects.for_user(user)` returns and what
`core.access.can_write` answers; django-guardian grants ORed in; nobody anonymous or inactive.

The expectations below are written from the table of DESIGN §5, not derived from RULES.
Alliance roles hold their role in alliance A; institution roles in A's branch BA.
"""

import datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from alliance import services as alliance_services
from alliance.choices import PlacementRole
from alliance.models import Alliance, Institution
from core import access
from members import services
from members.access import RULES
from members.choices import MembershipRole, TeamRole
from members.models import StaffMember, TeamMembership
from tests.alliance.factories import AllianceFactory, InstitutionFactory, build_alliance, place
from tests.core.factories import UserFactory
from tests.members.factories import resident, resident_id, staff, team

pytestmark = pytest.mark.django_db

D = datetime.date
# Rows of no institution or alliance, one set for every alliance (members.access `shared`).
SHARED = {"assessment.indicatordefinition"}
# Indicator figures (issue 14) and their warnings (issue 15): computed rows, not entered ones;
# their matrices are written out in tests/assessment/test_values_api.py and test_warnings.py over
# computed figures of two counties.
INDICATORS = {
    "assessment.indicatorvalue", "assessment.indicatormonth", "assessment.restatement",
    "assessment.measuresnapshot", "assessment.indicatorwarning",
}  # fmt: skip
# The drug catalogue (issue 16): an alliance's rows, every role reads, the office writes; its
# matrix is written out in tests/pharmacy/test_api.py.
CATALOGUE = {"pharmacy.drugcatalogueentry", "pharmacy.drugprice", "pharmacy.formulary"}
MODELS = sorted(set(RULES) - SHARED - INDICATORS - CATALOGUE)
ROLES = list(MembershipRole.values)
ALLIANCE_ROLES = {"bureau", "alliance_admin", "committee", "finance", "insurance_feed"}

HIERARCHY = {"alliance.alliance", "alliance.alliancepopulation", "alliance.institution", "alliance.placement"}
GOVERNANCE = {"alliance.committeemember", "alliance.meeting", "alliance.governancedocument"}
PEOPLE = {
    "members.staffmember",
    "members.staffposting",
    "members.secondment",
    "members.familydoctorteam",
    "members.teammembership",
    "members.signedresident",
}
DEPARTMENTS = {"alliance.department"}
ENCOUNTERS = {"encounters.outpatientvisit", "encounters.admission"}
# Referrals: rows of either end; slots and reserved beds: published to the whole alliance (to refer).
REFERRALS = {"referrals.referral", "referrals.referralevent"}
# … and so are the weekly templates they come from and the weeks published from them.
POOLS = {"referrals.slot", "referrals.bed", "referrals.pooltemplateentry", "referrals.poolpublication"}

# What each role sees (DESIGN §5): "alliance" = every row of alliance A, "own" = rows of BA.
SEES = {
    "bureau": dict.fromkeys(
        HIERARCHY | DEPARTMENTS | GOVERNANCE | PEOPLE | ENCOUNTERS | REFERRALS | POOLS, "alliance"
    ),
    "alliance_admin": dict.fromkeys(
        HIERARCHY | DEPARTMENTS | GOVERNANCE | PEOPLE | ENCOUNTERS | REFERRALS | POOLS, "alliance"
    ),
    # Aggregates and institutions; no patient-level rows, no people.
    "committee": dict.fromkeys(HIERARCHY | GOVERNANCE, "alliance"),
    "finance": dict.fromkeys(HIERARCHY, "alliance"),
    # The insurance feed reads back only the encounter rows it sent itself (none in this world).
    "insurance_feed": {**dict.fromkeys(HIERARCHY, "alliance"), **dict.fromkeys(ENCOUNTERS, "sent")},
    # Its institution's rows; the alliance's institutions and departments (to refer).
    "institution_admin": {
        **dict.fromkeys(HIERARCHY | DEPARTMENTS | POOLS, "alliance"),
        **dict.fromkeys(PEOPLE | ENCOUNTERS | REFERRALS, "own"),
    },
    "clinician": {
        **dict.fromkeys(HIERARCHY | DEPARTMENTS | POOLS, "alliance"),
        **dict.fromkeys(PEOPLE | ENCOUNTERS | REFERRALS, "own"),
    },
    "api_client": {
        **dict.fromkeys(HIERARCHY | DEPARTMENTS | POOLS, "alliance"),
        **dict.fromkeys(PEOPLE | ENCOUNTERS | REFERRALS, "own"),
    },
}

# What each role writes among these models (DESIGN §5).
WRITES = {
    "bureau": dict.fromkeys(HIERARCHY | DEPARTMENTS | GOVERNANCE, "alliance"),
    "alliance_admin": dict.fromkeys(
        {"alliance.institution", "alliance.placement"} | DEPARTMENTS | PEOPLE | ENCOUNTERS | POOLS, "alliance"
    ),
    "committee": {},
    "finance": {},
    # Encounters of outside facilities (checked per record by encounters.validation).
    "insurance_feed": dict.fromkeys(ENCOUNTERS, "sent"),
    "institution_admin": dict.fromkeys(PEOPLE | ENCOUNTERS | REFERRALS | POOLS, "own"),
    "clinician": dict.fromkeys(REFERRALS, "own"),
    # Its institution's encounters (and its village clinics', checked per record), referrals.
    "api_client": dict.fromkeys(ENCOUNTERS | REFERRALS, "own"),
}

A_LABELS = {"A", "LA", "CA", "BA", "VA", "LA>BA", "BA>LA"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hundreds of users: hashing their passwords properly would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end (each test runs in a
    savepoint within it), so the matrix does not rebuild two alliances per case."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def _build_world():
    """Two alliances with one row of every model in each, labelled by institution or alliance."""
    a, b = (
        build_alliance(branches=1, villages_per_branch=1),
        build_alliance(branches=1, villages_per_branch=0),
    )
    institutions = {
        "LA": a["lead"], "CA": a["collaborating"], "BA": a["branches"][0], "VA": a["villages"][0],
        "LB": b["lead"], "CB": b["collaborating"], "BB": b["branches"][0],
    }  # fmt: skip
    for key, alliance in (("A", a["alliance"]), ("B", b["alliance"])):
        alliance_services.set_population(alliance, year=2024, resident_population=800_000, acting_user=None)
        alliance_services.add_committee_member(
            alliance=alliance,
            name="王县长",
            position="chair",
            organisation="县人民政府",
            valid_from=D(2024, 1, 1),
            acting_user=None,
        )
        alliance_services.record_meeting(
            alliance=alliance, kind="government", held_on=D(2024, 3, 1), title="常务会议", acting_user=None
        )
        alliance_services.publish_document(
            alliance=alliance, kind="charter", title="章程", effective_on=D(2024, 1, 1), acting_user=None
        )
    for key in ("LA", "BA", "LB"):
        alliance_services.create_department(
            institution=institutions[key], code="03", name="内科", acting_user=None
        )
    staff_of = {key: staff(institutions[key]) for key in ("LA", "BA", "LB", "BB")}
    for home, host in (("LA", "BA"), ("LB", "BB")):
        services.second_staff(
            staff_of[home], to_institution=institutions[host], start_date=D(2024, 1, 1), acting_user=None
        )
    teams = {}
    for n, key in enumerate(("BA", "BB")):
        teams[key] = team(institutions[key])
        services.add_team_member(teams[key], staff=staff_of[key], role=TeamRole.NURSE, acting_user=None)
        resident(teams[key], id_number=resident_id(n))
    _encounters(institutions)
    _referrals(institutions)
    labels = {inst.pk: key for key, inst in institutions.items()}
    labels_of_alliance = {a["alliance"].pk: "A", b["alliance"].pk: "B"}
    return {
        "A": a["alliance"],
        "B": b["alliance"],
        "institutions": institutions,
        "staff": staff_of,
        "teams": teams,
        "label": lambda row: _label(row, labels, labels_of_alliance),
    }


def _encounters(institutions):
    """A visit and an admission at LA, BA and LB, sent by a superuser (who may write anywhere)."""
    from encounters import services as encounter_services
    from tests.encounters.factories import admission, visit

    sender = UserFactory(is_superuser=True)
    chosen = [institutions[key] for key in ("LA", "BA", "LB")]
    for kind, record in (("visits", visit), ("admissions", admission)):
        records = [record(n, institution, department="03") for n, institution in enumerate(chosen)]
        result = encounter_services.ingest(kind, records, client=sender, source="matrix")
        assert result["created"] == 3, result


def _referrals(institutions):
    """A slot and a bed at LA and LB; a referral BA → LA and BB → LB (with their events)."""
    from alliance.models import Department
    from referrals import services as referral_services
    from referrals.models import PoolPublication
    from tests.referrals.factories import patient

    day = D.today() + datetime.timedelta(days=7)
    for n, (sender, receiver) in enumerate((("BA", "LA"), ("BB", "LB"))):
        department = Department.objects.get(institution=institutions[receiver], code="03")
        common = {"institution": institutions[receiver], "department": department, "date": day}
        referral_services.publish_slots(
            period="am", count=1, reserved_for_primary=1, acting_user=None, **common
        )
        referral_services.publish_beds(count=1, acting_user=None, **common)
        referral_services.create_template_entry(
            institutions[receiver], weekday=0, kind="slot", department=department, period="am",
            count=1, reserved_for_primary=1, acting_user=None,
        )  # fmt: skip
        # A week published (publish_week at a lead hospital needs a whole week of beds: the
        # publication row alone is what the matrix looks at).
        PoolPublication.objects.create(
            institution=institutions[receiver], week_start=day - datetime.timedelta(days=day.weekday()),
            published_at=timezone.now(),
        )  # fmt: skip
        referral_services.create_referral(
            acting_user=None, from_institution=institutions[sender], to_institution=institutions[receiver],
            patient=patient(n + 50), diagnosis="I10", reason="转诊", urgency="routine",
        )  # fmt: skip


def _label(row, labels, labels_of_alliance):
    if hasattr(row, "referral") and hasattr(row, "from_state"):
        row = row.referral  # a referral event is labelled by its referral
    if isinstance(row, Alliance):
        return labels_of_alliance[row.pk]
    if isinstance(row, Institution):
        return labels[row.pk]
    if hasattr(row, "from_institution_id"):
        return f"{labels[row.from_institution_id]}>{labels[row.to_institution_id]}"
    if isinstance(row, TeamMembership):
        return labels[row.team.institution_id]
    if hasattr(row, "institution_id"):
        return labels[row.institution_id]
    return labels_of_alliance[row.alliance_id]


def _user(world, role, **extra):
    user = UserFactory(**extra)
    where = (
        {"alliance": world["A"]} if role in ALLIANCE_ROLES else {"institution": world["institutions"]["BA"]}
    )
    services.grant_membership(user, role=role, acting_user=None, **where)
    return user


def _visible(world, label, user):
    return sorted(world["label"](row) for row in apps.get_model(label).objects.for_user(user))


def _expected(world, label, extent):
    every = sorted(world["label"](row) for row in apps.get_model(label).objects.all())
    if extent == "alliance":
        return [key for key in every if key in A_LABELS]
    if extent == "own":
        return [key for key in every if "BA" in key.split(">")]
    return []


def test_the_rules_cover_the_models_of_the_hierarchy_and_people():
    assert set(MODELS) == HIERARCHY | DEPARTMENTS | GOVERNANCE | PEOPLE | ENCOUNTERS | REFERRALS | POOLS
    assert set(RULES) - set(MODELS) == SHARED | INDICATORS | CATALOGUE
    for label in RULES:
        assert hasattr(apps.get_model(label).objects, "for_user"), label


# --- Reading ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", MODELS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_rows_of_the_table(world, role, label):
    user = _user(world, role)

    assert _visible(world, label, user) == _expected(world, label, SEES[role].get(label))


def test_the_matrix_world_has_rows_of_both_alliances_for_every_model(world):
    for label in MODELS:
        keys = {world["label"](row) for row in apps.get_model(label).objects.all()}
        assert keys & A_LABELS and keys - A_LABELS, label


@pytest.mark.parametrize("label", MODELS)
def test_a_superuser_sees_every_row(world, label):
    superuser = UserFactory(is_superuser=True)

    assert len(_visible(world, label, superuser)) == apps.get_model(label).objects.count()


@pytest.mark.parametrize("label", MODELS)
def test_anonymous_and_inactive_users_see_nothing_and_write_nothing(world, label):
    inactive_bureau = _user(world, "bureau", is_active=False)
    inactive_superuser = UserFactory(is_superuser=True, is_active=False)
    model = apps.get_model(label)
    row = model.objects.first()

    for who in (AnonymousUser(), inactive_bureau, inactive_superuser, None):
        assert not model.objects.for_user(who).exists()
        assert access.can_write(who, model) is False
        assert access.can_write(who, model, row) is False


def test_a_user_without_membership_sees_nothing(world):
    nobody = UserFactory()

    for label in MODELS:
        assert _visible(world, label, nobody) == [], label


def test_a_user_with_roles_in_both_alliances_sees_both(world):
    user = _user(world, "bureau")
    services.grant_membership(user, role="bureau", alliance=world["B"], acting_user=None)

    assert _visible(world, "members.staffmember", user) == ["BA", "BB", "LA", "LB"]


# --- Writing ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", MODELS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_write_what_the_table_says(world, role, label):
    user = _user(world, role)
    model = apps.get_model(label)
    extent = WRITES[role].get(label)

    writable = sorted(
        world["label"](row) for row in model.objects.all() if access.can_write(user, model, row)
    )

    assert access.can_write(user, model) is (extent is not None)
    assert writable == _expected(world, label, extent)


@pytest.mark.parametrize(
    ("role", "where", "allowed"),
    [
        ("institution_admin", "BA", True),
        ("institution_admin", "LA", False),
        ("alliance_admin", "LA", True),
        ("alliance_admin", "LB", False),
        ("bureau", "BA", False),
        ("clinician", "BA", False),
    ],
)
def test_creating_a_staff_member_needs_write_reach_over_its_institution(world, role, where, allowed):
    user = _user(world, role)
    new = StaffMember(alliance=world["A"], institution=world["institutions"][where])

    assert access.can_write(user, StaffMember, new) is allowed


@pytest.mark.parametrize(
    ("role", "where", "allowed"),
    [
        ("institution_admin", "BA", True),
        ("institution_admin", "BB", False),
        ("alliance_admin", "BA", True),
        ("alliance_admin", "BB", False),
    ],
)
def test_creating_a_team_membership_is_checked_against_the_teams_institution(world, role, where, allowed):
    user = _user(world, role)
    new = TeamMembership(team=world["teams"][where], staff=world["staff"]["LA"], role=TeamRole.SPECIALIST)

    assert access.can_write(user, TeamMembership, new) is allowed


def test_the_bureau_creates_governance_records_of_its_own_alliance_only(world):
    from alliance.models import Meeting

    bureau = _user(world, "bureau")

    assert access.can_write(bureau, Meeting, Meeting(alliance=world["A"])) is True
    assert access.can_write(bureau, Meeting, Meeting(alliance=world["B"])) is False


# --- django-guardian grants ---------------------------------------------------------------------------------
def test_a_view_institution_grant_shows_that_institutions_rows_only(world):
    supervisor = UserFactory()
    assign_perm("alliance.view_institution", supervisor, world["institutions"]["LB"])

    seen = {label: _visible(world, label, supervisor) for label in MODELS}

    referral_rows = {"referrals.referral": ["BB>LB"], "referrals.referralevent": ["BB>LB", "BB>LB"]}
    assert seen == {
        label: referral_rows.get(label) or (["LB>BB"] if label == "members.secondment" else ["LB"])
        if label in {"alliance.institution", "alliance.placement", "alliance.department", "members.staffmember",
                     "members.staffposting", "members.secondment", *ENCOUNTERS, *REFERRALS, *POOLS}
        else []
        for label in MODELS
    }  # fmt: skip
    assert access.can_write(supervisor, StaffMember, world["staff"]["LB"]) is False
    assert access.can_write(supervisor, StaffMember) is False


def test_a_change_institution_grant_lets_the_user_write_that_institutions_rows(world):
    specialist = UserFactory()
    assign_perm("alliance.change_institution", specialist, world["institutions"]["BB"])
    from members.models import SignedResident

    bb_resident = SignedResident.objects.get(institution=world["institutions"]["BB"])
    ba_resident = SignedResident.objects.get(institution=world["institutions"]["BA"])

    assert _visible(world, "members.signedresident", specialist) == ["BB"]
    assert access.can_write(specialist, SignedResident, bb_resident) is True
    assert access.can_write(specialist, SignedResident, ba_resident) is False
    assert access.can_write(specialist, Alliance, world["B"]) is False


def test_a_grant_is_ored_into_a_roles_own_reach(world):
    clinician = _user(world, "clinician")
    assign_perm("alliance.view_institution", clinician, world["institutions"]["LB"])

    assert _visible(world, "members.staffmember", clinician) == ["BA", "LB"]
    assert _visible(world, "members.signedresident", clinician) == ["BA"]
    assert _visible(world, "alliance.institution", clinician) == ["BA", "CA", "LA", "LB", "VA"]


def test_a_grant_to_another_user_widens_nobody_else(world):
    assign_perm("alliance.view_institution", UserFactory(), world["institutions"]["LB"])
    clinician = _user(world, "clinician")

    assert _visible(world, "members.staffmember", clinician) == ["BA"]


# --- Shared rows: the indicator catalogue (issue 14 point 3) --------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_every_definition_and_only_the_bureau_writes(world, role):
    """Definitions are no patient data (DESIGN §5: the committee sees indicators, an HIS reads
    the catalogue); the bureau corrects or adds them."""
    from assessment.models import IndicatorDefinition
    from tests.assessment.factories import definition

    row = definition("matrix_share")
    user = _user(world, role)
    writes = role == "bureau"

    assert IndicatorDefinition.objects.for_user(user).count() == IndicatorDefinition.objects.count()
    assert IndicatorDefinition.objects.for_user(user, access.WRITE).exists() is writes
    assert access.can_read(user, IndicatorDefinition) is True
    assert access.can_write(user, IndicatorDefinition) is writes
    assert access.can_write(user, IndicatorDefinition, row) is writes
    assert access.can_write(user, IndicatorDefinition, IndicatorDefinition(code="new_share")) is writes


def test_definitions_are_nobodys_without_a_membership(world):
    from assessment.models import IndicatorDefinition
    from tests.assessment.factories import definition

    row = definition("matrix_share")
    supervisor = UserFactory()
    assign_perm("alliance.change_institution", supervisor, world["institutions"]["LA"])
    inactive_bureau = _user(world, "bureau", is_active=False)

    for who in (AnonymousUser(), None, UserFactory(), supervisor, inactive_bureau):
        assert not IndicatorDefinition.objects.for_user(who).exists()
        assert access.can_write(who, IndicatorDefinition, row) is False
    superuser = UserFactory(is_superuser=True)
    assert IndicatorDefinition.objects.for_user(superuser).count() == IndicatorDefinition.objects.count()


@pytest.mark.parametrize(
    ("role", "alliance_wide"),
    [("bureau", True), ("alliance_admin", True), ("committee", True), ("finance", True),
     ("insurance_feed", False), ("institution_admin", False), ("clinician", False), ("api_client", False)],
)  # fmt: skip
def test_the_alliance_wide_people_reach_definitions_through_their_alliance(world, role, alliance_wide):
    """What the menu asks (assessment.apps.watches_indicators); machines have no menu."""
    from assessment.models import IndicatorDefinition

    reach = access.reach(_user(world, role), IndicatorDefinition, interactive=True)

    assert bool(reach.alliances) is alliance_wide


# --- History ---------------------------------------------------------------------------------------------------
@pytest.fixture
def departed():
    """An institution that was a branch of alliance A until 2023-07-01 and belongs to B since."""
    first, second = AllianceFactory(), AllianceFactory()
    institution = InstitutionFactory()
    place(institution, first, PlacementRole.BRANCH)
    alliance_services.move_institution(institution, on=D(2023, 7, 1), alliance=second, acting_user=None)
    return {"A": first, "B": second, "institution": institution}


def test_the_bureau_still_sees_an_institution_that_left_its_alliance(departed):
    former, current = UserFactory(), UserFactory()
    services.grant_membership(former, role="bureau", alliance=departed["A"], acting_user=None)
    services.grant_membership(current, role="bureau", alliance=departed["B"], acting_user=None)

    assert list(Institution.objects.for_user(former)) == [departed["institution"]]
    assert list(Institution.objects.for_user(current)) == [departed["institution"]]
    assert departed["institution"].placements.for_user(former).count() == 2


def test_an_institution_role_reaches_the_alliance_its_institution_is_in_today(departed):
    clinician = UserFactory()
    services.grant_membership(
        clinician, role="clinician", institution=departed["institution"], acting_user=None
    )

    assert list(Alliance.objects.for_user(clinician)) == [departed["B"]]
    assert access.can_write(clinician, Institution) is False


def test_guardian_grants_are_audited(world):
    from auditlog.models import LogEntry
    from guardian.models import UserObjectPermission

    supervisor = UserFactory()
    assign_perm("alliance.view_institution", supervisor, world["institutions"]["LB"])

    grant = UserObjectPermission.objects.get(user=supervisor)
    assert LogEntry.objects.get_for_object(grant).count() == 1
