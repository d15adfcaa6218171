"""Demo data of case supervision, through the real services, for every region: items of
every channel (named and anonymous, some repeats, some sent up to the city), routed or
waiting; leads disposed of in each of the four ways; cases at every stage with their
documents, one whose gate was tried without its materials (flagged), one suspended.
The demo accounts are the core's ``demo_cases_*`` (city-wide). The first web report of
the city has the receipt code ``DEMO_CODE``. Idempotent: a second run adds nothing."""
from __future__ import annotations

import random

from core.api import (
    FieldError,
    Region,
    User,
    db,
    demo_user,
    person_name,
    subtract_workdays,
    today,
)
from plugins.cases import casework, intake, leads, portal
from plugins.cases.models import Case, Item
from plugins.cases.vocab import CATEGORIES, STAGE_ORDER, STAGES

DEMO_CODE = "2026000000000001"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
POSTS = ["区住建局 副局长", "街道办事处 主任", "区教育局 科长", "镇党委 书记", "区国资公司 经理",
         "区卫健委 处长", "区市场监管局 所长", "县交通局 局长"]
TEXTS = ["利用职务便利在工程招标中为特定企业提供帮助，收受好处费。",
         "违规接受管理服务对象宴请，多次出入私人会所。",
         "在审批中故意拖延，变相索要财物。",
         "违规兼职取酬，在关联企业领取薪酬。",
         "挪用专项资金用于单位福利发放。"]


def _accounts(city: Region) -> dict:
    roles = ("cases_petition", "cases_supervision", "cases_management",
             "cases_investigator", "cases_reviewer", "cases_leader", "cases_head")
    return {r.removeprefix("cases_"): demo_user(f"demo_{r}", city, r) for r in roles}


def _report(rng, region, subject_region, people, *, channel, anonymous, days_ago,
            rank="general", name=None, category=None):
    data = {"channel": channel, "category": category or rng.choice(list(CATEGORIES)),
            "subject_rank": rank, "anonymous": anonymous,
            "reporter_name": None if anonymous else person_name(rng),
            "reporter_contact": None if anonymous else f"138{rng.randint(0, 99999999):08d}",
            "subject_name": name or person_name(rng), "subject_post": rng.choice(POSTS),
            "subject_region": subject_region.id, "text": rng.choice(TEXTS),
            "transferred_from": "上级纪委交办" if channel == "transferred" else "",
            "received_on": subtract_workdays(today(), days_ago)}
    return intake.register_by_staff(people["petition"], region, data)


def _web_report(region, people, rng, code: str | None = None) -> Item:
    fields = intake.clean_report({"channel": "web", "category": "integrity",
                                  "anonymous": True, "subject_name": person_name(rng),
                                  "subject_post": rng.choice(POSTS),
                                  "text": rng.choice(TEXTS)}, staff=False)
    code = code or portal.new_code()
    with db.atomic():
        item = intake.register(region, fields, received_on=today(), subject_region=region,
                               receipt_hash=portal.code_index(code))
        portal._save_files(item, [PDF])
    portal.office_message(people["petition"], item, "请补充问题发生的时间、地点和知情人。")
    return item


def _lead(item, people):
    intake.route(people["petition"], item, "accept")
    return leads.take_up(people["supervision"], item)


def _to_stage(case: Case, stage: str, people) -> Case:
    """Move a case through the real gates to ``stage``."""
    while case.stage != stage:
        for kind in STAGES[case.stage].gate:
            casework.add_document(people["supervision"], case, kind,
                                  f"{case.number} {kind}", PDF)
        if case.stage == "investigation":
            casework.assign(people["management"], case, people["reviewer"], "reviewer",
                            "移送审理")
        casework.advance(people["leader"], case, "演示")
        case = Case.get_by_id(case.id)
    return case


def seed(size: str = "small") -> None:
    if Item.select().where(Item.registered_by == "demo_cases_petition").exists():
        return
    regions = list(Region.select().order_by(Region.sort, Region.id))
    if not regions:
        return
    rng = random.Random(20261202)
    city = regions[0]
    people = _accounts(city)
    per_region = 9 if size == "small" else 60
    channels = ("letter", "visit", "phone", "transferred")
    _web_report(city, people, rng, DEMO_CODE)
    for region in regions:
        first = None
        for n in range(per_region):
            item = _report(rng, region, region, people, channel=channels[n % 4],
                           anonymous=n % 3 == 0, days_ago=rng.randint(0, 30))
            first = first or item
        _report(rng, region, region, people, channel="letter", anonymous=False, days_ago=1,
                name=first.subject_name, category=first.category)  # a repeat
        _web_report(region, people, rng)
        if region.parent_id:
            up = _report(rng, region, city, people, channel="letter", anonymous=False,
                         days_ago=2)
            intake.route(people["petition"], up, "send_up", "市管干部")
        _dispose(rng, region, people)


def _dispose(rng, region, people) -> None:
    """One lead per way, cases at each stage, a flagged gate and a suspension."""
    open_items = list(Item.select().where((Item.region == region.id)
                                          & (Item.status == "registered")
                                          & (Item.channel != "web")
                                          & Item.repeat_of.is_null()).order_by(Item.id))
    ways = [("talk", "反映问题较为笼统，函询了解"), ("shelve", "暂不具备核查条件"),
            ("close", "反映问题不实"), ("verify", "问题线索具体，可查性强")]
    stages = list(STAGE_ORDER)
    for n, item in enumerate(open_items[: len(ways) + len(stages) - 1]):
        lead = _lead(item, people)
        way, reason = ways[min(n, len(ways) - 1)]
        leads.propose(people["supervision"], lead, way, reason, f"{region.name}专题会{n + 1}")
        case = leads.decide(people["leader"], lead, True)
        if case is None:
            continue
        stage = stages[min(n - len(ways) + 1, len(stages) - 1)]
        case = _to_stage(case, stage, people)
        if stage == "investigation":
            casework.suspend(people["supervision"], case, "被调查人住院治疗")
        if stage == "review":
            try:  # the 安检门: an attempt without the review report is refused and flagged
                casework.advance(people["leader"], case, "演示")
            except FieldError:
                pass
    if open_items and region.parent_id is None:
        head = _report(rng, region, region, people, channel="letter", anonymous=False,
                       days_ago=3, rank="head", name=person_name(rng))
        lead = _lead(head, people)
        leads.propose(people["supervision"], lead, "verify", "涉及下级党委主要负责人",
                      "常委会")
        leads.decide(User.get(User.username == "demo_cases_head"), lead, True)


__all__ = ["DEMO_CODE", "seed"]
