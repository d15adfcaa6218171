"""Demo data of procurement: for every region a year of finished processes of every method
(recorded as history: plans, notices, opened bids, awards, contracts, payments), a few that
trip each red flag, and — through the real services — tenders taking sealed bids now and
an auction that starts soon. Idempotent: a second run adds nothing."""
from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

from core.api import (
    DEMO_PASSWORD,
    Department,
    Region,
    db,
    demo_user,
    sealing,
    utcnow,
)
from plugins.procurement import ocds, suppliers
from plugins.procurement.methods import METHODS
from plugins.procurement.models import (
    Announcement,
    Auction,
    AuctionBid,
    AuctionParticipant,
    Award,
    Bid,
    Clock,
    Contract,
    ContractChange,
    Plan,
    PlanItem,
    Project,
    RuleSetting,
    Supplier,
)

CUSTODY_PASSPHRASE = "demo custody passphrase"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
SUPPLIERS = ["成都蓉城办公家具有限公司", "四川天府信息技术有限公司", "成都锦官城建设工程有限公司",
             "四川金沙物业服务有限公司", "成都青羊印务有限公司", "四川川西医疗设备有限公司",
             "成都宽窄巷文化传媒有限公司", "四川蜀都车辆服务有限公司", "成都武侯教学设备有限公司",
             "四川龙泉驿绿化工程有限公司", "成都高新数据服务有限公司", "四川都江堰环境科技有限公司"]
ITEMS = [("goods", "A06010101", "办公家具", "套"), ("goods", "A02010104", "台式计算机", "台"),
         ("services", "C16070000", "物业管理服务", "项"), ("works", "B01020000", "办公楼修缮", "项"),
         ("goods", "A03010200", "医疗设备", "台"), ("services", "C23090000", "印刷服务", "项"),
         ("goods", "A10010100", "教学仪器", "套"), ("services", "C21040000", "绿化养护", "项")]


def uscc(n: int) -> str:
    """A valid unified social credit code (GB 32100) for demo supplier ``n``."""
    body = f"91510100MA6{n:06d}"
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def seed(size: str = "small") -> None:
    if Project.select().where(Project.created_by == "demo").exists():
        return
    rng = random.Random(20260315)
    regions = list(Region.select().order_by(Region.sort, Region.id))
    if not regions:
        return
    city = regions[0]
    people = _accounts(city, regions)
    firms = _suppliers()
    per_region = 6 if size == "small" else 60
    with db.atomic():
        for region in regions:
            dept = (Department.select().where((Department.region == region.id)
                                              & (Department.is_supervision_office == False))
                    .order_by(Department.sort, Department.id).first())
            if dept is None:
                continue
            for n in range(per_region):
                method = list(METHODS)[(n + region.id) % len(METHODS)]
                _history(rng, region, dept, firms, method, days_ago=rng.randint(30, 360))
        _red_flag_cases(rng, regions[1] if len(regions) > 1 else city, firms)
        # the city's supervisors fix two thresholds: with most processes clean, the
        # data's own fences sit at zero and cardinal's rule would skip them
        for code, params in (("R024", {"threshold": 0.01}), ("R038", {"threshold": 0.1})):
            RuleSetting.insert(region=None, code=code, enabled=True, params=json.dumps(params),
                               updated_by="demo").execute()
    from plugins.procurement.rules import full_pass
    full_pass()
    _live(rng, regions, people, firms)


def _accounts(city, regions) -> dict:
    people = {"agency": demo_user("pc_agency", city, "procurement_agency"),
              "finance": demo_user("pc_finance", city, "procurement_finance"),
              "supervisor": demo_user("pc_supervisor", city, "supervisor")}
    for region in regions:
        people[region.id] = demo_user(f"pc_buyer_{region.code}", region,
                                      "procurement_purchaser")
    for user in [people["agency"], people["supervisor"],
                 *[people[r.id] for r in regions[:3]]]:
        if sealing.custodian_key(user) is None:
            sealing.enroll_custodian(user, CUSTODY_PASSPHRASE)
    return people


def _suppliers() -> list[Supplier]:
    out = []
    for n, name in enumerate(SUPPLIERS, start=1):
        code = uscc(n)
        row = Supplier.get_or_none(Supplier.uscc == code)
        if row is None:
            row = suppliers.register(name=name, uscc=code, contact="张经理",
                                     phone="13800138000", email=f"bid{n}@example.org",
                                     address="四川省成都市", password=DEMO_PASSWORD,
                                     is_demo=True)
        out.append(row)
    return out


