"""The quarterly report-back (回告) of the supervision and investigation offices to the
petitions office: a clock per region, office and quarter (holidays counted by the core
calendar) with its alerts, the quarter's figures kept as filed, the level check (a county's
office never files for the city), bad input answered 422 naming the field with nothing
written, and the page showing who has and has not reported."""
from __future__ import annotations

import datetime as dt
import re

import pytest

Q3 = "2026-Q3"
AFTER = dt.date(2026, 10, 8)   # first working day after the National Day holidays
LATE = dt.date(2026, 11, 2)


@pytest.fixture
def day(monkeypatch, on_day):
    """Fix "today" of the services and of the report-back."""
    import plugins.cases.report_back

    def fix(value):
        on_day(value)
        monkeypatch.setattr(plugins.cases.report_back, "today", lambda: value)
    return fix


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _snapshot():
    from core.audit.models import AuditEvent
    from plugins.cases.models import Clock, ReportBack
    return (ReportBack.select().count(), AuditEvent.select().count(),
            [(c.ref, c.done_on) for c in Clock.select().where(Clock.kind == "report")])


def test_clocks_start_per_region_and_office_after_the_quarter(app, world, day):
    """The sweep starts one clock per region and office for the quarter just ended, due
    10 working days after it (the National Day holidays 1–7 October do not count, the
    adjusted working Saturday 10 October does), once;
    past the due day it is red and alerted to the region's supervision office."""
    from core.alerts.models import Alert
    from core.api import add_workdays
    from plugins.cases import report_back
    from plugins.cases.clocks import sweep
    from plugins.cases.models import Clock
    from plugins.cases.tasks import run_sweep
    day(AFTER)
    assert report_back.previous_quarter(AFTER).code == Q3
    started = report_back.ensure_clocks(AFTER)
    regions = 3  # the city and counties A and B
    assert started == regions * 2
    assert report_back.ensure_clocks(AFTER) == 0
    clock = Clock.get((Clock.kind == "report") & (Clock.ref == f"510104 {Q3} supervision"))
    assert clock.started_on == dt.date(2026, 10, 1)
    assert clock.due_on == add_workdays(dt.date(2026, 9, 30), 10)
    assert clock.due_on == dt.date(2026, 10, 20)  # 8, 9, 10 (调休), 12–16, 19, 20 October
    assert sweep(AFTER)["red"] == 0
    assert sweep(LATE)["red"] == regions * 2
    red = Alert.select().where((Alert.kind == "cases.clock.red")
                               & (Alert.ref == f"cases.clock:{clock.id}")).get()
    assert f"510104 {Q3} supervision" in red.subject
    day(LATE)
    assert run_sweep()["report_back_started"] == 0


def _q3_work(world):
    """County A in Q3: two items accepted, one taken up and decided (verify), its case
    opened; an item accepted in Q2 still waiting."""
    from plugins.cases import intake, leads
    from plugins.cases.models import Case, Item, Lead
    first = world.lead(received_on=dt.date(2026, 7, 1))
    Item.update(routed_on=dt.date(2026, 7, 2)).where(Item.id == first.item_id).execute()
    leads.propose(world.supervision, first, "verify", "可查", "第1次专题会")
    case = leads.decide(world.leader, first, True)
    second = world.report(received_on=dt.date(2026, 8, 3), category="work")
    intake.route(world.petition, second, "accept")
    Item.update(routed_on=dt.date(2026, 8, 4)).where(Item.id == second.id).execute()
    old = world.report(received_on=dt.date(2026, 6, 1), category="life")
    intake.route(world.petition, old, "accept")
    Item.update(routed_on=dt.date(2026, 6, 2)).where(Item.id == old.id).execute()
    moment = dt.datetime(2026, 8, 10, 2, 0)
    Lead.update(decided_at=moment, created_at=moment).where(Lead.id == first.id).execute()
    Case.update(opened_at=moment).where(Case.id == case.id).execute()
    return case


def test_filing_keeps_the_figures_stops_the_clock_and_is_audited(app, world, day, make_user):
    from core.audit.models import AuditEvent
    from plugins.cases import report_back
    from plugins.cases.models import Clock, ReportBack
    _q3_work(world)
    day(AFTER)
    report_back.ensure_clocks(AFTER)
    day(dt.date(2026, 10, 20))
    row = report_back.file(world.supervision, world.a, "supervision", Q3,
                           "两件均已办理，一件转初步核实。")
    assert (row.received, row.disposed, row.pending) == (2, 1, 2)
    assert row.due_on == dt.date(2026, 10, 20) and row.filed_on == dt.date(2026, 10, 20)
    clock = Clock.get((Clock.kind == "report") & (Clock.ref == f"510104 {Q3} supervision"))
    assert clock.done_on == dt.date(2026, 10, 20)
    event = AuditEvent.get(AuditEvent.action == "cases.report_back.file")
    assert event.object_id == str(row.id) or event.object_id == row.id
    assert "on time" in event.summary
    investigator = world.investigator
    day(LATE)
    late = report_back.file(investigator, world.a, "investigation", Q3, "初核一件，在办。")
    assert (late.received, late.disposed, late.pending) == (1, 0, 1)
    assert "late" in AuditEvent.select().where(
        AuditEvent.action == "cases.report_back.file").order_by(AuditEvent.id.desc())\
        .get().summary
    rows = {(r.region.code, r.office): r for r in report_back.overview(world.petition,
                                                                       report_back.parse_quarter(Q3))}
    assert rows[("510104", "supervision")].state == "filed"
    assert rows[("510104", "investigation")].state == "late"
    assert ReportBack.select().count() == 2
    # the note is encrypted at rest
    from core.db import db
    raw = db.execute_sql("SELECT note FROM cases_report_back").fetchall()
    assert all("在办" not in str(r[0]) and "转初步核实" not in str(r[0]) for r in raw)


