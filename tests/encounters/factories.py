"""Builders of encounter records as an HIS or the insurance feed sends them (DESIGN §8), and of
the clients that send them."""

import datetime

from stdnum.cn import ric

from alliance.models import Department
from tests.core.factories import UserFactory
from tests.members.factories import MembershipFactory

DAY = datetime.date(2026, 3, 16)


def resident_id(n, region="330782"):
    """A valid resident ID, distinct for every n below 36,500,000 (birth day × sequence)."""
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=n % 18250)
    body = f"{region}{born:%Y%m%d}{n // 18250 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def department(institution, code="02", name="全科医疗科"):
    return Department.objects.get_or_create(institution=institution, code=code, defaults={"name": name})[0]


def client_of(institution, role="api_client", username=None):
    """A user holding an institution role (an HIS by default) at `institution`."""
    user = UserFactory(**({"username": username} if username else {}))
    MembershipFactory(user=user, role=role, institution=institution)
    return user


def alliance_client(alliance, role="insurance_feed"):
    user = UserFactory()
    MembershipFactory(user=user, role=role, alliance=alliance)
    return user


def visit(n=1, institution=None, **changes):
    """A valid visit record of `institution` (its code) with department 02."""
    record = {
        "external_id": f"V{n:07d}",
        "institution": institution.code if institution is not None else None,
        "visit_date": DAY.isoformat(),
        "department": "02",
        "patient_id_number": resident_id(n),
        "resident_region": "330782",
        "diagnosis": "J06.9",
        "total_cost": "125.50",
        "insurance_paid": "80.00",
        "tcm": False,
    }
    record.update(changes)
    return {key: value for key, value in record.items() if value is not None}


def admission(n=1, institution=None, **changes):
    record = visit(n, institution, **changes)
    record.pop("visit_date", None)
    record["external_id"] = changes.get("external_id", f"A{n:07d}")
    record.setdefault("admit_date", (DAY - datetime.timedelta(days=5)).isoformat())
    record.setdefault("discharge_date", DAY.isoformat())
    return record


def outside(n=1, facility_code="ZJ-HZ-001", region="330106", **changes):
    """An insurance-feed record of care at a facility outside the alliance (杭州, by default)."""
    record = visit(n, None, department=None, **changes)
    record["outside_facility"] = {"code": facility_code, "name": "浙江大学医学院附属第一医院", "region": region,
                                  "level": "tertiary"}  # fmt: skip
    return record
