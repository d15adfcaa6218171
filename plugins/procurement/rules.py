"""Red flags (风险预警, 监督检查): a registry of rules, one a code, evaluated in SQL.

Each rule is one SELECT over ``procurement_facts`` — one row per contracting process with
what the formulas read (tenderers, valid and disqualified bids, the lowest prices, the
award) — or over the plugin's tables. A full pass builds the facts of every process once
(a temporary table) and runs every enabled rule over it, per group of regions sharing the
same settings; the evaluation after each new release runs the same rules over the facts
of that buyer's processes only. Every row a rule returns becomes one flag, once, with its
alert to the region's supervision office and a ``procurement.flag.raised`` event.

The OCP codes follow cardinal-rs (open-contracting/cardinal-rs, ``src/indicators``): the
same formulas and defaults, fences computed from the data (Tukey: Q1 − 1.5·IQR, Q3 +
1.5·IQR, quartiles by Hyndman–Fan method 8 as statrs computes them) unless a region sets a
fixed threshold.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, NamedTuple

from core.api import (
    AlertSpec,
    Department,
    Region,
    _,
    _l,
    bulk_insert,
    call_hook,
    db,
    emit_many,
    is_postgres,
    publish,
    supervision_office,
    today,
    utcnow,
)
from plugins.procurement.methods import METHODS, OPEN_TENDER_THRESHOLD
from plugins.procurement.models import Flag, RuleSetting

FACTS = "procurement_facts"


def _days_sql(a: str, b: str) -> str:
    if is_postgres():
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({b} - {a})) / 86400) AS INTEGER)"
    return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"


def _date_days_sql(a: str, b: str) -> str:
    """Whole days from date ``a`` to date ``b``."""
    return f"({b} - {a})" if is_postgres() else \
        f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"


def _date_sql(lit: str) -> str:
    return f"CAST({lit} AS DATE)" if is_postgres() else lit


def _year_sql(col: str) -> str:
    return (f"CAST(EXTRACT(YEAR FROM {col}) AS INTEGER)" if is_postgres()
            else f"CAST(strftime('%Y', {col}) AS INTEGER)")


def _ocds_method_sql() -> str:
    cases = " ".join(f"WHEN '{m.code}' THEN '{m.ocds}'" for m in METHODS.values())
    return f"CASE p.method {cases} END"


FACTS_COLUMNS = (
    "project_id", "region_id", "department_id", "method", "ocds_method", "category",
    "classification", "budget", "status", "period_days", "year", "original_contract_id",
    "n_tenderers", "n_valid", "n_disq", "min_valid", "min_disq", "valid_supplier",
    "n_active_awards", "n_pending_awards", "award_supplier", "award_amount", "winner_price",
    "second_price", "n_identical",
)


def facts_sql(where: str) -> str:
    """One row per project matching ``where`` (a condition on ``p``): the facts rules read.

    Submitted bids are the opened ones (valid or disqualified); a bid still sealed, or
    withdrawn, is not submitted. One scan of the bids (joined to the award, where a process
    has exactly one) gives every bid figure: a supplier has one submitted bid per process
    (a new bid replaces its earlier one), so the bids are the tenderers and the identical
    prices are the bids less the distinct prices."""
    return f"""
SELECT p.id AS project_id, p.region_id, p.department_id, p.method,
       {_ocds_method_sql()} AS ocds_method, p.category, p.classification, p.budget, p.status,
       {_days_sql('p.docs_issued_at', 'p.deadline')} AS period_days,
       {_year_sql('p.created_at')} AS year, p.original_contract_id,
       COALESCE(bs.n_tenderers, 0) AS n_tenderers, COALESCE(bs.n_valid, 0) AS n_valid,
       COALESCE(bs.n_disq, 0) AS n_disq, bs.min_valid, bs.min_disq, bs.valid_supplier,
       COALESCE(aw.n_active, 0) AS n_active_awards, COALESCE(aw.n_pending, 0)
       AS n_pending_awards, aw.supplier_id AS award_supplier, aw.amount AS award_amount,
       bs.winner_price, bs.second_price, COALESCE(bs.n_identical, 0) AS n_identical
