"""The one checked parser (输入校验) for every number, date, text and JSON body the app reads.

Query strings, form fields, JSON bodies and CLI arguments all go through these functions,
so hostile input (a 30-digit page number, ``month=9999-12``, ``"1E+30"`` as money, JSON
nested thousands deep, a right-to-left override in a name) is refused with a
:class:`~core.errors.FieldError` naming the field — never a 500, never stored.

Digits: full-width forms (``１２３``, what a Chinese input method types) are folded to ASCII;
every other non-ASCII digit (Arabic-Indic, superscripts, circled) is refused, because the
stored value must be the one an ASCII search finds.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import FieldError
from core.i18n import _

INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1  # a signed 64-bit column (BIGINT / SQLite INTEGER)
ID_MAX = 2 ** 31 - 1  # an auto-increment primary key (PostgreSQL SERIAL)
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
YEAR_MIN, YEAR_MAX = DATE_MIN.year, DATE_MAX.year
JSON_MAX_DEPTH = 32
JSON_MAX_BYTES = 1024 * 1024
DECIMAL_MAX_DIGITS = 15

_REQUIRED: Any = object()
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]+))?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# Format characters that change how text is shown without being seen: bidi embeddings,
# overrides and isolates, zero-width spaces and joiners, the BOM, soft hyphen.
_INVISIBLE = {"Cf", "Cs"}


def fold_width(value: str) -> str:
    """Full-width ASCII forms and the ideographic space as their ASCII equivalents."""
    return value.translate(_FULLWIDTH)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _missing(field: str, default):
    if default is _REQUIRED:
        raise FieldError(field, _("This field is required."))
    return default


def _text_of(value, field: str, limit: int = 64) -> str:
    """The stripped, width-folded text of a scalar input; long junk refused early."""
    if not isinstance(value, str):
        raise FieldError(field, _("Expected text."))
    value = fold_width(value).strip()
    if len(value) > limit:
        raise FieldError(field, _("The value is too long."))
    return value


def parse_int(value, field: str, *, min: int | None = None, max: int | None = None,
              default=_REQUIRED) -> int:
    """A whole number within [min, max] (default: the signed 64-bit range).

    ``value`` is a string (query string, form) or an int from JSON (never a bool or a
    float). Missing or blank: ``default``, else "required"."""
    lo = INT_MIN if min is None else min
    hi = INT_MAX if max is None else max
    if value.__class__ is str and len(value) <= 40 and value.isascii() and value.isdigit():
        value = int(value)  # plain digits (what an import reads by the thousand)
    elif _blank(value):
        return _missing(field, default)
    elif isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(field, _("Expected a whole number."))
    elif isinstance(value, str):
        text = _text_of(value, field, 40)
        if not _INT.fullmatch(text):
            raise FieldError(field, _("Expected a whole number (digits 0–9)."))
        value = int(text)
    if value < lo:
        raise FieldError(field, _("Expected a number of at least %(n)s.", n=lo))
    if value > hi:
        raise FieldError(field, _("Expected a number of at most %(n)s.", n=hi))
    return value


def parse_id(value, field: str, *, default=_REQUIRED) -> int:
    """A record id: a positive whole number that fits the primary-key column."""
    return parse_int(value, field, min=1, max=ID_MAX, default=default)


def parse_decimal(value, field: str, *, places: int = 2, min: Decimal | int | None = None,
                  max: Decimal | int | None = None, max_digits: int = DECIMAL_MAX_DIGITS,
                  default=_REQUIRED) -> Decimal:
    """A decimal written out in digits (``"12.50"``): no exponent (``1E+30``), no NaN or
    infinity, at most ``places`` decimals and ``max_digits`` digits in all."""
    if _blank(value):
        return _missing(field, default)
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise FieldError(field, _("Expected a decimal number such as 12.50."))
    text = _text_of(value if isinstance(value, str) else str(value), field, 40)
    m = _DECIMAL.fullmatch(text)
    if not m:
        raise FieldError(field, _("Expected a decimal number such as 12.50."))
    whole, frac = m.group(1).lstrip("0"), m.group(2) or ""
    if len(frac) > places:
        raise FieldError(field, _("At most %(n)d decimal places.", n=places))
    if len(whole) + places > max_digits:
        raise FieldError(field, _("The number is too large."))
    try:
        amount = Decimal(m.group(0))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise FieldError(field, _("Expected a decimal number such as 12.50.")) from None
    if min is not None and amount < Decimal(min):
        raise FieldError(field, _("Expected a number of at least %(n)s.", n=min))
    if max is not None and amount > Decimal(max):
        raise FieldError(field, _("Expected a number of at most %(n)s.", n=max))
    return amount.quantize(Decimal(1).scaleb(-places))


def _bounded_date(day: dt.date, field: str, lo: dt.date, hi: dt.date) -> dt.date:
    if day < lo:
        raise FieldError(field, _("Expected a date on or after %(d)s.", d=lo.isoformat()))
    if day > hi:
        raise FieldError(field, _("Expected a date on or before %(d)s.", d=hi.isoformat()))
    return day


def parse_date(value, field: str, *, min: dt.date | None = None, max: dt.date | None = None,
               default=_REQUIRED) -> dt.date:
    """A calendar date ``YYYY-MM-DD`` within [min, max] (default 1900-01-01…2099-12-31)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return _bounded_date(value, field, min or DATE_MIN, max or DATE_MAX)
    if _blank(value):
        return _missing(field, default)
    text = _text_of(value, field, 10)
    m = _DATE.fullmatch(text)
    try:
        day = dt.date(*map(int, m.groups())) if m else None
    except ValueError:
        day = None
    if day is None:
        raise FieldError(field, _("Expected a real date written YYYY-MM-DD."))
    return _bounded_date(day, field, min or DATE_MIN, max or DATE_MAX)


