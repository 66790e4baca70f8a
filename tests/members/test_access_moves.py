"""The access policy when an institution moves (issue 13 point 5): the bureau of an alliance sees
an institution's rows from the time it belonged to that alliance, not rows made after it moved.

The world: village clinic V of alliance A moves to alliance B (under B's branch) on day D, 30
days ago. Each kind of row of V exists once before D and once from D on; the expectations are
written from the issue, not derived from `members.access.RULES`.
"""

import datetime

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from alliance import services as alliance_services
from alliance.choices import PlacementRole
from alliance.models import Institution, Placement
from core import access
from encounters import services as encounter_services
from encounters.models import OutpatientVisit
from members import services
from members.access import EVER, RULES, TODAY
from members.models import SignedResident, StaffMember, StaffPosting
from referrals import services as referral_services
from referrals.models import PoolTemplateEntry, Referral, ReferralEvent, Slot
from tests.alliance.factories import build_alliance
from tests.core.factories import UserFactory
from tests.encounters.factories import department as encounter_department
from tests.encounters.factories import visit
from tests.members.factories import resident_id, staff, team
from tests.referrals.factories import patient

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
D = timezone.localdate() - 30 * DAY
BEFORE, AFTER = D - 10 * DAY, D + 5 * DAY
# The dated rows of V: (label, rows made before D, rows made from D on), filled by the world.
DATED = (
    "encounters.outpatientvisit",
    "referrals.referral",
    "referrals.referralevent",
    "referrals.slot",
    "members.secondment",
    "members.staffposting",
    "members.signedresident",
    "members.teammembership",
)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


def _build_world():
    a, b = (
        build_alliance(branches=1, villages_per_branch=1),
        build_alliance(branches=1, villages_per_branch=0),
    )
    village, branch_a, branch_b = a["villages"][0], a["branches"][0], b["branches"][0]
    alliance_services.move_institution(
        village, on=D, alliance=b["alliance"], role=PlacementRole.VILLAGE, parent=branch_b, acting_user=None
    )
    world = {"A": a, "B": b, "V": village, "before": {}, "after": {}, "into_b": {}}
    world["department"] = alliance_services.create_department(
        institution=village, code="03", name="内科", acting_user=None
    )
    _visits(world)
    _referrals(world, branch_a, branch_b)
    _slots(world)
    _people(world)
    world["users"] = {
        (role, key): _member(role, alliance=world[key]["alliance"])
        for role in ("bureau", "alliance_admin")
        for key in ("A", "B")
    }
    return world


def _member(role, **where):
    user = UserFactory()
    services.grant_membership(user, role=role, acting_user=None, **where)
    return user


def _record(world, label, when, *rows):
    world[when].setdefault(label, set()).update(row.pk for row in rows)


def _visits(world):
    encounter_department(world["V"])
    records = [visit(n, world["V"], visit_date=day.isoformat()) for n, day in enumerate((BEFORE, AFTER))]
    result = encounter_services.ingest(
        "visits", records, client=UserFactory(is_superuser=True), source="moves"
    )
    assert result["created"] == 2, result
    for when, day in (("before", BEFORE), ("after", AFTER)):
        _record(world, "encounters.outpatientvisit", when, OutpatientVisit.objects.get(visit_date=day))


def _referrals(world, branch_a, branch_b):
    """Up from V to its branch of the day, before and after D; and, after D, one from A's
    branch out of the county into V (now B's)."""
    made = [
        ("before", BEFORE, world["V"], branch_a, {}),
        ("after", AFTER, world["V"], branch_b, {}),
        ("into_b", AFTER, branch_a, world["V"], {"reason_code": "patient_request"}),
    ]
    for n, (when, day, sender, receiver, extra) in enumerate(made):
        now = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
        referral = referral_services.create_referral(
            acting_user=None, from_institution=sender, to_institution=receiver, patient=patient(n + 70),
            diagnosis="I10", reason="转诊", urgency="routine", now=now, **extra,
        )  # fmt: skip
        Referral.objects.filter(pk=referral.pk).update(created_at=now)  # made that day
        _record(world, "referrals.referral", when, referral)
        _record(world, "referrals.referralevent", when, *ReferralEvent.objects.filter(referral=referral))


def _slots(world):
    for when, day in (("before", BEFORE), ("after", AFTER)):
        rows = referral_services.publish_slots(
            institution=world["V"], department=world["department"], date=day, period="am", count=1,
            reserved_for_primary=0, acting_user=None,
        )  # fmt: skip
        _record(world, "referrals.slot", when, *rows)


