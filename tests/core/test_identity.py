"""Identifiers (issue 3 point 3): resident ID (GB 11643), unified social credit code (GB 32100) and
region code (GB/T 2260) validation, keyed hashes, encryption at rest and masking."""

import datetime
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, override

from core import identity
from tests.alliance.factories import credit_code

VALID_ID = "11010519491231002X"
BAD_CHECK_DIGIT = "110105194912310021"
IMPOSSIBLE_BIRTH_DATE = "110105194902300012"  # 30 February 1949, with a correct check digit
FUTURE_BIRTH_DATE = "110105209901010012"
TOO_OLD_BIRTH_DATE = "110105187001010012"
NO_SUCH_PROVINCE = "990105194901010017"


def _error(function, value):
    with pytest.raises(ValidationError) as caught:
        function(value)
    return caught.value


# --- Resident ID ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [
        VALID_ID,
        "11010519491231002x",  # lower-case x
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
        "１１０１０５１９４９１２３１００２ｘ",  # full-width lower-case x
        " 110105 19491231 002X ",  # spaces as typed from a card
    ],
)
def test_resident_id_is_normalised_to_eighteen_half_width_characters(typed):
    assert identity.validate_resident_id(typed) == VALID_ID


@pytest.mark.parametrize(
    ("value", "code", "msgid", "params"),
    [
        (
            "11010519491231002",
            "resident_id_length",
            "A resident ID number has 18 characters; this one has %(n)d.",
            {"n": 17},
        ),
        (
            "110105491231002",
            "resident_id_length",
            "A resident ID number has 18 characters; this one has %(n)d.",
            {"n": 15},
        ),
        (
            "11010519491231002X1",
            "resident_id_length",
            "A resident ID number has 18 characters; this one has %(n)d.",
            {"n": 19},
        ),
        ("", "resident_id_length", "A resident ID number has 18 characters; this one has %(n)d.", {"n": 0}),
        (
            "11010519491231002A",
            "resident_id_format",
            "A resident ID number is 17 digits followed by a digit or X.",
            {},
        ),
        (
            "1101051949X231002X",
            "resident_id_format",
            "A resident ID number is 17 digits followed by a digit or X.",
            {},
        ),
        (
            BAD_CHECK_DIGIT,
            "resident_id_checksum",
            "The check digit of this resident ID number is wrong; please check the number.",
            {},
        ),
        (
            IMPOSSIBLE_BIRTH_DATE,
            "resident_id_birth_date",
            "The birth date in this resident ID number is not a real date.",
            {},
        ),
        (
            FUTURE_BIRTH_DATE,
            "resident_id_birth_date",
            "The birth date in this resident ID number is not a real date.",
            {},
        ),
        (
            TOO_OLD_BIRTH_DATE,
            "resident_id_birth_date",
            "The birth date in this resident ID number is not a real date.",
            {},
        ),
        (
            NO_SUCH_PROVINCE,
            "resident_id_region",
            "The first six digits of this resident ID number are not a region code.",
            {},
        ),
    ],
)
def test_an_invalid_resident_id_is_rejected_with_its_reason(value, code, msgid, params):
    error = _error(identity.validate_resident_id, value)

    assert error.code == code
    assert error.messages == [gettext(msgid) % params]


def test_birth_date_comes_from_the_resident_id():
    assert identity.birth_date_of(VALID_ID) == datetime.date(1949, 12, 31)


# --- Unified social credit code and region code ---------------------------------------------------
def test_a_valid_credit_code_is_returned_normalised():
    code = credit_code(7)

    assert identity.validate_credit_code(code) == code
    assert identity.validate_credit_code(code.lower()) == code
    assert identity.validate_credit_code(f" {code[:9]} {code[9:]} ") == code


def _wrong_check_character(code):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]


@pytest.mark.parametrize(
    ("value", "code", "msgid"),
    [
        (credit_code(7)[:17], "credit_code_length", "A unified social credit code has 18 characters."),
        (
            _wrong_check_character(credit_code(7)),
            "credit_code_checksum",
            "The check character of this unified social credit code is wrong.",
        ),
        ("9133078IMA2000007K", "credit_code_format", "This is not a valid unified social credit code."),
        ("91330782MA200000I1", "credit_code_format", "This is not a valid unified social credit code."),
    ],
)
def test_an_invalid_credit_code_is_rejected_with_its_reason(value, code, msgid):
    error = _error(identity.validate_credit_code, value)

    assert error.code == code
    assert error.messages == [gettext(msgid)]


@pytest.mark.parametrize(
    ("typed", "stored"), [("330782", "330782"), ("３３０７８２", "330782"), (" 110105", "110105")]
)
def test_a_region_code_is_six_digits_with_a_real_province(typed, stored):
    assert identity.validate_region_code(typed) == stored


