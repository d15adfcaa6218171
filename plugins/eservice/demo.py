"""Demo data of the service hall: every department's power catalogue (a few hundred items in
``small``, about 7,500 in ``large``), two window clerks, and three months of cases in every
state, some late, some badly rated. Idempotent: a second run adds nothing."""
from __future__ import annotations

import datetime as dt
import random

from core.api import (
    Department,
    Post,
    PostHolding,
    Region,
    User,
    add_workdays,
    db,
    demo_user,
    id_check_char,
    is_workday,
    person_name,
    today,
    utcnow,
)
from plugins.eservice import cases, importer
from plugins.eservice.models import Case, HallContact, Item, ItemStep
from plugins.eservice.rating import rate_case

SUBJECTS = {
    "JY": ["民办学校", "校外培训机构", "教师资格", "中外合作办学", "幼儿园"],
    "GA": ["户口迁移", "居民身份证", "机动车登记", "大型群众性活动", "旅馆业特种行业",
           "保安服务公司", "剧毒化学品购买"],
    "MZ": ["社会团体", "民办非企业单位", "养老机构", "殡葬设施", "婚姻登记", "最低生活保障"],
    "RS": ["人力资源服务", "劳务派遣经营", "职业技能等级", "失业保险金", "工伤认定",
           "特殊工时制度"],
    "GH": ["建设用地规划", "建设工程规划", "乡村建设规划", "采矿权", "不动产登记", "测绘资质"],
    "HB": ["排污许可", "建设项目环境影响评价", "危险废物经营", "辐射安全", "噪声排放"],
    "JS": ["建筑工程施工", "房地产开发企业资质", "商品房预售", "燃气经营", "建筑业企业资质",
           "城市建筑垃圾处置"],
    "JT": ["道路运输经营", "出租汽车经营", "公路超限运输", "驾驶员培训", "港口经营",
           "占用挖掘公路"],
    "SW": ["取水", "河道管理范围内建设项目", "生产建设项目水土保持方案", "城市排水",
           "洪水影响评价"],
    "NY": ["农药经营", "兽药经营", "种子生产经营", "动物防疫条件", "渔业捕捞", "拖拉机登记"],
    "WJ": ["医疗机构执业", "医师执业注册", "护士执业注册", "公共场所卫生", "母婴保健技术服务",
           "放射诊疗"],
    "SC": ["食品经营", "食品生产", "药品零售", "特种设备使用登记", "计量器具型式批准",
           "工业产品生产"],
    "WL": ["娱乐场所经营", "营业性演出", "旅行社设立", "出版物零售", "文物保护单位修缮",
           "网吧经营"],
    "YB": ["医疗保障定点", "异地就医备案", "医疗费用零星报销", "生育保险待遇",
           "门诊慢特病认定"],
    "YJ": ["危险化学品经营", "烟花爆竹经营", "非煤矿山安全生产", "生产安全事故应急预案"],
    "LY": ["林木采伐", "林草种子生产经营", "使用林地", "野生动物驯养繁殖", "古树名木迁移"],
    "CG": ["户外广告设施设置", "城市道路挖掘", "临时占用城市道路", "城市绿地占用",
           "生活垃圾经营性清扫"],
    "XZ": ["公众聚集场所投入使用", "建设工程消防设计审查", "消防验收", "大型焰火燃放"],
    "GJ": ["住房公积金提取", "住房公积金贷款", "住房公积金缴存登记"],
    "TY": ["退役军人优待证", "伤残抚恤", "退役士兵安置"],
    "CZ": ["会计代理记账", "政府采购投诉", "行政事业性收费票据"],
    "RF": ["人防工程建设", "防空地下室易地建设", "人防工程拆除"],
}
GENERIC = ["年度报告", "信息变更", "资格认定", "专项资金", "备案登记", "统计调查",
           "档案查阅", "证明开具", "表彰奖励", "技术服务"]
