"""Qinglian core. Plugins import from :mod:`core.api`, nothing deeper."""
from core.hookspecs import hookimpl

__all__ = ["hookimpl"]