def _people(world):
    """A's doctor at V posted away before D; A's doctor still at V; B's doctor hired at V after
    D; a secondment to V on either side of D; a place in V's team and a contract of it, each
    ended before D and begun after."""
    a, b, village = world["A"]["alliance"], world["B"]["alliance"], world["V"]
    left = staff(village, alliance=a)
    services.post_staff(left, institution=world["A"]["branches"][0], on=BEFORE, acting_user=None)
    world["stays"] = staff(village, alliance=a)
    hired = services.hire_staff(
        alliance=b, institution=village, valid_from=AFTER, acting_user=None, employee_number="B0001",
        name="新职工", gender="female", profession="doctor",
    )  # fmt: skip
    world["staff"] = {"left": left, "hired": hired}
    _record(world, "members.staffposting", "before", left.postings.get(institution=village))
    _record(world, "members.staffposting", "after", hired.postings.get())
    for when, home, start, end in (
        ("before", world["A"]["lead"], BEFORE - 20 * DAY, BEFORE),
        ("after", world["B"]["lead"], AFTER, None),
    ):
        secondment = services.second_staff(
            staff(home), to_institution=village, start_date=start, end_date=end, acting_user=None
        )
        _record(world, "members.secondment", when, secondment)
    world["team"] = team(village)
    ended = services.add_team_member(
        world["team"], staff=left, role="nurse", valid_from=BEFORE - 5 * DAY, acting_user=None
    )
    services.remove_team_member(ended, valid_to=BEFORE - DAY, acting_user=None)
    joined = services.add_team_member(
        world["team"], staff=hired, role="nurse", valid_from=AFTER + DAY, acting_user=None
    )
    _record(world, "members.teammembership", "before", ended)
    _record(world, "members.teammembership", "after", joined)
    for n, (when, signed_on, valid_to) in enumerate(
        (("before", BEFORE - 90 * DAY, BEFORE), ("after", AFTER, None))
    ):
        resident = services.sign_resident(
            team=world["team"], name="张三", id_number=resident_id(n + 40), signed_on=signed_on,
            valid_to=valid_to, acting_user=None,
        )  # fmt: skip
        _record(world, "members.signedresident", when, resident)


def _seen(world, label, user, keys=("before", "after")):
    """Which of V's dated rows (`before`, `after`) of `label` the user sees."""
    visible = set(apps.get_model(label).objects.for_user(user).values_list("pk", flat=True))
    return {key for key in keys if world[key].get(label, set()) & visible}


# --- Reading ------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", DATED)
@pytest.mark.parametrize(("alliance", "sees"), [("A", {"before"}), ("B", {"after"})])
def test_an_alliance_sees_the_rows_of_an_institution_from_its_own_time(world, label, alliance, sees):
    bureau = world["users"][("bureau", alliance)]

    assert _seen(world, label, bureau) == sees


@pytest.mark.parametrize("label", DATED)
@pytest.mark.parametrize(("alliance", "sees"), [("A", {"before"}), ("B", {"after"})])
def test_the_alliance_office_reads_by_the_same_rule(world, label, alliance, sees):
    admin = world["users"][("alliance_admin", alliance)]

    assert _seen(world, label, admin) == sees


@pytest.mark.parametrize("label", DATED)
@pytest.mark.parametrize("role", ["institution_admin", "clinician"])
def test_the_institutions_own_roles_see_its_rows_of_both_times(world, label, role):
    user = _member(role, institution=world["V"])

    assert _seen(world, label, user) == {"before", "after"}


def test_a_referral_into_another_alliance_is_seen_by_both_ends(world):
    """Sent after D by A's branch to V, now B's: A's as the sender's, B's as the receiver's."""
    for alliance in ("A", "B"):
        bureau = world["users"][("bureau", alliance)]

        assert _seen(world, "referrals.referral", bureau, keys=("into_b",)) == {"into_b"}
        assert _seen(world, "referrals.referralevent", bureau, keys=("into_b",)) == {"into_b"}


def test_a_period_running_across_the_move_is_seen_by_both_alliances(world):
    """A's doctor who still works at V: the posting began in A's time and runs on in B's."""
    posting = world["stays"].postings.get()

    for alliance in ("A", "B"):
        bureau = world["users"][("bureau", alliance)]
        assert StaffPosting.objects.for_user(bureau).filter(pk=posting.pk).exists()


def test_a_staff_member_is_seen_by_the_alliance_that_employs_them(world):
    people = [world["staff"]["left"], world["stays"], world["staff"]["hired"]]

    seen = {
        key: [member in StaffMember.objects.for_user(world["users"][("bureau", key)]) for member in people]
        for key in ("A", "B")
    }

    assert seen == {"A": [True, True, False], "B": [False, False, True]}


def test_a_team_is_seen_by_the_alliance_its_institution_belongs_to_today(world):
    from members.models import FamilyDoctorTeam

    visible = {
        key: FamilyDoctorTeam.objects.for_user(world["users"][("bureau", key)])
        .filter(pk=world["team"].pk)
        .exists()
        for key in ("A", "B")
    }

    assert visible == {"A": False, "B": True}


def test_the_hierarchy_stays_visible_to_every_alliance_the_institution_belonged_to(world):
    for alliance in ("A", "B"):
        bureau = world["users"][("bureau", alliance)]

        assert world["V"] in Institution.objects.for_user(bureau)
        assert world["V"].placements.for_user(bureau).count() == 2
        assert world["department"] in apps.get_model("alliance.department").objects.for_user(bureau)


def test_a_placement_is_changed_by_its_own_alliance_only(world):
    """A's bureau reads V's place in B (the county tree's history) but may not change it."""
    in_a, in_b = world["V"].placements.order_by("valid_from")

    for alliance, writable in (("A", [True, False]), ("B", [False, True])):
        bureau = world["users"][("bureau", alliance)]
        assert [access.can_write(bureau, Placement, place) for place in (in_a, in_b)] == writable