def parse_month(value, field: str, *, min: dt.date | None = None, max: dt.date | None = None,
                default=_REQUIRED) -> dt.date:
    """A month ``YYYY-MM`` as the date of its first day, within [min, max]."""
    if _blank(value):
        return _missing(field, default)
    text = _text_of(value, field, 7)
    m = _MONTH.fullmatch(text)
    try:
        first = dt.date(int(m.group(1)), int(m.group(2)), 1) if m else None
    except ValueError:
        first = None
    if first is None:
        raise FieldError(field, _("Expected a month written YYYY-MM."))
    lo = (min or DATE_MIN).replace(day=1)
    return _bounded_date(first, field, lo, max or DATE_MAX)


def parse_year(value, field: str, *, min: int = YEAR_MIN, max: int = YEAR_MAX,
               default=_REQUIRED) -> int:
    """A year within [min, max] (default 1900…2099)."""
    return parse_int(value, field, min=min, max=max, default=default)


def parse_datetime(value, field: str, *, min: dt.datetime | None = None,
                   max: dt.datetime | None = None, require_offset: bool = True,
                   default=_REQUIRED) -> dt.datetime:
    """An ISO 8601 date-time with its UTC offset (``2026-03-02T09:30:00+08:00`` or ``…Z``)
    as naive UTC (how times are stored), within [min, max] (default the years 1900…2099).

    Without ``require_offset`` a time without an offset is taken as UTC."""
    if _blank(value):
        return _missing(field, default)
    text = _text_of(value, field, 40)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.+\-Z]+", text):
        raise FieldError(field, _("Expected a date-time such as 2026-03-02T09:30:00+08:00."))
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(field, _("Expected a date-time such as 2026-03-02T09:30:00+08:00.")) \
            from None
    lo = min or dt.datetime.combine(DATE_MIN, dt.time())
    hi = max or dt.datetime.combine(DATE_MAX, dt.time.max)
    if parsed.tzinfo is None and require_offset:
        raise FieldError(field, _("The time needs its UTC offset, e.g. +08:00 or Z."))
    if parsed.tzinfo is not None:
        if not dt.date(lo.year, 1, 1) <= parsed.date() <= dt.date(hi.year, 12, 31):
            parsed = dt.datetime.min  # far outside: converting it could overflow
        else:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    if not lo <= parsed <= hi:
        raise FieldError(field, _("Expected a time between %(a)s and %(b)s.",
                                  a=lo.isoformat(" ", "minutes"), b=hi.isoformat(" ", "minutes")))
    return parsed


