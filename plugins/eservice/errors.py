"""The service hall's refusals, each naming the input at fault."""
from __future__ import annotations


class ServiceError(ValueError):
    """A rule of the service hall refused the request; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NoMatch(ServiceError):
    """No case has this serial and ID number (the one answer for every miss)."""


class RateLimited(ServiceError):
    """Too many public lookups from one client or for one serial in a minute."""
