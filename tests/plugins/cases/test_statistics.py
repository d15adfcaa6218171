"""Statistics of case supervision: every figure checked against hand-built items, leads,
cases and clocks; the XLSX export formula-safe; a county's case management never sees
another county's figures; bad period input answered 422 naming the field."""
from __future__ import annotations

import datetime as dt
import io

import pytest

DAY = dt.date(2026, 10, 15)  # "today": after the third quarter
Q3 = "2026-Q3"


def _item(region, n, channel, category, received, *, routed=None, due=None, repeat_of=None):
    from plugins.cases.models import Clock, Item
    item = Item.create(region=region, year=received.year, number=f"{region.code}-{n}",
                       channel=channel, subject_name="甲某某甲", subject_hash=f"{n:064d}",
                       subject_region=region, category=category, text="举报正文甲",
                       received_on=received, routed_on=routed, repeat_of=repeat_of,
                       status="accepted" if routed else "registered")
    if due is not None:
        Clock.create(region=region, kind="route", ref=item.number, started_on=received,
                     due_on=due, done_on=routed)
    return item


def _lead(region, n, created, *, way="", decided=None):
    from plugins.cases.models import Lead
    return Lead.create(region=region, year=2026, number=f"{region.code}-L{n}",
                       subject_name="甲某某甲", subject_hash="1" * 64, summary="线索正文甲",
                       way=way, status="decided" if decided else "open",
                       decided_at=decided, created_at=created)


def _case(region, n, lead, stage, opened, *, closed_on=None, outcome=""):
    from plugins.cases.models import Case
    return Case.create(region=region, year=2026, number=f"{region.code}-C{n}", lead=lead,
                       stage=stage, stage_started_on=opened.date(), stage_due=DAY,
                       status="closed" if closed_on else "open", outcome=outcome,
                       opened_at=opened, closed_on=closed_on)


@pytest.fixture
def stats_world(world, make_user, monkeypatch):
    """County A: three items in Q3 (one a repeat, one routed in time, one late, one
    unrouted and overdue), one in Q4 and one in Q2; two leads in Q3, one decided each way
    talk and verify; a case opened in Q3 in investigation whose stage clock is overdue, a
    case opened in Q2 and closed in Q3 with a Party sanction; a suspended clock past its
    day (not overdue). County B: one item routed in time and a case in review."""
    import plugins.cases.statistics
    from plugins.cases.models import Clock
    monkeypatch.setattr(plugins.cases.statistics, "today", lambda: DAY)
    a, b = world.a, world.b
    i1 = _item(a, 1, "web", "integrity", dt.date(2026, 7, 1), routed=dt.date(2026, 7, 3),
               due=dt.date(2026, 7, 8))
    _item(a, 2, "letter", "integrity", dt.date(2026, 8, 10), routed=dt.date(2026, 8, 20),
          due=dt.date(2026, 8, 17))
    _item(a, 3, "letter", "work", dt.date(2026, 9, 1), due=dt.date(2026, 9, 8), repeat_of=i1)
    _item(a, 4, "phone", "integrity", dt.date(2026, 10, 2), due=dt.date(2026, 10, 20))
    _item(a, 5, "visit", "life", dt.date(2026, 6, 30), routed=dt.date(2026, 7, 30),
          due=dt.date(2026, 7, 7))  # received in Q2: only its late clock counts in Q3
    _lead(a, 1, dt.datetime(2026, 7, 5, 2), way="talk", decided=dt.datetime(2026, 7, 10, 2))
    l2 = _lead(a, 2, dt.datetime(2026, 8, 1, 2), way="verify",
               decided=dt.datetime(2026, 8, 2, 2))
    _lead(a, 3, dt.datetime(2026, 10, 5, 2))
    c1 = _case(a, 1, l2, "investigation", dt.datetime(2026, 8, 2, 3))
    Clock.create(region=a, kind="stage", ref=c1.number, started_on=dt.date(2026, 8, 2),
                 due_on=dt.date(2026, 10, 1))
    _case(a, 2, l2, "decision", dt.datetime(2026, 6, 1, 3), closed_on=dt.date(2026, 9, 20),
          outcome="party")
    Clock.create(region=a, kind="answer", ref="x-suspended", started_on=dt.date(2026, 8, 1),
                 due_on=dt.date(2026, 9, 1), stopped_since=dt.date(2026, 8, 20))
    _item(b, 1, "visit", "work", dt.date(2026, 7, 15), routed=dt.date(2026, 7, 16),
          due=dt.date(2026, 7, 22))
    lb = _lead(b, 1, dt.datetime(2026, 6, 1, 2))
    _case(b, 1, lb, "review", dt.datetime(2026, 7, 20, 3))
    world.management_b = make_user("ag_b", role="cases_management", region=b)
    world.leader_city = make_user("ld_city", role="cases_leader", region=world.city)
    return world


def _figures(user, period=Q3, region=None):
    from plugins.cases import statistics
    regions = statistics.choose_regions(user, region)
    return statistics.compute(regions, statistics.parse_period(period))


def test_every_figure_of_county_a(stats_world):
    data = _figures(stats_world.management)
    assert [f.region.id for f in data["regions"]] == [stats_world.a.id]
    f = data["regions"][0]
    assert (f.received, f.repeats, f.first_reports) == (3, 1, 2)
    assert f.by_channel == {"web": 1, "letter": 2}
    assert f.by_category == {"integrity": 2, "work": 1}
    assert (f.routed, f.routed_in_time, f.routed_share) == (2, 1, 0.5)
    assert f.leads_taken == 2
    assert f.leads_by_way == {"talk": 1, "verify": 1} and f.leads_decided == 2
    assert f.cases_opened == 1
    assert f.closed_by_outcome == {"party": 1} and f.cases_closed == 1
    assert f.open_by_stage == {"investigation": 1}
    # route clock of item 3 (due 09-08) and the stage clock (due 10-01); the suspended
    # one and item 4's (due 10-20) are not overdue
    assert f.overdue_by_kind == {"route": 1, "stage": 1} and f.overdue == 2
    # item 2 (routed 08-20, due 08-17) and item 5 (routed 07-30, due 07-07)
    assert f.late_in_period == 2