FROM procurement_project p
LEFT JOIN (SELECT b.project_id, COUNT(*) AS n_tenderers,
                  SUM(CASE WHEN b.status = 'valid' THEN 1 ELSE 0 END) AS n_valid,
                  SUM(CASE WHEN b.status = 'disqualified' THEN 1 ELSE 0 END) AS n_disq,
                  MIN(CASE WHEN b.status = 'valid' THEN b.price END) AS min_valid,
                  MIN(CASE WHEN b.status = 'disqualified' THEN b.price END) AS min_disq,
                  MIN(CASE WHEN b.status = 'valid' THEN b.supplier_id END) AS valid_supplier,
                  MIN(CASE WHEN b.status = 'valid' AND b.supplier_id = a.supplier_id
                      THEN b.price END) AS winner_price,
                  MIN(CASE WHEN b.status = 'valid' AND b.supplier_id <> a.supplier_id
                      THEN b.price END) AS second_price,
                  COUNT(b.price) - COUNT(DISTINCT b.price) AS n_identical
           FROM procurement_bid b
           LEFT JOIN (SELECT project_id, MIN(supplier_id) AS supplier_id
                      FROM procurement_award WHERE status = 'active'
                      GROUP BY project_id HAVING COUNT(*) = 1) a
             ON a.project_id = b.project_id
           WHERE b.status IN ('valid', 'disqualified')
           GROUP BY b.project_id) bs ON bs.project_id = p.id
LEFT JOIN (SELECT project_id, SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END)
                  AS n_active, SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END)
                  AS n_pending, MIN(supplier_id) AS supplier_id, MIN(amount) AS amount
           FROM procurement_award WHERE status IN ('active', 'pending')
           GROUP BY project_id) aw ON aw.project_id = p.id
WHERE {where}"""


def literal(value) -> str:
    """A SQL literal for a number, a date or a short text the plugin itself produced
    (parameters are validated numbers): rules are plain SQL without placeholders."""
    if isinstance(value, bool) or value is None:
        raise TypeError("no literal for booleans or NULL")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Ctx:
    """What a rule's query may use: its parameters, today, literals and the scope."""

    params: dict
    today: dt.date
    scope_sql: str
    stats: dict = field(default_factory=dict)

    def p(self, value) -> str:
        return literal(value)

    def scope(self, column: str) -> str:
        """The condition restricting ``column`` (a project id) to this evaluation."""
        return self.scope_sql.format(col=column)


class Rule:
    """A red-flag rule. Subclasses set the class attributes and ``query``."""

    code = ""
    name: object = ""
    basis: object = ""
    level = "red"
    params: ClassVar[dict] = {}
    fields: tuple[str, ...] = ()  # extra columns of the query, kept as the flag's detail
    full_pass_only = False  # needs every process of the deployment (fences over tenderers)

    def prepare(self, ctx: Ctx) -> bool:
        """Compute what the query needs (fences); False skips the rule this time."""
        return True

    def query(self, ctx: Ctx) -> str:
        raise NotImplementedError

    def describe(self, detail: dict) -> str:
        return ""


def _fact_rows(sel: str, ctx: Ctx, where: str) -> str:
    return f"SELECT f.project_id, 'process', f.project_id, '', {sel} FROM {FACTS} f " \
           f"WHERE {ctx.scope('f.project_id')} AND {where}"


class R003(Rule):
    code = "R003"
    name = _l("Short submission period")
    basis = _l("OCP red flag R003 (cardinal-rs): the tender period is shorter than the "
               "threshold (default 15 days; a region may set one per method)")
    params: ClassVar[dict] = {"threshold": 15, **{m: 0 for m in METHODS if m not in ("single_source",
                                                                         "auction")}}
    fields = ("days", "threshold")

    def query(self, ctx):
        cases = " ".join(f"WHEN '{m}' THEN {ctx.p(int(v))}" for m, v in ctx.params.items()
                         if m in METHODS and v)
        limit = f"CASE f.method {cases} ELSE {ctx.p(int(ctx.params['threshold']))} END" \
            if cases else ctx.p(int(ctx.params["threshold"]))
        return _fact_rows(f"f.period_days, f.period_days, {limit}", ctx,
                          f"f.period_days IS NOT NULL AND f.period_days < {limit}")

    def describe(self, d):
        return _("The bid period was %(days)s days, under the threshold of %(t)s days.",
                 days=d.get("days"), t=d.get("threshold"))


class R018(Rule):
    code = "R018"
    name = _l("Single bid received")
    basis = _l("OCP red flag R018 (cardinal-rs): one tenderer in an open or selective "
               "procedure")
    fields = ("tenderers",)

    def query(self, ctx):
        return _fact_rows("f.n_tenderers, f.n_tenderers", ctx,
                          "f.n_tenderers = 1 AND f.ocds_method IN ('open', 'selective')")

    def describe(self, d):
        return _("Only one supplier bid in an open or selective procedure.")


