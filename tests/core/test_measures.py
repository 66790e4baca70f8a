"""The measure registry (issue 14 point 1; core.measures): declaring, the rules registration
enforces, and compute() running each needed source once and deriving restricted measures from
the month's roles. An isolated registry per test; the last tests read the project's own."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

from core import measures
from core.measures import Measure, MeasureSource, OverMonths, Unit, UnknownMeasure
from tests.alliance.factories import AllianceFactory

JAN, FEB, MAR = (datetime.date(2026, month, 1) for month in (1, 2, 3))
PRIMARY = {"branch", "village"}


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test; the project's is put back afterwards."""
    monkeypatch.setattr(measures, "_sources", {})
    monkeypatch.setattr(measures, "_measures", {})
    monkeypatch.setattr(measures, "_hierarchy", [])
    return measures


class Calls:
    """A source's compute function that records its calls and answers fixed rows."""

    def __init__(self, rows):
        self.rows, self.calls = rows, []

    def __call__(self, alliance, first_month, last_month):
        self.calls.append((alliance, first_month, last_month))
        return self.rows


def visits_source(rows=()):
    return MeasureSource(
        name="test.visits",
        measures=(
            Measure("visits.all", "visits", Unit.COUNT),
            Measure("visits.tcm", "TCM visits", Unit.COUNT),
            Measure("visits.primary", "primary visits", Unit.COUNT, base="visits.all", roles=PRIMARY),
        ),
        compute=Calls(list(rows)),
    )


def beds_source(rows=()):
    return MeasureSource(
        name="test.beds",
        measures=(Measure("beds.days", "bed-days", Unit.BED_DAYS),),
        compute=Calls(list(rows)),
    )


# --- Registration --------------------------------------------------------------------------------
def test_a_registered_source_declares_its_measures(registry):
    source = visits_source()

    registry.register(source, beds_source())

    assert [m.code for m in registry.measures()] == [
        "visits.all",
        "visits.tcm",
        "visits.primary",
        "beds.days",
    ]
    assert registry.measure("visits.primary").source == "test.visits"
    assert registry.measure("visits.primary").roles == frozenset(PRIMARY)
    assert registry.sources()[0] is source


def test_registering_the_same_source_again_changes_nothing(registry):
    source = visits_source()
    registry.register(source)

    registry.register(source)  # a second AppConfig.ready()

    assert len(registry.sources()) == 1 and len(registry.measures()) == 3


def test_a_code_declared_twice_is_an_error_at_registration(registry):
    registry.register(visits_source())
    copycat = MeasureSource("test.copy", (Measure("visits.all", "again", Unit.COUNT),), Calls([]))

    with pytest.raises(ImproperlyConfigured, match="'visits.all'.*already declared by 'test.visits'"):
        registry.register(copycat)

    assert [source.name for source in registry.sources()] == ["test.visits"]


def test_another_source_under_a_registered_name_is_an_error(registry):
    registry.register(visits_source())

    with pytest.raises(ImproperlyConfigured, match="'test.visits' is already registered"):
        registry.register(visits_source())  # equal measures, another compute function


BASE = Measure("visits.all", "visits", Unit.COUNT)


@pytest.mark.parametrize(
    ("declared", "fault"),
    [
        ((Measure("Visits.All", "x", Unit.COUNT),), "dotted lower-case"),
        ((Measure("visits..all", "x", Unit.COUNT),), "dotted lower-case"),
        ((Measure("visits.all", "x", "furlongs"),), "not one of the known"),
        ((Measure("visits.all", "x", Unit.COUNT, over_months="mean"),), "not one of the known"),
        ((Measure("visits.all", "x", Unit.COUNT, roles={"lead"}),), "only a restricted measure"),
        ((BASE, Measure("visits.all", "x", Unit.COUNT)), "already declared by 'test.bad'"),
        (
            (BASE, Measure("visits.lead", "x", Unit.COUNT, base="visits.none", roles={"lead"})),
            "base 'visits.none'",
        ),
        (
            (Measure("visits.lead", "x", Unit.COUNT, base="visits.all", roles={"lead"}), BASE),
            "declared before it",
        ),
        ((BASE, Measure("visits.lead", "x", Unit.COUNT, base="visits.all")), "names the roles"),
        ((BASE, Measure("visits.lead", "x", Unit.YUAN, base="visits.all", roles={"lead"})), "base's unit"),
    ],
)
def test_registration_refuses_a_malformed_measure(registry, declared, fault):
    with pytest.raises(ImproperlyConfigured, match=fault):
        registry.register(MeasureSource("test.bad", declared, Calls([])))

    assert registry.sources() == [] and registry.measures() == []


