"""Validation of personal and organisation identifiers: resident ID numbers (居民身份证号码,
GB 11643-1999), unified social credit codes (统一社会信用代码, GB 32100-2015) and phone
numbers of mainland China.

Each function returns the one normalised form that is stored, indexed and compared, or
raises :class:`~core.errors.FieldError` naming the field and what is wrong. Full-width
digits and letters (what a Chinese input method types) are folded to ASCII; every other
character that merely looks like a digit (superscripts, circled or Arabic-Indic digits)
is refused, so the stored value is the one an ASCII search finds.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from core.clock import today
from core.errors import FieldError
from core.i18n import _
from core.parse import fold_width

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_BORN_MIN = dt.date(1900, 1, 1)

# Province-level divisions of GB/T 2260, plus 83 (Taiwan residents' residence permits,
# 台湾居民居住证, which carry an 18-character number of this scheme, as 81/82 do).
PROVINCES = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
    "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门", "83": "台湾（居住证）",
}

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Three-digit mobile prefixes allocated in the national numbering plan (移动电话号段)
# for 11-digit public mobile numbers; 140-144 are 13-digit IoT numbers.
MOBILE_PREFIXES = frozenset(
    [f"13{d}" for d in range(10)]
    + ["145", "146", "147", "148", "149"]
    + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
    + ["162", "165", "166", "167"]
    + [f"17{d}" for d in (0, 1, 2, 3, 4, 5, 6, 7, 8)]
    + [f"18{d}" for d in range(10)]
    + [f"19{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)])
THREE_DIGIT_AREAS = frozenset(["010"] + [f"02{d}" for d in range(10)])
_SEPARATORS = str.maketrans("", "", " -()\u00a0")


def _ascii(value, field: str, *, limit: int) -> str:
    """Width-folded, stripped text; refuses non-text, overlong input and look-alike
    digits (anything Unicode calls a digit or number that is not 0-9)."""
    if not isinstance(value, str):
        raise FieldError(field, _("Expected text."))
    text = fold_width(value).strip()
    if len(text) > limit:
        raise FieldError(field, _("The value is too long."))
    for ch in text:
        if not ch.isascii() and unicodedata.category(ch) in ("Nd", "No", "Nl"):
            raise FieldError(field, _("Use the digits 0-9: %(c)s only looks like a digit.",
                                      c=ch))
    return text


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an ID number's first 17 digits."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def validate_resident_id(value, field: str = "id_number") -> str:
    """A resident ID number (GB 11643): 18 characters, upper-case X, a real birth date
    not in the future, a province of GB/T 2260 and the right check character."""
    text = _ascii(value, field, limit=40).replace(" ", "").upper()
    if not text:
        raise FieldError(field, _("The ID number is required."))
    if len(text) == 15 and text.isdigit():
        raise FieldError(field, _("15-digit numbers of first-generation cards are no longer "
                                  "valid: give the 18-character number."))
    if len(text) != 18:
        raise FieldError(field, _("The ID number must have 18 characters (it has %(n)d).",
                                  n=len(text)))
    if not (text[:17].isascii() and text[:17].isdigit()) or text[17] not in "0123456789X":
        raise FieldError(field, _("The ID number must be 17 digits followed by a digit "
                                  "or X."))
    if text[:2] not in PROVINCES:
        raise FieldError(field, _("The ID number begins with %(p)s, which is no province "
                                  "of China.", p=text[:2]))
    try:
        born = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldError(field, _("The birth date in the ID number (%(d)s) is not a real "
                                  "date.", d=text[6:14])) from None
    if born > today() or born < ID_BORN_MIN:
        raise FieldError(field, _("The birth date in the ID number (%(d)s) is not "
                                  "plausible.", d=text[6:14]))
    if id_check_char(text[:17]) != text[17]:
        raise FieldError(field, _("The check character of the ID number is wrong: please "
                                  "check every digit."))
    return text


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character (modulo 31) of a code's first 17 characters."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[-total % 31]


def validate_uscc(value, field: str = "uscc") -> str:
    """A unified social credit code (GB 32100): 18 characters of its 31-character set,
    a GB/T 2260 region code in positions 3-8 and the right check character."""
    text = _ascii(value, field, limit=40).replace(" ", "").upper()
    if not text:
        raise FieldError(field, _("The unified social credit code is required."))
    if len(text) != 18:
        raise FieldError(field, _("The unified social credit code must have 18 characters "
                                  "(it has %(n)d).", n=len(text)))
    for ch in text:
        if ch not in USCC_CHARS:
            raise FieldError(field, _("%(c)s cannot appear in a unified social credit code "
                                      "(I, O, S, V and Z are never used).", c=ch))
    if not text[2:8].isdigit():
        raise FieldError(field, _("Characters 3 to 8 of a unified social credit code are "
                                  "the region code: six digits."))
    if uscc_check_char(text[:17]) != text[17]:
        raise FieldError(field, _("The check character of the unified social credit code "
                                  "is wrong: please check every character."))
    return text


def normalize_phone(value, field: str = "phone") -> str:
    """A phone number of mainland China: an 11-digit mobile number of an allocated
    prefix (``13800138000``), or a landline with its area code (``028-85551234``).

    Spaces, dashes, brackets and a +86 / 0086 prefix are accepted and dropped."""
    text = _ascii(value, field, limit=32).translate(_SEPARATORS)
    if not text:
        raise FieldError(field, _("The phone number is required."))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            if text[:1] not in ("0", "1", ""):
                text = "0" + text  # +86 28 8555 1234: the area code without its 0
            break
    else:
        if text.startswith("+"):
            raise FieldError(field, _("Only phone numbers of mainland China (+86) are "
                                      "accepted."))
    if not (text.isascii() and text.isdigit()):
        raise FieldError(field, _("A phone number has only digits, spaces and dashes."))
    if len(text) == 13 and text.startswith("861"):
        text = text[2:]
    if text.startswith("1"):
        if len(text) != 11:
            raise FieldError(field, _("A mobile number has 11 digits (this has %(n)d).",
                                      n=len(text)))
        if text[:3] not in MOBILE_PREFIXES:
            raise FieldError(field, _("No mobile number begins with %(p)s.", p=text[:3]))
        return text
    if not text.startswith("0"):
        raise FieldError(field, _("Give a mobile number, or a landline with its area code "
                                  "(such as 028-85551234)."))
    area_len = 3 if text[:3] in THREE_DIGIT_AREAS else 4
    area, local = text[:area_len], text[area_len:]
    if area_len == 4 and (area[1] not in "3456789"):
        raise FieldError(field, _("%(a)s is not an area code.", a=area))
    if len(local) not in (7, 8) or local[0] in "01":
        raise FieldError(field, _("After the area code %(a)s a landline has 7 or 8 digits, "
                                  "not beginning with 0 or 1.", a=area))
    return f"{area}-{local}"


def mask_resident_id(value: str) -> str:
    """The form shown on pages: ``1101**********002X`` (first four, last four)."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * 8


def mask_phone(value: str) -> str:
    """``138****8000`` for a mobile number, ``028-****1234`` for a landline."""
    area, sep, local = value.rpartition("-")
    if sep:
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * 7