def _project(rng, region, dept, method, when, *, budget=None, item=None, title=None,
             original_contract_id=None):
    category, code, name, unit = item or rng.choice(ITEMS)
    budget = Decimal(budget or rng.choice([180000, 320000, 560000, 860000, 1250000, 2400000,
                                           4800000]))
    plan = Plan.create(region=region, department=dept, year=when.year, title=title or
                       f"{dept.name}{name}采购", category=category, budget=budget,
                       method=method, method_reason="" if method in ("open_tender", "auction")
                       else "符合政府采购法规定的适用情形", approval_ref="" if method in (
                           "open_tender", "auction") else f"成财采〔{when.year}〕{rng.randint(1, 99)}号",
                       status="used", created_by="demo", created_at=when)
    PlanItem.create(plan=plan, description=name, classification=code, quantity=Decimal(
        rng.randint(1, 40)), unit=unit)
    n = Project.select().count() + 1
    number = f"CG-{region.code}-{when.year}-D{n:04d}"
    return Project.create(
        region=region, department=dept, plan=plan, number=number,
        ocid=f"{ocds.prefix()}-{number}", title=plan.title, category=category,
        classification=code, method=method, method_reason=plan.method_reason,
        approval_ref=plan.approval_ref, budget=budget,
        ceiling=(budget * Decimal("0.98")).quantize(Decimal("0.01")),
        original_contract_id=original_contract_id, created_by="demo", created_at=when)


def _history(rng, region, dept, firms, method, days_ago, **kw) -> Project:
    """A finished process written as history, with a release at each of its steps."""
    when = utcnow() - dt.timedelta(days=days_ago)
    project = _project(rng, region, dept, method, when, **kw)
    ocds.write_release(project, "planning", evaluate=False)
    period = {"negotiation": 5, "inquiry": 5, "consultation": 12}.get(method, 22)
    issued, deadline = when + dt.timedelta(days=2), when + dt.timedelta(days=2 + period)
    bidders = rng.sample(firms, rng.randint(3, 5))
    if method == "single_source":
        bidders = bidders[:1]
    Project.update(status="evaluation", docs_issued_at=issued, deadline=deadline,
                   opening_state="opened", opened_at=deadline,
                   single_source_supplier=bidders[0] if method == "single_source" else None) \
        .where(Project.id == project.id).execute()
    Announcement.create(region=region, project=project, kind="single_source" if method ==
                        "single_source" else "tender" if "tender" in method or method ==
                        "framework" else "competitive", title=f"{project.title}公告",
                        body=f"{project.number} {project.title}", published_at=issued,
                        published_by="demo")
    ceiling = project.ceiling
    bids = []
    for supplier in bidders:
        price = (ceiling * Decimal(rng.uniform(0.80, 0.99))).quantize(Decimal(1))
        bids.append(Bid.create(project=project, supplier=supplier, status="valid",
                               submitted_at=deadline - dt.timedelta(hours=rng.randint(2, 90)),
                               sealed=b"", receipt="", price=price))
    project = Project.get_by_id(project.id)
    ocds.write_release(project, "tender", evaluate=False)
    if method == "auction":
        _auction_history(rng, project, bids, issued, deadline)
    winner = min(bids, key=lambda b: b.price)
    fixed = deadline + dt.timedelta(days=rng.randint(1, 4))
    award = Award.create(project=project, supplier=winner.supplier, bid=winner,
                         amount=winner.price, status="active", fixed_at=fixed,
                         notice_at=fixed + dt.timedelta(days=1))
    Project.update(status="awarded", report_at=deadline + dt.timedelta(days=1),
                   winner_fixed_at=fixed, award_notice_at=award.notice_at,
                   result_announced_at=award.notice_at).where(Project.id == project.id).execute()
    Announcement.create(region=region, project=project, kind="result",
                        title=f"{project.title}中标（成交）结果公告",
                        body=f"{project.number} 中标供应商：{winner.supplier.name}",
                        published_at=award.notice_at, published_by="demo")
    ocds.write_release(Project.get_by_id(project.id), "award", evaluate=False)
    signed = (award.notice_at + dt.timedelta(days=rng.randint(5, 25))).date()
    if signed > utcnow().date():
        return project
    contract = Contract.create(project=project, award=award, supplier=winner.supplier,
                               number=f"HT-{project.number}", amount=winner.price,
                               status="active", signed_on=signed,
                               published_on=signed + dt.timedelta(days=1),
                               filed_on=signed + dt.timedelta(days=3),
                               period_start=signed, period_end=signed + dt.timedelta(days=180))
    Project.update(status="contracted").where(Project.id == project.id).execute()
    ocds.write_release(Project.get_by_id(project.id), "contract", evaluate=False)
    paid = signed + dt.timedelta(days=30)
    if paid < utcnow().date():
        ContractChange.create(contract=contract, kind="payment", day=paid, title="首期款",
                              amount=(winner.price * Decimal("0.3")).quantize(Decimal("0.01")),
                              created_by="demo")
        ContractChange.create(contract=contract, kind="acceptance", day=paid, title="履约验收",
                              due_on=paid, created_by="demo")
        Contract.update(accepted_on=paid, acceptance_result="passed").where(
            Contract.id == contract.id).execute()
        Project.update(status="complete").where(Project.id == project.id).execute()
        ocds.write_release(Project.get_by_id(project.id), "implementation", evaluate=False)
    return project


