"""The codes of a drug, each checked with a message naming it (issue 16 point 1; the formats of
../shared/domain/indicators-and-standards.md §d):

- 国家医保药品编码 (national medical-insurance drug code): upper-case letters and digits, 23
  characters starting with X for a western drug, 20 starting with Z for a Chinese patent
  medicine;
- 药品本位码 (national drug standard code): 14 digits beginning 86 (country), then the drug,
  company and product numbers and a check digit (GB 18937; its algorithm is not published in
  the sources we hold, so only the shape is checked);
- 批准文号 (approval number): 国药准字 + H (chemical), Z (Chinese medicine), S (biological) or J
  (imported sub-packed) + 8 digits (the year and a serial).
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NHSA_CODE = re.compile(r"(X[A-Z0-9]{22}|Z[A-Z0-9]{19})")
STANDARD_CODE = re.compile(r"86[0-9]{12}")
APPROVAL_NUMBER = re.compile(r"国药准字[HZSJ][0-9]{8}")


def plain(value):
    """Full-width letters and digits made plain, spaces dropped, letters upper case."""
    return unicodedata.normalize("NFKC", value or "").replace(" ", "").upper()


def nhsa_code_validator(value):
    if not NHSA_CODE.fullmatch(value or ""):
        raise ValidationError(
            _(
                "The national insurance drug code is 23 characters starting with X (western drugs) or "
                "20 starting with Z (Chinese patent medicines), upper-case letters and digits only."
            ),
            code="nhsa_code",
        )


def standard_code_validator(value):
    if value and not STANDARD_CODE.fullmatch(value):
        raise ValidationError(
            _("The drug standard code (本位码) is 14 digits beginning with 86."), code="standard_code"
        )


def approval_number_validator(value):
    if value and not APPROVAL_NUMBER.fullmatch(value):
        raise ValidationError(
            _(
                "The approval number is 国药准字 followed by H, Z, S or J and 8 digits, e.g. 国药准字H20003263."
            ),
            code="approval_number",
        )
