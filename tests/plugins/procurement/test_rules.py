"""Every red-flag rule on hand-built processes: firing, and not firing just beside it."""
from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal

import pytest

from core.api import utcnow

_n = itertools.count(1)


@pytest.fixture
def build(app, org):
    """build(method=…, bids=[(supplier, price, status)], award=supplier|None, …) -> Project:
    a process written straight into the tables, as the services leave it."""
    from plugins.procurement.models import Award, Bid, Project, Supplier

    suppliers = [Supplier.create(user_id=9000 + i, name=f"S{i}", uscc=f"9151010000000{i:04d}X"[:18])
                 for i in range(6)]

    def make(method="open_tender", bids=(), award=None, days=None, budget="500000",
             category="goods", classification="A02010104", region=None, department=None,
             original_contract_id=None, award_amount=None):
        n = next(_n)
        now = utcnow()
        project = Project.create(
            region=region or org["a"], department=department or org["dept_a"],
            number=f"T-{n:05d}", ocid=f"ocds-000000-T-{n:05d}", title=f"P{n}",
            category=category, classification=classification, method=method,
            budget=Decimal(budget), ceiling=Decimal(budget), status="evaluation",
            opening_state="opened", original_contract_id=original_contract_id,
            docs_issued_at=None if days is None else now - dt.timedelta(days=days),
            deadline=None if days is None else now)
        rows = {}
        for s, price, status in bids:
            rows[s] = Bid.create(project=project, supplier=suppliers[s], status=status,
                                 sealed=b"", receipt="", price=Decimal(price))
        if award is not None:
            Award.create(project=project, supplier=suppliers[award], bid=rows.get(award),
                         amount=Decimal(award_amount or (bids and min(
                             p for s, p, st in bids if s == award)) or budget),
                         status="active")
            Project.update(status="awarded").where(Project.id == project.id).execute()
        return Project.get_by_id(project.id)
    make.suppliers = suppliers
    return make


def flags_of(project) -> set[str]:
    from plugins.procurement.models import Flag
    from plugins.procurement.rules import evaluate_project
    evaluate_project(project)
    return {f.code for f in Flag.select().where(Flag.project == project.id)}


def full(project) -> set[str]:
    from plugins.procurement.models import Flag
    from plugins.procurement.rules import full_pass
    full_pass()
    return {f.code for f in Flag.select().where(Flag.project == project.id)}


def set_rule(code, region=None, enabled=True, **params):
    from plugins.procurement.models import RuleSetting
    RuleSetting.create(region=region, code=code, enabled=enabled, params=json.dumps(params))


V, D = "valid", "disqualified"


def test_r003_short_submission_period(build):
    assert "R003" in flags_of(build(days=10))
    assert "R003" not in flags_of(build(days=15))
    assert "R003" not in flags_of(build(days=None))  # no tender period: not applicable


def test_r003_per_method_threshold_and_region_switch(build, org):
    set_rule("R003", threshold=15, negotiation=3)
    assert "R003" not in flags_of(build("negotiation", days=4))
    assert "R003" in flags_of(build("open_tender", days=4))
    set_rule("R003", region=org["a"], enabled=False)
    assert "R003" not in flags_of(build("open_tender", days=4))


def test_r018_single_bid(build):
    assert "R018" in flags_of(build(bids=[(0, "100", V)], award=0))
    assert "R018" not in flags_of(build(bids=[(0, "100", V), (1, "120", V)], award=0))
    assert "R018" not in flags_of(build("negotiation", bids=[(0, "100", V)], award=0))


def test_r024_and_r058_fixed_thresholds(build):
    set_rule("R024", threshold=0.05)
    set_rule("R058", threshold=0.5)
    close = build(bids=[(0, "100000", V), (1, "103000", V), (2, "150000", V)], award=0)
    apart = build(bids=[(0, "100000", V), (1, "120000", V)], award=0)
    cheap = build(bids=[(0, "100000", V), (1, "160000", V)], award=0)
    assert "R024" in flags_of(close) and "R058" not in flags_of(close)
    assert "R024" not in flags_of(apart) and "R058" not in flags_of(apart)
    assert "R058" in flags_of(cheap) and "R024" not in flags_of(cheap)
    # the winner not the lowest valid bid: the ratio is not defined (cardinal)
    assert not {"R024", "R058"} & flags_of(
        build(bids=[(0, "100000", V), (1, "99000", V)], award=0))


def test_quantiles_follow_hyndman_fan_8():
    from plugins.procurement.rules import fences, quantile
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.25) == pytest.approx(1.4166667, rel=1e-6)
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.75) == pytest.approx(3.5833333, rel=1e-6)
    q1, q3, lower, upper = fences([1.0, 2.0, 3.0, 4.0])
    assert lower == pytest.approx(q1 - 1.5 * (q3 - q1)) and upper == pytest.approx(
        q3 + 1.5 * (q3 - q1))


