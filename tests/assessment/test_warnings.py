"""Warnings (issue 15 point 1, DESIGN §4.3): raised by each month's computation, stored with a
state, told to the bureau's and the alliance office's inbox, listed with filters on a page and
in the API, acknowledged with a note by the bureau or the office only."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.querysets import today
from assessment.models import IndicatorDefinition, IndicatorWarning, Light
from assessment.services import indicators
from assessment.services.warnings import describe
from core.models import Notification
from encounters import services as encounters
from tests.encounters.factories import alliance_client, department, visit
from tests.world import ROLES

pytestmark = pytest.mark.django_db

D = datetime.date
WATCHERS = {"bureau", "alliance_admin", "committee", "finance"}
ACKNOWLEDGERS = {"bureau", "alliance_admin"}


class Sender:
    """Visits of the home branch (primary care) and the lead hospital, month by month."""

    def __init__(self, county):
        self.county, self.n = county, 0
        self.admin = alliance_client(county.alliance, role="alliance_admin")
        department(county.home)
        department(county.lead)

    def month(self, month, *, home, lead, day=10):
        records = []
        for institution, count in ((self.county.home, home), (self.county.lead, lead)):
            for _ in range(count):
                self.n += 1
                records.append(visit(self.n, institution, visit_date=month.replace(day=day).isoformat()))
        answer = encounters.ingest("visits", records, client=self.admin, source="HIS")
        assert answer["rejected"] == 0, answer["errors"]


def warnings_of(county, **filters):
    return IndicatorWarning.objects.filter(alliance=county.alliance, **filters)


def keys(county, month):
    return {(w.kind, w.subject, w.light) for w in warnings_of(county, month=month)}


# --- The light --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("comparison", "tolerance", "value", "light"),
    [
        ("gte", None, "65", Light.GREEN),
        ("gte", None, "60", Light.AMBER),
        ("gte", None, "59.99", Light.RED),
        ("lte", None, "70", Light.AMBER),
        ("lte", None, "70.01", Light.RED),
        ("approx", "2", "87", Light.GREEN),
        ("approx", "2", "78", Light.AMBER),
        ("approx", "2", "77.9", Light.RED),
    ],
)
def test_the_light_is_green_on_target_amber_within_the_band_red_beyond(comparison, tolerance, value, light):
    definition = IndicatorDefinition(
        target=Decimal(65 if comparison != "approx" else 85),
        target_comparison=comparison,
        target_tolerance=Decimal(tolerance) if tolerance else None,
        warning_band=Decimal(5),
        direction="higher_better" if comparison != "lte" else "lower_better",
    )
    assert definition.light(Decimal(value)) == light


def test_without_a_band_every_miss_is_red_and_without_a_target_there_is_no_light():
    missed = IndicatorDefinition(target=Decimal(65), target_comparison="gte", direction="higher_better")
    assert missed.light(Decimal("64.9")) == Light.RED
    assert IndicatorDefinition(direction="monitor").light(Decimal(1)) is None


def test_the_catalogue_targets_carry_their_amber_band():
    bands = dict(IndicatorDefinition.objects.filter(target__isnull=False).values_list("code", "warning_band"))
    assert bands["primary_visit_share"] == Decimal(5)
    assert all(band is not None for band in bands.values())


# --- Raised by the computation ----------------------------------------------------------------------
def test_an_off_target_figure_raises_a_warning_told_to_the_bureau_and_the_office(
    world, django_capture_on_commit_callbacks
):
    mine, other, users = world
    sender = Sender(mine)
    sender.month(D(2026, 1, 1), home=3, lead=2)  # primary share 60%: amber (≥ 65, band 5)

    with django_capture_on_commit_callbacks(execute=True):
        indicators.compute_indicators(mine.alliance, [D(2026, 1, 1)])

    warning = warnings_of(mine, kind="off_target", subject="primary_visit_share").get()
    assert (warning.light, warning.state, warning.scope) == ("amber", "open", "alliance")
    assert warning.detail["value"] == "60" and warning.detail["target"] == "65"
    assert "基层诊疗人次占比" in describe(warning) and "60" in describe(warning)
    told = set(Notification.objects.filter(event="indicators.warnings_raised").values_list("user", flat=True))
    assert told == {users["bureau"].pk, users["alliance_admin"].pk, sender.admin.pk}
    assert not warnings_of(other).exists()


def test_a_recompute_keeps_the_state_resolves_what_cleared_and_reopens_what_returns(
    world, django_capture_on_commit_callbacks
):
    mine, _other, users = world
    sender = Sender(mine)
    jan = D(2026, 1, 1)
    sender.month(jan, home=1, lead=2)  # 33%: red
    indicators.compute_indicators(mine.alliance, [jan])
    warning = warnings_of(mine, kind="off_target", subject="primary_visit_share").get()
    assert warning.light == "red"
    from assessment.services import acknowledge_warning

    acknowledge_warning(warning, note="已约谈牵头医院", acting_user=users["bureau"])

    sender.month(jan, home=3, lead=0)  # 4 of 6: 66.7%, met
    with django_capture_on_commit_callbacks(execute=True):
        indicators.compute_indicators(mine.alliance, [jan])
    warning.refresh_from_db()
    assert (warning.state, warning.note) == ("resolved", "已约谈牵头医院") and warning.resolved_at

    sender.month(jan, home=0, lead=4)  # 4 of 10: red again
    with django_capture_on_commit_callbacks(execute=True):
        indicators.compute_indicators(mine.alliance, [jan])
    warning.refresh_from_db()
    assert (warning.state, warning.light, warning.resolved_at) == ("open", "red", None)
    assert warnings_of(mine, kind="off_target", subject="primary_visit_share").count() == 1
    assert Notification.objects.filter(user=users["bureau"], event="indicators.warnings_raised").count() == 1


def test_an_acknowledged_warning_stays_acknowledged_while_its_condition_holds(world):
    mine, _other, users = world
    sender = Sender(mine)
    jan = D(2026, 1, 1)
    sender.month(jan, home=1, lead=2)
    indicators.compute_indicators(mine.alliance, [jan])
    from assessment.services import acknowledge_warning

    warning = warnings_of(mine, kind="off_target", subject="primary_visit_share").get()
    acknowledge_warning(warning, note="整改中", acting_user=users["alliance_admin"])
    sender.month(jan, home=0, lead=1)
    indicators.compute_indicators(mine.alliance, [jan])
    warning.refresh_from_db()
    assert (warning.state, warning.detail["value"]) == ("acknowledged", "25")


def test_three_months_the_wrong_way(world):
    mine, _other, _users = world
    sender = Sender(mine)
    months = [D(2026, m, 1) for m in (1, 2, 3, 4)]
    for month, lead in zip(months, (1, 2, 3, 4), strict=True):
        sender.month(month, home=3, lead=lead)  # 75%, 60%, 50%, 42.86%
    indicators.compute_indicators(mine.alliance, months)

    assert ("wrong_way", "primary_visit_share", "amber") in keys(mine, months[3])
    assert not warnings_of(mine, kind="wrong_way", month__lt=months[3]).exists()  # too few months
    warning = warnings_of(mine, kind="wrong_way", subject="primary_visit_share").get()
    assert warning.detail["values"] == ["75", "60", "50", "42.86"]


def test_a_month_that_moves_the_right_way_breaks_the_run(world):
    mine, _other, _users = world
    sender = Sender(mine)
    months = [D(2026, m, 1) for m in (1, 2, 3, 4)]
    for month, lead in zip(months, (1, 2, 1, 4), strict=True):
        sender.month(month, home=3, lead=lead)
    indicators.compute_indicators(mine.alliance, months)
    assert not warnings_of(mine, kind="wrong_way").exists()


def test_siphoning_against_three_months_before_and_a_year_before(world):
    mine, _other, _users = world
    sender = Sender(mine)
    year_before, before, now = D(2025, 4, 1), D(2026, 1, 1), D(2026, 4, 1)
    for month in (year_before, before):
        sender.month(month, home=3, lead=1)  # lead 25%, primary 75%
    sender.month(now, home=3, lead=3)  # lead 50%, primary 50%
    indicators.compute_indicators(mine.alliance, [year_before, before, now])

    warning = warnings_of(mine, kind="siphoning", month=now).get()
    assert warning.subject == "visits"
    assert warning.detail["lead"] == ["25", "25", "50"] and warning.detail["primary"] == ["75", "75", "50"]
    assert "50%" in describe(warning)
    assert not warnings_of(mine, kind="siphoning", subject="admissions").exists()


def test_no_siphoning_when_the_lead_share_only_rose_against_three_months_before(world):
    mine, _other, _users = world
    sender = Sender(mine)
    year_before, before, now = D(2025, 4, 1), D(2026, 1, 1), D(2026, 4, 1)
    sender.month(year_before, home=3, lead=3)
    sender.month(before, home=3, lead=1)
    sender.month(now, home=3, lead=3)
    indicators.compute_indicators(mine.alliance, [year_before, before, now])
    assert not warnings_of(mine, kind="siphoning").exists()


def test_an_elapsed_month_with_silent_members_is_incomplete(world):
    mine, _other, _users = world
    sender = Sender(mine)
    jan = D(2026, 1, 1)
    sender.month(jan, home=3, lead=1)
    indicators.compute_indicators(mine.alliance, [jan])

    warning = warnings_of(mine, kind="incomplete_month").get()
    missing = {item["code"] for item in warning.detail["missing"]}
    assert missing == {mine.collaborating.code, mine.branches[1].code, *(v.code for v in mine.villages)}
    assert warning.detail["expected"] == 6
    assert not warnings_of(mine, kind="silent_source").exists()  # January's records stopped long ago


def test_the_current_month_names_the_silent_sources_and_is_not_yet_incomplete(world):
    mine, _other, _users = world
    sender = Sender(mine)
    month = today().replace(day=1)
    sender.month(month, home=3, lead=1, day=1)
    indicators.compute_indicators(mine.alliance, [month])

    silent = {w.institution_id for w in warnings_of(mine, kind="silent_source")}
    # The village clinics send through their branch's HIS: the silent sources are the others.
    assert silent == {mine.collaborating.pk, mine.branches[1].pk}
    assert not warnings_of(mine, kind="incomplete_month").exists()
    branch = warnings_of(mine, kind="silent_source", institution=mine.branches[1]).get()
    assert mine.branches[1].name in describe(branch) and "从未报送" in describe(branch)


def test_raising_warnings_costs_the_same_queries_for_one_or_many(world):
    from assessment.services import warnings as service

    mine, _other, _users = world
    sender = Sender(mine)
    months = [D(2026, m, 1) for m in (1, 2, 3, 4)]
    for month, lead in zip(months, (1, 2, 3, 4), strict=True):
        sender.month(month, home=3, lead=lead)
    indicators.compute_indicators(mine.alliance, months)
    now = datetime.datetime.now(datetime.UTC)
    counts = []
    for month in (months[0], months[3]):  # January raises two warnings, April four
        with CaptureQueriesContext(connection) as queries:
            service.raise_warnings(mine.alliance, month, now)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 9
    assert warnings_of(mine, month=months[3]).count() > warnings_of(mine, month=months[0]).count()


# --- The API ----------------------------------------------------------------------------------------
@pytest.fixture
def raised(world):
    mine, other, users = world
    for county in (mine, other):
        sender = Sender(county)
        sender.month(D(2026, 1, 1), home=1, lead=2)
        indicators.compute_indicators(county.alliance, [D(2026, 1, 1)])
    return world


def off_target(county):
    return warnings_of(county, kind="off_target", subject="primary_visit_share").get()


@pytest.mark.parametrize("role", ROLES)
def test_warnings_are_read_and_acknowledged_as_design_5_says(raised, client_for, role):
    mine, _other, users = raised
    client = client_for(users[role])
    warning = off_target(mine)

    listed = client.get("/api/v1/warnings/", {"alliance": mine.alliance.pk})
    acknowledged = client.post(
        f"/api/v1/warnings/{warning.pk}/acknowledge/", {"note": "已处理"}, format="json"
    )

    seen = role in WATCHERS
    assert listed.status_code == 200
    assert (warning.pk in {row["id"] for row in listed.json()["results"]}) is seen
    expected = 200 if role in ACKNOWLEDGERS else (403 if seen else 404)
    assert acknowledged.status_code == expected, acknowledged.content
    warning.refresh_from_db()
    assert (warning.state == "acknowledged") is (expected == 200)


def test_a_warning_of_another_county_is_404(raised, client_for):
    _mine, other, users = raised
    client = client_for(users["bureau"])
    warning = off_target(other)
    assert client.get(f"/api/v1/warnings/{warning.pk}/").status_code == 404
    answer = client.post(f"/api/v1/warnings/{warning.pk}/acknowledge/", {"note": "x"}, format="json")
    assert answer.status_code == 404


def test_the_row_carries_the_contract_and_the_filters_narrow(raised, client_for):
    mine, _other, users = raised
    client = client_for(users["committee"])
    rows = client.get(
        "/api/v1/warnings/",
        {"alliance": mine.alliance.pk, "month": "2026-01", "kind": "off_target", "state": "open"},
    ).json()["results"]
    assert "primary_visit_share" in {row["subject"] for row in rows}
    assert {row["kind"] for row in rows} == {"off_target"} and {row["state"] for row in rows} == {"open"}
    row = next(row for row in rows if row["subject"] == "primary_visit_share")
    assert {"id", "alliance", "month", "kind", "subject", "scope", "institution", "light", "state", "message",
            "note", "raised_at", "acknowledged_at", "resolved_at"} <= set(row)  # fmt: skip
    assert (row["month"], row["light"], row["alliance"]) == ("2026-01", "red", mine.alliance.pk)
    assert "基层诊疗人次占比" in row["message"]
    assert client.get("/api/v1/warnings/", {"kind": "off_target", "state": "resolved"}).json()["count"] == 0
    bad = client.get("/api/v1/warnings/", {"kind": "nonsense"})
    assert bad.status_code == 400


def test_acknowledging_needs_a_note_and_an_open_warning(raised, client_for):
    mine, _other, users = raised
    client = client_for(users["bureau"])
    warning = off_target(mine)
    url = f"/api/v1/warnings/{warning.pk}/acknowledge/"

    blank = client.post(url, {"note": "  "}, format="json")
    assert blank.status_code == 400 and "note" in blank.json()["errors"]
    done = client.post(url, {"note": "已约谈牵头医院"}, format="json")
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["note"], done.json()["acknowledged_by"]) == (
        "acknowledged", "已约谈牵头医院", users["bureau"].username,
    )  # fmt: skip
    again = client.post(url, {"note": "再次"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "warning_not_open"
    warning.refresh_from_db()
    assert warning.note == "已约谈牵头医院"


def test_the_list_costs_the_same_queries_for_one_row_or_many(raised, client_for):
    mine, _other, users = raised
    client = client_for(users["bureau"])
    client.get("/api/v1/warnings/")  # warm the caller's memberships
    counts = []
    for size in (1, 20):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/warnings/", {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- The pages --------------------------------------------------------------------------------------
def test_the_page_lists_with_filters_and_the_bureau_acknowledges(raised, client):
    mine, _other, users = raised
    client.force_login(users["bureau"])
    warning = off_target(mine)

    page = client.get("/indicators/warnings/", {"alliance": mine.alliance.pk, "kind": "off_target"})
    html = page.content.decode()
    assert page.status_code == 200 and f'data-warning="{warning.pk}"' in html
    assert "基层诊疗人次占比" in html and f"/indicators/warnings/{warning.pk}/acknowledge/" in html

    form = client.get(f"/indicators/warnings/{warning.pk}/acknowledge/")
    assert form.status_code == 200
    empty = client.post(f"/indicators/warnings/{warning.pk}/acknowledge/", {"note": ""})
    assert empty.status_code == 200 and "errorlist" in empty.content.decode()
    warning.refresh_from_db()
    assert warning.state == "open"
    done = client.post(f"/indicators/warnings/{warning.pk}/acknowledge/", {"note": "已约谈"})
    assert done.status_code == 302
    warning.refresh_from_db()
    assert (warning.state, warning.note, warning.acknowledged_by) == (
        "acknowledged",
        "已约谈",
        users["bureau"],
    )
    twice = client.post(f"/indicators/warnings/{warning.pk}/acknowledge/", {"note": "再次"})
    assert twice.status_code == 200 and "只有未处理的预警才能确认" in twice.content.decode()


def test_the_committee_reads_the_page_without_the_button_and_may_not_acknowledge(raised, client):
    mine, _other, users = raised
    client.force_login(users["committee"])
    warning = off_target(mine)
    page = client.get("/indicators/warnings/")
    assert page.status_code == 200 and f'data-warning="{warning.pk}"' in page.content.decode()
    assert "/acknowledge/" not in page.content.decode()
    assert client.get(f"/indicators/warnings/{warning.pk}/acknowledge/").status_code == 403
    assert client.post(f"/indicators/warnings/{warning.pk}/acknowledge/", {"note": "x"}).status_code == 403


def test_an_institution_role_sees_no_warnings_page_rows(raised, client):
    _mine, _other, users = raised
    client.force_login(users["clinician"])
    page = client.get("/indicators/warnings/")
    assert page.status_code == 200 and "data-warning=" not in page.content.decode()