def _auction_history(rng, project, bids, starts, ends) -> None:
    auction = Auction.create(project=project, ceiling=project.ceiling, step=Decimal(100),
                             starts_at=starts, planned_end=ends, ends_at=ends,
                             state="awarded", best_price=min(b.price for b in bids))
    seq = 0
    for n, bid in enumerate(bids):
        part = AuctionParticipant.create(auction=auction, supplier=bid.supplier,
                                         alias="ABCDEFGH"[n])
        seq += 1
        AuctionBid.create(auction=auction, participant=part, seq=seq, price=bid.price,
                          decided_at=starts + dt.timedelta(minutes=seq), accepted=True,
                          ends_at=ends)
    Auction.update(best_participant_id=part.id, accepted=seq).where(
        Auction.id == auction.id).execute()


def _red_flag_cases(rng, region, firms) -> None:
    """Processes that trip each rule (bids, clocks and amounts chosen for it)."""
    dept = (Department.select().where((Department.region == region.id)
                                      & (Department.is_supervision_office == False))
            .order_by(Department.sort.desc()).first())
    today = utcnow().date()

    def tweak(project, **prices):
        for bid in Bid.select().where(Bid.project == project.id):
            status, price = prices.get(bid.supplier.name, (None, None))
            if status:
                Bid.update(status=status, price=price or bid.price).where(
                    Bid.id == bid.id).execute()

    single = _history(rng, region, dept, firms, "open_tender", 120, title="单一投标人项目")
    Bid.delete().where((Bid.project == single.id) & (Bid.supplier != Award.get(
        Award.project == single.id).supplier)).execute()
    same = _history(rng, region, dept, firms, "open_tender", 110, title="相同报价项目")
    rows = list(Bid.select().where(Bid.project == same.id).order_by(Bid.price))
    Bid.update(price=rows[1].price).where(Bid.id == rows[2].id).execute()
    close = _history(rng, region, dept, firms, "open_tender", 100, title="报价接近项目")
    rows = list(Bid.select().where(Bid.project == close.id).order_by(Bid.price))
    Bid.update(price=rows[0].price + 100).where(Bid.id == rows[1].id).execute()
    cheap = _history(rng, region, dept, firms, "consultation", 90, title="大幅低价中标项目")
    rows = list(Bid.select().where(Bid.project == cheap.id).order_by(Bid.price))
    Bid.update(price=(rows[0].price * Decimal("0.45")).quantize(Decimal(1))).where(
        Bid.id == rows[0].id).execute()
    Award.update(amount=(rows[0].price * Decimal("0.45")).quantize(Decimal(1))).where(
        Award.project == cheap.id).execute()
    for title in ("除中标人外均被否决项目", "除中标人外均被否决项目（二）"):
        dq = _history(rng, region, dept, firms, "invited_tender", 80, title=title)
        winner = Award.get(Award.project == dq.id).supplier_id
        Bid.update(status="disqualified", disqualify_reason="资格审查不合格").where(
            (Bid.project == dq.id) & (Bid.supplier != winner)).execute()
    low = _history(rng, region, dept, firms, "open_tender", 70, title="最低价被否决项目")
    rows = list(Bid.select().where(Bid.project == low.id).order_by(Bid.price))
    Bid.update(status="disqualified", disqualify_reason="技术参数不满足",
               price=rows[0].price - 5000).where(Bid.id == rows[1].id).execute()
    _history(rng, region, dept, firms, "negotiation", 60, title="响应期短项目")
    unsigned = _history(rng, region, dept, firms, "open_tender", 30, title="未按期签订合同项目")
    Contract.delete().where(Contract.project == unsigned.id).execute()
    award = Award.get(Award.project == unsigned.id)
    notice = today - dt.timedelta(days=40)
    Award.update(notice_at=dt.datetime.combine(notice, dt.time(2))).where(
        Award.id == award.id).execute()
    Project.update(status="awarded").where(Project.id == unsigned.id).execute()
    _clock(unsigned, "contract_sign", f"award:{award.id}", notice, 30, working=False)
    unpublished = _history(rng, region, dept, firms, "inquiry", 40, title="合同未按期公告项目")
    contract = Contract.get_or_none(Contract.project == unpublished.id)
    if contract is not None:
        signed = today - dt.timedelta(days=10)
        Contract.update(signed_on=signed, published_on=None).where(
            Contract.id == contract.id).execute()
        _clock(unpublished, "contract_publish", f"contract:{contract.id}", signed, 2)
    unannounced = _history(rng, region, dept, firms, "consultation", 35, title="结果未按期公告项目")
    fixed = today - dt.timedelta(days=12)
    Project.update(result_announced_at=None, award_notice_at=None, status="awarded").where(
        Project.id == unannounced.id).execute()
    _clock(unannounced, "result", f"project:{unannounced.id}", fixed, 2)
    base = _history(rng, region, dept, firms, "open_tender", 300, title="原合同项目",
                    budget=1000000)
    original = Contract.get_or_none(Contract.project == base.id)
    if original is not None:
        _history(rng, region, dept, firms, "single_source", 50, title="单一来源添购项目",
                 budget=150000, original_contract_id=original.id)
    item = ("goods", "A02010104", "台式计算机", "台")
    for n in range(2):
        _history(rng, region, dept, firms, "inquiry", 150 + n, title=f"计算机采购（第{n + 1}批）",
                 budget=1900000, item=item)


