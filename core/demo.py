"""Demo deployment: Chengdu (成都市) with its 20 districts and counties, the city's 49
departments, county departments, posts, people, and an account per built-in role.

Idempotent: a second run adds nothing that exists. Demo accounts are flagged, and every
page of a deployment that has them says so.
"""
from __future__ import annotations

import datetime as dt
import random

from flask import current_app, has_app_context

from core.auth.models import Grant, Role, User
from core.auth.passwords import hash_password
from core.auth.roles import sync_builtin_roles
from core.db import db, utcnow
from core.org.models import Department, Person, Post, PostHolding, Region

DEMO_PASSWORD = "Demo#2026qinglian"
# Fixed second-factor secrets so a demo administrator can log in (`demo totp NAME`).
DEMO_TOTP = {"sysadmin": "SYSADMINDEMOQINGLIANSECRETKEY234",
             "secadmin": "SECADMINDEMOQINGLIANSECRETKEY234",
             "auditadmin": "AUDITADMDEMOQINGLIANSECRETKEY234"}

CITY = ("510100", "成都市", "city")
COUNTIES = [
    ("510104", "锦江区", "district"), ("510105", "青羊区", "district"),
    ("510106", "金牛区", "district"), ("510107", "武侯区", "district"),
    ("510108", "成华区", "district"), ("510112", "龙泉驿区", "district"),
    ("510113", "青白江区", "district"), ("510114", "新都区", "district"),
    ("510115", "温江区", "district"), ("510116", "双流区", "district"),
    ("510117", "郫都区", "district"), ("510118", "新津区", "district"),
    ("510121", "金堂县", "county"), ("510129", "大邑县", "county"),
    ("510131", "蒲江县", "county"), ("510181", "都江堰市", "county_city"),
    ("510182", "彭州市", "county_city"), ("510183", "邛崃市", "county_city"),
    ("510184", "崇州市", "county_city"), ("510185", "简阳市", "county_city"),
]

# The city's 49 departments: (code, name). "JW" is the supervision office.
CITY_DEPARTMENTS = [
    ("JW", "市纪委监委"), ("FG", "市发展和改革委员会"), ("JY", "市教育局"),
    ("KJ", "市科学技术局"), ("JX", "市经济和信息化局"), ("GA", "市公安局"),
    ("MZ", "市民政局"), ("SF", "市司法局"), ("CZ", "市财政局"),
    ("RS", "市人力资源和社会保障局"), ("GH", "市规划和自然资源局"), ("HB", "市生态环境局"),
    ("JS", "市住房和城乡建设局"), ("CG", "市城市管理委员会"), ("JT", "市交通运输局"),
    ("SW", "市水务局"), ("NY", "市农业农村局"), ("SS", "市商务局"),
    ("WL", "市文化广电旅游局"), ("WJ", "市卫生健康委员会"), ("TY", "市退役军人事务局"),
    ("YJ", "市应急管理局"), ("SJ", "市审计局"), ("GZ", "市国有资产监督管理委员会"),
    ("SC", "市市场监督管理局"), ("TI", "市体育局"), ("TJ", "市统计局"),
    ("YB", "市医疗保障局"), ("LY", "市林业和园林管理局"), ("KA", "市口岸与物流办公室"),
    ("TC", "市投资促进局"), ("ZF", "市政务服务管理和网络理政办公室"), ("GY", "市公园城市建设管理局"),
    ("JG", "市机关事务管理局"), ("XF", "市信访局"), ("JR", "市地方金融监督管理局"),
    ("XJ", "市新经济发展委员会"), ("GJ", "市住房公积金管理中心"), ("QX", "市气象局"),
    ("XZ", "市消防救援支队"), ("RF", "市人民防空办公室"), ("MW", "市民族宗教事务委员会"),
    ("WS", "市外事办公室"), ("DA", "市档案局"), ("LS", "市粮食和物资储备局"),
    ("YC", "市烟草专卖局"), ("YZ", "市邮政管理局"), ("CL", "市残疾人联合会"),
    ("GG", "市公共资源交易服务中心"),
]
# County governments run a smaller set of the same departments.
COUNTY_DEPARTMENT_CODES = ["JW", "FG", "JY", "GA", "MZ", "CZ", "RS", "GH", "HB", "JS", "JT",
                           "NY", "SS", "WJ", "SC", "YB", "ZF", "XF"]

POSTS = [("局长", 3, True), ("副局长", 3, False), ("审批科科长", 3, False),
         ("窗口受理员", 2, False), ("审查员", 2, False), ("综合科科员", 1, False)]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉健俊帆宇浩然欣怡梓涵子轩雨泽思远建国志强海燕红梅晓东文博嘉怡诗琪"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def demo_user(username: str, region: Region, role: str | None = None) -> User:
    """A flagged demo account (password :data:`DEMO_PASSWORD`, no forced change), created
    if missing, holding ``role`` in ``region`` when a role is given. For plugins' demo
    data: idempotent, like every seed."""
    user = User.get_or_none(User.username == username)
    if user is None:
        from core.auth.service import create_user
        return create_user(username, DEMO_PASSWORD, role=role, region_code=region.code,
                           must_change=False, is_demo=True)
    if role is not None and not Grant.select().join(Role).where(
            (Grant.user == user.id) & (Role.code == role)).exists():
        Grant.create(user=user, role=Role.get(Role.code == role), region=region,
                     granted_by="demo")
    return user