def test_r024_and_r058_fences_from_the_data(build):
    """No fixed threshold: Tukey fences over every process's ratio (cardinal's default).
    Ratios 0.001, 0.10 … 0.22 and 0.9: Q1 ≈ 0.1183, Q3 ≈ 0.2017, so the upper fence
    ≈ 0.327 flags only 0.9, and the lower fence is below 0: R024 is skipped, as cardinal
    skips a fence at or below zero."""
    from plugins.procurement.models import Flag
    ratios = ["0.001", "0.10", "0.12", "0.14", "0.15", "0.16", "0.18", "0.20", "0.22", "0.9"]
    projects = {r: build(bids=[(0, "100000", V), (1, str(100000 * (1 + Decimal(r))), V)],
                         award=0) for r in ratios}
    flagged = {r: full(p) for r, p in projects.items()}
    assert [r for r in ratios if "R058" in flagged[r]] == ["0.9"]
    assert not any("R024" in f for f in flagged.values())
    detail = json.loads(Flag.get(Flag.code == "R058").detail)
    assert detail["fence"] == pytest.approx(0.3267, abs=1e-3)


def test_r024_fires_below_a_positive_lower_fence(build):
    ratios = ["0.01", "0.20", "0.21", "0.22", "0.23", "0.24", "0.25", "0.26"]
    projects = {r: build(bids=[(0, "100000", V), (1, str(100000 * (1 + Decimal(r))), V)],
                         award=0) for r in ratios}
    flagged = {r: full(p) for r, p in projects.items()}
    assert [r for r in ratios if "R024" in flagged[r]] == ["0.01"]


def test_r028_identical_prices(build):
    assert "R028" in flags_of(build(bids=[(0, "100", V), (1, "100", D), (2, "130", V)],
                                    award=0))
    assert "R028" not in flags_of(build(bids=[(0, "100", V), (1, "101", V)], award=0))


def test_r035_all_but_the_winner_disqualified(build):
    assert "R035" in flags_of(build(bids=[(0, "100", V), (1, "90", D), (2, "95", D)],
                                    award=0))
    assert "R035" not in flags_of(build(bids=[(0, "100", V), (1, "90", V), (2, "95", D)],
                                        award=0))
    assert "R035" not in flags_of(build(bids=[(0, "100", V)], award=0))  # nobody disqualified


def test_r036_lowest_bid_disqualified(build):
    assert "R036" in flags_of(build(bids=[(0, "100", V), (1, "90", D)], award=0))
    assert "R036" not in flags_of(build(bids=[(0, "100", V), (1, "110", D)], award=0))
    assert "R036" not in flags_of(build(bids=[(0, "100", V), (1, "90", D)]))  # no award


def test_r038_excessive_disqualified_bids_of_a_buyer(build, org):
    from plugins.procurement.models import Flag
    set_rule("R038", threshold=0.5)
    for _ in range(2):
        build(bids=[(0, "100", V), (1, "90", D), (2, "95", D)], award=0)
    other = org["dept_b"]
    build(bids=[(0, "100", V), (1, "90", V), (2, "95", V)], award=0, region=org["b"],
          department=other)
    from plugins.procurement.rules import full_pass
    full_pass()
    buyers = {f.subject_id for f in Flag.select().where((Flag.code == "R038")
                                                        & (Flag.subject == "buyer"))}
    assert org["dept_a"].id in buyers and other.id not in buyers


def _clock(project, kind, due, done=None):
    from plugins.procurement.models import Clock
    Clock.create(region=project.region_id, project=project, kind=kind,
                 ref=f"x:{project.id}:{kind}", started_on=due - dt.timedelta(days=2),
                 due_on=due, done_on=done)


@pytest.mark.parametrize("code,kind", [("CN-SIGN", "contract_sign"),
                                       ("CN-PUBLISH", "contract_publish"),
                                       ("CN-RESULT", "result")])
def test_chinese_clock_flags(build, code, kind):
    from core.api import today
    late = build()
    _clock(late, kind, today() - dt.timedelta(days=1))
    done_late = build()
    _clock(done_late, kind, today() - dt.timedelta(days=5), done=today() - dt.timedelta(days=2))
    on_time = build()
    _clock(on_time, kind, today() - dt.timedelta(days=5), done=today() - dt.timedelta(days=6))
    running = build()
    _clock(running, kind, today() + dt.timedelta(days=1))
    assert code in flags_of(late) and code in flags_of(done_late)
    assert code not in flags_of(on_time) and code not in flags_of(running)


def test_single_source_add_on_above_ten_percent(build):
    from plugins.procurement.models import Contract
    base = build(bids=[(0, "1000000", V), (1, "1100000", V)], award=0)
    contract = Contract.create(project=base, supplier=build.suppliers[0],
                               amount=Decimal(1000000), status="active")
    small = build("single_source", award=0, award_amount="80000",
                  original_contract_id=contract.id)
    assert "CN-ADDON" not in flags_of(small)
    second = build("single_source", award=0, award_amount="30000",
                   original_contract_id=contract.id)
    assert "CN-ADDON" in flags_of(second)  # 80 000 + 30 000 > 10 % of 1 000 000


