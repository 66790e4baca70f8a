"""The plain validator shared by the bulk API and the Excel upload (issue 5 point 2): every rule
with its Chinese message, the derived columns, and no query per record."""

import datetime

import pytest
from django.utils import translation
from stdnum.cn import ric

from alliance import services as alliance_services
from alliance.choices import PlacementRole
from encounters.validation import IngestContext, validate_records
from tests.alliance.factories import InstitutionFactory
from tests.encounters.factories import DAY, admission, alliance_client, client_of, department, outside, visit
from tests.referrals.factories import referral

pytestmark = pytest.mark.django_db


def with_check(body):
    """A 17-character body and its GB 11643 check digit."""
    return body + ric.calc_check_digit(body + "0")


def changed(record, changes):
    """`record` with `changes` applied; a None value removes the field."""
    record = {**record, **changes}
    return {key: value for key, value in record.items() if value is not None}


def errors_of(kind, records, client):
    with translation.override("zh-hans"):
        rows, errors = validate_records(kind, records, client=client)
    return rows, errors


def the_error(kind, record, client):
    rows, errors = errors_of(kind, [record], client)
    assert rows == []
    assert len(errors) == 1, errors
    return errors[0]


VISIT_RULES = [
    # (changes to a valid visit, field, msgid, params)
    ({"external_id": None}, "external_id", "This field is required.", {}),
    ({"external_id": ["V1"]}, "external_id", "Send the external id as text.", {}),
    ({"external_id": "V" * 65}, "external_id", "An external id has at most %(max)d characters.", {"max": 64}),
    ({"visit_date": None}, "visit_date", "This field is required.", {}),
    ({"visit_date": "2026-02-30"}, "visit_date", "Enter a real date as YYYY-MM-DD.", {}),
    ({"visit_date": 20260301}, "visit_date", "Enter a real date as YYYY-MM-DD.", {}),
    ({"visit_date": "2999-01-01"}, "visit_date", "This date is in the future.", {}),
    ({"institution": None}, "institution", "This field is required.", {}),
    ({"institution": "NO-SUCH"}, "institution", "No institution with code %(code)s is registered.",
     {"code": "NO-SUCH"}),
    ({"department": None}, "department", "This field is required.", {}),
    ({"outside_facility": {"code": "X1", "name": "某医院", "region": "330106"}}, "institution",
     "Send either an institution or an outside facility, not both.", {}),
    ({"patient_id_number": None}, "patient_id_number", "This field is required.", {}),
    ({"patient_id_number": "123"}, "patient_id_number",
     "A resident ID number has 18 characters; this one has %(n)d.", {"n": 3}),
    ({"patient_id_number": "33078219650315001A"}, "patient_id_number",
     "A resident ID number is 17 digits followed by a digit or X.", {}),
    ({"patient_id_number": with_check("33078219651332001")}, "patient_id_number",
     "The birth date in this resident ID number is not a real date.", {}),
    ({"patient_id_number": with_check("99078219650315001")}, "patient_id_number",
     "The first six digits of this resident ID number are not a region code.", {}),
    ({"resident_region": None}, "resident_region", "This field is required.", {}),
    ({"resident_region": "99012"}, "resident_region", "A region code is six digits (GB/T 2260), e.g. 330782.", {}),
    ({"resident_region": "990123"}, "resident_region", "A region code is six digits (GB/T 2260), e.g. 330782.",
     {}),
    ({"diagnosis": None}, "diagnosis", "This field is required.", {}),
    ({"diagnosis": "感冒"}, "diagnosis",
     "Enter an ICD-10 code (WHO, insurance or national clinical edition 2.0), e.g. J18.9, E11.900 or I10.x00x002.", {}),
    ({"diagnosis": "J18.90001"}, "diagnosis",
     "Enter an ICD-10 code (WHO, insurance or national clinical edition 2.0), e.g. J18.9, E11.900 or I10.x00x002.", {}),
    ({"total_cost": None}, "total_cost", "This field is required.", {}),
    ({"total_cost": "十元"}, "total_cost", "Enter an amount in yuan, e.g. 125.50.", {}),
    ({"total_cost": True}, "total_cost", "Enter an amount in yuan, e.g. 125.50.", {}),
    ({"total_cost": "NaN"}, "total_cost", "Enter an amount in yuan, e.g. 125.50.", {}),
    ({"insurance_paid": -1}, "insurance_paid", "An amount cannot be negative.", {}),
    ({"total_cost": "125.505"}, "total_cost", "An amount has at most 2 decimal places.", {}),
    ({"total_cost": "10000000000", "insurance_paid": 0}, "total_cost", "This amount is too large.", {}),
    ({"insurance_paid": "125.51"}, "insurance_paid", "The insurance cannot pay more than the total cost.", {}),
    ({"tcm": "是"}, "tcm", "Send true or false.", {}),
    ({"referral": -3}, "referral", "A referral is named by its id, a positive whole number.", {}),
    ({"referral": "12"}, "referral", "A referral is named by its id, a positive whole number.", {}),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "field", "msgid", "params"), VISIT_RULES)
