"""Late data restated visibly (issue 14 point 5): recording or changing a stationing, or a
doctor's title crossing the intermediate level, marks the months of `secondments.six_months` it
changes for the doctor's alliance, in the same transaction; visiting rounds, doctors below the
title, notes and refused writes mark nothing. The rule (`services.months_changed`): from the
first day counted in one version only to December of the year of the last, never past December
of the current year (of the first changed day's year, when later)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import measures
from core.models import MeasureChange
from members import services
from members.choices import Profession, SecondmentKind, TitleLevel
from tests.alliance.factories import build_alliance
from tests.core.marks import marks, months_marked
from tests.members.factories import staff

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 3, 16)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The current year bounds the marks: the tests run on 16 March 2026."""
    monkeypatch.setattr(services, "today", lambda: TODAY)


@pytest.fixture
def county():
    return build_alliance(branches=2)


def months(first, last):
    return measures.month_range(first, last)


def station(doctor, county, start, end=None, **fields):
    return services.second_staff(
        doctor,
        to_institution=county["branches"][0],
        start_date=start,
        end_date=end,
        acting_user=None,
        **fields,
    )


def _new_months(secondment, skip):
    """The months of the marks `secondment` left after its first `skip` marks."""
    rows = MeasureChange.objects.filter(cause_type="members.secondment", cause_id=secondment.pk).order_by(
        "pk"
    )
    return {row.month for row in rows[skip:]}


def test_an_open_ended_stationing_marks_its_start_month_to_december_with_itself_as_cause(county):
    doctor = staff(county["lead"])

    secondment = station(doctor, county, D(2026, 2, 10))

    assert marks(secondment) == [
        (county["alliance"].pk, month, "members.secondment", secondment.pk)
        for month in months(D(2026, 2, 1), D(2026, 12, 1))
    ]


def test_a_stationing_of_two_years_marks_both_up_to_the_december_of_its_last_day(county):
    secondment = station(staff(county["lead"]), county, D(2025, 10, 1), D(2026, 4, 1))

    assert months_marked(county["alliance"], secondment) == months(D(2025, 10, 1), D(2026, 12, 1))


def test_an_end_on_the_first_of_january_leaves_the_next_year_unmarked(county):
    secondment = station(staff(county["lead"]), county, D(2025, 6, 1), D(2026, 1, 1))

    assert months_marked(county["alliance"], secondment) == months(D(2025, 6, 1), D(2025, 12, 1))


def test_days_of_later_years_are_marked_up_to_the_current_years_december(county):
    """A stationing planned till 2028: the months of 2027 and 2028 are computed when they come."""
    open_ended = station(staff(county["lead"]), county, D(2025, 6, 1))
    planned = station(staff(county["lead"]), county, D(2026, 6, 1), D(2028, 6, 1))
    next_year = station(staff(county["lead"]), county, D(2027, 2, 1))

    assert months_marked(county["alliance"], open_ended) == months(D(2025, 6, 1), D(2026, 12, 1))
    assert months_marked(county["alliance"], planned) == months(D(2026, 6, 1), D(2026, 12, 1))
    assert months_marked(county["alliance"], next_year) == months(D(2027, 2, 1), D(2027, 12, 1))


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": SecondmentKind.PATROL},
        {"title_level": TitleLevel.JUNIOR},
        {"profession": Profession.NURSE, "title": "主管护师"},
    ],
)
def test_what_the_measure_never_counts_marks_nothing(county, fields):
    kind = fields.pop("kind", SecondmentKind.STATIONED)
    doctor = staff(county["lead"], **fields)

    secondment = station(doctor, county, D(2026, 1, 1), kind=kind)

    assert marks(secondment) == []


def test_recording_the_end_marks_from_the_end_on(county):
    secondment = station(staff(county["lead"]), county, D(2025, 1, 1))
    before = len(marks(secondment))

    services.update_secondment(secondment, end_date=D(2026, 7, 1), acting_user=None)

    assert sorted(_new_months(secondment, before)) == months(D(2026, 7, 1), D(2026, 12, 1))
    assert len(marks(secondment)) == before + 6


