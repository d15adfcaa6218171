"""The supervised department's own rectification reports (整改回告) with files, on a
supervision case and on a suggestion letter; the supervisor accepts or returns them; a
returned report is due again and escalates again when late."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from core.alerts.models import Alert
from core.audit.models import AuditEvent
from core.pii.models import StoredFile
from plugins.esupervision import evaluation as ev_mod
from plugins.esupervision import letters, reports
from plugins.esupervision import supervision as sv
from plugins.esupervision.models import (
    ReportFile,
    Signal,
    SuggestionLetter,
    SupervisionCase,
)
from tests.conftest import _csrf
from tests.plugins.esupervision import test_letters

low = test_letters.low  # the fixture: March's evaluation makes 锦江区政务服务局 low
person = test_letters.person

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 4


@pytest.fixture
def demand(low, org):
    sc = sv.verify(sv.open_case(Signal.get(), low), low, "confirmed", "属实")
    return sv.demand_rectification(sc, low, "说明超期原因并整改", 5)


@pytest.fixture
def liaison(org, make_user):
    return make_user("liaison_a", "department_liaison", org["a"], person=person("受理员a"))


def _client(app, login, user):
    c = app.test_client()
    login(user, c=c)
    return c


def test_the_department_reports_with_files_and_only_it(demand, liaison, org, make_user,
                                                      app, login, low):
    c = _client(app, login, liaison)
    url = f"/esupervision/rectification/{demand.id}"
    token = _csrf(c, url)
    # a file of a type not accepted: 422 naming the field, nothing written
    bad = c.post(url, data={"csrf_token": token, "r-report": "已整改",
                            "r-files": (io.BytesIO(EXE), "plan.pdf")},
                 content_type="multipart/form-data")
    assert bad.status_code == 422 and 'id="r-files-error"' in bad.get_data(as_text=True)
    assert SupervisionCase.get_by_id(demand.id).state == "rectifying"
    assert not ReportFile.select().exists() and not StoredFile.select().exists()
    resp = c.post(url, data={"csrf_token": token, "r-report": "已补办并调整时限",
                             "r-files": [(io.BytesIO(PDF), "整改方案.pdf"),
                                         (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64),
                                          "现场.jpg")]},
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    sc = SupervisionCase.get_by_id(demand.id)
    assert (sc.state, sc.reported_by, sc.reported_on_paper) == ("reported", "liaison_a", False)
    files = reports.files_of(supervision=sc)
    assert [f.file.filename for f in files] == ["整改方案.pdf", "现场.png"]  # type sniffed
    assert {f.file.purpose for f in files} == {reports.PURPOSE}
    page = c.get(url).get_data(as_text=True)
    assert "整改方案.pdf" in page
    down = c.get(f"{url}/files/{files[0].id}")
    assert down.status_code == 200 and down.data == PDF
    assert "attachment" in down.headers["Content-Disposition"]
    # the supervisor of the region reads it too, on the supervision page
    s = _client(app, login, low)
    assert "整改方案.pdf" in s.get(f"/esupervision/supervision/{sc.id}").get_data(as_text=True)
    assert s.get(f"{url}/files/{files[0].id}").status_code == 200
    # another county's liaison, another department of the same county: 404 everywhere
    other_county = make_user("liaison_b", "department_liaison", org["b"],
                             person=person("受理员b"))
    other_dept = make_user("liaison_jw", "department_liaison", org["a"], person=person("主任a"))
    for stranger in (other_county, other_dept):
        d = _client(app, login, stranger)
        assert d.get(url).status_code == 404
        assert d.get(f"{url}/files/{files[0].id}").status_code == 404
        with pytest.raises(sv.SupervisionError):
            sv.report_rectification(SupervisionCase.get_by_id(sc.id), stranger, "代填")
    outsider = make_user("sup_b", "supervisor", org["b"])
    assert _client(app, login, outsider).get(f"{url}/files/{files[0].id}").status_code == 404
    downloads = AuditEvent.select().where(AuditEvent.action == "file.download").count()
    assert downloads == 2


def test_the_supervisor_returns_a_report_with_a_reason(demand, liaison, org, low, app,
                                                      login):
    sc = sv.report_rectification(demand, liaison, "已整改")
    with pytest.raises(sv.SupervisionError, match="reason"):
        sv.return_report(sc, low, "  ")
    s = _client(app, login, low)
    url = f"/esupervision/supervision/{sc.id}"
    token = _csrf(s, url)
    assert s.post(url + "/return", data={"csrf_token": token, "b-reason": "",
                                         "b-days": "5"}).status_code == 422
    assert SupervisionCase.get_by_id(sc.id).state == "reported"
    resp = s.post(url + "/return", data={"csrf_token": token, "b-reason": "缺少退费凭证",
                                         "b-days": "3"})
    assert resp.status_code == 303
    sc = SupervisionCase.get_by_id(sc.id)
    assert (sc.state, sc.review_note, sc.reviewed_by) == ("rectifying", "缺少退费凭证", "sup")
    returned = Alert.get(Alert.kind == reports.RETURNED_KIND)
    assert returned.target_department_id == org["dept_a"].id
    assert "缺少退费凭证" in returned.subject
    c = _client(app, login, liaison)
    page = c.get(f"/esupervision/rectification/{sc.id}").get_data(as_text=True)
    assert "缺少退费凭证" in page and 'name="r-report"' in page
    # late again: escalated again, for the new deadline
    assert len(sv.escalate_overdue(sc.rectification_due + dt.timedelta(days=1))) == 1
    sv.report_rectification(SupervisionCase.get_by_id(sc.id), liaison, "补交退费凭证",
                            [io.BytesIO(PDF)])
    assert Alert.get_by_id(returned.id).state == "resolved"
    sc = sv.return_report(SupervisionCase.get_by_id(sc.id), low, "凭证不清晰",
                          today=dt.date(2026, 4, 1))
    assert sv.escalate_overdue(sc.rectification_due) == []
    assert len(sv.escalate_overdue(sc.rectification_due + dt.timedelta(days=1))) == 1
    actions = [a.action for a in AuditEvent.select().where(
        AuditEvent.action == "esupervision.supervision.return")]
    assert len(actions) == 2


def test_the_letter_reply_carries_files(low, org, liaison, app, login, make_user):
    ev_mod.evaluate("2026-03", low)
    letter = SuggestionLetter.get(SuggestionLetter.department == org["dept_a"])
    c = _client(app, login, liaison)
    url = f"/esupervision/letters/{letter.id}"
    token = _csrf(c, url)
    too_many = [(io.BytesIO(PDF), f"{n}.pdf") for n in range(reports.FILES_PER_REPORT + 1)]
    bad = c.post(url + "/reply", data={"csrf_token": token, "reply": "已整改",
                                       "files": too_many}, content_type="multipart/form-data")
    assert bad.status_code == 422 and not ReportFile.select().exists()
    assert SuggestionLetter.get_by_id(letter.id).state == "issued"
    resp = c.post(url + "/reply", data={"csrf_token": token, "reply": "已整改",
                                        "files": (io.BytesIO(PDF), "回告.pdf")},
                  content_type="multipart/form-data")
    assert resp.status_code == 303
    att = ReportFile.get(ReportFile.letter == letter.id)
    assert "回告.pdf" in c.get(url).get_data(as_text=True)
    assert c.get(f"{url}/files/{att.id}").data == PDF
    s = _client(app, login, low)
    assert s.get(f"{url}/files/{att.id}").status_code == 200
    stranger = make_user("liaison_b", "department_liaison", org["b"], person=person("受理员b"))
    assert _client(app, login, stranger).get(f"{url}/files/{att.id}").status_code == 404
    letters.review(SuggestionLetter.get_by_id(letter.id), low, False, "补充问责情况")
    returned = Alert.get(Alert.kind == reports.RETURNED_KIND)
    assert returned.ref == f"esupervision.letter:{letter.id}"
    letters.reply(SuggestionLetter.get_by_id(letter.id), liaison, "已补充")
    assert Alert.get_by_id(returned.id).state == "resolved"