RATIO = "((f.second_price - f.winner_price) * 1.0 / f.winner_price)"
RATIO_OK = ("f.n_active_awards = 1 AND f.n_pending_awards = 0 AND f.winner_price > 0 "
            "AND f.second_price IS NOT NULL AND f.second_price >= f.winner_price")


def quantile(sorted_values: list[float], p: float) -> float:
    """The p-quantile by Hyndman & Fan's method 8 (statrs' ``quantile``)."""
    n = len(sorted_values)
    if n == 0:
        return float("nan")
    if p <= (2 / 3) / (n + 1 / 3):
        return sorted_values[0]
    if p >= (n - 1 / 3) / (n + 1 / 3):
        return sorted_values[-1]
    h = (n + 1 / 3) * p + 1 / 3
    lo = int(h)
    return sorted_values[lo - 1] + (h - lo) * (sorted_values[lo] - sorted_values[lo - 1])


def fences(values: list[float]) -> tuple[float, float, float, float]:
    """(q1, q3, lower fence, upper fence) of ``values``."""
    data = sorted(values)
    q1, q3 = quantile(data, 0.25), quantile(data, 0.75)
    return q1, q3, q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)


class _SecondLowest(Rule):
    fields = ("ratio", "fence")
    full_stats = True

    def ratios(self, ctx) -> list[float]:
        key = "second_lowest_ratios"
        if key not in ctx.stats:
            ctx.stats[key] = [float(r) for (r,) in db.execute_sql(
                f"SELECT {RATIO} FROM ({facts_sql('1 = 1')}) f WHERE {RATIO_OK}"
                if ctx.stats.get("single") else
                f"SELECT {RATIO} FROM {FACTS} f WHERE {RATIO_OK}").fetchall()]
        return ctx.stats[key]


class R024(_SecondLowest):
    code = "R024"
    name = _l("Price close to the winning bid")
    basis = _l("OCP red flag R024 (cardinal-rs): the lowest losing bid is within the lower "
               "fence of the winning bid (a fixed threshold, or Q1 − 1.5·IQR of all "
               "processes)")
    params: ClassVar[dict] = {"threshold": 0.0}

    def prepare(self, ctx):
        fixed = float(ctx.params.get("threshold") or 0)
        if fixed:
            ctx.stats["R024"] = fixed
            return True
        values = self.ratios(ctx)
        if not values:
            return False
        q1, _q3, lower, _upper = fences(values)
        ctx.stats["R024"] = lower
        return q1 > 0 and lower > 0

    def query(self, ctx):
        fence = ctx.stats["R024"]
        return _fact_rows(f"{RATIO}, {RATIO}, {ctx.p(fence)}", ctx,
                          f"{RATIO_OK} AND {RATIO} <= {ctx.p(fence)}")

    def describe(self, d):
        return _("The lowest losing bid was only %(pct)s above the winning bid (fence "
                 "%(fence)s).", pct=_pct(d.get("ratio")), fence=_pct(d.get("fence")))


class R058(_SecondLowest):
    code = "R058"
    name = _l("Heavily discounted bid")
    basis = _l("OCP red flag R058 (cardinal-rs): the winning bid is far below the lowest "
               "losing bid (a fixed threshold, or Q3 + 1.5·IQR of all processes)")
    params: ClassVar[dict] = {"threshold": 0.0}

    def prepare(self, ctx):
        fixed = float(ctx.params.get("threshold") or 0)
        if fixed:
            ctx.stats["R058"] = fixed
            return True
        values = self.ratios(ctx)
        if not values:
            return False
        _q1, _q3, _lower, upper = fences(values)
        ctx.stats["R058"] = upper
        return upper > 0

    def query(self, ctx):
        fence = ctx.stats["R058"]
        return _fact_rows(f"{RATIO}, {RATIO}, {ctx.p(fence)}", ctx,
                          f"{RATIO_OK} AND {RATIO} >= {ctx.p(fence)}")

    def describe(self, d):
        return _("The lowest losing bid was %(pct)s above the winning bid (fence %(fence)s): "
                 "the winning bid is heavily discounted.", pct=_pct(d.get("ratio")),
                 fence=_pct(d.get("fence")))


class R028(Rule):
    code = "R028"
    name = _l("Identical bid prices")
    basis = _l("OCP red flag R028 (cardinal-rs): different tenderers bid the same price")
    fields = ("groups",)

    def query(self, ctx):
        return _fact_rows("f.n_identical, f.n_identical", ctx, "f.n_identical > 0")

    def describe(self, d):
        return _("Different suppliers bid identical prices (%(n)s price(s) shared).",
                 n=d.get("groups"))


