"""The checks of one record, in the order of its fields; one `Checker` per batch."""

import datetime
import hashlib
import hmac

from django.conf import settings
from django.utils.translation import gettext as _

from alliance.choices import AllianceKind, PlacementRole
from core.codes import ICD10_MESSAGE, normalize_icd10
from core.identity import PROVINCE_PREFIXES, validate_region_code, validate_resident_id
from encounters.querysets import last_of_month

from .fields import (
    EXTERNAL_ID_LENGTH,
    Rejected,
    Skip,
    check_amount,
    check_facility,
    django_check,
    fast_amount,
    fast_resident_id,
    required,
)


class Checker:
    """Turns one record into a row or a list of (field, message). One instance per batch."""

    def __init__(self, context):
        self.context = context
        self.is_admission = context.kind == "admissions"
        self.hmac = hmac.new(settings.PATIENT_KEY_SECRET.encode(), digestmod=hashlib.sha256)
        self.months = {}
        self.steps = (
            self.external_id,
            self.dates,
            self.place,
            self.patient,
            self.diagnosis,
            self.amounts,
            self.flags,
        )

    def __call__(self, record):
        """`(row, [])` for a valid record, `(row or None, [(field, message), …])` otherwise."""
        if type(record) is dict:
            row = self.fast(record)
            if row is not None:
                return row, []
        return self.full(record)

    def fast(self, record):
        """The happy path of a plainly valid record of a registered institution, in one pass (most
        of a batch): its row, or None to run the full checks, which then name every fault. It
        accepts a subset of what `full` accepts and gives the same row (tests/encounters/
        test_validation.py runs both on every case); the insurance feed always takes `full`."""
        context, get = self.context, record.get
        try:
            external_id = get("external_id")
            if type(external_id) is not str or not 0 < len(external_id.strip()) == len(external_id) <= 64:
                return None
            if self.is_admission:
                admitted = datetime.date.fromisoformat(get("admit_date"))
                day = discharged = datetime.date.fromisoformat(get("discharge_date"))
                if discharged < admitted:
                    return None
            else:
                day = datetime.date.fromisoformat(get("visit_date"))
            facts = context.institutions.get(get("institution"))
            if facts is None or day > context.today or get("outside_facility") is not None:
                return None
            month = day.replace(day=1)
            then = facts.place_on(day)
            counted = self.month_place(facts, month) or then
            if counted is None or not self.may_write(facts, then, counted.alliance_id):
                return None
            department = context.departments.get((facts.id, get("department")))
            region = get("resident_region")
            number = fast_resident_id(get("patient_id_number"), context.today)
            if department is None or number is None or not _plain_region(region):
                return None
            diagnosis = normalize_icd10(get("diagnosis"))
            total, paid = fast_amount(get("total_cost")), fast_amount(get("insurance_paid"))
            tcm, referral = get("tcm", False), get("referral")
            if (
                diagnosis is None
                or total is None
                or paid is None
                or paid > total
                or (tcm is not None and type(tcm) is not bool)
                or (referral is not None and context.referrals.get(referral) != counted.alliance_id)
            ):
                return None
        except (TypeError, ValueError, AttributeError, ArithmeticError):
            return None  # a missing or mistyped field: `full` says which
        mac = self.hmac.copy()
        mac.update(number.encode())
        alliance_region, alliance_kind = context.alliances[counted.alliance_id]
        row = {
            "external_id": external_id,
            "month": month,
            "alliance_id": counted.alliance_id,
            "institution_id": facts.id,
            "outside_facility_id": None,
            "in_county": in_county(counted, facts, alliance_kind, alliance_region),
            "department_id": department,
            "resident_region": region,
            "is_resident": region == alliance_region,
            "patient_key": mac.hexdigest(),
            "diagnosis": diagnosis,
            "total_cost": total,
            "insurance_paid": paid,
            "tcm": bool(tcm),
            "referral_id": referral,
        }
        if self.is_admission:
            row["admit_date"], row["discharge_date"] = admitted, discharged
        else:
            row["visit_date"] = day
        return row

    def full(self, record):
        """Every check, naming each field at fault (one message per field)."""
        if not isinstance(record, dict):
            return None, [("record", _("Each record is a JSON object."))]
        row, errors = {}, []
        for check in self.steps:
            try:
                check(record, row)
            except Rejected as rejected:
                if all(rejected.field != known for known, _message in errors):
                    errors.append((rejected.field, rejected.message))
            except Skip:
                pass
        return row, errors

    # --- the fields -------------------------------------------------------------------------
    def external_id(self, record, row):
        value = required(record, "external_id")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise Rejected("external_id", _("Send the external id as text."))
        value = str(value).strip()
        if not value:
            raise Rejected("external_id", _("This field is required."))
        if len(value) > EXTERNAL_ID_LENGTH:
            raise Rejected(
                "external_id",
                _("An external id has at most %(max)d characters.") % {"max": EXTERNAL_ID_LENGTH},
            )
        row["external_id"] = value

    def dates(self, record, row):
        if self.is_admission:
            admitted = self.date(record, "admit_date")
            discharged = self.date(record, "discharge_date")
            if discharged < admitted:
                raise Rejected("discharge_date", _("The discharge date is before the admission date."))
            row["admit_date"], row["discharge_date"] = admitted, discharged
            day = discharged
        else:
            day = row["visit_date"] = self.date(record, "visit_date")
        row["month"] = day.replace(day=1)

    def date(self, record, name):
        value = required(record, name)
        if isinstance(value, datetime.datetime):
            value = value.date()
        elif not isinstance(value, datetime.date):
            try:
                value = datetime.date.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            if value is None:
                raise Rejected(name, _("Enter a real date as YYYY-MM-DD."))
        if value > self.context.today:
            raise Rejected(name, _("This date is in the future."))
        return value

    def place(self, record, row):
        """The institution (or, from the insurance feed, the outside facility), its alliance,
        whether the client may write it, in-county, department and resident flags."""
        if "month" not in row:
            raise Skip  # no date: the placement cannot be looked up
        institution, facility = record.get("institution"), record.get("outside_facility")
        if institution is not None and facility is not None:
            raise Rejected("institution", _("Send either an institution or an outside facility, not both."))
        if facility is not None:
            return self.outside(record, facility, row)
        if institution is None:
            if self.context.insurance_regions:
                raise Rejected("outside_facility", _("This field is required."))
            raise Rejected("institution", _("This field is required."))
        self.registered(record, institution, row)

    def registered(self, record, code, row):
        context = self.context
        if not context.own and not context.admin_alliances and not context.any_institution:
            raise Rejected(
                "institution", _("The insurance feed sends only records of facilities outside the alliance.")
            )
        facts = context.institutions.get(code.strip() if isinstance(code, str) else None)
        if facts is None:
            raise Rejected(
                "institution", _("No institution with code %(code)s is registered.") % {"code": code}
            )
        day = row.get("discharge_date") or row["visit_date"]
        then = facts.place_on(day)
        counted = self.month_place(facts, row["month"]) or then
        if counted is None:
            raise Rejected(
                "institution",
                _("Institution %(code)s did not belong to an alliance on %(date)s.")
                % {"code": facts.code, "date": day.isoformat()},
            )
        if not self.may_write(facts, then, counted.alliance_id):
            raise Rejected(
                "institution", _("You may not send records of institution %(code)s.") % {"code": facts.code}
            )
        region, kind = context.alliances[counted.alliance_id]
        row["alliance_id"], row["institution_id"], row["outside_facility_id"] = (
            counted.alliance_id,
            facts.id,
            None,
        )
        row["in_county"] = in_county(counted, facts, kind, region)
        row["department_id"] = self.department(record, facts)

    def month_place(self, facts, month):
        """The placement on the last day of the record's month: a month's figures use the
        hierarchy as it stood then (DESIGN §3), so the alliance column does too."""
        last = self.months.get(month)
        if last is None:
            last = self.months[month] = last_of_month(month)
        return facts.place_on(last)

    def may_write(self, facts, then, alliance_id):
        context = self.context
        if context.any_institution or facts.id in context.own:
            return True
        # 乡村一体化: a township branch's HIS also sends its village clinics' records.
        if then is not None and then.role == PlacementRole.VILLAGE and then.parent_id in context.own:
            return True
        return alliance_id in context.admin_alliances

    def department(self, record, facts):
        code = required(record, "department")
        department = self.context.departments.get((facts.id, code.strip() if isinstance(code, str) else None))
        if department is None:
            raise Rejected(
                "department",
                _("Institution %(institution)s has no department with code %(code)s.")
                % {"institution": facts.code, "code": code},
            )
        return department

    def outside(self, record, facility, row):
        context = self.context
        if not context.insurance_regions:
            raise Rejected(
                "outside_facility",
                _("Only the insurance feed sends records of facilities outside the alliance."),
            )
        facility = check_facility(facility)
        if facility["code"] in context.institutions:
            raise Rejected(
                "outside_facility.code",
                _("%(code)s is an institution of an alliance, not an outside facility.")
                % {"code": facility["code"]},
            )
        region = self.region(record)
        alliance_id = context.insurance_regions.get(region)
        if alliance_id is None:
            raise Rejected(
                "resident_region", _("The insurance feed sends only records of its own county's residents.")
            )
        row["alliance_id"], row["institution_id"], row["department_id"] = alliance_id, None, None
        row["outside_facility_id"], row["facility"] = None, facility
        row["in_county"] = facility["region_code"] == context.alliances[alliance_id][0]

    def region(self, record):
        value = required(record, "resident_region")
        if (
            not (type(value) is str and len(value) == 6 and value.isdigit() and value.isascii())
            or value[:2] not in PROVINCE_PREFIXES
        ):
            value = django_check("resident_region", validate_region_code, value)
        return value

    def patient(self, record, row):
        region = self.region(record)
        row["resident_region"] = region
        alliance_id = row.get("alliance_id")
        if alliance_id is not None:
            row["is_resident"] = region == self.context.alliances[alliance_id][0]
        number = fast_resident_id(required(record, "patient_id_number"), self.context.today)
        if number is None:
            number = django_check("patient_id_number", validate_resident_id, record["patient_id_number"])
        mac = self.hmac.copy()
        mac.update(number.encode())
        row["patient_key"] = mac.hexdigest()

    def diagnosis(self, record, row):
        code = normalize_icd10(required(record, "diagnosis"))
        if code is None:
            raise Rejected("diagnosis", str(ICD10_MESSAGE))
        row["diagnosis"] = code

    def amounts(self, record, row):
        total = check_amount(record, "total_cost")
        paid = check_amount(record, "insurance_paid")
        if paid > total:
            raise Rejected("insurance_paid", _("The insurance cannot pay more than the total cost."))
        row["total_cost"], row["insurance_paid"] = total, paid

    def flags(self, record, row):
        tcm = record.get("tcm")
        if tcm is None:
            tcm = False
        elif not isinstance(tcm, bool):
            raise Rejected("tcm", _("Send true or false."))
        referral = record.get("referral")
        if referral is not None and (
            isinstance(referral, bool) or not isinstance(referral, int) or not 0 < referral < 2**63
        ):
            raise Rejected("referral", _("A referral is named by its id, a positive whole number."))
        if (
            referral is not None
            and "alliance_id" in row
            and self.context.referrals.get(referral) != row["alliance_id"]
        ):
            raise Rejected(
                "referral",
                _("There is no referral %(id)d in this alliance; check the referral number.")
                % {"id": referral},
            )
        row["tcm"], row["referral_id"] = tcm, referral


def _plain_region(value):
    """A six-digit GB/T 2260 code with a real province, as sent (else core.identity's check runs)."""
    return (
        type(value) is str
        and len(value) == 6
        and value.isascii()
        and value.isdigit()
        and value[:2] in PROVINCE_PREFIXES
    )


def in_county(place, facts, kind, region):
    """Care at a registered institution is in the county when the institution is a member of a
    county alliance (DESIGN §8), or lies in the region of a city group; a partner institution
    (a city or provincial hospital receiving up-referrals) is outside the county either way."""
    if place.role == PlacementRole.PARTNER:
        return False
    return kind == AllianceKind.COUNTY or facts.region_code == region
