"""Demo data of risk prevention, through the plugin's services, for every region.

Each region gets: rules of its own (the city's apply everywhere; one city rule repealed,
so points citing it are flagged); a unit whose register is in force (approved months ago,
so some measures and reviews are late), one whose register is submitted and one whose
register was returned, with points scored on the matrix, measures and rule links;
measure progress; a project site with a check-in inside it (a site-arrival reminder) and
the holiday reminders before the latest long holiday; warnings of every source (the rule
sweep's measure, review and rectification warnings, a manual one, a signal) in every
state; talks of each kind (one with its self-analysis overdue, one handed in); notices
(one past its rectification day, one reported and accepted, one sent back); and an
accountability record.

``size="large"`` adds, in bulk, an approved register to every other unit (through the
import service, about 50,000 risk points in all) and three years of handled warnings and
sent reminders (about 100,000 rows, ``insert_many``).

Demo accounts (city-wide, core ``demo_user``): ``demo_risk_unit`` (staff: drafts and
submits registers) and ``demo_risk_office`` (supervisor: reviews, warns, talks).
Idempotent: a second run adds nothing."""
from __future__ import annotations

import datetime as dt
import random
import time

from core.api import (
    Department,
    Person,
    Post,
    PostHolding,
    Region,
    db,
    demo_user,
    holidays_between,
    record,
    subtract_workdays,
    today,
    utcnow,
)
from plugins.risk import config, reminders, rules, signals, talks, transfer
from plugins.risk import register as reg
from plugins.risk import warnings as warn
from plugins.risk.models import (
    ACCOUNTABILITY_KINDS,
    TALK_KINDS,
    Measure,
    Point,
    Register,
    Reminder,
    RiskWarning,
    Rule,
)

UNIT, OFFICE = "demo_risk_unit", "demo_risk_office"
CITY_RULES = [
    ("中国共产党纪律处分条例", "中共中央", "中发〔2023〕22号", dt.date(2024, 1, 1),
     ("第一条 为了维护党的章程和其他党内法规，严肃党的纪律……利用职权或者职务上的影响为他人谋取利益，"
      "本人的配偶、子女及其配偶等亲属和其他特定关系人收受对方财物，情节较重的，给予警告或者严重警告处分。")),
    ("中华人民共和国公职人员政务处分法", "全国人民代表大会常务委员会", "主席令第46号",
     dt.date(2020, 7, 1), "第一条 为了规范政务处分……第三十三条 有下列行为之一的，予以警告、记过或者记大过。"),
    ("政府采购领域廉政风险防控办法", "市纪委监委", "成纪发〔2022〕8号", dt.date(2022, 3, 1),
     "采购需求论证、采购文件编制、评审专家抽取、合同签订和履约验收应当分岗设置，相互制约。"),
    ("土地整治项目管理暂行规定", "市规划和自然资源局", "成规资发〔2019〕3号",
     dt.date(2019, 5, 1), "项目实施中不得随意变更规划设计，确需变更的，应当按程序报批。"),
]
REPEALED = "土地整治项目管理暂行规定"
DUTIES = [
    ("行政许可审批", "process", ("在行政许可审批中对申请材料把关不严，或者对符合条件的申请故意拖延、"
                                 "设置障碍，借机索取、收受好处。"), "审批时限、收费依据一律公开，不得私下接触申请人。"),
    ("项目招标采购", "system", ("在采购需求、评审专家抽取或者合同验收环节为特定供应商提供便利，"
                                "收受回扣。"), "采购全流程留痕，不得干预评审。"),
    ("专项资金分配", "duty", "专项资金分配不公开、不透明，优亲厚友，或者虚报冒领、截留挪用。",
     "资金分配结果公示，严禁优亲厚友。"),
    ("行政执法检查", "ideology", "执法检查中选择性执法、随意减免处罚，接受管理服务对象宴请。",
     "执法全过程记录，不得接受宴请。"),
    ("土地整治项目实施", "external", "土地整治项目实施中随意变更规划设计，违规办理相关手续。",
     "土地整治中不得随意变更规划设计、违规办理手续。"),
]
MEASURES = ["实行分岗设置、相互制约，关键环节由两人以上共同办理",
            "办理过程全程留痕，纳入电子监察实时监控",
            "每季度开展一次廉政风险自查，结果报纪检组备案",
            "重要事项集体研究决定，会议纪要存档备查"]