class R035(Rule):
    code = "R035"
    name = _l("All bids except the winning bid disqualified")
    basis = _l("OCP red flag R035 (cardinal-rs): one valid tenderer, who won, and at least "
               "the threshold of others disqualified")
    params: ClassVar[dict] = {"threshold": 1}
    fields = ("disqualified",)

    def query(self, ctx):
        t = max(1, int(ctx.params.get("threshold") or 1))
        return _fact_rows("f.n_disq, f.n_disq", ctx,
                          "f.n_valid = 1 AND f.n_active_awards = 1 AND f.n_pending_awards = 0 "
                          f"AND f.valid_supplier = f.award_supplier AND f.n_disq >= {ctx.p(t)}")

    def describe(self, d):
        return _("Every bid but the winner's was disqualified (%(n)s disqualified).",
                 n=d.get("disqualified"))


class R036(Rule):
    code = "R036"
    name = _l("Lowest bid disqualified")
    basis = _l("OCP red flag R036 (cardinal-rs): the lowest submitted bid was disqualified "
               "although a valid bid was awarded")
    fields = ("lowest", "lowest_valid")

    def query(self, ctx):
        return _fact_rows("f.min_disq, f.min_disq, f.min_valid", ctx,
                          "f.n_active_awards >= 1 AND f.min_valid IS NOT NULL "
                          "AND f.min_disq IS NOT NULL AND f.min_disq < f.min_valid")

    def describe(self, d):
        return _("The lowest bid (%(low)s yuan) was disqualified; the lowest valid bid was "
                 "%(valid)s yuan.", low=d.get("lowest"), valid=d.get("lowest_valid"))


class R038(Rule):
    code = "R038"
    name = _l("Excessive disqualified bids")
    basis = _l("OCP red flag R038 (cardinal-rs): a buyer's or tenderer's share of "
               "disqualified bids reaches the upper fence (or a fixed threshold)")
    params: ClassVar[dict] = {"threshold": 0.0, "minimum_submitted_bids": 2,
              "minimum_contracting_processes": 2}
    fields = ("ratio", "fence")
    full_pass_only = True

    def prepare(self, ctx):
        minimum_p = int(ctx.params.get("minimum_contracting_processes") or 2)
        minimum_b = int(ctx.params.get("minimum_submitted_bids") or 2)
        # a full pass only: the facts hold every process, so every bid (a bid's process
        # exists, a foreign key) counts without joining the facts
        buyers = db.execute_sql(
            f"SELECT f.department_id, SUM(f.n_disq) * 1.0 / SUM(f.n_valid + f.n_disq) "
            f"FROM {FACTS} f WHERE f.n_valid + f.n_disq > 0 GROUP BY f.department_id "
            f"HAVING SUM(f.n_valid + f.n_disq) >= {minimum_p}").fetchall()
        tenderers = db.execute_sql(
            "SELECT b.supplier_id, SUM(CASE WHEN b.status = 'disqualified' THEN 1 ELSE 0 END)"
            " * 1.0 / COUNT(*) FROM procurement_bid b WHERE b.status IN ('valid', "
            "'disqualified') GROUP BY b.supplier_id "
            f"HAVING COUNT(*) >= {minimum_b}").fetchall()
        fixed = float(ctx.params.get("threshold") or 0)
        ctx.stats["R038"] = {}
        for group, rows in (("buyer", buyers), ("tenderer", tenderers)):
            values = [float(r) for _i, r in rows]
            fence = fixed or (fences(values)[3] if values else 0)
            if fence > 0:
                ctx.stats["R038"][group] = (fence, [(i, float(r)) for i, r in rows
                                                    if float(r) >= fence])
        return any(hits for _f, hits in ctx.stats["R038"].values())

    def query(self, ctx):
        parts = []
        for group, (fence, hits) in ctx.stats["R038"].items():
            for subject_id, ratio in hits:
                parts.append(f"SELECT NULL, {ctx.p(group)}, {ctx.p(subject_id)}, "
                             f"{ctx.p('')}, {ctx.p(ratio)}, {ctx.p(ratio)}, {ctx.p(fence)}")
        return " UNION ALL ".join(parts) or "SELECT NULL, '', 0, '', 0, 0, 0 WHERE 1 = 0"

    def describe(self, d):
        return _("%(pct)s of the submitted bids were disqualified (fence %(fence)s).",
                 pct=_pct(d.get("ratio")), fence=_pct(d.get("fence")))


