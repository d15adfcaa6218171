"""The sealing service's tables (its pages live with the plugins that seal things)."""
from __future__ import annotations

from core.hookspecs import hookimpl


@hookimpl
def ql_models():
    from core.sealing.models import MODELS
    return MODELS