def _accounts(city: Region) -> tuple:
    return demo_user(UNIT, city, "staff"), demo_user(OFFICE, city, "supervisor")


def seed(size: str = "small") -> dict[str, float]:
    """Seed the demo (see the module's docstring); ``{step: seconds}``."""
    if Register.select().where(Register.created_by == UNIT).exists():
        return {}
    regions = list(Region.select().order_by(Region.sort, Region.id))
    if not regions:
        return {}
    rng = random.Random(20261202)
    city = regions[0]
    unit, office = _accounts(city)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with db.atomic():  # all or nothing: a failed seed leaves no half (and runs again)
        city_rules = _city_rules(office, city)
        for n, region in enumerate(regions):
            own = [] if region.parent_id is None else [_county_rule(office, region)]
            _region(rng, n, region, unit, office, [*city_rules.values(), *own])
        rules.repeal(office, city_rules[REPEALED],
                     repealed_on=today() - dt.timedelta(days=20), note="已被新规定替代")
        _holiday_reminders()
        warn.sweep()  # the rule warnings: measures, reviews and rectifications overdue
        talks.overdue_talks()
        _warning_states(office)
    timings["small"] = time.perf_counter() - started
    if size == "large":
        started = time.perf_counter()
        points = _large_registers(rng, unit, office, city_rules)
        timings["large registers"] = time.perf_counter() - started
        started = time.perf_counter()
        rows = _history(rng, regions)
        timings["large history"] = time.perf_counter() - started
        timings["points"], timings["history rows"] = points, rows
    return timings


# -- rules -------------------------------------------------------------------------------
def _city_rules(office, city: Region) -> dict[str, Rule]:
    out = {}
    for title, body, number, effective, text in CITY_RULES:
        out[title] = rules.create(office, city.id, {
            "title": title, "issuing_body": body, "doc_number": number,
            "effective_on": effective.isoformat(), "full_text": text})
    return out


def _county_rule(office, region: Region) -> Rule:
    return rules.create(office, region.id, {
        "title": f"{region.name}岗位廉政风险防控工作实施细则", "issuing_body": f"{region.name}纪委监委",
        "doc_number": f"{region.code}纪发〔2025〕1号", "effective_on": "2025-01-01",
        "full_text": "各单位应当每年对岗位廉政风险进行排查，风险点及防控措施经区（县）纪委监委审核后公示。"})


# -- one region --------------------------------------------------------------------------
def _departments(region: Region) -> list[Department]:
    return list(Department.select().where((Department.region == region.id)
                                          & (Department.is_supervision_office == False))
                .order_by(Department.sort, Department.id).limit(3))


def _fill(rng, user, register: Register, rule_list: list[Rule], size: int = 3) -> list[Point]:
    posts = list(Post.select().where(Post.department == register.department_id)
                 .order_by(Post.id))
    people = [p for (p,) in PostHolding.select(PostHolding.person).where(
        PostHolding.post.in_([p.id for p in posts])).tuples()]
    out = []
    for i, post in enumerate(posts[:size]):
        duty, kind, text, reminder = DUTIES[(register.department_id + i) % len(DUTIES)]
        point = reg.add_point(user, register, {
            "post": post.id, "duty": duty, "description": text, "risk_type": kind,
            "likelihood": rng.randint(2, 5), "impact": rng.randint(2, 5),
            "criteria": [1, 2] if i == 0 else "", "reminder_text": reminder,
            "leader": people[0] if people else "", "owner": people[min(i, len(people) - 1)]
            if people else "", "supervisor": people[-1] if people else ""})
        for k in range(1 + i % 2):
            measure = reg.add_measure(user, point, {
                "text": MEASURES[(i + k) % len(MEASURES)],
                "owner": people[min(i, len(people) - 1)] if people else "",
                "deadline_days": (10, 20, 60)[(i + k) % 3]})
            if k == 0 and rule_list:
                reg.set_measure_rules(user, measure, [rule_list[-1].id])
        cited = {rule_list[(i + j) % len(rule_list)].id for j in range(2)}
        if i == 0:  # the land-consolidation rule, repealed later: the point is flagged
            cited |= {r.id for r in rule_list if r.title == REPEALED}
        reg.set_point_rules(user, point, sorted(cited))
        out.append(point)
    return out