def test_a_restricted_measure_has_an_unrestricted_base_of_its_own_source(registry):
    registry.register(beds_source())
    borrowing = Measure("visits.lead", "x", Unit.BED_DAYS, base="beds.days", roles={"lead"})

    with pytest.raises(ImproperlyConfigured, match="declared before it in the source"):
        registry.register(MeasureSource("test.borrow", (borrowing,), Calls([])))


def test_an_unknown_code_is_a_clear_error(registry):
    registry.register(visits_source())

    with pytest.raises(UnknownMeasure, match="unknown measure 'visits.nowhere'") as raised:
        registry.measure("visits.nowhere")
    assert raised.value.code == "visits.nowhere"
    with pytest.raises(UnknownMeasure):
        registry.compute(1, JAN, FEB, ["visits.all", "visits.nowhere"])


def test_one_hierarchy_provider(registry):
    def provider(alliance, first, last):
        return {}

    registry.register_hierarchy(provider)
    registry.register_hierarchy(provider)  # again: harmless

    with pytest.raises(ImproperlyConfigured, match="already registered"):
        registry.register_hierarchy(lambda alliance, first, last: {})


# --- compute() -----------------------------------------------------------------------------------
def test_compute_runs_each_needed_source_once_and_keeps_only_the_codes_asked(registry):
    visits = visits_source(
        [(10, JAN, {"visits.all": 5, "visits.tcm": 1}), (11, FEB, {"visits.all": 2, "visits.tcm": 0})]
    )
    beds = beds_source([(10, JAN, {"beds.days": 31})])
    registry.register(visits, beds)

    values = registry.compute(7, JAN, MAR, ["visits.tcm", "beds.days"])

    assert values == {(10, JAN): {"visits.tcm": 1, "beds.days": 31}, (11, FEB): {"visits.tcm": 0}}
    assert visits.compute.calls == [(7, JAN, MAR)] and beds.compute.calls == [(7, JAN, MAR)]


def test_compute_skips_the_sources_not_asked(registry):
    visits, beds = visits_source(), beds_source([(10, JAN, {"beds.days": 31})])
    registry.register(visits, beds)

    assert registry.compute(7, JAN, JAN, ["beds.days"]) == {(10, JAN): {"beds.days": 31}}
    assert visits.compute.calls == []


def test_every_measure_when_no_codes_are_given(registry):
    registry.register(visits_source([(10, JAN, {"visits.all": 5, "visits.tcm": 1})]))
    registry.register_hierarchy(lambda alliance, first, last: {(10, JAN): "branch"})

    assert registry.compute(7, JAN, JAN) == {
        (10, JAN): {"visits.all": 5, "visits.tcm": 1, "visits.primary": 5}
    }


def test_a_restricted_measure_counts_where_the_role_of_the_month_is_one_of_its_roles(registry):
    """Institution 10 is a branch in January and the lead in February; 11 is a village clinic in
    January only (it left); the insurance feed's row (None) never counts at a role."""
    rows = [
        (10, JAN, {"visits.all": 5}),
        (10, FEB, {"visits.all": 6}),
        (11, JAN, {"visits.all": 2}),
        (11, FEB, {"visits.all": 3}),
        (None, JAN, {"visits.all": 9}),
    ]
    registry.register(visits_source(rows))
    roles = {(10, JAN): "branch", (10, FEB): "lead", (11, JAN): "village"}

    values = registry.compute(7, JAN, FEB, ["visits.all", "visits.primary"], roles=roles)

    assert values == {
        (10, JAN): {"visits.all": 5, "visits.primary": 5},
        (10, FEB): {"visits.all": 6},
        (11, JAN): {"visits.all": 2, "visits.primary": 2},
        (11, FEB): {"visits.all": 3},
        (None, JAN): {"visits.all": 9},
    }


