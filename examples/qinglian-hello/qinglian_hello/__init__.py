"""Greetings board (问候板): a third-party plugin for Qinglian, installed with pip.

Its hooks, and nothing else heavy: the rest is imported when a hook asks for it. Like every
plugin it imports from the core only ``core.api``.
"""
from __future__ import annotations

from pathlib import Path

from core.api import _l, hookimpl

PERMISSION = "hello.greet"


@hookimpl
def ql_plugin_info():
    return {"name": "hello", "label": _l("Greetings board"), "version": "1.0.0",
            "description": _l("Greetings between colleagues of a region, and one for "
                              "every case the service hall closes")}


@hookimpl
def ql_migrations():
    return ("hello", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    from qinglian_hello.models import Greeting
    return [Greeting]


@hookimpl
def ql_blueprints():
    from qinglian_hello.views import bp
    return [bp]


@hookimpl
def ql_permissions():
    return [(PERMISSION, _l("Read and post greetings"))]


@hookimpl
def ql_roles():
    return [{"code": "staff", "label": _l("Staff member"), "permissions": [PERMISSION]}]


@hookimpl
def ql_nav_items(user, region):
    return [{"label": _l("Greetings"), "endpoint": "hello.index", "icon": "message",
             "order": 70, "permission": PERMISSION}]


@hookimpl
def ql_handle_event(name, payload):
    if name == "eservice.case.closed":
        from qinglian_hello.services import greet_closed_case
        greet_closed_case(payload)