PATTERNS = {
    "XK": ["{s}许可", "{s}审批"], "CF": ["对违反{s}管理规定行为的处罚"],
    "QZ": ["对违法{s}的查封、扣押"], "ZS": ["{s}相关费用征收"], "GF": ["{s}补助发放"],
    "JC": ["{s}监督检查"], "QR": ["{s}确认"], "JL": ["{s}先进集体和个人表彰"],
    "CJ": ["{s}权属争议裁决"], "QT": ["{s}备案"], "GG": ["{s}咨询服务", "{s}信息查询"],
}
BUSINESS = ["（新设）", "（变更）", "（延续）", "（注销）", "（补办）", "（首次申请）"]
TYPE_WEIGHTS = [("XK", 30), ("QR", 12), ("GG", 15), ("QT", 10), ("GF", 8), ("CF", 8),
                ("JC", 6), ("QZ", 3), ("ZS", 3), ("JL", 3), ("CJ", 2)]
STEPS = [("review", "审查", "审查员"), ("approve", "审核", "审批科科长"),
         ("decide", "决定", "局长")]
MATERIALS = ["申请表", "申请人身份证明", "营业执照复印件", "场所使用证明", "法定代表人授权委托书",
             "相关资质证明", "现场照片"]
BAD_COMMENTS = ["窗口人员态度冷淡", "来回跑了三次", "材料要求没有一次说清", "超过承诺时限"]


def _items_per_department(size: str, level: str) -> int:
    if size == "large":
        return 60 if level == "city" else 14
    return 4 if level == "city" else 1