def test_the_hierarchy_is_read_once_and_only_for_restricted_measures(registry):
    asked = []

    def provider(alliance, first, last):
        asked.append((alliance, first, last))
        return {(10, JAN): "village"}

    registry.register(visits_source([(10, JAN, {"visits.all": 5})]))
    registry.register_hierarchy(provider)

    registry.compute(7, JAN, FEB, ["visits.all"])
    assert asked == []
    assert registry.compute(7, JAN, FEB, ["visits.primary"]) == {(10, JAN): {"visits.primary": 5}}
    assert asked == [(7, JAN, FEB)]


def test_restricted_measures_without_a_hierarchy_provider_are_an_error(registry):
    registry.register(visits_source([(10, JAN, {"visits.all": 5})]))

    with pytest.raises(ImproperlyConfigured, match="hierarchy provider"):
        registry.compute(7, JAN, JAN, ["visits.primary"])


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (datetime.date(2026, 1, 15), FEB),
        (JAN, datetime.date(2026, 2, 28)),
        (datetime.datetime(2026, 1, 1), FEB),
        ("2026-01", FEB),
        (FEB, JAN),
    ],
)
def test_months_are_first_days_in_order(registry, first, last):
    registry.register(visits_source())

    with pytest.raises(ValueError, match="month"):
        registry.compute(7, first, last, ["visits.all"])


def test_a_source_answering_a_month_outside_the_range_is_an_error(registry):
    registry.register(visits_source([(10, MAR, {"visits.all": 5})]))

    with pytest.raises(ValueError, match="'test.visits' returned the month 2026-03-01"):
        registry.compute(7, JAN, FEB, ["visits.all"])


def test_month_helpers():
    assert measures.month_range(datetime.date(2025, 11, 1), FEB) == [
        datetime.date(2025, 11, 1),
        datetime.date(2025, 12, 1),
        JAN,
        FEB,
    ]
    assert measures.month_end(FEB) == datetime.date(2026, 2, 28)
    assert measures.month_end(datetime.date(2024, 2, 1)) == datetime.date(2024, 2, 29)
    assert measures.next_month(datetime.date(2025, 12, 1)) == JAN


# --- The project's registry ----------------------------------------------------------------------
ISSUE_14_MEASURES = [
    "visits.in_county",
    "visits.in_county.primary",
    "visits.in_county.tcm",
    "visits.residents.in_county",
    "admissions.residents.in_county",
    "admissions.residents.all",
    "admissions.residents.lead",
    "visits.insurance.residents.in_county",
    "admissions.insurance.residents.all",
    "admissions.insurance.residents.primary",
    "admissions.in_county",
    "admissions.in_county.cost",
    "slots.lead.published",
    "slots.lead.reserved",
    "beds.lead.reserved_days",
    "beds.lead.open_days",
    "referrals.up.submitted",
    "referrals.down.accepted",
    "referrals.up.village_township.completed",
    "referrals.up.township_county.completed",
    "referrals.up.out_of_county.completed",
    "secondments.six_months",
]


def test_the_apps_register_the_measures_of_issue_14():
    codes = {m.code for m in measures.measures()}

    assert set(ISSUE_14_MEASURES) <= codes
    assert {s.name for s in measures.sources()} == {
        "alliance.placements",
        "members.secondments",
        "referrals.slots",
        "referrals.beds",
        "referrals.referrals",
        "encounters.visits",
        "encounters.admissions",
    }


def test_every_measure_has_a_translatable_name_and_a_known_unit():
    for m in measures.measures():
        assert isinstance(m.name, Promise), m.code
        assert m.unit in Unit.values and m.over_months in OverMonths.values


@pytest.mark.django_db
def test_every_measure_of_the_apps_lists_its_records():
    """Issue 14 point 6: every figure traceable. Each code's records compile to one queryset
    carrying the three annotations (the apps' tests prove they are the rows counted)."""
    alliance = AllianceFactory()

    for m in measures.measures():
        rows = measures.records(alliance, JAN, MAR, m.code, {None, 1}, roles={})
        assert list(rows.values("record_institution", "record_date", "record_month")) == [], m.code
