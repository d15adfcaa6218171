"""Checked parsing of what people and systems send: text, whole numbers, dates.

The core plans these parsers in ``core.api`` (hardening: ``clean_text``, ``parse_int``,
``parse_date``, with the same signatures); until they land, they are declared here, in
one place, and this module becomes a re-export of the core's.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from core.api import _
from plugins.risk.errors import FieldError

_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
         "\u2069", "\u200e", "\u200f"}
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def clean_text(value, field: str, *, max_length: int, multiline: bool = False,
               required: bool = True, nfkc: bool = False) -> str:
    """Text with its whitespace tidied, and refused when it holds control characters,
    bidi overrides or zero-width characters, is empty (when ``required``) or longer than
    ``max_length``. ``nfkc`` folds full-width letters and digits (for codes and numbers;
    never for prose, where it would turn Chinese punctuation ，into ASCII)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(field, _("Enter text."))
    if nfkc:
        value = unicodedata.normalize("NFKC", value)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for ch in value:
        if ch in _BIDI or ch in _ZERO_WIDTH or (
                unicodedata.category(ch) == "Cc" and not (multiline and ch in "\n\t")):
            raise FieldError(field, _("The text holds invisible or control characters."))
    if multiline:
        lines = [" ".join(line.split()) for line in value.split("\n")]
        value = "\n".join(lines).strip("\n")
    else:
        value = " ".join(value.split())
    if required and not value:
        raise FieldError(field, _("This field is required."))
    if len(value) > max_length:
        raise FieldError(field, _("At most %(n)d characters.", n=max_length))
    return value


def parse_int(value, field: str, *, min: int | None = None, max: int | None = None,
              required: bool = True) -> int | None:
    """A whole number (ASCII or full-width digits) within ``[min, max]``."""
    if isinstance(value, bool):
        raise FieldError(field, _("Enter a whole number."))
    if isinstance(value, int):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
        if not text:
            if required:
                raise FieldError(field, _("This field is required."))
            return None
        if not (text.isascii() and (text.isdigit() or text[0] == "-" and text[1:].isdigit())):
            raise FieldError(field, _("Enter a whole number."))
        number = int(text)
    if (min is not None and number < min) or (max is not None and number > max):
        raise FieldError(field, _("Enter a number from %(lo)s to %(hi)s.",
                                  lo="" if min is None else min, hi="" if max is None else max))
    return number


def parse_date(value, field: str, *, min: dt.date | None = None, max: dt.date | None = None,
               required: bool = True) -> dt.date | None:
    """A date as YYYY-MM-DD (or a date object) within ``[min, max]``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
        if not text:
            if required:
                raise FieldError(field, _("This field is required."))
            return None
        try:
            day = dt.date.fromisoformat(text.replace("/", "-"))
        except ValueError:
            raise FieldError(field, _("Enter a date as YYYY-MM-DD.")) from None
    if (min is not None and day < min) or (max is not None and day > max):
        raise FieldError(field, _("The date is out of range."))
    return day