def test_a_county_office_never_files_for_the_city_nor_another_county(app, world, day,
                                                                     make_user):
    from core.api import AccessDenied
    from plugins.cases import report_back
    day(AFTER)
    before = _snapshot()
    with pytest.raises(AccessDenied):
        report_back.file(world.supervision, world.city, "supervision", Q3, "越级回告")
    with pytest.raises(AccessDenied):
        report_back.file(world.supervision, world.b, "supervision", Q3, "他县回告")
    with pytest.raises(AccessDenied):  # the supervision office is not the investigation one
        report_back.file(world.supervision, world.a, "investigation", Q3, "代为回告")
    with pytest.raises(AccessDenied):  # the petitions office receives, never files
        report_back.file(world.petition, world.a, "supervision", Q3, "代为回告")
    assert _snapshot() == before
    city = make_user("jc_city", role="cases_supervision", region=world.city)
    assert report_back.file(city, world.a, "supervision", Q3, "市级代录").region_id == world.a.id


@pytest.mark.parametrize("office,period,note,field", [
    ("supervision", "2026-09", "x", "period"),
    ("supervision", "2026", "x", "period"),
    ("supervision", "2026-Q9", "x", "period"),
    ("supervision", "2026-Q4", "x", "period"),   # not ended yet
    ("supervision", Q3, "", "note"),
    ("supervision", Q3, "x" * 4001, "note"),
    ("review", Q3, "x", "office"),
])
def test_bad_input_names_the_field_and_writes_nothing(app, world, day, office, period, note,
                                                      field):
    from core.api import FieldError
    from plugins.cases import report_back
    day(AFTER)
    before = _snapshot()
    with pytest.raises(FieldError) as exc:
        report_back.file(world.supervision, world.a, office, period, note)
    assert field in exc.value.errors
    assert _snapshot() == before


def test_a_quarter_is_reported_back_once(app, world, day):
    from core.api import FieldError
    from plugins.cases import report_back
    day(AFTER)
    report_back.file(world.supervision, world.a, "supervision", Q3, "已办理。")
    before = _snapshot()
    with pytest.raises(FieldError) as exc:
        report_back.file(world.supervision, world.a, "supervision", Q3, "再报一次")
    assert "period" in exc.value.errors
    assert _snapshot() == before


@pytest.mark.parametrize("lang,word", [("zh_CN", "回告"), ("en", "report-back")])
def test_the_page_shows_who_has_and_has_not_reported(app, client, world, day, login, lang,
                                                     word):
    """The petitions office sees both offices of its county, filed or not; the office
    files through the page (422 naming the note when empty, nothing written); county B's
    petitions office sees none of county A's rows."""
    from plugins.cases.models import ReportBack
    day(LATE)
    login(world.supervision)
    with client.session_transaction() as s:
        s["locale"] = lang
    page = client.get(f"/cases/report-back?period={Q3}")
    assert page.status_code == 200 and word in page.get_data(as_text=True)
    token = _token(client, f"/cases/report-back?period={Q3}")
    url = f"/cases/report-back/{world.a.id}"
    before = _snapshot()
    bad = client.post(url, data={"csrf_token": token, "office": "supervision",
                                 "period": Q3, "note": ""})
    assert bad.status_code == 422 and _snapshot() == before
    assert "role=\"alert\"" in bad.get_data(as_text=True)
    city = client.post(f"/cases/report-back/{world.city.id}",
                       data={"csrf_token": token, "office": "supervision", "period": Q3,
                             "note": "越级"})
    assert city.status_code == 403 and _snapshot() == before
    ok = client.post(url, data={"csrf_token": token, "office": "supervision", "period": Q3,
                                "note": "甲县监督检查室第三季度回告"})
    assert ok.status_code == 303 and ReportBack.select().count() == 1
    assert client.get("/cases/report-back?period=2026-13").status_code == 422
    petition = app.test_client()
    login(world.petition, c=petition)
    html = petition.get(f"/cases/report-back?period={Q3}").get_data(as_text=True)
    assert "甲县监督检查室第三季度回告" in html
    assert html.count("<tr>") >= 3  # header, supervision, investigation
    county_b = app.test_client()
    login(world.petition_b, c=county_b)
    html = county_b.get(f"/cases/report-back?period={Q3}").get_data(as_text=True)
    assert "甲县监督检查室第三季度回告" not in html and "锦江区" not in html


def test_a_role_without_a_reporting_or_receiving_grant_gets_403(app, client, world, login):
    login(world.reviewer)
    assert client.get("/cases/report-back").status_code == 403