def test_an_earlier_start_marks_from_the_new_start_to_the_end_of_its_year(county):
    secondment = station(staff(county["lead"]), county, D(2025, 3, 1), D(2026, 9, 1))
    before = len(marks(secondment))

    services.update_secondment(secondment, start_date=D(2025, 1, 15), acting_user=None)

    assert len(marks(secondment)) == before + 12  # January to December 2025, not 2026


def test_a_change_to_visiting_rounds_marks_every_month_it_counted(county):
    secondment = station(staff(county["lead"]), county, D(2026, 1, 1), D(2026, 3, 1))
    before = len(marks(secondment))

    services.update_secondment(secondment, kind=SecondmentKind.PATROL, acting_user=None)

    assert len(marks(secondment)) == before + 12


def test_notes_change_nothing_counted_and_mark_nothing(county):
    secondment = station(staff(county["lead"]), county, D(2026, 1, 1))
    before = marks()

    services.update_secondment(secondment, notes="驻点全科门诊", acting_user=None)

    assert marks() == before


def test_refused_writes_mark_nothing(county):
    doctor = staff(county["lead"])
    first = station(doctor, county, D(2026, 1, 1), D(2026, 3, 1))
    station(doctor, county, D(2026, 3, 1))
    before = marks()

    with pytest.raises(ValidationError):  # into the next stationing
        services.update_secondment(first, end_date=D(2026, 4, 1), acting_user=None)
    with pytest.raises(ValidationError):  # upwards
        services.second_staff(
            staff(county["branches"][0]), to_institution=county["lead"], start_date=D(2026, 1, 1),
            acting_user=None,
        )  # fmt: skip

    assert marks() == before


def test_a_title_reaching_intermediate_marks_the_months_of_the_doctors_stationings(county):
    doctor = staff(county["lead"], title_level=TitleLevel.JUNIOR, title="住院医师")
    stationings = [
        station(doctor, county, D(2025, 11, 1), D(2026, 2, 1)),
        station(doctor, county, D(2026, 3, 1)),
    ]
    assert [marks(secondment) for secondment in stationings] == [[], []]  # a junior doctor counts nowhere

    services.update_staff(doctor, title_level=TitleLevel.INTERMEDIATE, title="主治医师", acting_user=None)

    assert marks(doctor) == [
        (county["alliance"].pk, month, "members.staffmember", doctor.pk)
        for month in months(D(2025, 11, 1), D(2026, 12, 1))
    ]


def test_other_changes_of_a_doctor_mark_nothing(county):
    doctor = staff(county["lead"])
    station(doctor, county, D(2026, 1, 1))
    before = marks()

    services.update_staff(doctor, name="王医生", title_level=TitleLevel.SENIOR, acting_user=None)

    assert marks() == before


@pytest.mark.parametrize(
    ("start", "end", "changes"),
    [
        (D(2025, 1, 1), None, {"end_date": D(2026, 7, 1)}),
        (D(2025, 3, 1), D(2026, 9, 1), {"start_date": D(2025, 1, 15)}),
        (D(2025, 6, 1), D(2025, 11, 1), {"end_date": D(2026, 2, 1)}),
        (D(2025, 4, 1), D(2025, 11, 1), {"start_date": D(2025, 8, 1), "end_date": D(2026, 8, 1)}),
        (D(2025, 5, 1), D(2026, 5, 1), {"kind": SecondmentKind.PATROL}),
    ],
)
def test_every_month_whose_value_changes_is_marked(county, start, end, changes):
    """Against the measure itself: each month of 2025 and 2026 whose value differs is marked."""

    def values():
        return measures.compute(county["alliance"], D(2025, 1, 1), D(2026, 12, 1), ["secondments.six_months"])

    secondment = station(staff(county["lead"]), county, start, end)
    before, marked = values(), len(marks(secondment))

    services.update_secondment(secondment, acting_user=None, **changes)

    after = values()
    differ = {key[1] for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert differ  # the change matters to the measure
    assert differ <= _new_months(secondment, marked)


def test_the_marks_of_a_write_are_one_insert(county):
    doctor = staff(county["lead"])

    with CaptureQueriesContext(connection) as captured:
        secondment = station(doctor, county, D(2024, 1, 1))

    inserts = [q["sql"] for q in captured.captured_queries if 'INSERT INTO "core_measurechange"' in q["sql"]]
    assert len(inserts) == 1
    assert len(months_marked(county["alliance"], secondment)) == 36  # 2024 to 2026