@pytest.mark.parametrize("value", ["33078", "3307821", "33078a", "990782", "000000", ""])
def test_an_invalid_region_code_is_rejected(value):
    error = _error(identity.validate_region_code, value)

    assert error.code == "region_code"
    assert error.messages == [gettext("A region code is six digits (GB/T 2260), e.g. 330782.")]


# --- Masking -------------------------------------------------------------------------------------
def test_a_resident_id_is_masked_to_its_first_six_and_last_four_characters():
    assert identity.mask_resident_id(VALID_ID) == "110105********002X"
    assert identity.mask_resident_id("") == ""


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("李小龙", "李**"), ("欧阳修文", "欧阳**"), ("", "")]
)
def test_a_name_is_masked_to_its_family_name(name, masked):
    assert identity.mask_name(name) == masked


# --- Keyed hash ------------------------------------------------------------------------------------
def test_patient_key_is_an_hmac_under_its_own_secret(settings):
    settings.PATIENT_KEY_SECRET = "patient-key-secret-for-tests"
    expected = hmac.new(b"patient-key-secret-for-tests", VALID_ID.encode(), hashlib.sha256).hexdigest()

    key = identity.patient_key(VALID_ID)

    assert key == expected
    assert len(key) == 64
    assert key != hashlib.sha256(VALID_ID.encode()).hexdigest()
    assert key != hmac.new(settings.SECRET_KEY.encode(), VALID_ID.encode(), hashlib.sha256).hexdigest()


def test_patient_key_changes_with_the_secret(settings):
    settings.PATIENT_KEY_SECRET = "first-secret"
    first = identity.patient_key(VALID_ID)
    settings.PATIENT_KEY_SECRET = "second-secret"

    assert identity.patient_key(VALID_ID) != first


@pytest.mark.parametrize(
    "typed", ["11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", "110105 19491231 002X"]
)
def test_patient_key_is_the_same_for_every_way_of_typing_one_number(typed):
    assert identity.patient_key(typed) == identity.patient_key(VALID_ID)


# --- Encryption at rest -------------------------------------------------------------------------------
def test_an_encrypted_id_decrypts_to_the_same_number_and_does_not_contain_it():
    token = identity.encrypt(VALID_ID)

    assert VALID_ID not in token
    assert identity.decrypt(token) == VALID_ID
    assert identity.encrypt(VALID_ID) != token  # Fernet tokens are salted: no equality leak


def test_an_old_key_still_decrypts_after_a_new_key_is_put_first(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RESIDENT_DATA_KEYS = [old_key]
    token = identity.encrypt(VALID_ID)
    settings.RESIDENT_DATA_KEYS = [new_key, old_key]

    assert identity.decrypt(token) == VALID_ID
    assert Fernet(new_key.encode()).decrypt(identity.encrypt(VALID_ID).encode()).decode() == VALID_ID


def test_a_token_under_an_unknown_key_decrypts_to_none(settings):
    settings.RESIDENT_DATA_KEYS = [Fernet.generate_key().decode()]
    token = identity.encrypt(VALID_ID)
    settings.RESIDENT_DATA_KEYS = [Fernet.generate_key().decode()]

    assert identity.decrypt(token) is None
    assert identity.decrypt("not-a-token") is None


# --- Chinese messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "value", "msgid", "params"),
    [
        (
            identity.validate_resident_id,
            "11010519491231002",
            "A resident ID number has 18 characters; this one has %(n)d.",
            {"n": 17},
        ),
        (
            identity.validate_resident_id,
            "11010519491231002A",
            "A resident ID number is 17 digits followed by a digit or X.",
            {},
        ),
        (
            identity.validate_resident_id,
            BAD_CHECK_DIGIT,
            "The check digit of this resident ID number is wrong; please check the number.",
            {},
        ),
        (
            identity.validate_resident_id,
            IMPOSSIBLE_BIRTH_DATE,
            "The birth date in this resident ID number is not a real date.",
            {},
        ),
        (
            identity.validate_resident_id,
            NO_SUCH_PROVINCE,
            "The first six digits of this resident ID number are not a region code.",
            {},
        ),
        (identity.validate_credit_code, "91330782", "A unified social credit code has 18 characters.", {}),
        (
            identity.validate_credit_code,
            _wrong_check_character(credit_code(7)),
            "The check character of this unified social credit code is wrong.",
            {},
        ),
        (
            identity.validate_credit_code,
            "91330782MA200000I1",
            "This is not a valid unified social credit code.",
            {},
        ),
        (identity.validate_region_code, "33078", "A region code is six digits (GB/T 2260), e.g. 330782.", {}),
    ],
)
def test_identifier_messages_are_chinese_in_zh_hans(zh_hans, function, value, msgid, params):
    expected = zh_hans(msgid) % params

    with override("zh-hans"):
        error = _error(function, value)
        assert error.messages == [expected]
