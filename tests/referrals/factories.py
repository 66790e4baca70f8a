"""Helpers of the referral tests: rows made through `referrals.services`, as the application does."""

import datetime

from django.utils import timezone

from referrals import services
from referrals.choices import SlotPeriod, Urgency
from tests.alliance.factories import DepartmentFactory
from tests.core.factories import UserFactory
from tests.members.factories import MembershipFactory, resident_id

WEEK = datetime.timedelta(days=7)


def next_week():
    return timezone.localdate() + WEEK


def department(institution, code="03", name="内科"):
    return DepartmentFactory(institution=institution, code=code, name=name)


def slots(department, *, count=3, reserved=3, date=None, period=SlotPeriod.AM, doctor="李医生"):
    return services.publish_slots(
        institution=department.institution,
        department=department,
        date=date or next_week(),
        period=period,
        count=count,
        reserved_for_primary=reserved,
        doctor=doctor,
        acting_user=None,
    )


def beds(department, *, count=2, date=None):
    return services.publish_beds(
        institution=department.institution,
        department=department,
        date=date or next_week(),
        count=count,
        acting_user=None,
    )


def patient(n=1, name="张三", signed=False):
    return {
        "name": name,
        "id_number": resident_id(n),
        "insurance_number": f"INS{n:06d}",
        "signed_resident": signed,
    }


def referral(from_institution, to_institution, *, n=1, acting_user=None, **fields):
    """A submitted referral (or a draft with submit=False) for patient number `n`."""
    defaults = {
        "patient": patient(n),
        "diagnosis": "I10",
        "reason": "血压控制不佳",
        "urgency": Urgency.ROUTINE,
    }
    defaults.update(fields)
    return services.create_referral(
        acting_user=acting_user, from_institution=from_institution, to_institution=to_institution, **defaults
    )


def member(role, institution, username=None):
    """A user holding one institution-level role."""
    user = UserFactory(**({"username": username} if username else {}))
    MembershipFactory(user=user, role=role, institution=institution)
    return user


def api_body(sender, receiver, *, department=None, n=3, name="李四", **fields):
    """A `POST /api/v1/referrals/` body as an HIS sends it (codes in): an urgent up-referral of
    patient number `n` from `sender` to `receiver` (institutions), to `department` if given."""
    body = {
        "direction": "up",
        "from_institution": sender.code,
        "to_institution": receiver.code,
        "patient": patient(n, name=name),
        "diagnosis": "E11.9",
        "reason": "血糖控制不佳",
        "urgency": "urgent",
    }
    if department is not None:
        body["to_department"] = department.code
    body.update(fields)
    return body