def test_splitting_just_below_the_threshold(build, org):
    below = [build("inquiry", budget="1900000", classification="A0201010" + str(i))
             for i in range(2)]
    assert "CN-SPLIT" in flags_of(below[1])
    lone = build("inquiry", budget="1900000", classification="A0999999",
                 department=org["sup_a"])
    assert "CN-SPLIT" not in flags_of(lone)
    small = [build("inquiry", budget="500000", classification="A0301010" + str(i),
                   department=org["sup_a"]) for i in range(3)]
    assert "CN-SPLIT" not in flags_of(small[0])  # far below the threshold: no splitting


def test_flag_raised_once_with_alert_and_event(build, app):
    from core.alerts.models import Alert
    from plugins.procurement.models import Flag
    received = []

    class Listener:
        __name__ = "listener"

        @staticmethod
        def ql_handle_event(name, payload):
            received.append((name, payload))
    from core import hookimpl
    Listener.ql_handle_event = staticmethod(hookimpl(Listener.ql_handle_event))
    pm = app.extensions["qinglian.plugins"].pm
    pm.register(Listener, name="listener")
    try:
        project = build(bids=[(0, "100", V)], award=0)
        flags_of(project)
        flags_of(project)
    finally:
        pm.unregister(name="listener")
    assert Flag.select().where((Flag.project == project.id) & (Flag.code == "R018")).count() == 1
    assert Alert.select().where(Alert.kind == "procurement.flag.R018").count() == 1
    events = [p for n, p in received if n == "procurement.flag.raised" and p["code"] == "R018"]
    assert len(events) == 1 and events[0]["project_number"] == project.number
    assert events[0]["department_id"] == project.department_id
    assert events[0]["officer"] == (project.created_by or None)


def test_hook_ql_procurement_rules_adds_a_rule(build, app):
    """Another package adds a rule through the plugin's own hook: it is listed, has its
    alert kind's code, and raises its flags like the built-in ones."""
    from core import hookimpl
    from plugins.procurement.rules import Rule, all_rules

    class ManyBidders(Rule):
        code, name, basis, fields = "X-MANY", "Many bidders", "test", ("n",)

        def query(self, ctx):
            return (f"SELECT f.project_id, 'process', f.project_id, '', f.n_tenderers, "
                    f"f.n_tenderers FROM procurement_facts f WHERE "
                    f"{ctx.scope('f.project_id')} AND f.n_tenderers > {ctx.p(3)}")

    class Extra:
        __name__ = "extra_rules"

        @staticmethod
        @hookimpl(optionalhook=True)
        def ql_procurement_rules():
            return [ManyBidders()]

    pm = app.extensions["qinglian.plugins"].pm
    pm.register(Extra, name="extra_rules")
    try:
        assert "X-MANY" in all_rules()
        many = build(bids=[(n, str(100 + n), V) for n in range(4)], award=0)
        few = build(bids=[(n, str(100 + n), V) for n in range(3)], award=0)
        from plugins.procurement.models import Flag
        from plugins.procurement.rules import evaluate_project
        evaluate_project(many)
        evaluate_project(few)
        codes = {(f.project_id, f.code) for f in Flag.select()}
        assert (many.id, "X-MANY") in codes and (few.id, "X-MANY") not in codes
    finally:
        pm.unregister(name="extra_rules")


def test_next_pass_reads_no_hit_already_flagged(build, org):
    """The nightly pass skips, in SQL, the hits whose flag is raised: its key is built as
    the flag's, for every kind of row (a process, a clock's ref, a buyer); a new hit is
    still raised, and only it."""
    from core.api import today
    from plugins.procurement.models import Flag
    from plugins.procurement.rules import full_pass
    set_rule("R038", threshold=0.5)
    build(bids=[(0, "100", V)], award=0)  # R018
    build(bids=[(0, "100", V), (1, "100", V), (2, "120", V)], award=0)  # R028
    build(bids=[(0, "100", V), (1, "90", D), (2, "95", D)], award=0, days=5)  # R003, R036
    build(bids=[(0, "100", V), (1, "90", D), (2, "95", D)], award=0)  # the buyer's R038
    _clock(build(), "contract_sign", today() - dt.timedelta(days=1))  # CN-SIGN, a ref
    first = full_pass()
    codes = {f.code for f in first.new}
    assert {"R018", "R028", "R003", "R036", "R038", "CN-SIGN"} <= codes
    assert first.rows == len(first.new) == Flag.select().count()
    second = full_pass()
    assert (second.rows, second.new) == (0, [])
    fresh = build(bids=[(3, "100", V)], award=3)
    third = full_pass()
    assert third.rows == 1 and [(f.code, f.project_id) for f in third.new] == [
        ("R018", fresh.id)]