class ClockRule(Rule):
    """A step not done within its statutory clock (``procurement_clock``)."""

    clock = ""
    fields = ("due", "days_late")

    def query(self, ctx):
        today_sql = _date_sql(ctx.p(ctx.today))
        late = _date_days_sql("k.due_on", f"COALESCE(k.done_on, {today_sql})")
        return (f"SELECT k.project_id, 'process', k.project_id, k.ref, {late}, k.due_on, "
                f"{late} FROM procurement_clock k WHERE {ctx.scope('k.project_id')} "
                f"AND k.kind = {ctx.p(self.clock)} AND ((k.done_on IS NULL AND k.due_on < "
                f"{today_sql}) OR k.done_on > k.due_on)")

    def describe(self, d):
        return _("Due on %(due)s; %(n)s day(s) late.", due=str(d.get("due", ""))[:10],
                 n=d.get("days_late"))


class ContractNotSigned(ClockRule):
    code, clock = "CN-SIGN", "contract_sign"
    name = _l("Contract not signed within 30 days of the award notice")
    basis = _l("政府采购法第四十六条: the contract is signed within 30 days of the award "
               "notice")


class ContractNotPublished(ClockRule):
    code, clock = "CN-PUBLISH", "contract_publish"
    name = _l("Contract not published within 2 working days of signing")
    basis = _l("政府采购法实施条例第五十条: the contract is published within 2 working days "
               "of signing")


class ResultNotAnnounced(ClockRule):
    code, clock = "CN-RESULT", "result"
    name = _l("Result not announced within 2 working days of fixing the winner")
    basis = _l("政府采购法实施条例第四十三条: the award notice and the result announcement "
               "follow within 2 working days of fixing the winner")


class AddOnOverTenPercent(Rule):
    code = "CN-ADDON"
    name = _l("Single-source add-on purchases above 10 % of the original contract")
    basis = _l("政府采购法第三十一条第三项: add-on purchases from the original supplier "
               "may not exceed 10 % of the original contract's amount in total")
    params: ClassVar[dict] = {"percent": 10}
    fields = ("added", "original")

    def query(self, ctx):
        pct = ctx.p(float(ctx.params.get("percent") or 10) / 100)
        return (
            "SELECT f.project_id, 'process', f.project_id, '', t.added * 1.0 / c.amount, "
            "t.added, c.amount FROM " + FACTS + " f JOIN procurement_contract c ON c.id = "
            "f.original_contract_id JOIN (SELECT p2.original_contract_id AS cid, "
            "SUM(a2.amount) AS added FROM procurement_project p2 JOIN procurement_award a2 "
            "ON a2.project_id = p2.id AND a2.status = 'active' WHERE p2.method = "
            "'single_source' AND p2.original_contract_id IS NOT NULL GROUP BY "
            f"p2.original_contract_id) t ON t.cid = c.id WHERE {ctx.scope('f.project_id')} "
            f"AND f.method = 'single_source' AND t.added > c.amount * {pct}")

    def describe(self, d):
        return _("Add-on purchases of %(added)s yuan against an original contract of "
                 "%(orig)s yuan.", added=d.get("added"), orig=d.get("original"))


class SplitBelowThreshold(Rule):
    code = "CN-SPLIT"
    name = _l("Purchases split just below the open-tendering threshold")
    basis = _l("政府采购法第二十八条 (no splitting to avoid open tendering): a buyer's "
               "purchases of one category and class in one year, each just below the "
               "threshold, together reach it")
    params: ClassVar[dict] = {"share": 80, "digits": 5,
              **{f"threshold_{k}": int(v) for k, v in OPEN_TENDER_THRESHOLD.items()}}
    fields = ("count", "total", "threshold")

    def query(self, ctx):
        share = float(ctx.params.get("share") or 80) / 100
        digits = int(ctx.params.get("digits") or 5)

        def limit(alias):
            cases = " ".join(
                f"WHEN '{k}' THEN {ctx.p(float(ctx.params.get(f'threshold_{k}') or v))}"
                for k, v in OPEN_TENDER_THRESHOLD.items())
            return f"(CASE {alias}.category {cases} END)"

        def cls(alias):
            return f"SUBSTR({alias}.classification, 1, {digits})"

        near = (f"{{a}}.method <> 'open_tender' AND {{a}}.budget < {{lim}} "
                f"AND {{a}}.budget >= {{lim}} * {ctx.p(share)}")
        groups = (f"SELECT g.department_id, g.category, {cls('g')} AS cls, g.year, "
                  f"COUNT(*) AS n, SUM(g.budget) AS total FROM {FACTS} g WHERE "
                  + near.format(a="g", lim=limit("g"))
                  + f" GROUP BY g.department_id, g.category, {cls('g')}, g.year")
        return (f"SELECT f.project_id, 'process', f.project_id, '', s.total, s.n, s.total, "
                f"{limit('f')} FROM {FACTS} f JOIN ({groups}) s ON s.department_id = "
                f"f.department_id AND s.category = f.category AND s.cls = {cls('f')} "
                f"AND s.year = f.year WHERE {ctx.scope('f.project_id')} AND "
                + near.format(a="f", lim=limit("f"))
                + f" AND s.n >= 2 AND s.total >= {limit('f')}")

    def describe(self, d):
        return _("%(n)s purchases of one class this year, each just below the threshold, "
                 "total %(total)s yuan (threshold %(t)s).", n=d.get("count"),
                 total=d.get("total"), t=d.get("threshold"))