def _region(rng, n: int, region: Region, unit, office, rule_list: list[Rule]) -> None:
    depts = _departments(region)
    if len(depts) < 3:
        return
    in_force, submitted, returned = depts
    # a register in force: approved months ago, so measures and reviews run late
    register = reg.open_working_copy(unit, in_force)
    points = _fill(rng, unit, register, rule_list)
    reg.submit(unit, register, "本单位岗位廉政风险排查结果")
    approved_on = subtract_workdays(today(), 70 + n)
    reg.approve(office, register, "风险点排查全面，防控措施可行", on=approved_on)
    measures = list(Measure.select().join(Point).where(Point.register == register.id)
                    .order_by(Measure.id))
    reg.track_measure(unit, measures[0], "done", done_on=approved_on + dt.timedelta(days=5),
                      note="已落实")
    reg.track_measure(unit, measures[1], "in_progress", note="正在推进")
    reg.review_point(unit, Point.get_by_id(points[-1].id), "unchanged", "风险点仍然准确")
    # a register submitted for review, one returned with reasons
    second = reg.open_working_copy(unit, submitted)
    _fill(rng, unit, second, rule_list, size=2)
    reg.submit(unit, second, "请审核")
    third = reg.open_working_copy(unit, returned)
    _fill(rng, unit, third, rule_list, size=2)
    reg.submit(unit, third)
    reg.return_register(office, third, "风险点描述过于笼统，请结合岗位职责细化，并补充制度依据。")
    _site(office, region, in_force, points)
    _talks_and_notices(rng, office, region, in_force, points)


def _holder(post_id: int) -> int | None:
    row = (PostHolding.select(PostHolding.person).where(PostHolding.post == post_id)
           .order_by(PostHolding.id).first())
    return row.person_id if row else None


def _site(office, region: Region, dept: Department, points: list[Point]) -> None:
    lat = 30.657 + (region.id % 20) * 0.01
    lon = 104.066 + (region.id % 20) * 0.01
    site = reminders.save_site(office, {
        "department": dept.id, "code": f"TDZZ-{region.code}", "name": f"{region.name}土地整治项目",
        "address": f"{region.name}高标准农田建设片区", "latitude": f"{lat:.5f}",
        "longitude": f"{lon:.5f}", "radius_m": 500,
        "posts": sorted({p.post_id for p in points})})
    person = _holder(points[0].post_id)
    if person is not None:
        reminders.check_in(Person.get_by_id(person), f"{lat + 0.001:.5f}", f"{lon:.5f}",
                           source="demo", external_id=f"demo-{site.id}-in",
                           accuracy_m=15)
        reminders.check_in(Person.get_by_id(person), f"{lat + 0.2:.5f}", f"{lon:.5f}",
                           source="demo", external_id=f"demo-{site.id}-out", accuracy_m=30)


