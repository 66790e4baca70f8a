"""Codes that hospital systems send, checked once for every app (issue 13 point 3).

ICD-10 diagnosis codes come in three editions in Chinese hospitals: the WHO code (J18.9), the
insurance edition (医保版, E11.900) and the national clinical edition 2.0 (国家临床版 2.0,
I10.x00x002, E11.900x001), whose lowercase `x` is part of the code. `normalize_icd10` gives the
official form (the chapter letter upper case, `x` lower case, full-width characters made plain)
or None; the official form is what is stored and compared.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ICD10_LENGTH = 16  # I10.x00x002 is 11; room for the longest national extensions
ICD10 = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9A-WYZx]{1,4}(?:x[0-9]{3})?)?")
ICD10_MESSAGE = _(
    "Enter an ICD-10 code (WHO, insurance or national clinical edition 2.0), e.g. J18.9, E11.900 or I10.x00x002."
)


def normalize_icd10(value):
    """The official form of the ICD-10 code `value`, or None when it is not one."""
    if not isinstance(value, str):
        return None
    head, dot, tail = unicodedata.normalize("NFKC", value).strip().partition(".")
    code = f"{head.upper()}{dot}{tail.upper().replace('X', 'x')}"
    return code if len(code) <= ICD10_LENGTH and ICD10.fullmatch(code) else None


def icd10_validator(value):
    """A model field's check: the value is an ICD-10 code in its official form."""
    if normalize_icd10(value) != value:
        raise ValidationError(ICD10_MESSAGE, code="icd10")
