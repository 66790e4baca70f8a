"""Personal and institutional identifiers: validation with Chinese messages, keyed hashes,
encryption at rest and masking (brief §5). Shared by every app that touches resident IDs.

- Resident ID (居民身份证号码, GB 11643): check digit and birth date via python-stdnum.
- Unified social credit code (统一社会信用代码, GB 32100) via python-stdnum.
- Region code (GB/T 2260): six digits with a real province prefix.
- `patient_key`: HMAC-SHA256 under PATIENT_KEY_SECRET of the normalised ID: the one keyed hash
  used for lookups everywhere, never the raw number.
- `encrypt`/`decrypt`: Fernet under RESIDENT_DATA_KEYS (MultiFernet, first key encrypts), so the
  number can be shown masked, or in full to whoever may see it.
"""

import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９ＸｘＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＹ", "0123456789XXABCDEFGHJKLMNPQRTUWY"
)
PROVINCE_PREFIXES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
}  # fmt: skip


def normalize_resident_id(value):
    """Upper-case X, no spaces, full-width digits made half-width."""
    return re.sub(r"\s+", "", str(value or "")).translate(FULL_WIDTH).upper()


def validate_resident_id(value):
    """Return the normalised 18-character resident ID, or raise ValidationError in Chinese."""
    number = normalize_resident_id(value)
    if len(number) != 18:
        raise ValidationError(
            _("A resident ID number has 18 characters; this one has %(n)d."),
            params={"n": len(number)},
            code="resident_id_length",
        )
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(
            _("A resident ID number is 17 digits followed by a digit or X."), code="resident_id_format"
        )
    # python-stdnum's ric.validate() also rejects a region code that was created after the
    # birth year, but people born before 1989 hold IDs with codes issued when the ID was: so we
    # use stdnum for the check digit and the birth date, and check the region prefix ourselves.
    if ric.calc_check_digit(number) != number[-1]:
        raise ValidationError(
            _("The check digit of this resident ID number is wrong; please check the number."),
            code="resident_id_checksum",
        )
    try:
        born = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        born = None
    if born is None or born > timezone.localdate() or born.year < 1880:
        raise ValidationError(
            _("The birth date in this resident ID number is not a real date."), code="resident_id_birth_date"
        )
    if number[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            _("The first six digits of this resident ID number are not a region code."),
            code="resident_id_region",
        )
    return number


def birth_date_of(resident_id):
    return ric.get_birth_date(resident_id)


def validate_credit_code(value):
    """Return the normalised unified social credit code, or raise ValidationError in Chinese."""
    code = normalize_resident_id(value)
    if len(code) != 18:
        raise ValidationError(_("A unified social credit code has 18 characters."), code="credit_code_length")
    try:
        uscc.validate(code)
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _("The check character of this unified social credit code is wrong."), code="credit_code_checksum"
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(
            _("This is not a valid unified social credit code."), code="credit_code_format"
        ) from None
    return code


def validate_region_code(value):
    """A GB/T 2260 administrative region code: six digits with a real province prefix."""
    code = normalize_resident_id(value)
    if not re.fullmatch(r"\d{6}", code) or code[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(_("A region code is six digits (GB/T 2260), e.g. 330782."), code="region_code")
    return code


# --- Keyed hashes and encryption ---------------------------------------------------------
def patient_key(resident_id):
    """HMAC-SHA256 of the normalised resident ID under PATIENT_KEY_SECRET (hex, 64 chars)."""
    number = normalize_resident_id(resident_id)
    return hmac.new(settings.PATIENT_KEY_SECRET.encode(), number.encode(), hashlib.sha256).hexdigest()


@cache
def _fernet(keys):
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(text):
    return _fernet(tuple(settings.RESIDENT_DATA_KEYS)).encrypt(text.encode()).decode()


def decrypt(token):
    try:
        return _fernet(tuple(settings.RESIDENT_DATA_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


# --- Masking -------------------------------------------------------------------------------
def mask_resident_id(number):
    """First 6 and last 4 characters: 110105********002X."""
    if not number:
        return ""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def mask_name(name):
    """The family name and a star for the rest: 张*, 欧阳**."""
    if not name:
        return ""
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)