def test_each_rule_rejects_the_record_with_its_chinese_message(world, zh_hans, changes, field, msgid, params):
    mine, _other, users = world

    error = the_error("visits", changed(visit(1, mine.home), changes), users["api_client"])

    assert error == {
        "index": 0,
        "field": field,
        "message": zh_hans(msgid) % params if params else zh_hans(msgid),
    }


def test_a_wrong_check_digit_is_rejected(world, zh_hans):
    mine, _other, users = world
    good = visit(1, mine.home)["patient_id_number"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")

    error = the_error("visits", visit(1, mine.home, patient_id_number=wrong), users["api_client"])

    assert error["message"] == zh_hans(
        "The check digit of this resident ID number is wrong; please check the number."
    )


def test_a_record_that_is_not_an_object_is_rejected(world, zh_hans):
    _mine, _other, users = world

    _rows, errors = errors_of("visits", ["V1"], users["api_client"])

    assert errors == [{"index": 0, "field": "record", "message": zh_hans("Each record is a JSON object.")}]


def test_an_unknown_department_is_rejected(world, zh_hans):
    mine, _other, users = world

    error = the_error("visits", visit(1, mine.home, department="03.01"), users["api_client"])

    expected = zh_hans("Institution %(institution)s has no department with code %(code)s.")
    assert error["message"] == expected % {"institution": mine.home.code, "code": "03.01"}


def test_an_institution_outside_every_alliance_is_rejected(world, zh_hans):
    _mine, _other, users = world
    loose = InstitutionFactory()
    department(loose)
    client = client_of(loose)

    error = the_error("visits", visit(1, loose), client)

    expected = zh_hans("Institution %(code)s did not belong to an alliance on %(date)s.")
    assert error["message"] == expected % {"code": loose.code, "date": DAY.isoformat()}


def test_a_client_may_not_send_another_institutions_records(world, zh_hans):
    mine, other, users = world
    department(mine.lead)

    own_county = the_error("visits", visit(1, mine.lead), users["api_client"])
    other_county = the_error("visits", visit(2, other.home), users["api_client"])

    expected = zh_hans("You may not send records of institution %(code)s.")
    assert own_county["message"] == expected % {"code": mine.lead.code}
    assert other_county["message"] == expected % {"code": other.home.code}


def test_a_branch_his_sends_its_village_clinics_records_but_not_another_branchs(world):
    mine, _other, users = world
    mine_village, other_village = mine.villages  # under branches[0] (home) and branches[1]
    department(mine_village), department(other_village)

    rows, errors = errors_of("visits", [visit(1, mine_village), visit(2, other_village)], users["api_client"])

    assert [row["institution_id"] for row in rows] == [mine_village.pk]
    assert [(error["index"], error["field"]) for error in errors] == [(1, "institution")]


def test_a_village_moved_to_another_branch_is_writable_only_for_dates_before_the_move(world):
    mine, _other, users = world
    village = mine.villages[0]
    department(village)
    alliance_services.move_institution(
        village,
        on=datetime.date(2026, 3, 10),
        parent=mine.branches[1],
        role=PlacementRole.VILLAGE,
        acting_user=None,
    )

    rows, errors = errors_of(
        "visits",
        [visit(1, village, visit_date="2026-03-09"), visit(2, village, visit_date="2026-03-10")],
        users["api_client"],
    )

    assert [row["visit_date"] for row in rows] == [datetime.date(2026, 3, 9)]
    assert [error["index"] for error in errors] == [1]


def test_an_alliance_admin_writes_every_institution_of_its_alliance_only(world):
    mine, other, users = world
    department(mine.lead), department(other.home)

    rows, errors = errors_of("visits", [visit(1, mine.lead), visit(2, other.home)], users["alliance_admin"])

    assert [row["institution_id"] for row in rows] == [mine.lead.pk]
    assert [error["index"] for error in errors] == [1]


def test_care_at_a_partner_institution_is_outside_the_county_on_both_paths(world):
    """A city hospital placed as a partner receives up-referrals; its records are not in-county
    care even though it is registered in the county alliance."""
    mine, _other, users = world
    partner = InstitutionFactory(code="P3307009", name="市中心医院", region_code="330702")
    alliance_services.join_alliance(
        partner,
        alliance=mine.alliance,
        role=PlacementRole.PARTNER,
        valid_from=DAY.replace(day=1),
        acting_user=None,
    )
    department(partner), department(mine.lead)
    records = [visit(1, partner), visit(2, mine.lead)]

    rows, errors = errors_of("visits", records, users["alliance_admin"])
    checker = _checker("visits", records, users["alliance_admin"])

    assert errors == []
    assert [(row["institution_id"], row["in_county"]) for row in rows] == [
        (partner.pk, False),
        (mine.lead.pk, True),
    ]
    assert [checker.fast(record)["in_county"] for record in records] == [False, True]


def test_a_valid_visit_becomes_its_columns_and_the_id_number_its_keyed_hash(world, settings):
    mine, _other, users = world
    number = visit(1, mine.home)["patient_id_number"]
    sent = referral(mine.home, mine.lead, acting_user=users["clinician"])
    record = visit(1, mine.home, patient_id_number=number.lower(), diagnosis=" j18.9 ", resident_region="330783",
                   total_cost=99.5, insurance_paid=0, tcm=True, referral=sent.pk)  # fmt: skip

    rows, errors = errors_of("visits", [record], users["api_client"])

    assert errors == []
    from core.identity import patient_key

    assert rows == [{
        "index": 0, "external_id": "V0000001", "visit_date": DAY, "month": datetime.date(2026, 3, 1),
        "alliance_id": mine.alliance.pk, "institution_id": mine.home.pk, "outside_facility_id": None,
        "in_county": True, "department_id": mine.rows["departments"].pk, "resident_region": "330783",
        "is_resident": False, "patient_key": patient_key(number), "diagnosis": "J18.9",
        "total_cost": __import__("decimal").Decimal("99.50"), "insurance_paid": __import__("decimal").Decimal("0.00"),
        "tcm": True, "referral_id": sent.pk,
    }]  # fmt: skip
    assert number not in repr(rows)


def test_an_admission_counts_in_the_month_of_discharge(world, zh_hans):
    mine, _other, users = world
    record = admission(1, mine.home, admit_date="2026-02-25", discharge_date="2026-03-02")
    backwards = admission(2, mine.home, admit_date="2026-03-05", discharge_date="2026-03-02")

    rows, errors = errors_of("admissions", [record, backwards], users["api_client"])

    assert [(row["admit_date"], row["discharge_date"], row["month"]) for row in rows] == [
        (datetime.date(2026, 2, 25), datetime.date(2026, 3, 2), datetime.date(2026, 3, 1))
    ]
    assert errors == [
        {
            "index": 1,
            "field": "discharge_date",
            "message": zh_hans("The discharge date is before the admission date."),
        }
    ]


def test_the_alliance_column_follows_the_hierarchy_on_the_last_day_of_the_month(world):
    """A month's figures use the hierarchy as it stood on its last day (DESIGN §3)."""
    mine, other, _users = world
    hospital = mine.collaborating
    department(hospital)
    alliance_services.move_institution(
        hospital, on=datetime.date(2026, 3, 20), alliance=other.alliance, acting_user=None
    )

    rows, _errors = errors_of("visits", [visit(1, hospital, visit_date="2026-03-05")], client_of(hospital))

    assert rows[0]["alliance_id"] == other.alliance.pk


def test_duplicates_inside_a_batch_are_reported_and_the_first_is_kept(world, zh_hans):
    mine, _other, users = world
    records = [visit(1, mine.home), visit(2, mine.home), visit(1, mine.home, total_cost="300")]

    rows, errors = errors_of("visits", records, users["api_client"])

    assert [row["index"] for row in rows] == [0, 1]
    expected = zh_hans("This external id appears more than once in this batch (first at index %(first)d).")
    assert errors == [{"index": 2, "field": "external_id", "message": expected % {"first": 0}}]


def test_every_wrong_field_of_a_record_is_reported(world):
    mine, _other, users = world
    record = visit(1, mine.home, diagnosis="?", total_cost="-1", tcm="no")

    _rows, errors = errors_of("visits", [record], users["api_client"])

    assert [error["field"] for error in errors] == ["diagnosis", "total_cost", "tcm"]


# --- The insurance feed ------------------------------------------------------------------------------
def test_the_insurance_feed_sends_outside_facilities_of_its_residents(world):
    mine, _other, _users = world
    feed = alliance_client(mine.alliance)

    rows, errors = errors_of(
        "visits", [outside(1), outside(2, facility_code="YW-PRIVATE", region="330782")], feed
    )

    assert errors == []
    assert [(r["alliance_id"], r["institution_id"], r["department_id"], r["is_resident"], r["in_county"])
            for r in rows] == [(mine.alliance.pk, None, None, True, False), (mine.alliance.pk, None, None, True, True)]  # fmt: skip
    assert rows[0]["facility"] == {"code": "ZJ-HZ-001", "name": "浙江大学医学院附属第一医院", "region_code": "330106",
                                   "level": "tertiary"}  # fmt: skip


INSURANCE_RULES = [
    ({"resident_region": "330783"}, "resident_region",
     "The insurance feed sends only records of its own county's residents.", {}),
    ({"outside_facility": "ZJ-HZ-001"}, "outside_facility",
     'An outside facility is an object {"code", "name", "region", "level"}.', {}),
    ({"outside_facility": {"name": "某医院", "region": "330106"}}, "outside_facility.code", "This field is required.", {}),
    ({"outside_facility": {"code": "X1", "name": "医" * 101, "region": "330106"}}, "outside_facility.name",
     "At most %(max)d characters.", {"max": 100}),
    ({"outside_facility": {"code": "X1", "name": "某医院", "region": "33"}}, "outside_facility.region",
     "A region code is six digits (GB/T 2260), e.g. 330782.", {}),
    ({"outside_facility": {"code": "X1", "name": "某医院", "region": "330106", "level": "county"}},
     "outside_facility.level", "The level is one of primary, secondary or tertiary.", {}),
    ({"outside_facility": None}, "outside_facility", "This field is required.", {}),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "field", "msgid", "params"), INSURANCE_RULES)
