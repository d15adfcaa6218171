"""Public procurement supervision (政府采购监管): the purchaser channel, sealed e-tendering,
online reverse auctions, contracts and performance, red flags and OCDS open data."""
from __future__ import annotations

from pathlib import Path

import click

from core.api import _l, hookimpl

PERMISSIONS = [
    ("procurement.view", _l("View procurement projects")),
    ("procurement.purchase", _l("Run procurement as a purchaser or agency")),
    ("procurement.custody", _l("Hold a custody key of sealed bids")),
    ("procurement.finance", _l("Approve methods, record contract filings, decide complaints")),
    ("procurement.supervise", _l("Supervise procurement: red flags and their rules")),
]


@hookimpl
def ql_plugin_info():
    return {"name": "procurement", "label": _l("Procurement"), "version": "1.0",
            "description": _l("Purchaser channel, sealed e-tendering, online auctions, "
                              "contracts, red flags and open contracting data")}


@hookimpl
def ql_hookspecs():
    from plugins.procurement import hookspecs
    return hookspecs


@hookimpl
def ql_migrations():
    return ("procurement", Path(__file__).parent / "migrations")


@hookimpl
def ql_models():
    from plugins.procurement.models import MODELS
    return MODELS


@hookimpl
def ql_blueprints():
    from plugins.procurement.public import bp as public_bp
    from plugins.procurement.supplier_views import bp as supplier_bp
    from plugins.procurement.views import bp
    return [bp, supplier_bp, public_bp]


@hookimpl
def ql_account_kinds():
    return [{"code": "supplier", "label": _l("Supplier"),
             "home": "procurement_supplier.home"}]


@hookimpl
def ql_permissions():
    return PERMISSIONS


@hookimpl
def ql_roles():
    return [
        {"code": "procurement_purchaser", "label": _l("Purchaser (procurement)"),
         "permissions": ["procurement.view", "procurement.purchase", "procurement.custody",
                         "core.dashboard"]},
        {"code": "procurement_agency", "label": _l("Procurement agency"),
         "permissions": ["procurement.view", "procurement.purchase", "procurement.custody",
                         "core.dashboard"]},
        {"code": "procurement_finance", "label": _l("Finance department (procurement)"),
         "permissions": ["procurement.view", "procurement.finance", "core.dashboard"]},
        {"code": "supervisor", "label": _l("Supervisor"),
         "permissions": ["procurement.view", "procurement.supervise",
                         "procurement.custody"]},
    ]


@hookimpl
def ql_nav_items(user, region):
    return [
        {"label": _l("Procurement"), "endpoint": "procurement.projects", "icon": "cart",
         "order": 50, "permission": "procurement.view"},
        {"label": _l("Procurement plans"), "endpoint": "procurement.plans", "icon": "list",
         "order": 51, "permission": "procurement.purchase"},
        {"label": _l("Red flags"), "endpoint": "procurement.flags", "icon": "flag",
         "order": 52, "permission": "procurement.supervise"},
        {"label": _l("Procurement statistics"), "endpoint": "procurement.stats_page",
         "icon": "chart", "order": 53, "permission": "procurement.view"},
        {"label": _l("Bid custody"), "endpoint": "procurement.custody", "icon": "key",
         "order": 54, "permission": "procurement.custody"},
    ]


@hookimpl
def ql_dashboard_widgets(user, region):
    from plugins.procurement.widgets import widget
    return [{"title": _l("Procurement"), "render": widget, "order": 30,
             "permission": "procurement.view"}]


@hookimpl
def ql_public_links():
    return [{"label": _l("Government procurement notices"),
             "endpoint": "public_procurement.notices",
             "description": _l("Tender notices, results and contracts; opening records; "
                               "open contracting data")}]


@hookimpl
def ql_alert_kinds():
    from plugins.procurement.clocks import KINDS, label
    from plugins.procurement.rules import all_rules
    kinds = [{"code": "procurement.opening.release",
              "label": _l("Bid opening: release your custody share"), "level": "reminder",
              "escalate_after_hours": 1},
             {"code": "procurement.opening.upcoming",
              "label": _l("Bid opening within a day: have your custody passphrase ready"),
              "level": "reminder", "escalate_after_hours": 0}]
    kinds += [{"code": code, "label": _LazyClock(kind, label), "level": "yellow",
               "escalate_after_hours": 24} for kind, code in KINDS.items()]
    kinds += [{"code": f"procurement.flag.{rule.code}", "label": rule.name,
               "level": rule.level, "escalate_after_hours": 72}
              for rule in all_rules().values()]
    return kinds


class _LazyClock:
    """A clock's label, translated when shown."""

    def __init__(self, kind, label):
        self.kind, self.label = kind, label

    def __str__(self):
        return self.label(self.kind)


@hookimpl
def ql_periodic_tasks(huey):
    from plugins.procurement.tasks import register_periodic
    register_periodic(huey)


@hookimpl
def ql_demo_data(size):
    from plugins.procurement.demo import seed
    seed(size)


@hookimpl
def ql_cli(group):
    @group.group("procurement", help="Procurement (政府采购): jobs and open data.")
    def proc_group():
        pass

    @proc_group.command("flags", help="Run the red-flag pass over every process now.")
    def flags_cmd():
        from core.api import db
        from plugins.procurement.rules import full_pass
        with db.connection_context():
            result = full_pass()
        click.echo(f"{result.processes} processes: {result.rows} hit(s) not flagged yet, "
                   f"{len(result.new)} new flag(s)")

    @proc_group.command("tick", help="Run the minute job now (openings, auctions, clocks).")
    def tick_cmd():
        from core.api import db
        from plugins.procurement.tasks import minute
        with db.connection_context():
            click.echo(minute())

    @proc_group.command("export", help="Write the OCDS record package of every process.")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    @click.option("--kind", type=click.Choice(["record", "release"]), default="record")
    def export_cmd(path, kind):
        from core.api import db
        from plugins.procurement import ocds
        from plugins.procurement.models import Project
        with db.connection_context(), open(path, "w", encoding="utf-8") as fh:
            fh.writelines(ocds.stream_bulk("https://example.invalid/ocds/bulk.json", kind,
                                          Project.select(Project.id)))
        click.echo(f"written {path}")
