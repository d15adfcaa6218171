"""Procurement statistics (信息统计): amounts by method, buying unit and category, the
savings rate (budget − contract) ÷ budget, the share of competitive methods, flags per
unit — set-based over the user's scope, for a year."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from peewee import JOIN, fn

from core.api import Department, _, region_ids
from plugins.procurement.methods import CATEGORIES, METHODS, method_label
from plugins.procurement.models import Contract, Flag, Project

VIEW = "procurement.view"


def compute(user, year: int) -> dict:
    ids = sorted(region_ids(user, VIEW))
    start, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    base = Project.select().where(Project.region.in_(ids) & (Project.created_at >= start)
                                  & (Project.created_at < end))
    contracted = (Project.select(Project.id, Project.method, Project.category,
                                 Project.department, Project.budget,
                                 fn.SUM(Contract.amount).alias("amount"))
                  .join(Contract, on=(Contract.project == Project.id))
                  .where(Project.id.in_(base.select(Project.id)))
                  .group_by(Project.id, Project.method, Project.category, Project.department,
                            Project.budget))
    rows = list(contracted.dicts())
    by_method: dict = {}
    by_category: dict = {}
    by_unit: dict = {}
    for r in rows:
        for table, key in ((by_method, r["method"]), (by_category, r["category"]),
                           (by_unit, r["department"])):
            entry = table.setdefault(key, {"count": 0, "budget": Decimal(0),
                                           "amount": Decimal(0)})
            entry["count"] += 1
            entry["budget"] += Decimal(r["budget"])
            entry["amount"] += Decimal(r["amount"])
    budget = sum((Decimal(r["budget"]) for r in rows), Decimal(0))
    amount = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
    competitive = sum((Decimal(r["amount"]) for r in rows if METHODS[r["method"]].competitive),
                      Decimal(0))
    names = dict(Department.select(Department.id, Department.name).where(
        Department.id.in_(sorted(by_unit))).tuples()) if by_unit else {}
    flags = dict(Project.select(Project.department, fn.COUNT(Flag.id))
                 .join(Flag, JOIN.INNER, on=(Flag.project == Project.id))
                 .where(Project.id.in_(base.select(Project.id)))
                 .group_by(Project.department).tuples())
    return {
        "year": year, "projects": base.count(), "contracts": len(rows),
        "budget": budget, "amount": amount,
        "savings_rate": (budget - amount) / budget if budget else None,
        "competitive_share": competitive / amount if amount else None,
        "by_method": {k: v for k, v in sorted(by_method.items(),
                                                key=lambda kv: -kv[1]["amount"])},
        "by_category": by_category,
        "by_unit": sorted(({"name": names.get(k, str(k)), **v, "flags": flags.get(k, 0)}
                           for k, v in by_unit.items()), key=lambda u: -u["amount"]),
    }


def chart(data: dict) -> dict:
    """The amounts by method, for the chart."""
    return {"labels": [method_label(k) for k in data["by_method"]],
            "amounts": [float(v["amount"]) for v in data["by_method"].values()],
            "title": _("Contract amounts by method (yuan)")}


def export_rows(data: dict) -> tuple[list, list]:
    headers = [_("Buying unit"), _("Contracts"), _("Budget (yuan)"), _("Contract amount "
               "(yuan)"), _("Savings rate"), _("Red flags")]
    rows = [[u["name"], u["count"], u["budget"], u["amount"],
             float((u["budget"] - u["amount"]) / u["budget"]) if u["budget"] else None,
             u["flags"]] for u in data["by_unit"]]
    return headers, rows


def category_label(code: str) -> str:
    return str(CATEGORIES.get(code, code))