def clean_text(value, field: str, *, max_length: int, multiline: bool = False,
               nfkc: bool = False, required: bool = False) -> str:
    """Text as it will be stored: stripped, line ends as ``\\n``, NFKC-normalised where the
    domain's rule says so (codes, user names, numbers typed with an input method), at most
    ``max_length`` characters. Control characters (NUL, ESC, …; a line break only in
    ``multiline`` text; a tab only there too) and invisible format characters (bidi
    overrides and isolates, zero-width spaces and joiners, the BOM) are refused."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(field, _("Expected text."))
    if len(value) > 4 * max_length + 16:
        raise FieldError(field, _("At most %(n)d characters.", n=max_length))
    text = value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    shown = text.replace("\n", "").replace("\t", "") if multiline else text
    if not shown.isprintable():  # printable: no character of category C or Z but the space
        _refuse_hidden(text, field, multiline)
    if len(text) > max_length:
        raise FieldError(field, _("At most %(n)d characters.", n=max_length))
    if required and not text:
        raise FieldError(field, _("This field is required."))
    return text


def _refuse_hidden(text: str, field: str, multiline: bool) -> None:
    """FieldError for the first control or invisible format character of ``text``."""
    for ch in text:
        if ch in "\n\t" and multiline:
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc":
            raise FieldError(field, _("Line breaks and tabs are not allowed here.") if ch in "\n\t"
                             else _("Control characters are not allowed."))
        if cat in _INVISIBLE or ch in "\u2028\u2029":
            raise FieldError(field, _("Invisible formatting characters (such as "
                                      "right-to-left overrides or zero-width spaces) are "
                                      "not allowed."))


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings nest deeper than ``max_depth`` (checked before the
    parser runs, so a body nested thousands deep costs one regex scan)."""
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        tok = m.group(0)
        if tok in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif tok in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def parse_json(body, field: str = "body", *, schema: dict | None = None,
               max_depth: int = JSON_MAX_DEPTH, max_bytes: int = JSON_MAX_BYTES,
               status: int = 400) -> Any:
    """A JSON document (bytes or text) of at most ``max_bytes`` and ``max_depth`` levels,
    without NaN/Infinity, checked against ``schema`` (JSON Schema, draft 2020-12) when
    given. Every schema violation is named by its dotted path (``case.serial``); the
    status is 400 by default, what the APIs document for a bad body."""
    if isinstance(body, (bytes, bytearray)):
        if len(body) > max_bytes:
            raise FieldError(field, _("The body is larger than %(n)d bytes.", n=max_bytes),
                             status=413)
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise FieldError(field, _("The body is not UTF-8 text."), status=status) from None
    if not isinstance(body, str) or not body.strip():
        raise FieldError(field, _("The body must be a JSON document."), status=status)
    if len(body) > max_bytes:
        raise FieldError(field, _("The body is larger than %(n)d bytes.", n=max_bytes),
                         status=413)
    if json_depth_exceeds(body, max_depth):
        raise FieldError(field, _("The JSON is nested deeper than %(n)d levels.", n=max_depth),
                         status=status)
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise FieldError(field, _("The body is not valid JSON (%(e)s).", e=str(exc)[:120]),
                         status=status) from None
    if "\\u0000" in body.lower():  # only an escape can put NUL into a JSON string
        path = _nul_path(data)
        if path is not None:
            raise FieldError(path or field, _("Control characters are not allowed."),
                             status=status)
    if schema is not None:
        check_schema(data, schema, status=status)
    return data


def _nul_path(data, path: str = "") -> str | None:
    """The dotted path of the first key or string value holding NUL, else None."""
    if isinstance(data, str):
        return path if "\x00" in data else None
    items = data.items() if isinstance(data, dict) else \
        enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return path or here.replace("\x00", "")
        found = _nul_path(value, here)
        if found is not None:
            return found
    return None


_VALIDATORS: dict[int, Any] = {}


def check_schema(data, schema: dict, *, status: int = 400) -> None:
    """Validate ``data`` against ``schema``; FieldError naming every bad path.

    The compiled validator is kept per schema object (schemas are module constants)."""
    import jsonschema
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
        validator = _VALIDATORS[id(schema)] = cls(schema,
                                                  format_checker=cls.FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [k for k in err.validator_value if k not in err.instance]
            for key in missing:
                errors.setdefault(f"{path}.{key}" if path else key, _("is required"))
            continue
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed and not _pattern_allows(err.schema, key):
                    errors.setdefault(f"{path}.{key}" if path else str(key),
                                      _("is not a known field"))
            continue
        errors.setdefault(path, err.message[:200])
    if errors:
        first = next(iter(errors))
        raise FieldError(first, errors[first], status=status, errors=errors)


def _pattern_allows(schema: dict, key: str) -> bool:
    return any(re.search(p, key) for p in schema.get("patternProperties", {}))