def _pct(value) -> str:
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return "—"


BUILTIN: list[Rule] = [R003(), R018(), R024(), R028(), R035(), R036(), R038(), R058(),
                       ContractNotSigned(), ContractNotPublished(), ResultNotAnnounced(),
                       AddOnOverTenPercent(), SplitBelowThreshold()]


def all_rules() -> dict[str, Rule]:
    """The built-in rules and those other packages add (``ql_procurement_rules``)."""
    rules = {r.code: r for r in BUILTIN}
    for extra in call_hook("ql_procurement_rules"):
        for rule in extra:
            rules.setdefault(rule.code, rule)
    return rules


# -- settings per region -----------------------------------------------------------------
def effective_settings(region_ids: list[int]) -> dict[int, dict[str, tuple[bool, dict]]]:
    """region id -> code -> (enabled, params): the rule's defaults, the city's settings
    (no region), then each ancestor's and the region's own, nearest last."""
    rules = all_rules()
    rows = list(RuleSetting.select())
    by_region: dict = {}
    for row in rows:
        by_region.setdefault(row.region_id, {})[row.code] = (row.enabled,
                                                             json.loads(row.params or "{}"))
    parents = dict(Region.select(Region.id, Region.parent).tuples())
    out = {}
    for rid in region_ids:
        chain, cur = [], rid
        while cur is not None:
            chain.append(cur)
            cur = parents.get(cur)
        layers = [by_region.get(None, {})] + [by_region.get(r, {}) for r in reversed(chain)]
        settings = {}
        for code, rule in rules.items():
            enabled, params = True, dict(rule.params)
            for layer in layers:
                if code in layer:
                    enabled = layer[code][0]
                    params.update({k: v for k, v in layer[code][1].items() if k in rule.params})
            settings[code] = (enabled, params)
        out[rid] = settings
    return out


# -- evaluation ------------------------------------------------------------------------
@dataclass
class PassResult:
    processes: int = 0
    rows: int = 0  # the rules' rows not flagged yet (a full pass skips the flagged in SQL)
    new: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)  # facts, rules, raise (the flags' writes)


def _run(rules: dict[str, Rule], regions: list[int], scope_sql: str,
         single: bool) -> list[tuple]:
    """Run each enabled rule over the facts: [(code, rule row)] for every hit."""
    settings = effective_settings(regions)
    groups: dict = {}
    for rid in regions:
        for code in rules:
            enabled, params = settings[rid][code]
            if enabled:
                key = (code, json.dumps(params, sort_keys=True))
                groups.setdefault(key, (params, []))[1].append(rid)
    hits, stats = [], {"single": single}
    for (code, _key), (params, rids) in groups.items():
        rule = rules[code]
        if single and rule.full_pass_only:
            continue
        if not single and len(rids) == len(regions):  # one setting for every region
            scope = "1 = 1"
        else:
            region_cond = f"f_r.region_id IN ({', '.join(str(int(r)) for r in rids)})"
            scope = (f"{{col}} IN (SELECT f_r.project_id FROM {FACTS} f_r WHERE "
                     f"{region_cond}{scope_sql})")
        ctx = Ctx(params=params, today=today(), stats=stats, scope_sql=scope)
        if not rule.prepare(ctx):
            continue
        sql = rule.query(ctx) if single else _not_flagged(rule, rule.query(ctx))
        for row in db.execute_sql(_with_facts(sql, single)).fetchall():
            hits.append((rule, row))
    return hits


