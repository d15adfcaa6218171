"""The errors the plugin's services raise.

``FieldError`` is the core's error for bad input (planned in ``core.api`` by the
hardening work, not landed yet): until it lands it is declared here with the planned
signature, and this is the one line to change to ``from core.api import FieldError``.
"""
from __future__ import annotations


class FieldError(ValueError):
    """Bad input: ``field`` names the form field or column, ``message`` says what is
    wrong. Views answer 422 naming the field; nothing is changed."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, str(message)


class RiskError(ValueError):
    """A step the workflow does not allow now (an approved register, a talk already
    answered); the message says why. Views answer 422; nothing is changed."""
