"""The one error for bad input (错误输入): a named field and what is wrong with it.

Parsers (``core.parse``), forms and services raise :class:`FieldError`; the application
answers it with 422 (or the status it carries, e.g. 400 where an API contract says so),
naming the field, as an error page, an HTMX fragment or JSON, and nothing is changed: the
request's transaction is rolled back by whoever raised it inside ``db.atomic()``, and a
parser raises before anything is written.
"""
from __future__ import annotations


class FieldError(ValueError):
    """Bad input in ``field`` (a form field name or a dotted JSON path).

    ``errors`` holds every bad field when more than one was found at once (a JSON body
    checked against its schema); ``field``/``message`` are then the first of them."""

    def __init__(self, field: str, message, *, status: int = 422,
                 errors: dict[str, str] | None = None):
        self.field = field
        self.message = str(message)
        self.status = status
        self.errors = dict(errors) if errors else {field: self.message}
        super().__init__(f"{field}: {self.message}" if field else self.message)

    def body(self) -> dict:
        """The JSON answer: ``{"error", "field", "message", "fields"}``."""
        return {"error": "invalid_input", "field": self.field, "message": self.message,
                "fields": self.errors}


class AccessDenied(PermissionError):
    """The acting user's grants do not reach what they asked to change (e.g. a county
    grant and a city-wide setting). Raised by services; the app answers 403 with the
    message."""

    status = 403

    def __init__(self, message):
        self.message = str(message)
        super().__init__(self.message)