def test_each_insurance_rule_has_its_chinese_message(world, zh_hans, changes, field, msgid, params):
    mine, _other, _users = world
    feed = alliance_client(mine.alliance)
    error = the_error("visits", changed(outside(1), changes), feed)

    assert error == {
        "index": 0,
        "field": field,
        "message": zh_hans(msgid) % params if params else zh_hans(msgid),
    }


def test_the_insurance_feed_may_not_name_a_registered_institution(world, zh_hans):
    mine, _other, _users = world
    feed = alliance_client(mine.alliance)
    disguised = outside(1, facility_code=mine.lead.code)

    as_institution = the_error("visits", visit(1, mine.home), feed)
    as_facility = the_error("visits", disguised, feed)

    assert as_institution["message"] == zh_hans(
        "The insurance feed sends only records of facilities outside the alliance."
    )
    expected = zh_hans("%(code)s is an institution of an alliance, not an outside facility.")
    assert as_facility == {
        "index": 0,
        "field": "outside_facility.code",
        "message": expected % {"code": mine.lead.code},
    }


def test_only_the_insurance_feed_sends_outside_facilities(world, zh_hans):
    _mine, _other, users = world

    error = the_error("visits", outside(1), users["api_client"])

    assert error == {"index": 0, "field": "outside_facility",
                     "message": zh_hans("Only the insurance feed sends records of facilities outside the alliance.")}  # fmt: skip


