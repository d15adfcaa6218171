"""Every page of the demo in Chinese (issue 15 defect 5): the demo seeded, every GET route
of the url map rendered with demo data — as the city's administrators and supervisor and
as the public — in zh_CN, and the visible text searched for the app's own codes (states,
statuses, kinds, alert kind codes, detector codes and parameter names) and the English of
their labels. A person reads labels; a code on a page is a missing translation."""
from __future__ import annotations

import html.parser
import re
from dataclasses import replace

import pytest

# routes that answer something other than a page a person reads
NOT_PAGES = {"static", "esupervision.static", "procurement.static", "risk.static",
             "risk_reminders.static", "cases.static",
             "risk.export", "eservice.export", "risk_evaluation.xlsx",
             "eservice.material_file", "esupervision.evaluation_department_json",
             "esupervision.evaluation_xlsx", "public_procurement.record",
             "public_procurement.releases", "public_procurement.bulk",
             "procurement.bid_file", "org.import_preview", "auth.logout", "org.row",
             "web.healthz", "web.healthz_jobs", "cases.item_file",
             "cases.case_document_file", "risk_education.attachment",
             "esupervision.letter_file", "esupervision.supervision_file"}


@pytest.fixture
def settings(settings):
    return replace(settings, locale="zh_CN")


