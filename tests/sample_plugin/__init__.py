"""A small but complete plugin used by the tests of the plugin host: a model with its own
migration chain, staff and public blueprints, a menu entry, a widget, a permission, a role,
a periodic job, an event subscriber and a CLI command."""
from __future__ import annotations

from pathlib import Path

import click
import peewee as pw
from flask import Blueprint, render_template_string
from huey import crontab

from core.api import BaseModel, hookimpl, periodic, require

RECEIVED: list[tuple[str, dict]] = []


class SampleNote(BaseModel):
    text = pw.CharField(max_length=100)
    region_id = pw.IntegerField(index=True)


bp = Blueprint("sample", __name__, url_prefix="/sample")
public_bp = Blueprint("public_sample", __name__, url_prefix="/public/sample")


@bp.route("/")
@require("sample.read")
def index():
    return render_template_string("sample page")


@public_bp.route("/")
def public_index():
    return "sample public page"


@hookimpl
def ql_plugin_info():
    return {"name": "sample", "label": "Sample", "version": "9.9", "description": "for tests"}


@hookimpl
def ql_migrations():
    return ("sample", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    return [SampleNote]


@hookimpl
def ql_blueprints():
    return [bp, public_bp]


@hookimpl
def ql_permissions():
    return [("sample.read", "Read samples")]


@hookimpl
def ql_roles():
    return [{"code": "staff", "label": "Staff", "permissions": ["sample.read"]}]


@hookimpl
def ql_nav_items(user, region):
    return [{"label": "Sample menu", "endpoint": "sample.index", "order": 10,
             "permission": "sample.read"}]


@hookimpl
def ql_dashboard_widgets(user, region):
    return [{"title": "Sample widget", "render": lambda u, r: "sample widget body",
             "order": 5}]


@hookimpl
def ql_public_links():
    return [{"label": "Sample public", "endpoint": "public_sample.public_index",
             "description": "sample"}]


@hookimpl
def ql_periodic_tasks(huey):

    @periodic(crontab(minute="*"), name="sample.tick")
    def tick():
        return "tick"


@hookimpl
def ql_handle_event(name, payload):
    RECEIVED.append((name, payload))


@hookimpl
def ql_cli(group):
    @group.command("sample-hello")
    def hello():
        click.echo("hello from sample")