def _spec(rng: random.Random, dept: Department, n: int, start: dt.date) -> dict:
    type_code = rng.choices([t for t, _w in TYPE_WEIGHTS], [w for _t, w in TYPE_WEIGHTS])[0]
    subjects = SUBJECTS.get(dept.code, GENERIC)
    subject = subjects[n % len(subjects)]
    name = rng.choice(PATTERNS[type_code]).format(s=subject)
    if n >= len(subjects):
        name += BUSINESS[(n // len(subjects) - 1) % len(BUSINESS)]
    if n >= len(subjects) * (len(BUSINESS) + 1):
        name += f"·{n}"
    statutory = rng.choice([5, 10, 15, 20, 20, 30, 60])
    committed = max(1, min(statutory, rng.choice([1, 2, 3, 5, 5, 7, 10])))
    step_count = 1 if committed < 3 else (2 if committed < 7 else 3)
    limits = [max(1, committed // step_count)] * step_count
    limits[-1] += committed - sum(limits)
    steps = [{"code": STEPS[i][0], "name": STEPS[i][1], "limit_days": max(1, limits[i]),
              "post_title": STEPS[i][2]} for i in range(step_count)]
    fee = rng.random() < 0.12
    mats = rng.sample(MATERIALS, rng.randint(2, 5))
    return {
        "code": "", "name": name, "type": type_code, "department": dept,
        "level": "city" if dept.region.level == "city" else "county",
        "statutory_days": statutory, "committed_days": committed,
        "fee_amount": f"{rng.choice([10, 20, 50, 100])}.00" if fee else "0",
        "fee_basis": "国家发展改革委、财政部收费标准" if fee else "",
        "conditions": f"申请人符合{subject}管理的有关规定，材料齐全、符合法定形式。",
        "visits": rng.choice([0, 0, 1, 1, 1, 2]),
        "consult_phone": "028-12345", "complaint_phone": "028-12345",
        "effective_from": start,
        "bases": [{"title": f"《{subject}管理条例》第{rng.randint(5, 40)}条",
                   "article": f"从事{subject}相关活动，应当依法向有关主管部门提出申请。"}],
        "materials": [{"name": m, "original": i == 0, "copies": 1, "required": i < 3}
                      for i, m in enumerate(mats)],
        "steps": steps,
        "specials": [{"kind": "publicity", "name": "公示", "limit_days": 5}]
        if rng.random() < 0.2 else [],
    }


def seed_catalogue(size: str, rng: random.Random) -> int:
    """Catalogues of the city's departments and every county's (skips existing items)."""
    if Item.select().exists():
        return 0
    start = dt.date(2025, 1, 1)
    specs = []
    for dept in (Department.select(Department, Region).join(Region)
                 .where(Department.is_supervision_office == False)
                 .order_by(Region.sort, Department.sort)):
        for n in range(_items_per_department(size, dept.region.level)):
            specs.append(_spec(rng, dept, n, start))
    importer.import_specs(specs)
    return len(specs)


def _clerk(username: str, region: Region) -> User:
    user = demo_user(username, region, role="clerk")
    window = (Post.select().join(Department)
              .where((Department.region == region.id) & (Department.code == "ZF")
                     & (Post.title == "窗口受理员")).first())
    if window is not None and user.person_id and not PostHolding.select().where(
            (PostHolding.person == user.person_id) & (PostHolding.post == window.id)).exists():
        PostHolding.create(person=user.person_id, post=window, start=dt.date(2024, 1, 1))
    return user


STEP_ACCOUNTS = {"审查员": "reviewer", "审批科科长": "chief", "局长": "director"}


class _Holders:
    """The account of the person holding a step's post in a department, made on first
    use: demo steps are completed by holders of their posts, as the rule requires. The
    accounts share the window clerk's demo password hash (one hash, not hundreds)."""

    def __init__(self, template: User):
        self.template = template
        self.cache: dict[tuple[int, str], User | None] = {}

    def __call__(self, item: Item, step) -> User | None:
        key = (item.department_id, step.post_title)
        if key not in self.cache:
            self.cache[key] = self._make(item, step.post_title)
        return self.cache[key]

    def _make(self, item: Item, title: str) -> User | None:
        holding = (PostHolding.select().join(Post)
                   .where((Post.department == item.department_id) & (Post.title == title)
                          & PostHolding.end.is_null(True))
                   .order_by(PostHolding.id).first())
        if holding is None:
            return None
        user = User.get_or_none(User.person == holding.person_id)
        if user is None:
            dept = Department.get_by_id(item.department_id)
            username = f"{STEP_ACCOUNTS.get(title, 'step')}_{item.region.code}_{dept.code}"
            user = User.create(username=username, password_hash=self.template.password_hash,
                               person=holding.person_id, must_change_password=False,
                               is_demo=True, password_changed_at=utcnow())
        return demo_user(user.username, item.region, role="clerk")


def _demo_id(rng: random.Random, region_code: str) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 15000))
    body = f"{region_code}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + id_check_char(body)


def _workday_after(day: dt.date, n: int) -> dt.date:
    return add_workdays(day, n)


def seed_cases(size: str, rng: random.Random, count: int | None = None) -> int:
    """Three months of cases in every state; some late, some rated badly."""
    if Case.select().exists():
        return 0
    city = Region.get_or_none(Region.code == "510100")
    jinjiang = Region.get_or_none(Region.code == "510104")
    if city is None or jinjiang is None:
        return 0
    # a window clerk in the city and in every district and county, so cases (and the
    # monitoring screen's tiles) cover the whole city
    clerks = {city.id: _clerk("demo_clerk", city), jinjiang.id: _clerk("clerk_jinjiang",
                                                                        jinjiang)}
    for county in Region.select().where((Region.parent == city.id)
                                        & (Region.id != jinjiang.id)):
        clerks[county.id] = _clerk(f"clerk_{county.code}", county)
    demo_user("demo_eservice_manager", city, role="eservice_manager")
    items = list(Item.select().where((Item.status == "active")
                                     & Item.region.in_(list(clerks))))
    if not items:
        return 0
    until = today()
    first = until - dt.timedelta(days=91)
    count = count or (240 if size == "small" else 800)
    made = 0
    holders = _Holders(clerks[city.id])
    for _n in range(count):
        item = rng.choice(items)
        clerk = clerks[item.region_id]
        filed = first + dt.timedelta(days=rng.randint(0, 90))
        if not is_workday(filed):
            filed = _workday_after(filed, 0)
        if filed > until:
            continue
        with db.atomic():
            _walk(rng, item, clerk, filed, until, holders)
        made += 1
    return made


def _walk(rng: random.Random, item: Item, clerk: User, filed: dt.date,
          today: dt.date, holders=None) -> Case:
    """File one case and move it as far as its (random) fate and today allow; each step
    is completed by a holder of its post (``holders``), the rest by the window clerk."""
    mats = list(item.materials)
    complete = rng.random() > 0.1
    received = [m.id for m in mats if m.required or rng.random() < 0.5] if complete else \
        [m.id for m in mats if not m.required]
    case = cases.file_case(item, applicant_name=person_name(rng),
                           id_number=_demo_id(rng, item.region.code),
                           phone=f"13{rng.randint(0, 999999999):09d}",
                           channel=rng.choice(["window", "window", "online"]),
                           received=received, user=clerk, on=filed)
    if rng.random() < 0.04:
        return case  # still waiting at the window
    day = filed

    def step(action: str, advance: int = 0, by: User | None = None, **kw) -> bool:
        nonlocal case, day
        nxt = _workday_after(day, advance) if advance else day
        if nxt > today:
            return False
        day = nxt
        case = cases.transition(case, action, user=by or clerk, on=day, **kw)
        return True

    def holder(s) -> User | None:
        return holders(item, s) if holders is not None and s.post_title else None

    if not complete:
        missing = [m.name for m in mats if m.required and m.id not in received]
        step("request_supplement", missing=missing, reason="材料不全，一次性告知")
        if rng.random() < 0.2 or not step("receive_supplement", rng.randint(1, 4)):
            return case
    if rng.random() < 0.05:
        step("not_accept", reason="申请事项不属于本机关职权范围",
             legal_basis="《中华人民共和国行政许可法》第三十二条",
             rights_notice="如不服本决定，可在六十日内申请行政复议或六个月内提起行政诉讼。")
        if rng.random() < 0.7:
            step("close", 1)
        return case
    if not step("accept") or not step("start_review"):
        return case
    late = rng.random() < 0.12
    budget = item.committed_days + (rng.randint(1, 6) if late else -rng.randint(0, max(
        0, item.committed_days - 1)))
    if rng.random() < 0.08:
        if not step("suspend", 1, procedure=rng.choice(["hearing", "inspection",
                                                          "expert_review", "publicity"]),
                    reason="依法需要特别程序", expected_days=rng.randint(3, 10)):
            return case
        if not step("resume", rng.randint(2, 8)):
            return case
    steps = list(item.steps.order_by(ItemStep.seq))
    per_step = max(0, budget // max(1, len(steps)))
    for done in steps[:-1]:
        if not step("advance", per_step, by=holder(done)):
            return case
    denied = rng.random() < 0.08
    if not step("decide", max(1, budget - per_step * (len(steps) - 1)),
                by=holder(steps[-1]) if steps else None,
                decision="denied" if denied else "approved",
                reason="申请材料不符合法定条件" if denied else "",
                legal_basis="《中华人民共和国行政许可法》第三十八条" if denied else ""):
        return case
    if case.fee_due and rng.random() < 0.9:
        step("charge_fee", amount=str(case.fee_due))
    if not step("deliver", 1) or not step("close", rng.randint(0, 2)):
        return case
    if rng.random() < 0.7:
        rating = rng.choices([5, 4, 3, 2, 1], [60, 20, 10, 6, 4])[0]
        rated = _workday_after(day, rng.randint(0, 3))
        rate_case(case, rating, rng.choice(BAD_COMMENTS) if rating <= 2 else "",
                  on=min(rated, today))
    return case


def seed_contacts() -> None:
    """The city's hall address and contact, and 锦江区's own (the receipt names them)."""
    for code, address, phone in (("510100", "成都市天府大道北段1700号新世纪环球中心政务服务大厅",
                                  "028-61881234"),
                                 ("510104", "锦江区政务服务中心（东大街下东大街段100号）",
                                  "028-86661234")):
        region = Region.get_or_none(Region.code == code)
        if region is not None and not HallContact.select().where(
                HallContact.region == region.id).exists():
            HallContact.create(region=region, address=address, phone=phone,
                               hours="工作日 9:00–12:00，13:00–17:00")


def seed(size: str) -> None:
    """Entry point of ``ql_demo_data``."""
    rng = random.Random(f"eservice-{size}")
    seed_catalogue(size, rng)
    seed_cases(size, rng)
    seed_contacts()
