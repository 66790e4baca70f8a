"""The demo county's year of activity (issue 5 point 5) at the small scale: amounts, the shares
the indicators compute (primary care ~60% of visits, ~15% of residents' admissions outside the
county), hashed patients only, consistent months and flags, seasons, senders, idempotence and
determinism, for the anchor of tests/demo/conftest.py (2026-12-03: activity 2025-11 … 2026-11)."""

import datetime
import re
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import CharField, Count, F, Max, Min, Q, Sum
from django.db.models.functions import ExtractMonth

from alliance.choices import PlacementRole
from alliance.models import Institution
from alliance.querysets import today
from demo.services import SCALES, seed_demo
from encounters.models import Admission, OutpatientVisit, OutsideFacility
from members.choices import MembershipRole
from members.models import Membership, SignedResident
from tests.demo.conftest import ANCHOR, SEED

COUNTY = "330726"
ENCOUNTERS = (OutpatientVisit, Admission)


def _primary_codes(alliance):
    roles = (PlacementRole.BRANCH, PlacementRole.VILLAGE)
    return set(
        Institution.objects.placed_on(today(), alliance=alliance, role__in=roles).values_list(
            "code", flat=True
        )
    )


def _totals():
    return [
        (model.objects.count(), model.objects.aggregate(total=Sum("total_cost"))["total"])
        for model in ENCOUNTERS
    ]


def test_each_scale_has_its_amounts_and_the_small_county_holds_them(county):
    amounts = {name: (scale.visits, scale.admissions) for name, scale in SCALES.items()}

    assert amounts == {"small": (20_000, 1_000), "demo": (300_000, 7_000), "full": (3_000_000, 70_000)}
    assert OutpatientVisit.objects.count() == 20_000
    assert Admission.objects.count() == 1_000
    assert OutsideFacility.objects.count() == 10


def test_primary_care_has_about_sixty_percent_of_the_visits_in_the_county(county):
    in_county = OutpatientVisit.objects.filter(in_county=True)
    by_institution = dict(in_county.values_list("institution__code").annotate(n=Count("id")))

    primary = sum(n for code, n in by_institution.items() if code in _primary_codes(county.alliance))
    assert 0.55 <= primary / in_county.count() <= 0.65
    assert max(by_institution, key=by_institution.get) == "H0001"  # the lead hospital


def test_about_fifteen_percent_of_residents_admissions_are_outside_the_county(county):
    residents = Admission.objects.filter(is_resident=True)

    outside = residents.filter(in_county=False)
    assert 0.12 <= outside.count() / residents.count() <= 0.18
    assert set(outside.values_list("client__username", flat=True)) == {"insurance"}
    assert not outside.filter(Q(outside_facility__isnull=True) | Q(institution__isnull=False)).exists()
    assert not outside.filter(outside_facility__region_code=COUNTY).exists()


def test_patients_are_keyed_hashes_and_no_column_holds_a_resident_id(county):
    resident_id = re.compile(r"\d{17}[\dX]")
    signed = set(SignedResident.objects.values_list("patient_key", flat=True))

    for model in ENCOUNTERS:
        keys = set(model.objects.values_list("patient_key", flat=True))
        assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)
        text_columns = [field.name for field in model._meta.concrete_fields if isinstance(field, CharField)]
        for values in model.objects.values_list(*text_columns).iterator():
            assert not any(resident_id.fullmatch(value) for value in values)
    visited = set(OutpatientVisit.objects.values_list("patient_key", flat=True))
    assert len(signed & visited) > len(signed) // 2  # the signed residents are among the patients


def test_rows_count_in_the_month_of_the_visit_or_of_the_discharge(county):
    visits = OutpatientVisit.objects.values_list("month", "visit_date")
    admissions = Admission.objects.values_list("month", "admit_date", "discharge_date")

    assert all(month == visited.replace(day=1) for month, visited in visits)
    assert all(month == left.replace(day=1) and left >= admitted for month, admitted, left in admissions)
    assert {month for month, _day in visits} == {
        datetime.date(2025, 11, 1),  # the last month's same month a year before
        datetime.date(2025, 12, 1),
        *(datetime.date(2026, month, 1) for month in range(1, 12)),
    }
    assert min(day for _month, day in visits) == datetime.date(2025, 11, 1)
    assert max(day for _month, day in visits) == datetime.date(2026, 11, 30)


def test_resident_and_in_county_flags_follow_the_regions(county):
    for model in ENCOUNTERS:
        rows = model.objects.all()

        assert not rows.filter(is_resident=True).exclude(resident_region=COUNTY).exists()
        assert not rows.filter(is_resident=False, resident_region=COUNTY).exists()
        assert not rows.filter(in_county=True).exclude(institution__region_code=COUNTY).exists()
        assert not rows.filter(in_county=False, institution__isnull=False).exists()
        assert not rows.filter(outside_facility__isnull=False).exclude(client__username="insurance").exists()
        assert not rows.filter(outside_facility__isnull=False, is_resident=False).exists()
        assert 0.93 <= rows.filter(is_resident=True).count() / rows.count() <= 0.97
        assert not rows.filter(insurance_paid__gt=F("total_cost")).exists()