def _not_flagged(rule: Rule, sql: str) -> str:
    """The rows of a rule's query whose flag is not raised yet: in the nightly steady state
    nearly every hit is flagged already, and reading 30,000 of them into Python only to
    skip them was most of the rules' time. The key is built as ``_raise`` builds it, which
    still checks every row it gets."""
    cols = ["h_project", "h_subject", "h_subject_id", "h_key", "h_value"] + [
        f"h_{n}" for n in range(len(rule.fields))]
    key = (f"SUBSTR({literal(rule.code + ':')} || h.h_subject || ':' || h.h_subject_id "
           "|| ':' || h.h_key, 1, 120)")
    return (f"WITH procurement_hits ({', '.join(cols)}) AS ({sql}) SELECT h.* FROM "
            "procurement_hits h WHERE NOT EXISTS (SELECT 1 FROM procurement_flag x WHERE "
            f"x.dedupe_key = {key})")


_SINGLE_FACTS: dict = {}


def _with_facts(sql: str, single: bool) -> str:
    if not single:
        return sql
    return f"WITH {FACTS} AS ({_SINGLE_FACTS['sql']}) {sql}"


class Raised(NamedTuple):
    """A flag as just written (the columns the alert and the event need)."""

    id: int
    code: str
    region_id: int
    project_id: int | None
    subject: str
    subject_id: int
    dedupe_key: str
    detail: str
    raised_at: dt.datetime


RAISED_COLUMNS = ("region_id", "project_id", "code", "subject", "subject_id", "dedupe_key",
                  "value", "detail", "raised_at", "state", "note", "handled_by")


def _raise(hits: list[tuple]) -> list[Raised]:
    """Write the new flags of ``hits`` (flags already raised are skipped), their alerts to
    the supervision office and ``procurement.flag.raised`` events.

    Set-based: the known keys in one read, the new flags in multi-row inserts (one prepared
    statement on SQLite, ``execute_values`` pages on PostgreSQL), read back in one query by
    the time they were raised, and every alert in one ``emit_many``."""
    by_key: dict = {}
    for rule, row in hits:
        by_key.setdefault(f"{rule.code}:{row[1]}:{row[2]}:{row[3]}"[:120], (rule, row))
    if not by_key:
        return []
    codes = sorted({rule.code for rule, _row in by_key.values()})
    if len(by_key) <= 500:  # a release's evaluation: look its few keys up
        known = {k for (k,) in Flag.select(Flag.dedupe_key)
                 .where(Flag.dedupe_key.in_(list(by_key))).tuples()}
    else:  # a full pass: read the raised keys of these rules in one go
        known = {k for (k,) in db.execute_sql(
            "SELECT dedupe_key FROM procurement_flag WHERE code IN ("
            + ", ".join(literal(c) for c in codes) + ")").fetchall()}
    new, details = [], {}
    for dedupe, (rule, (project_id, subject, subject_id, _key, value, *extra)) in \
            by_key.items():
        if dedupe in known:
            continue
        detail = {name: _plain(v) for name, v in zip(rule.fields, extra, strict=False)}
        details[dedupe] = detail
        new.append([project_id, rule.code, subject, int(subject_id), dedupe,
                    float(value) if value is not None else None,
                    json.dumps(detail, ensure_ascii=False, default=str)])
    if not new:
        return []
    regions = _regions_of(new)
    now = utcnow()
    stamp = Flag.raised_at.db_value(now)
    bulk_insert("procurement_flag", list(RAISED_COLUMNS), [
        (regions[(r[2], r[0], r[3])], r[0], r[1], r[2], r[3], r[4], r[5], r[6], stamp,
         "open", "", "") for r in new], ignore_conflicts=True)
    wanted = {r[4] for r in new}
    flags = [Raised(*row[:8], now) for row in db.execute_sql(
        "SELECT id, code, region_id, project_id, subject, subject_id, dedupe_key, detail "
        "FROM procurement_flag WHERE code IN (" + ", ".join(literal(c) for c in codes)
        + f") AND raised_at = {db.param} ORDER BY id", (stamp,)).fetchall()
        if row[6] in wanted]
    _alert(flags, details)
    return flags