def test_month_year_and_city_totals(stats_world):
    sept = _figures(stats_world.management, "2026-09")["regions"][0]
    assert (sept.received, sept.repeats, sept.routed) == (1, 1, 0)
    assert sept.routed_share is None and sept.closed_by_outcome == {"party": 1}
    year = _figures(stats_world.management, "2026")["regions"][0]
    assert year.received == 5 and year.leads_taken == 3 and year.cases_opened == 2
    data = _figures(stats_world.leader_city)
    assert [f.region.id for f in data["regions"]] == [
        stats_world.city.id, stats_world.a.id, stats_world.b.id]
    t = data["total"]
    assert (t.received, t.routed, t.routed_in_time) == (4, 3, 2)
    assert t.by_channel == {"web": 1, "letter": 2, "visit": 1}
    assert t.open_by_stage == {"investigation": 1, "review": 1}
    assert t.cases_opened == 2
    only_b = _figures(stats_world.leader_city, region=str(stats_world.b.id))
    assert [f.region.id for f in only_b["regions"]] == [stats_world.b.id]


def test_county_b_sees_only_county_b(stats_world, client, login):
    from core.api import AccessDenied
    data = _figures(stats_world.management_b)
    assert [f.region.id for f in data["regions"]] == [stats_world.b.id]
    assert data["total"].received == 1 and data["total"].overdue == 0
    with pytest.raises(AccessDenied):
        _figures(stats_world.management_b, region=str(stats_world.a.id))
    login(stats_world.management_b)
    resp = client.get(f"/cases/statistics?period={Q3}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "青羊区" in html and "锦江区" not in html
    assert client.get(f"/cases/statistics?period={Q3}&region={stats_world.a.id}") \
        .status_code == 403
    book = _book(client.get(f"/cases/statistics?period={Q3}&format=xlsx"))
    names = [row[0].value for row in book["Summary"].iter_rows(min_row=2)]
    assert "锦江区" not in names


@pytest.mark.parametrize("user", ["petition", "supervision", "investigator", "reviewer"])
def test_offices_without_management_or_leadership_are_refused(stats_world, client, login,
                                                              user):
    login(getattr(stats_world, user))
    assert client.get("/cases/statistics").status_code == 403


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "abc", "1999", "2026-00",
                                    "2026-9", "9" * 5000, "2026-Q3;drop"])
def test_bad_period_is_422_naming_the_field(stats_world, client, login, period):
    login(stats_world.management)
    resp = client.get("/cases/statistics", query_string={"period": period})
    assert resp.status_code == 422
    assert "period" in resp.get_data(as_text=True)


def test_bad_region_and_format_are_422(stats_world, client, login):
    login(stats_world.management)
    resp = client.get("/cases/statistics?region=x")
    assert resp.status_code == 422 and "region" in resp.get_data(as_text=True)
    resp = client.get("/cases/statistics?format=pdf")
    assert resp.status_code == 422 and "format" in resp.get_data(as_text=True)


def _book(resp):
    import openpyxl
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(resp.data))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_page_and_xlsx_export(stats_world, client, login, lang):
    login(stats_world.management)
    with client.session_transaction() as s:
        s["locale"] = lang
    resp = client.get(f"/cases/statistics?period={Q3}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "50.0%" in html and "echarts.min.js" in html
    assert "甲某某甲" not in html and "举报正文甲" not in html and "线索正文甲" not in html
    book = _book(client.get(f"/cases/statistics?period={Q3}&format=xlsx"))
    summary = book.worksheets[0]
    row = [c.value for c in next(summary.iter_rows(min_row=2, max_row=2))]
    assert row[0] == "锦江区" and row[1] == Q3
    assert row[2:] == [3, 2, 1, 2, 1, 0.5, 2, 2, 1, 1, 1, 2, 2]
    assert len(book.worksheets) == 7


def test_xlsx_is_formula_safe(stats_world, client, login):
    from core.api import Region
    evil = '=HYPERLINK("http://example.invalid","x")'
    Region.update(name=evil).where(Region.id == stats_world.a.id).execute()
    login(stats_world.management)
    book = _book(client.get(f"/cases/statistics?period={Q3}&format=xlsx"))
    for ws in book.worksheets:
        cell = ws.cell(row=2, column=1)
        assert cell.value == evil and cell.data_type == "s", ws.title
        for row in ws.iter_rows():
            assert all(c.data_type != "f" for c in row)


def test_dashboard_widget(stats_world, app, client, login):
    from core.api import db, emit, supervision_office
    from plugins.cases import statistics
    with db.atomic():
        emit("cases.gate.irregular", stats_world.a, "C1: 初步核实情况报告",
             target_department=supervision_office(stats_world.a))
    counts = statistics.widget_counts(stats_world.management, DAY)
    # overdue: item 3's route and c1's stage; near (within 3 working days): item 4's
    assert counts == {"overdue": 2, "near": 1, "gates": 1}
    assert statistics.widget_counts(stats_world.management_b, DAY) == \
        {"overdue": 0, "near": 0, "gates": 0}
    assert statistics.widget_counts(stats_world.petition, DAY) is None
    login(stats_world.management)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "/cases/statistics" in html
    other = app.test_client()
    login(stats_world.petition, c=other)
    assert "/cases/statistics" not in other.get("/dashboard").get_data(as_text=True)
