"""The workflow error of the plugin's services (bad input is the core's FieldError)."""
from __future__ import annotations


class RiskError(ValueError):
    """A step the workflow does not allow now (an approved register, a talk already
    answered); the message says why. Views answer 422; nothing is changed."""
