"""Resident ID numbers (GB 11643), unified social credit codes (GB 32100), phone numbers."""
from __future__ import annotations

import datetime as dt

import pytest

from core.errors import FieldError
from core.pii.validate import (
    PROVINCES,
    id_check_char,
    mask_phone,
    mask_resident_id,
    normalize_phone,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)


def test_the_standard_examples_are_valid():
    assert id_check_char("11010519491231002") == "X"
    assert validate_resident_id("11010519491231002X") == "11010519491231002X"
    assert validate_resident_id("34052419800101001X") == "34052419800101001X"
    assert id_check_char("44052418800101001") == "4"  # born 1880: refused as implausible


@pytest.mark.parametrize("raw", [
    "11010519491231002x", " 11010519491231002X ", "110105 19491231 002X",
    "１１０１０５１９４９１２３１００２Ｘ", "１１０１０５１９４９１２３１００２ｘ", "110105　19491231　002X",
])
def test_lower_case_x_full_width_digits_and_spaces_normalise(raw):
    assert validate_resident_id(raw) == "11010519491231002X"


def test_every_single_digit_change_and_adjacent_swap_is_caught():
    valid = "11010519491231002X"
    for i in range(6, 18):  # the province and area are checked elsewhere too
        for d in "0123456789X":
            if d == valid[i] or (d == "X" and i < 17):
                continue
            changed = valid[:i] + d + valid[i + 1:]
            with pytest.raises(FieldError):
                validate_resident_id(changed)
    for i in range(17):
        if valid[i] != valid[i + 1]:
            swapped = valid[:i] + valid[i + 1] + valid[i] + valid[i + 2:]
            with pytest.raises(FieldError):
                validate_resident_id(swapped)


def with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


@pytest.mark.parametrize("first17,message", [
    ("99010519491231002", "no province"),
    ("00010519491231002", "no province"),
    ("91010519491231002", "no province"),
    ("11010519490231002", "not a real date"),
    ("11010519491331002", "not a real date"),
    ("11010520000230002", "not a real date"),
    ("11010518991231002", "not plausible"),
])
def test_province_and_birth_date_are_checked(first17, message):
    with pytest.raises(FieldError, match=message) as err:
        validate_resident_id(with_check(first17))
    assert err.value.field == "id_number"


def test_a_birth_date_in_the_future_is_refused(app):
    from core.clock import today
    tomorrow = today() + dt.timedelta(days=1)
    with pytest.raises(FieldError, match="not plausible"):
        validate_resident_id(with_check(f"510104{tomorrow:%Y%m%d}001"))
    assert validate_resident_id(with_check(f"510104{today():%Y%m%d}001"))


def test_every_province_code_is_accepted_and_leap_days_are_real():
    for code in PROVINCES:
        assert validate_resident_id(with_check(f"{code}0000" + "19800101" + "123"))
    assert validate_resident_id(with_check("51010420000229123"))


@pytest.mark.parametrize("raw,message", [
    ("", "required"),
    ("110105491231002", "first-generation"),
    ("11010519491231002", "18 characters"),
    ("11010519491231002XX", "18 characters"),
    ("1101051949123100AX", "17 digits"),
    ("11010519491231002Y", "17 digits"),
    ("11010519491231002²", "only looks like a digit"),
    ("①1010519491231002X", "only looks like a digit"),
    ("١1010519491231002X", "only looks like a digit"),
    ("11010519491231002X\u200b", "18 characters"),
    ("1" * 200, "too long"),
    (None, "Expected text"),
    (11010519491231002, "Expected text"),
])
def test_malformed_numbers_are_refused_with_a_reason(raw, message):
    with pytest.raises(FieldError, match=message):
        validate_resident_id(raw, "applicant_id")


def test_the_field_is_named():
    with pytest.raises(FieldError) as err:
        validate_resident_id("x", field="reporter_id")
    assert err.value.field == "reporter_id" and err.value.status == 422


def test_masks():
    assert mask_resident_id("11010519491231002X") == "1101**********002X"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("028-85551234") == "028-****1234"


# Published codes of well-known companies (check characters computed by their registries).
REAL_USCC = ["9144030071526726XG", "91440300708461136T", "91350100M000100Y43",
             "91110000802100433B"]


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_credit_codes_are_valid(code):
    assert validate_uscc(code) == code
    assert validate_uscc(" " + code.lower() + " ") == code
    assert uscc_check_char(code[:17]) == code[17]


def test_every_single_character_change_of_a_credit_code_is_caught():
    code = REAL_USCC[0]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in (0, 1, 8, 9, 12, 16, 17):
        for c in alphabet:
            if c != code[i]:
                with pytest.raises(FieldError):
                    validate_uscc(code[:i] + c + code[i + 1:])


@pytest.mark.parametrize("raw,message", [
    ("", "required"),
    ("9144030071526726X", "18 characters"),
    ("9144030071526726OG", "never used"),
    ("91440300715I6726XG", "never used"),
    ("91A4030071526726XG", "region code"),
    ("9144030071526726XH", "check character"),
    ("９１４４０３００７１５２６７２６ＸＧ", None),
])
def test_bad_credit_codes_are_refused(raw, message):
    if message is None:
        assert validate_uscc(raw) == "9144030071526726XG"
        return
    with pytest.raises(FieldError, match=message) as err:
        validate_uscc(raw)
    assert err.value.field == "uscc"


@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("+8613800138000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("＋８６　１３８００１３８０００", "13800138000"),
    ("19912345678", "19912345678"),
    ("028-85551234", "028-85551234"),
    ("(028) 8555 1234", "028-85551234"),
    ("02885551234", "028-85551234"),
    ("010-62751234", "010-62751234"),
    ("0755-26781234", "0755-26781234"),
    ("0991-2345678", "0991-2345678"),
    ("+86 28 8555 1234", "028-85551234"),
    ("０２８－８５５５１２３４", "028-85551234"),
])
def test_phone_numbers_normalise(raw, expected):
    assert normalize_phone(raw) == expected
    assert normalize_phone(expected) == expected


@pytest.mark.parametrize("raw,message", [
    ("", "required"),
    ("1380013800", "11 digits"),
    ("138001380001", "11 digits"),
    ("15400000000", "begins with 154"),
    ("12012345678", "begins with 120"),
    ("14012345678", "begins with 140"),
    ("85551234", "area code"),
    ("028-0555123", "not beginning with 0 or 1"),
    ("028-855512345", "7 or 8 digits"),
    ("0123-4567890", "not an area code"),
    ("+1 415 555 0100", "mainland China"),
    ("138００13800²", "only looks like a digit"),
    ("¹3800138000", "only looks like a digit"),
    ("138-0013-800o", "only digits"),
    ("1" * 40, "too long"),
])
def test_bad_phone_numbers_are_refused(raw, message):
    with pytest.raises(FieldError, match=message) as err:
        normalize_phone(raw, "reporter_phone")
    assert err.value.field == "reporter_phone"