class Text(html.parser.HTMLParser):
    """The text a person reads: outside script/style, plus titles and placeholders."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(body: str) -> str:
    parser = Text()
    parser.feed(body)
    return "\n".join(parser.parts)


def app_codes() -> tuple[set[str], set[str]]:
    """(codes, English phrases): the codes of states, statuses, kinds and parameters the
    app stores, and the English of their labels."""
    from flask_babel import force_locale

    from core.alerts.models import STATES as ALERT_STATES
    from core.plugins import host
    from plugins.cases import vocab
    from plugins.eservice.models import (
        CASE_STATES,
        EVENT_LABELS,
        ITEM_STATUSES,
        SPECIAL_KINDS,
    )
    from plugins.esupervision import labels
    from plugins.esupervision.models import (
        CLOCK_KINDS,
        LETTER_STATES,
        SUPERVISION_STATES,
    )
    from plugins.risk import labels as rk_labels
    from plugins.risk import wording as rk_wording
    tables = [CASE_STATES, EVENT_LABELS, ITEM_STATUSES, SPECIAL_KINDS,
              *labels.TABLES.values(), vocab.ITEM_STATES, vocab.LEAD_STATES, vocab.WAYS,
              vocab.DOCUMENTS, vocab.OUTCOMES,
              rk_labels.RISK_TYPE_LABELS, rk_labels.REGISTER_STATE_LABELS,
              rk_labels.MEASURE_STATE_LABELS, rk_labels.REVIEW_OUTCOME_LABELS,
              rk_labels.RULE_STATUS_LABELS, rk_wording.WARNING_SOURCE_LABELS,
              rk_wording.WARNING_STATE_LABELS, rk_wording.REMINDER_KIND_LABELS,
              rk_wording.TALK_KIND_LABELS, rk_wording.NOTICE_KIND_LABELS,
              rk_wording.NOTICE_STATE_LABELS, rk_wording.ACCOUNTABILITY_KIND_LABELS]
    codes = {c for t in tables for c in t} | set(CLOCK_KINDS) | set(LETTER_STATES) \
        | set(SUPERVISION_STATES) | set(ALERT_STATES)
    for kind in host().collect("ql_alert_kinds"):
        code = kind["code"] if isinstance(kind, dict) else kind[0]
        codes.add(code)
        codes.add(code.rsplit(".", 1)[-1])
    from plugins.esupervision.detectors import all_detectors
    for det in all_detectors():
        codes.add(det.code)
        codes.update(det.params)
    with force_locale("en"):
        phrases = {str(v) for t in tables for v in t.values() if " " in str(v)}
    return {c for c in codes if len(c) > 2}, phrases


WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]")


def english_codes(text: str, codes: set[str], phrases: set[str]) -> set[str]:
    found = {w for w in WORD.findall(text) if w in codes}
    found |= {p for p in phrases if p in text}
    return found


def samples() -> dict[str, dict]:
    """Arguments of the routes that take them, from the demo data."""
    from core.alerts.models import Alert
    from core.auth.models import Role, User
    from core.org.models import Department, Person, Region
    from plugins.eservice.models import Case, Item
    from plugins.esupervision import models as es
    from plugins.procurement import models as pc

    def first(query):
        row = query.first()
        return row.id if row is not None else None

    city = Region.get(Region.parent.is_null())
    dept = Department.select().where(Department.region == city).first()
    county = Region.select().where(Region.parent == city).first()
    item = Item.select().where(Item.status == "active").first()
    out = {
        "accounts.user_grants": {"user_id": first(User.select())},
        "accounts.user_detail": {"user_id": first(User.select())},
        "accounts.role_edit": {"role_id": first(Role.select())},
        "alerts.detail": {"alert_id": first(Alert.select())},
        "eservice.case_page": {"case_id": first(Case.select())},
        "eservice.file_case": {"item_id": item.id},
        "esupervision.case": {"case_id": first(es.MonitoredCase.select())},
        "esupervision.evaluation_detail": {"run_id": first(es.EvaluationRun.select())},
        "esupervision.evaluation_department": {"dept_id": dept.id},
        "esupervision.letter": {"letter_id": first(es.SuggestionLetter.select())},
        "esupervision.supervision_report": {"sc_id": first(es.SupervisionCase.select())},
        "esupervision.supervision_detail": {"sc_id": first(es.SupervisionCase.select())},
        "esupervision.supervision_people": {"sc_id": first(es.SupervisionCase.select())},
        "esupervision.region_settings": {"region_id": county.id},
        "org.edit": {"kind": "departments", "oid": dept.id},
        "org.department": {"did": dept.id},
        "org.person": {"pid": first(Person.select())},
        "public_eservice.item_page": {"code": item.code},
        "public_eservice.apply": {"code": item.code},
    }
    from plugins.risk import models as rk
    register = first(rk.Register.select())
    rule = first(rk.Rule.select())
    in_force = rk.Register.select().where(rk.Register.state == "approved").first()
    out.update({
        "risk.point": {"point_id": first(rk.Point.select())},
        "risk.register_page": {"register_id": register},
        "risk.compare": {"register_id": register},
        "risk.import_form": {"register_id": register},
        "risk_rules.rule": {"rule_id": rule},
        "risk_rules.edit": {"rule_id": rule},
        "risk.unit": {"department_id": dept.id},
        "risk_warnings.detail": {"warning_id": first(rk.RiskWarning.select())},
        "risk_talks.talk": {"talk_id": first(rk.Talk.select())},
        "risk_talks.notice": {"notice_id": first(rk.Notice.select())},
        "risk_evaluation.detail": {"run_id": first(rk.EvaluationRun.select())},
        "risk_evaluation.department": {"dept_id": dept.id},
        "public_risk.department": {"department_id": in_force.department_id
                                   if in_force else None},
        "public_risk.rule": {"rule_id": first(rk.Rule.select().where(
            rk.Rule.status == "repealed")) or rule},
        "risk_education.material": {"material_id": first(rk.Material.select())},
        "risk_education.task": {"task_id": first(rk.EducationTask.select())},
    })
    project = first(pc.Project.select())
    auctioned = first(pc.Project.select().join(pc.Auction))
    out.update({
        "procurement.plan": {"plan_id": first(pc.Plan.select())},
        "procurement.project": {"project_id": project},
        "procurement.auction_watch": {"project_id": auctioned},
        "public_procurement.project": {"project_id": project},
        "public_procurement.notice": {"notice_id": first(pc.Announcement.select())},
        "procurement_supplier.auction_page": {"project_id": auctioned},
        "procurement_supplier.tender": {"project_id": project},
        "procurement_supplier.receipt": {"bid_id": first(pc.Bid.select())},
    })
    from plugins.cases import models as cs
    out.update({
        "cases.item": {"item_id": first(cs.Item.select())},
        "cases.lead": {"lead_id": first(cs.Lead.select())},
        "cases.case": {"case_id": first(cs.Case.select())},
    })
    return out


def pages(app, extra: dict[str, dict]):
    """(endpoint, path) of every GET page; the ones with arguments from ``extra`` — a
    route with arguments and no sample there is ``missing`` (the test fails: add one); a
    sample the demo has no record for is skipped."""
    from flask import url_for
    out, missing = [], []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            if rule.arguments:
                args = extra.get(rule.endpoint)
                if args is None:
                    missing.append(rule.endpoint)
                    continue
                if None in args.values():  # the demo has no such record (yet)
                    continue
                out.append((rule.endpoint, url_for(rule.endpoint, **args)))
            else:
                out.append((rule.endpoint, url_for(rule.endpoint)))
    return out, missing


def crawl(client, paths, codes, phrases) -> dict[str, set[str]]:
    bad = {}
    for endpoint, path in paths:
        resp = client.get(path)
        assert resp.status_code < 500, f"{path}: {resp.status_code}"
        if resp.status_code != 200 or "html" not in resp.content_type:
            continue
        found = english_codes(visible(resp.get_data(as_text=True)), codes, phrases)
        if found:
            bad[path] = found
    return bad


def test_every_demo_page_reads_in_chinese(app, runner, login):
    from core.auth.models import User
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    codes, phrases = app_codes()
    assert {"submitted", "STEP_OVERDUE", "min_steps", "acceptance"} <= codes
    paths, missing = pages(app, samples())
    assert len(paths) > 80
    found = {}
    public = app.test_client()
    found.update(crawl(public, [p for p in paths if p[1].startswith("/public")], codes,
                       phrases))
    for name in ("sysadmin", "demo_eservice_manager", "demo_clerk", "supervisor"):
        client = app.test_client()
        login(User.get(User.username == name), "Demo#2026qinglian", c=client)
        found.update({f"{name} {k}": v for k, v in crawl(client, paths, codes, phrases).items()})
    # case supervision is need-to-know: its pages read as its own staff read them
    for name in ("demo_cases_management", "demo_cases_head"):
        client = app.test_client()
        login(User.get(User.username == name), "Demo#2026qinglian", c=client)
        mine = [p for p in paths if p[0].startswith("cases")]
        if name == "demo_cases_management":  # holds every lead: reads every page
            assert all(client.get(path).status_code == 200 for endpoint, path in mine
                       if endpoint in ("cases.item", "cases.lead", "cases.case"))
        found.update({f"{name} {k}": v for k, v in crawl(client, mine, codes, phrases).items()})
    assert not found, "\n".join(f"{k}: {sorted(v)}" for k, v in sorted(found.items()))
    assert not missing, f"no demo sample for {missing}"
    demo_spread_over_its_months()
    fresh = app.test_client()
    login(User.get(User.username == "supervisor"), "Demo#2026qinglian", c=fresh)
    evaluation_xlsx_in_chinese(fresh)


def demo_spread_over_its_months():
    """Issue 15 defect 9: signals on their own days, so last month's evaluation shows
    yellow and red; ratings over the months; rectification dues spread; departments that
    decided nothing are not ranked."""
    import datetime as dt

    from core.api import today
    from plugins.eservice.models import Rating, Rectification
    from plugins.esupervision.models import EvaluationRun, EvaluationScore, Signal
    last = (today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    run = EvaluationRun.get(EvaluationRun.month == last)
    rows = list(EvaluationScore.select().where((EvaluationScore.run == run.id)
                                               & (EvaluationScore.level == "department")))
    assert sum(r.yellow for r in rows) > 0 and sum(r.red for r in rows) > 0
    assert all(r.rank == 0 for r in rows if not r.decided)
    days = {s.raised_at.date() for s in Signal.select(Signal.raised_at)}
    assert len(days) > 20
    months = {r.at.strftime("%Y-%m") for r in Rating.select(Rating.at)}
    assert len(months) >= 3
    assert len({r.due for r in Rectification.select(Rectification.due)}) > 3


def evaluation_xlsx_in_chinese(client):
    """The evaluation workbook's sheet names and headers in the UI language."""
    import io

    import openpyxl

    from plugins.esupervision.models import EvaluationRun
    run = EvaluationRun.select().order_by(EvaluationRun.id.desc()).first()
    resp = client.get(f"/esupervision/evaluation/{run.id}.xlsx")
    assert resp.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    for sheet in book.worksheets:
        headers = [c.value for c in sheet[1]]
        assert not re.search("[A-Za-z]", sheet.title + "".join(map(str, headers))), \
            (sheet.title, headers)
