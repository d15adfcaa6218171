"""The public page (公示): a unit's register in force with its posts, points and measures,
without personal data; working copies (draft, submitted, returned) invisible; the rules
library with repealed rules flagged; cacheable; linked from the portal; absent where the
plugin is switched off for the region; in Chinese with English available."""
from __future__ import annotations

import datetime as dt

from core.models import PluginSwitch
from plugins.risk import register as reg
from plugins.risk import rules
from tests.plugins.risk.conftest import point_data


def _lang(client, lang):
    with client.session_transaction() as s:
        s["locale"] = lang


def test_register_in_force_without_personal_data(app, unit, approved):
    copy = reg.open_working_copy(unit["clerk"], unit["dept"])  # the next version, a draft
    reg.add_point(unit["clerk"], copy, point_data(unit["head"], description="草稿中的风险点X"))
    point = reg.points_of(approved)[0]
    reg.Point.update(owner=unit["official_person"].id, leader=unit["official_person"].id) \
        .where(reg.Point.id == point.id).execute()
    client = app.test_client()
    html = client.get("/public/risk/").get_data(as_text=True)
    assert unit["dept"].name in html
    resp = client.get(f"/public/risk/departments/{unit['dept'].id}")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in resp.headers
    page = resp.get_data(as_text=True)
    assert "土地整治项目负责人" in page and "规划设计变更须集体研究并报批" in page
    assert "随意改变规划设计" in page
    assert "黄耘成" not in page and "13800000001" not in page  # the holder and owner
    assert "草稿中的风险点X" not in page  # the draft of the next version


def test_working_copies_are_not_shown(app, unit, org, make_user):
    other = org["dept_b"]
    clerk = make_user("clerk_b", role="staff", region=org["b"])
    sup = make_user("sup_b", role="supervisor", region=org["b"])
    copy = reg.open_working_copy(clerk, other)
    p = reg.add_point(clerk, copy, point_data(org["head_b"], description="退回的风险点Y"))
    reg.add_measure(clerk, p, {"text": "措施", "deadline_days": 5})
    reg.submit(clerk, copy)
    client = app.test_client()
    assert client.get(f"/public/risk/departments/{other.id}").status_code == 404
    reg.return_register(sup, copy, "请细化")
    assert client.get(f"/public/risk/departments/{other.id}").status_code == 404
    html = client.get("/public/risk/").get_data(as_text=True)
    assert other.name not in html and "退回的风险点Y" not in html
    draft = reg.open_working_copy(unit["clerk"], unit["dept"])
    assert draft.state == "draft"
    assert client.get(f"/public/risk/departments/{unit['dept'].id}").status_code == 404


def test_rules_library_flags_repealed(app, unit, org, make_user):
    sup = make_user("city_sup", role="supervisor", region=org["city"])
    keep = rules.create(sup, org["city"].id, {"title": "政府采购廉政规定", "doc_number": "成纪〔2024〕1号",
                                              "effective_on": "2024-01-01", "full_text": "分岗设置"})
    old = rules.create(sup, org["city"].id, {"title": "旧的土地整治规定", "effective_on": "2019-01-01"})
    rules.repeal(sup, old, repealed_on=dt.date(2026, 1, 5))
    client = app.test_client()
    _lang(client, "zh_CN")
    html = client.get("/public/risk/rules").get_data(as_text=True)
    assert "政府采购廉政规定" in html and "旧的土地整治规定" in html and "已废止" in html
    only = client.get("/public/risk/rules?status=repealed").get_data(as_text=True)
    assert "旧的土地整治规定" in only and "政府采购廉政规定" not in only
    assert "分岗设置" in client.get(f"/public/risk/rules/{keep.id}").get_data(as_text=True)
    county = client.get(f"/public/risk/rules?region={org['a'].code}")
    assert county.status_code == 200 and "政府采购廉政规定" in county.get_data(as_text=True)
    assert client.get("/public/risk/rules?region=nosuch").status_code == 404


def test_switched_off_for_a_county(app, unit, approved, org, make_user):
    sup = make_user("a_sup", role="supervisor", region=org["a"])
    rule = rules.create(sup, org["a"].id, {"title": "锦江区细则", "effective_on": "2025-01-01"})
    PluginSwitch.create(plugin="risk", region=org["a"], switched_by="test")
    client = app.test_client()
    assert client.get(f"/public/risk/departments/{unit['dept'].id}").status_code == 404
    assert client.get(f"/public/risk/rules/{rule.id}").status_code == 404
    assert client.get(f"/public/risk/?region={org['a'].code}").status_code == 404
    html = client.get("/public/risk/").get_data(as_text=True)
    assert unit["dept"].name not in html and org["a"].name not in html
    assert "锦江区细则" not in client.get("/public/risk/rules").get_data(as_text=True)


def test_portal_link_and_languages(app, unit, approved):
    client = app.test_client()
    _lang(client, "zh_CN")
    portal = client.get("/public/").get_data(as_text=True)
    assert "/public/risk/" in portal and "廉政风险公示" in portal
    assert "廉政风险公示" in client.get("/public/risk/").get_data(as_text=True)
    _lang(client, "en")
    html = client.get(f"/public/risk/departments/{unit['dept'].id}").get_data(as_text=True)
    assert "Prevention measures" in html and "Risk register version" in html