def _plain(value):
    """A JSON-ready detail value: numbers as numbers (PostgreSQL answers Decimals)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) \
            else float(value)
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


def _ids(values) -> str:
    return ", ".join(str(int(v)) for v in sorted(values)) or "NULL"


def _regions_of(rows: list[list]) -> dict:
    """The region each flag belongs to (rows: [project, code, subject, subject id, ...]):
    its project's, a buyer's department's; a tenderer's flag belongs to the top region
    (suppliers serve the whole city)."""
    projects = {r[0] for r in rows if r[0]}
    by_project = dict(db.execute_sql(
        f"SELECT id, region_id FROM procurement_project WHERE id IN ({_ids(projects)})")
        .fetchall()) if projects else {}
    depts = {r[3] for r in rows if r[2] == "buyer"}
    by_dept = dict(db.execute_sql(
        f"SELECT id, region_id FROM {Department._meta.table_name} WHERE id IN "
        f"({_ids(depts)})").fetchall()) if depts else {}
    root = Region.select(Region.id).where(Region.parent.is_null()).order_by(Region.id) \
        .scalar()
    out = {}
    for project, _code, subject, subject_id, *_rest in rows:
        if project:
            region = by_project[project]
        elif subject == "buyer":
            region = by_dept[subject_id]
        else:
            region = root
        out[(subject, project, subject_id)] = region
    return out


def _alert(flags: list[Raised], details: dict) -> None:
    """The alerts and events of ``flags``; ``details`` (dedupe key -> detail) are the
    details as written, so 30,000 flags' JSON is not parsed back."""
    rules = all_rules()
    names = {code: str(rule.name) for code, rule in rules.items()}
    offices: dict = {}
    specs = []
    regions = {r.id: r for r in Region.select().where(
        Region.id.in_(sorted({f.region_id for f in flags})))}
    pids = {f.project_id for f in flags if f.project_id}
    projects = {pid: (number, dept, officer) for pid, number, dept, officer in db.execute_sql(
        "SELECT id, number, department_id, created_by FROM procurement_project WHERE id IN "
        f"({_ids(pids)})").fetchall()} if pids else {}
    raised_at = {t: t.isoformat() for t in {f.raised_at for f in flags}}
    for flag in flags:
        region = regions[flag.region_id]
        if region.id not in offices:
            offices[region.id] = supervision_office(region)
        office = offices[region.id]
        rule = rules[flag.code]
        number, dept, officer = projects.get(flag.project_id, (None, None, None))
        subject = f"{names[flag.code]}: {number or ''}".strip(": ")
        if office is not None:
            specs.append(AlertSpec(f"procurement.flag.{flag.code}", region, subject,
                                   target_department=office, ref=f"procurement.flag:{flag.id}",
                                   dedupe_key=flag.dedupe_key, level=rule.level))
        publish("procurement.flag.raised", {
            "flag_id": flag.id, "code": flag.code, "level": rule.level,
            "region_code": region.code, "subject": flag.subject,
            "subject_id": flag.subject_id, "project_number": number,
            "department_id": dept if flag.project_id
            else (flag.subject_id if flag.subject == "buyer" else None),
            "officer": (officer or None) if flag.project_id else None,
            "detail": details[flag.dedupe_key],
            "raised_at": raised_at[flag.raised_at]})
    if specs:
        emit_many(specs)


def evaluate_project(project) -> list[Flag]:
    """Run every rule over ``project`` after a new release (the facts of its buyer's
    processes, for rules that compare them); called in the release's transaction."""
    _SINGLE_FACTS["sql"] = facts_sql(f"p.department_id = {int(project.department_id)}")
    hits = _run(all_rules(), [project.region_id],
                f" AND f_r.project_id = {int(project.id)}", single=True)
    return _raise(hits)


def full_pass(region_ids: list[int] | None = None,
              on_facts: Callable[[int], None] | None = None) -> PassResult:
    """Build the facts of every project once and run every enabled rule over them."""
    result = PassResult()
    regions = region_ids if region_ids is not None else [
        r for (r,) in Region.select(Region.id).tuples()]
    clock = time.perf_counter
    with db.atomic():
        start = clock()
        db.execute_sql(f"DROP TABLE IF EXISTS {FACTS}")
        db.execute_sql(f"CREATE TEMPORARY TABLE {FACTS} AS {facts_sql('1 = 1')}")
        result.processes = db.execute_sql(f"SELECT COUNT(*) FROM {FACTS}").fetchone()[0]
        result.seconds["facts"] = clock() - start
        if on_facts is not None:
            on_facts(result.processes)
        start = clock()
        hits = _run(all_rules(), regions, "", single=False)
        result.rows = len(hits)
        result.seconds["rules"] = clock() - start
        start = clock()
        result.new = _raise(hits)
        result.seconds["raise"] = clock() - start
        db.execute_sql(f"DROP TABLE IF EXISTS {FACTS}")
    return result