def _clock(project, kind, ref, start, days, working=True):
    from core.api import add_workdays
    due = add_workdays(start, days) if working else start + dt.timedelta(days=days)
    Clock.insert(region=project.region_id, project=project.id, kind=kind, ref=ref,
                 started_on=start, due_on=due).on_conflict_ignore().execute()


def _live(rng, regions, people, firms) -> None:
    """Tenders taking sealed bids now and an auction starting soon, through the services."""
    from plugins.procurement import auction, bidding, projects
    now = utcnow()
    for region in regions[1:3]:
        buyer = people[region.id]
        dept = (Department.select().where((Department.region == region.id)
                                          & (Department.is_supervision_office == False))
                .order_by(Department.sort, Department.id).first())
        custodians = [buyer, people["agency"], people["supervisor"]]
        plan = projects.create_plan(
            buyer, dept, year=now.year, title=f"{dept.name}会议室家具采购", category="goods",
            budget=Decimal(860000), method="open_tender",
            items=[{"description": "会议桌椅", "classification": "A06010101",
                    "quantity": Decimal(20), "unit": "套"}])
        project = projects.create_project(buyer, plan, ceiling=Decimal(850000),
                                          agency="成都市政府采购中心")
        projects.publish(buyer, project, "tender", deadline=now + dt.timedelta(days=24),
                         custodians=custodians)
        project = Project.get_by_id(project.id)
        for supplier in firms[:3]:
            bidding.submit(supplier, project, price=Decimal(rng.randint(700000, 840000)),
                           note="按招标文件要求响应")
        Project.update(created_by="demo").where(Project.id == project.id).execute()
    region = regions[1] if len(regions) > 1 else regions[0]
    buyer = people[region.id]
    dept = (Department.select().where(Department.region == region.id)
            .order_by(Department.sort, Department.id).first())
    plan = projects.create_plan(buyer, dept, year=now.year, title="办公电脑网上竞价",
                                category="goods", budget=Decimal(300000), method="auction",
                                items=[{"description": "台式计算机", "classification":
                                        "A02010104", "quantity": Decimal(50), "unit": "台"}])
    project = projects.create_project(buyer, plan, ceiling=Decimal(300000))
    auction.setup(buyer, project, starts_at=now + dt.timedelta(minutes=10),
                  ends_at=now + dt.timedelta(minutes=40), step=Decimal(500),
                  extension_seconds=120, max_extension_seconds=900)
    projects.publish(buyer, project, "competitive")
    auc = Auction.get(Auction.project == project.id)
    for supplier in firms[:3]:
        auction.join(supplier, auc)
    Project.update(created_by="demo").where(Project.id == project.id).execute()
