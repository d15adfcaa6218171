"""The need-to-know matrix (知悉范围): roles × every route of a lead or case × membership.
Only the team, the approvers in the chain and case management read a case's content; the
system, security and audit administrators, colleagues holding every other permission,
and a revoked grantee read nothing and write nothing; every view is audited and the
audit administrator can list who saw a case."""
from __future__ import annotations

import re

import pytest

SECRET = "机密案情甲"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ARGS = ("case_id", "lead_id", "doc_id", "member_id")


@pytest.fixture
def sealed(world, make_user):
    """A case at investigation with a document, a reviewer, and a revoked grant."""
    from core.auth.models import Role, RolePermission
    from core.auth.roles import declared_permissions
    from core.plugins import host
    from plugins.cases import casework
    from plugins.cases.models import Case
    case = world.case(text=f"{SECRET}：收受礼金")
    doc = casework.add_document(world.supervision, case, "verify_report", "初核报告", PDF)
    casework.advance(world.leader, case)
    casework.assign(world.management, case, world.reviewer, "reviewer", "审理")
    grantee = make_user("granted_a", role="cases_investigator", region=world.a)
    row = casework.grant(world.management, case, grantee, "协查")
    casework.revoke(world.management, case, row, "协查结束")
    almost = Role.create(code="all_but_manage", label="All but case management")
    RolePermission.insert_many([{"role": almost.id, "permission": p}
                                for p in sorted(declared_permissions(host()))
                                if p != "cases.manage"]).execute()
    outsiders = {
        "sys_admin": make_user("sysadm", role="sys_admin", region=world.city, totp=True),
        "security_admin": make_user("secadm", role="security_admin", region=world.city,
                                    totp=True),
        "audit_admin": make_user("audadm", role="audit_admin", region=world.city,
                                 totp=True),
        "all_but_manage": make_user("allbut", role="all_but_manage", region=world.a),
        "other_investigator": world.investigator2,
        "other_leader": make_user("ld_a2", role="cases_leader", region=world.a),
        "petition": world.petition,
        "revoked": grantee,
        "management_b": make_user("ag_b", role="cases_management", region=world.b),
    }
    insiders = {"handler": world.supervision, "reviewer": world.reviewer,
                "approver": world.leader, "management": world.management}
    return {"case": Case.get_by_id(case.id), "doc": doc, "member": row,
            "outsiders": outsiders, "insiders": insiders}


def _urls(app, sealed):
    values = {"case_id": sealed["case"].id, "lead_id": sealed["case"].lead_id,
              "doc_id": sealed["doc"].id, "member_id": sealed["member"].id}
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("cases.") or not set(rule.arguments) & set(ARGS):
            continue
        if set(rule.arguments) - set(ARGS):
            continue
        url = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
        out.append((rule, url))
    return out


def _token(client):
    html = client.get("/dashboard", follow_redirects=True).get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_nobody_outside_the_team_reads_or_writes_a_case(app, world, sealed, login):
    from core.audit.models import AuditEvent
    urls = _urls(app, sealed)
    assert {r.endpoint for r, _ in urls} >= {"cases.case", "cases.lead",
                                             "cases.case_document_file", "cases.case_advance",
                                             "cases.case_revoke", "cases.lead_decide"}
    problems = []
    for who, user in sealed["outsiders"].items():
        client = app.test_client()
        login(user, c=client)
        token = _token(client)
        events = AuditEvent.select().count()
        for rule, url in urls:
            for method in sorted(rule.methods & {"GET", "POST"}):
                resp = client.open(url, method=method, data={"csrf_token": token,
                                                             "reason": "x", "note": "x"})
                body = resp.get_data(as_text=True)
                if resp.status_code not in (403, 404):
                    problems.append(f"{who} {method} {url}: {resp.status_code}")
                if SECRET in body or "李四" in body:
                    problems.append(f"{who} {method} {url}: content shown")
        for page in ("/cases/cases", "/cases/leads"):
            body = client.get(page).get_data(as_text=True)
            if sealed["case"].number in body or SECRET in body:
                problems.append(f"{who} GET {page} lists the case")
        if AuditEvent.select().count() != events:
            problems.append(f"{who}: something was written")
    assert problems == []


def test_the_team_reads_it_and_every_view_is_audited(app, world, sealed, login):
    from core.audit.models import AuditEvent
    from core.auth.models import User
    case = sealed["case"]
    for who, user in sealed["insiders"].items():
        client = app.test_client()
        login(user, c=client)
        resp = client.get(f"/cases/cases/{case.id}")
        assert resp.status_code == 200, who
        assert SECRET in resp.get_data(as_text=True), who
        assert case.number in client.get("/cases/cases").get_data(as_text=True), who
        file = client.get(f"/cases/cases/{case.id}/documents/{sealed['doc'].id}")
        assert file.status_code == 200 and file.data == PDF, who
    # the audit administrator's list of who saw the case
    seen = (AuditEvent.select(AuditEvent.user_id).where(
        (AuditEvent.action == "record.view") & (AuditEvent.object_type == "cases_case")
        & (AuditEvent.object_id == str(case.id))).distinct())
    names = {User.get_by_id(e.user_id).username for e in seen}
    assert names == {u.username for u in sealed["insiders"].values()}
    docs = AuditEvent.select().where((AuditEvent.action == "record.view")
                                     & (AuditEvent.object_type == "cases_document"))
    assert docs.count() == len(sealed["insiders"])


def test_the_database_alone_reveals_neither_the_text_nor_the_person(world, sealed):
    from core.api import db
    dump = []
    for table in ("cases_item", "cases_lead", "cases_case", "cases_document",
                  "cases_stage_log", "cases_member", "cases_clock"):
        dump += [repr(r) for r in db.execute_sql(f"SELECT * FROM {table}").fetchall()]
    text = "\n".join(dump)
    assert SECRET not in text and "李四" not in text and "王五" not in text
    assert "13800138000" not in text