# --- Cost ---------------------------------------------------------------------------------------------------
def test_validation_queries_do_not_grow_with_the_batch(world, django_assert_max_num_queries):
    mine, _other, users = world
    department(mine.villages[0])
    records = [visit(n, mine.villages[0] if n % 2 else mine.home) for n in range(500)]
    client = users["api_client"]

    with django_assert_max_num_queries(8):
        context = IngestContext.load("visits", records, client=client)
    with django_assert_max_num_queries(0):
        rows, errors = validate_records("visits", records, client=client, context=context)

    assert (len(rows), errors) == (500, [])


# --- The fast path agrees with the full checks ---------------------------------------------------------
def _checker(kind, records, client):
    from encounters.validation.checks import Checker

    return Checker(IngestContext.load(kind, records, client=client))


@pytest.mark.parametrize(("changes", "field", "msgid", "params"), VISIT_RULES)
def test_the_fast_path_never_accepts_what_the_full_checks_reject(world, changes, field, msgid, params):
    mine, _other, users = world
    record = changed(visit(1, mine.home), changes)

    assert _checker("visits", [record], users["api_client"]).fast(record) is None


def test_the_fast_path_gives_the_full_checks_row(world):
    mine, _other, users = world
    department(mine.villages[0])
    number = visit(9, mine.home)["patient_id_number"]
    visits = [
        visit(1, mine.home),
        visit(
            2,
            mine.villages[0],
            tcm=True,
            referral=referral(mine.home, mine.lead, acting_user=users["clinician"]).pk,
            total_cost=12,
            insurance_paid=3.5,
        ),
        visit(3, mine.home, patient_id_number=number.lower(), diagnosis="e11.900", resident_region="330783"),
        {key: value for key, value in visit(4, mine.home).items() if key != "tcm"},
    ]
    admissions = [admission(5, mine.home), admission(6, mine.home, admit_date="2026-03-16")]

    for kind, records in (("visits", visits), ("admissions", admissions)):
        checker = _checker(kind, records, users["api_client"])
        for record in records:
            fast = checker.fast(record)
            assert fast is not None and fast == checker.full(record)[0] and checker.full(record)[1] == []