def _talks_and_notices(rng, office, region: Region, dept: Department,
                       points: list[Point]) -> None:
    post = points[0].post_id
    person = _holder(post)
    manual = warn.manual(office, {"target": "post", "post": post, "level": "yellow",
                                  "subject": "群众反映审批中存在吃拿卡要问题",
                                  "detail": "来信反映窗口审批人员要求申请人请客。"})
    signals.receive("esupervision", f"demo:{region.code}:1", post=Post.get_by_id(post),
                    code="STEP_OVERDUE", description="电子监察红色信号：审批环节超时",
                    occurred_at=utcnow() - dt.timedelta(days=3))
    if person is not None:
        kinds = list(TALK_KINDS)
        talks.record_talk(office, {
            "person": person, "post": post, "warning": manual.id, "kind": kinds[2],
            "held_on": subtract_workdays(today(), 12).isoformat(), "talker": "市纪委监委第一监督检查室",
            "content": "针对群众反映的问题进行诫勉谈话，要求深刻反思、立行立改。"})
        done = talks.record_talk(office, {
            "person": person, "post": post, "kind": kinds[region.id % 2],
            "held_on": subtract_workdays(today(), 3).isoformat(), "talker": "驻局纪检组组长",
            "content": "节前廉政提醒谈话，强调严守八项规定精神。"})
        talks.submit(office, done, {"self_analysis": "对照岗位风险点，查找出审批把关不严的问题。",
                                    "pledge": "严守纪律规矩，不收受任何好处。",
                                    "corrections": "落实一次性告知制度，主动接受监督。"})
    talks.issue_notice(office, {"kind": "prevention", "department": dept.id,
                                       "post": post, "matter": "审批环节自由裁量权过大，制约不足。"},
                              on=subtract_workdays(today(), 25))
    accepted = talks.issue_notice(office, {"kind": "disposal", "department": dept.id,
                                           "post": post, "person": person or "",
                                           "warning": manual.id,
                                           "matter": "违规接受管理服务对象宴请。"},
                                  on=subtract_workdays(today(), 8))
    accepted = talks.report(office, accepted, "已组织专题整改，退还宴请费用，相关人员作出书面检查。")
    if region.parent_id is None:
        talks.assess(office, accepted, False, "整改报告未附佐证材料，整改不到位。")
    else:
        talks.assess(office, accepted, True, "整改到位")
    talks.record_accountability(office, {
        "kind": ACCOUNTABILITY_KINDS[region.id % len(ACCOUNTABILITY_KINDS)],
        "person": person or "", "person_name": "" if person else "某干部", "post": post,
        "measure": ("诫勉", "警告处分", "政务记过")[region.id % 3],
        "basis": "违反中央八项规定精神，接受管理服务对象宴请。", "warning": manual.id,
        "decided_on": subtract_workdays(today(), 2).isoformat(),
        "decided_by": f"{region.name}纪委监委", "region": region.id})


def _holiday_reminders() -> None:
    """The reminders before the latest long holiday (节前廉政提醒)."""
    day = today()
    past = [h for h in holidays_between(day - dt.timedelta(days=200), day)
            if (h[2] - h[1]).days + 1 >= 3 and h[1] < day]
    if past:
        reminders.holiday_reminders(subtract_workdays(past[-1][1], 2))


def _warning_states(office) -> None:
    """In each region: one warning acknowledged, one handled, one escalated."""
    by_region: dict[int, list[RiskWarning]] = {}
    for w in RiskWarning.select().where(RiskWarning.state == "open").order_by(RiskWarning.id):
        by_region.setdefault(w.region_id, []).append(w)
    for items in by_region.values():
        if items:
            warn.acknowledge(office, items[0])
        if len(items) >= 2:
            warn.handle(office, items[1], "已约谈相关责任人，督促整改到位。")
        if len(items) >= 4 and items[3].level != config.level_codes()[-1]:
            warn.escalate(office, items[3], "逾期未整改")


