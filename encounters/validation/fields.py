"""Field checks of encounter records: constants, the `Rejected` error, and the checks of the
values that need more than a line (resident ID fast path, amounts, outside facilities)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from alliance.choices import InstitutionLevel
from core.identity import PROVINCE_PREFIXES, validate_region_code

EXTERNAL_ID_LENGTH = 64
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
LEVELS = frozenset(InstitutionLevel.values)


class Rejected(Exception):
    """One field of one record is wrong: `field` names it, `message` says why (translated)."""

    def __init__(self, field_name, message):
        super().__init__(message)
        self.field = field_name
        self.message = str(message)


class Skip(Exception):
    """A step that cannot run because an earlier field failed (its error is reported already)."""


def required(record, name):
    value = record.get(name)
    if value is None or value == "":
        raise Rejected(name, _("This field is required."))
    return value


def django_check(name, validator, value):
    """Run one of core.identity's validators and turn its error into a Rejected field."""
    try:
        return validator(value)
    except ValidationError as error:
        raise Rejected(name, error.messages[0]) from None


def fast_resident_id(value, today):
    """The normalised resident ID when it is plainly valid, else None (then core.identity's
    validator runs for its exact Chinese message). Same rules as `validate_resident_id`: GB 11643
    check digit, a real birth date, a real province; this is only the fast path for 5,000 IDs."""
    if type(value) is not str or len(value) != 18 or not value.isascii():
        return None
    number = value.upper()
    if not number[:17].isdigit() or number[:2] not in PROVINCE_PREFIXES:
        return None
    check = (1 - 2 * int(number[:17], 13)) % 11
    if ("X" if check == 10 else str(check)) != number[17]:
        return None
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born > today or born.year < 1880:
        return None
    return number


def check_amount(record, name):
    value = required(record, name)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise Rejected(name, _("Enter an amount in yuan, e.g. 125.50."))
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise Rejected(name, _("Enter an amount in yuan, e.g. 125.50.")) from None
    if not amount.is_finite():
        raise Rejected(name, _("Enter an amount in yuan, e.g. 125.50."))
    if amount < 0:
        raise Rejected(name, _("An amount cannot be negative."))
    rounded = amount.quantize(CENT) if amount < MAX_AMOUNT else amount
    if rounded != amount:
        raise Rejected(name, _("An amount has at most 2 decimal places."))
    if amount > MAX_AMOUNT:
        raise Rejected(name, _("This amount is too large."))
    return rounded


def fast_amount(value):
    """The amount of a plainly valid value (number or text, ≥ 0, at most 2 decimals, not too
    large) as Decimal with 2 places, else None (then `check_amount` names the fault)."""
    kind = type(value)
    if kind is str or kind is int:
        amount = Decimal(value)
    elif kind is float:
        amount = Decimal(repr(value))
    else:
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        return None
    rounded = amount.quantize(CENT)
    return rounded if rounded == amount else None


def check_facility(value):
    """An outside facility as the insurance feed names it: {"code", "name", "region", "level"}."""
    if not isinstance(value, dict):
        raise Rejected(
            "outside_facility",
            _('An outside facility is an object {"code", "name", "region", "level"}.'),
        )
    code, name = value.get("code"), value.get("name")
    for key, text, limit in (("code", code, 32), ("name", name, 100)):
        if not isinstance(text, str) or not text.strip():
            raise Rejected(f"outside_facility.{key}", _("This field is required."))
        if len(text.strip()) > limit:
            raise Rejected(f"outside_facility.{key}", _("At most %(max)d characters.") % {"max": limit})
    region = django_check("outside_facility.region", validate_region_code, value.get("region"))
    level = value.get("level") or ""
    if level and level not in LEVELS:
        raise Rejected("outside_facility.level", _("The level is one of primary, secondary or tertiary."))
    return {"code": code.strip(), "name": name.strip(), "region_code": region, "level": level}