def seed(host, size: str = "small", plugins: bool = True) -> list[str]:
    """Seed the organisation and demo accounts, then (unless ``plugins`` is False) each
    enabled plugin's demo data."""
    from core import calendar
    calendar.ensure()
    sync_builtin_roles(host)
    rng = random.Random(20261128)
    out = []
    with db.atomic():
        city = _region(*CITY, parent=None, sort=0)
        regions = [city] + [_region(c, n, lvl, parent=city, sort=i + 1)
                            for i, (c, n, lvl) in enumerate(COUNTIES)]
        out.append(f"regions: {Region.select().count()}")
        names = dict(CITY_DEPARTMENTS)
        for region in regions:
            codes = [c for c, _n in CITY_DEPARTMENTS] if region.level == "city" \
                else COUNTY_DEPARTMENT_CODES
            for i, code in enumerate(codes):
                name = names[code] if region.level == "city" \
                    else region.name + names[code].removeprefix("市")
                _department(region, code, name, i, rng, size)
        out.append(f"departments: {Department.select().count()}, posts: "
                   f"{Post.select().count()}, people: {Person.select().count()}")
        accounts = _accounts(city, regions)
        out.append(f"demo accounts: {accounts} (password {DEMO_PASSWORD})")
    if has_app_context():  # the demo banner shows at once in this process
        current_app.extensions.pop("qinglian.demo_mode", None)
    import time
    seeders = [i.plugin_name for i in host.pm.hook.ql_demo_data.get_hookimpls()]
    for name in reversed(seeders if plugins else []):  # pluggy's calling order
        started = time.perf_counter()
        host.call_one(name, "ql_demo_data", size=size)
        out.append(f"demo data of {name}: {time.perf_counter() - started:.1f} s")
    return out


def _region(code, name, level, parent, sort) -> Region:
    region = Region.get_or_none(Region.code == code)
    if region is None:
        region = Region.create(code=code, name=name, level=level, parent=parent, sort=sort)
    return region


def _department(region, code, name, sort, rng, size) -> Department:
    dept = Department.get_or_none((Department.region == region) & (Department.code == code))
    if dept is not None:
        return dept
    dept = Department.create(region=region, code=code, name=name, sort=sort,
                             short_name=name.removeprefix(region.name).removeprefix("市")[:32],
                             is_supervision_office=(code == "JW"))
    posts = POSTS if code != "JW" else [("主任", 3, True), ("电子监察员", 2, False),
                                        ("纪检监察员", 2, False)]
    per_post = 1 if size == "small" else 40
    start = dt.date(2024, 1, 1)
    holdings = []
    for title, risk, head in posts:
        if code == "JW" or head:
            title_full = title
        else:
            title_full = title.replace("局", "") if "局" in title else title
        post = Post.create(department=dept, title=title_full, risk_level=risk, is_head=head)
        n = 1 if head else per_post
        people = [{"name": person_name(rng), "region": region.id,
                   "phone": f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}",
                   "email": "", "created_at": utcnow()} for _ in range(n)]
        ids = _insert_returning(Person, people)
        holdings.extend({"person": pid, "post": post.id, "start": start, "end": None}
                        for pid in ids)
    for i in range(0, len(holdings), 500):
        PostHolding.insert_many(holdings[i:i + 500]).execute()
    return dept


def _insert_returning(model, rows) -> list[int]:
    """Bulk insert, returning the new ids (SQLite ≥ 3.35 and PostgreSQL support RETURNING)."""
    ids: list[int] = []
    for i in range(0, len(rows), 500):
        cursor = model.insert_many(rows[i:i + 500]).returning(model.id).execute()
        ids.extend(row.id if hasattr(row, "id") else row[0] for row in cursor)
    return ids


def _accounts(city, regions) -> int:
    """One account per built-in role; a county staff account to show scoping."""
    jinjiang = next(r for r in regions if r.code == "510104")
    plan = [("sysadmin", "sys_admin", city), ("secadmin", "security_admin", city),
            ("auditadmin", "audit_admin", city), ("supervisor", "supervisor", city),
            ("staff", "staff", jinjiang)]
    for role in Role.select().where(Role.builtin == True).order_by(Role.code):
        if role.code not in {p[1] for p in plan}:
            plan.append((f"demo_{role.code}", role.code, city))
    made = 0
    pw_hash = hash_password(DEMO_PASSWORD)
    for username, role_code, region in plan:
        user = User.get_or_none(User.username == username)
        if user is None:
            person = Person.create(name=username, region=region)
            user = User.create(username=username, password_hash=pw_hash, person=person,
                               must_change_password=False, is_demo=True,
                               totp_secret=DEMO_TOTP.get(username, ""),
                               password_changed_at=utcnow())
            made += 1
        role = Role.get(Role.code == role_code)
        Grant.get_or_create(user=user, role=role, region=region,
                            defaults={"granted_by": "demo"})
    return made