# --- Writing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("alliance", "writes"), [("A", {"before"}), ("B", {"after"})])
def test_an_alliance_office_changes_the_rows_of_its_own_time(world, alliance, writes):
    admin = world["users"][("alliance_admin", alliance)]

    # The dated rows the alliance office writes (encounters and referrals: others write them).
    for label in ("referrals.slot", *(label for label in DATED if label.startswith("members."))):
        model = apps.get_model(label)
        writable = {
            when for when in ("before", "after")
            for row in model.objects.filter(pk__in=world[when][label]) if access.can_write(admin, model, row)
        }  # fmt: skip
        assert writable == writes, label


@pytest.mark.parametrize(
    ("day", "writers"), [(BEFORE, {"A"}), (AFTER, {"B"}), (None, {"B"})], ids=["before", "after", "undated"]
)
def test_a_new_slot_is_writable_by_the_alliance_of_its_day(world, day, writers):
    """A slot not yet dated (a service asking before it knows the date) is made today."""
    new = Slot(institution=world["V"], department=world["department"], date=day)

    allowed = {
        key for key in ("A", "B") if access.can_write(world["users"][("alliance_admin", key)], Slot, new)
    }

    assert allowed == writers


@pytest.mark.parametrize(
    ("start", "end", "writers"),
    [(BEFORE - 30 * DAY, BEFORE, {"A"}), (AFTER, None, {"B"}), (BEFORE, None, {"A", "B"})],
    ids=["before", "after", "across"],
)
def test_a_new_posting_is_writable_by_the_alliances_of_its_period(world, start, end, writers):
    new = StaffPosting(staff=world["stays"], institution=world["V"], valid_from=start, valid_to=end)

    allowed = {
        key
        for key in ("A", "B")
        if access.can_write(world["users"][("alliance_admin", key)], StaffPosting, new)
    }

    assert allowed == writers


def test_a_new_hire_at_the_institution_is_for_the_alliance_it_belongs_to_today(world):
    admins = {key: world["users"][("alliance_admin", key)] for key in ("A", "B")}

    assert access.can_write(admins["A"], StaffMember, StaffMember(institution=world["V"])) is False
    assert access.can_write(admins["B"], StaffMember, StaffMember(institution=world["V"])) is True
    named = StaffMember(alliance=world["A"]["alliance"], institution=world["V"])
    assert access.can_write(admins["A"], StaffMember, named) is False


def test_an_institutions_own_admin_writes_its_new_rows_whatever_their_day(world):
    admin = _member("institution_admin", institution=world["V"])

    for day in (BEFORE, AFTER):
        assert access.can_write(admin, Slot, Slot(institution=world["V"], date=day)) is True


def test_the_institutions_offered_follow_the_same_rule(world):
    bureau_a = world["users"][("bureau", "A")]
    admins = {key: world["users"][("alliance_admin", key)] for key in ("A", "B")}

    assert world["V"] in access.institutions(bureau_a, Slot, on=BEFORE)
    assert world["V"] not in access.institutions(bureau_a, Slot, on=AFTER)
    assert world["V"] in access.institutions(bureau_a, Slot)  # any day: its history
    # A weekly template is what the institution publishes from now on: today's alliance's.
    assert world["V"] not in access.institutions(admins["A"], PoolTemplateEntry, access.WRITE)
    assert world["V"] in access.institutions(admins["B"], PoolTemplateEntry, access.WRITE)
    assert (
        access.can_write(admins["A"], PoolTemplateEntry, PoolTemplateEntry(institution=world["V"])) is False
    )


# --- End to end ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("alliance", "sees"), [("A", "before"), ("B", "after")])
def test_the_slot_list_of_the_api_goes_through_the_same_door(world, client_for, alliance, sees):
    bureau = world["users"][("bureau", alliance)]

    response = client_for(bureau).get("/api/v1/slots/", {"institution": world["V"].pk})

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == world[sees]["referrals.slot"]


# --- The table itself --------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", sorted(RULES))
def test_every_rule_says_how_an_alliance_reaches_its_rows(label):
    """A rule with institution paths names its alliance or dates its rows: otherwise alliance
    roles would reach none of them, or (the old way) every row of every institution they held."""
    rule = RULES[label]
    model = apps.get_model(label)

    assert not rule.institution or rule.alliance or rule.date, label
    if rule.date and rule.date not in (EVER, TODAY):
        model.objects.filter(**{f"{rule.date}__lte": D})  # a real path to a date
    if rule.until:
        assert model._meta.get_field(rule.until).null, label  # an open period has no end


def test_unsaved_rows_of_people_land_in_their_alliance_not_another(world):
    """A resident contract of V's team (V in B today) is B's to record."""
    new = SignedResident(team=world["team"], institution=world["V"])

    assert access.can_write(world["users"][("alliance_admin", "A")], SignedResident, new) is False
    assert access.can_write(world["users"][("alliance_admin", "B")], SignedResident, new) is True