# -- large -------------------------------------------------------------------------------
def _large_registers(rng, unit, office, city_rules: dict[str, Rule]) -> int:
    """An approved register for every unit without one, through the import service (in
    bulk): about 50,000 points in all."""
    taken = {d for (d,) in Register.select(Register.department).tuples()}
    free_posts = Post.select().where(Post.department.not_in(sorted(taken) or [0])).count()
    per_post = max(1, round((50_000 - Point.select().count()) / (free_posts or 1)))
    header = [key for key, _zh, _en in transfer.COLUMNS]
    numbers = [r.doc_number for r in city_rules.values() if r.title != REPEALED]
    count = 0
    for dept in Department.select().order_by(Department.id):
        if dept.id in taken:
            continue
        posts = list(Post.select(Post.id, Post.title).where(Post.department == dept.id))
        if not posts:
            continue
        rows = [header]
        for post in posts:
            for k in range(per_post):
                duty, kind, text, reminder = DUTIES[(post.id + k) % len(DUTIES)]
                rows.append(["", post.title, duty, "", text, kind, str(rng.randint(1, 5)),
                             str(rng.randint(1, 5)), "", "", reminder, "", "", "",
                             numbers[k % len(numbers)], MEASURES[k % len(MEASURES)], "",
                             str((10, 20, 60)[k % 3]), ""])
        if len({p.title for p in posts}) != len(posts):
            continue  # the import names posts by title
        register = reg.open_working_copy(unit, dept)
        result = transfer.import_rows(unit, register, rows)
        reg.submit(unit, register)
        reg.approve(office, register, on=subtract_workdays(today(), rng.randint(20, 400)))
        count += result.points
    return count


def _history(rng, regions: list[Region]) -> int:
    """Three years of handled warnings and sent reminders, in bulk (``insert_many``)."""
    posts = list(Post.select(Post.id, Post.department, Department.region).join(Department)
                 .tuples())
    if not posts:
        return 0
    levels = ("blue", "yellow", "red")
    sources = ("measure_overdue", "review_overdue", "manual", "signal",
               "rectification_overdue")
    now = utcnow()
    warnings, reminders_rows = [], []
    for i in range(60_000):
        post, dept, region = posts[i % len(posts)]
        raised = now - dt.timedelta(minutes=rng.randint(60 * 24 * 7, 60 * 24 * 365 * 3))
        source = sources[i % len(sources)]
        warnings.append({
            "region": region, "department": dept, "post": post, "target": "post",
            "level": levels[i % 3], "source": source, "source_ref": f"demo:{i}",
            "subject": "历史预警（演示数据）", "detail": "", "dedupe_key": None,
            "state": "handled", "raised_by": "system", "raised_at": raised,
            "acknowledged_by": OFFICE, "acknowledged_at": raised + dt.timedelta(hours=4),
            "handled_by": OFFICE, "handled_at": raised + dt.timedelta(days=2),
            "handling_note": "已处置（演示数据）"})
    for i in range(40_000):
        post, _dept, region = posts[i % len(posts)]
        day = today() - dt.timedelta(days=rng.randint(7, 365 * 3))
        kind = ("site_arrival", "holiday", "duty_start")[i % 3]
        reminders_rows.append({
            "kind": kind, "region": region, "post": post,
            "text": "严守廉洁纪律，不得随意变更规划设计、违规办理手续。",
            "reason": "历史提醒（演示数据）", "dedupe_key": f"demo-history:{i}", "day": day,
            "created_at": dt.datetime.combine(day, dt.time(9, 0))})
    with db.atomic():
        for i in range(0, len(warnings), 1000):
            RiskWarning.insert_many(warnings[i:i + 1000]).execute()
        for i in range(0, len(reminders_rows), 1000):
            Reminder.insert_many(reminders_rows[i:i + 1000]).execute()
        record("risk.demo.history", object_type="risk_warning",
               summary=f"demo history: {len(warnings)} warnings, {len(reminders_rows)} "
                       "reminders", changes={"warnings": len(warnings),
                                             "reminders": len(reminders_rows)})
    return len(warnings) + len(reminders_rows)


__all__ = ["OFFICE", "UNIT", "seed"]
