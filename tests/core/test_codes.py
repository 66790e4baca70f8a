"""ICD-10 codes in the three editions HIS send (issue 13 point 3), kept in their official form."""

import pytest
from django.core.exceptions import ValidationError

from core.codes import icd10_validator, normalize_icd10


@pytest.mark.parametrize(
    ("sent", "official"),
    [
        ("I10", "I10"),
        ("E11.9", "E11.9"),
        ("J44.101", "J44.101"),
        ("C34.1", "C34.1"),
        ("E11.900", "E11.900"),  # insurance edition
        ("I10.x00x002", "I10.x00x002"),  # national clinical edition 2.0: the x is lower case
        ("E11.900x001", "E11.900x001"),
        ("I10.X00X002", "I10.x00x002"),  # typed in capitals
        (" e11.900 ", "E11.900"),
        ("Ｉ１０．ｘ００ｘ００２", "I10.x00x002"),  # full-width, from a Chinese input method
    ],
)
def test_codes_of_every_edition_are_accepted_in_their_official_form(sent, official):
    assert normalize_icd10(sent) == official
    icd10_validator(official)


@pytest.mark.parametrize("sent", ["", "110", "E11.", "高血压", "J18.90001", "I10.x00x0021", None, 10])
def test_what_is_not_a_code_is_refused(sent):
    assert normalize_icd10(sent) is None


def test_the_field_check_wants_the_official_form():
    with pytest.raises(ValidationError):
        icd10_validator("i10.X00X002")