def test_visits_peak_in_winter_and_drop_at_the_weekend(county):
    by_month = dict(
        OutpatientVisit.objects.annotate(m=ExtractMonth("visit_date"))
        .values_list("m")
        .annotate(n=Count("id"))
    )
    mondays = OutpatientVisit.objects.filter(visit_date__week_day=2).count()
    sundays = OutpatientVisit.objects.filter(visit_date__week_day=1).count()
    respiratory = OutpatientVisit.objects.filter(diagnosis__startswith="J")

    assert by_month[1] > by_month[7]
    assert by_month[12] > by_month[6]
    assert mondays > 1.8 * sundays
    assert (
        respiratory.filter(visit_date__month=1).count() > 2 * respiratory.filter(visit_date__month=7).count()
    )


def test_costs_follow_the_tier_of_the_institution(county):
    def costs(**filters):
        return OutpatientVisit.objects.filter(**filters).aggregate(
            low=Min("total_cost"), high=Max("total_cost")
        )

    village = costs(institution__code__gte="H1001")
    county_hospitals = costs(institution__code__in=["H0001", "H0002", "H0003"])
    in_county_stays = Admission.objects.filter(in_county=True).aggregate(
        low=Min("total_cost"), high=Max("total_cost")
    )

    assert Decimal("30") <= village["low"] and village["high"] <= Decimal("80")
    assert Decimal("200") <= county_hospitals["low"] and county_hospitals["high"] <= Decimal("600")
    assert Decimal("3000") <= in_county_stays["low"] and in_county_stays["high"] <= Decimal("15000")


def test_every_hospital_and_branch_sends_through_its_own_api_client(county):
    clients = Membership.objects.filter(role=MembershipRole.API_CLIENT)
    senders = dict(
        OutpatientVisit.objects.filter(institution__code__lt="H1001")
        .values_list("institution__code")
        .annotate(n=Count("client", distinct=True))
    )

    assert clients.count() == 18  # 3 hospitals and 15 branches
    assert set(clients.values_list("user__username", flat=True)) >= {"his_lead", "his_township", "his_h0002"}
    assert not get_user_model().objects.get(username="his_h0002").has_usable_password()
    assert set(senders.values()) == {1}
    assert set(
        OutpatientVisit.objects.filter(institution__code="H0106").values_list("client__username", flat=True)
    ) == {"his_township"}


def test_village_rows_come_from_their_branch_and_the_moved_clinic_changes_sender(county):
    moved = OutpatientVisit.objects.filter(institution__code="H1113")
    moved_on = datetime.date(2026, 8, 1)  # four months before the anchor's month

    assert set(moved.filter(visit_date__lt=moved_on).values_list("client__username", flat=True)) == {
        "his_h0108"
    }
    assert set(moved.filter(visit_date__gte=moved_on).values_list("client__username", flat=True)) == {
        "his_township"
    }
    assert set(
        OutpatientVisit.objects.filter(institution__code="H1001").values_list("client__username", flat=True)
    ) == {"his_h0101"}


def test_two_institutions_stop_sending_in_the_last_days_of_the_last_month(county):
    last = dict(
        OutpatientVisit.objects.filter(institution__isnull=False)
        .values_list("institution__code")
        .annotate(day=Max("visit_date"))
    )

    assert last["H0003"] == datetime.date(2026, 11, 23)
    assert last["H1034"] < datetime.date(2026, 11, 20)  # a village clinic: a visit every two weeks
    assert last["H0001"] == datetime.date(2026, 11, 30)
    assert not Admission.objects.filter(institution__code="H0003", discharge_date__gte="2026-11-24").exists()


def test_nothing_is_received_after_the_night_batch_of_the_anchor_day(county):
    """Rows sent late and the insurance feed's claims of the last month (settled from the 5th
    of the next) would arrive after the anchor, the 3rd: they came in by its morning."""
    night_batch_end = datetime.datetime(2026, 12, 3, 6, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))

    for model in ENCOUNTERS:
        assert model.objects.aggregate(last=Max("received_at"))["last"] <= night_batch_end
    assert OutpatientVisit.objects.filter(
        client__username="insurance", received_at__date="2026-12-02"
    ).exists()


def test_a_second_run_adds_no_activity(county):
    before = _totals()

    result = seed_demo(seed=SEED, scale="small", today=ANCHOR)

    assert not result.built
    assert _totals() == before


def test_the_same_seed_gives_the_same_activity_again(county):
    """A county without activity (loaded before issue 5) gets it on the next run; with the same
    seed the rows come out the same."""
    before = _totals()
    for model in ENCOUNTERS:
        model.objects.all().delete()

    result = seed_demo(seed=SEED, scale="small", today=ANCHOR)

    assert [step for step, _seconds in result.timings] == [
        "register_clients",
        "record_visits",
        "record_admissions",
    ]
    assert _totals() == before
