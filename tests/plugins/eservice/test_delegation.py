"""A step assigned to a post is completed only by a holder of that post, or under a
recorded, time-bounded, audited delegation (委托) named on the case; anyone else gets a
403 with the reason and nothing changes."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from core.api import AccessDenied, FieldError, today
from core.audit.models import AuditEvent
from core.org.models import Department, Post, PostHolding
from plugins.eservice import cases, delegation
from plugins.eservice.models import Case, CaseEvent, StepDelegation
from tests.plugins.eservice.test_cases import case_in
from tests.plugins.eservice.test_views import csrf


def snapshot(case):
    row = Case.get_by_id(case.id)
    return (row.state, row.step_seq, row.decision,
            CaseEvent.select().where(CaseEvent.case == case.id).count(),
            AuditEvent.select().count())


def test_the_window_clerk_cannot_complete_a_post_s_step(app, item, clerk, reviewer):
    case = case_in("in_review", item, clerk)
    before = snapshot(case)
    with pytest.raises(AccessDenied) as err:
        cases.transition(case, "advance", user=clerk)
    assert "审查员" in err.value.message and "nothing was changed" in err.value.message
    assert snapshot(case) == before
    case = cases.transition(case, "advance", user=reviewer)
    done = CaseEvent.get((CaseEvent.case == case.id) & (CaseEvent.event == "step_completed"))
    assert (done.actor_name, done.post_title, done.step_name) == ("reviewer1", "审查员", "审查")
    with pytest.raises(AccessDenied):  # the decide step is the 局长's, not the reviewer's
        cases.transition(case, "decide", user=reviewer, decision="approved")
    assert Case.get_by_id(case.id).state == "in_review"


def test_a_holder_of_the_post_in_another_department_is_refused(app, org, item, clerk,
                                                              make_user):
    elsewhere = Post.create(department=org["dept_b"], title="审查员")
    other = make_user("reviewer_b", "clerk", org["b"])
    PostHolding.create(person=other.person_id, post=elsewhere, start=dt.date(2024, 1, 1))
    case = case_in("in_review", item, clerk)
    with pytest.raises(AccessDenied):
        cases.transition(case, "advance", user=other)


def test_a_post_held_no_longer_gives_no_right(app, item, clerk, reviewer):
    case = case_in("in_review", item, clerk)
    PostHolding.update(end=today() - dt.timedelta(days=1)).where(
        PostHolding.person == reviewer.person_id).execute()
    with pytest.raises(AccessDenied):
        cases.transition(case, "advance", user=reviewer)


def test_delegation_is_recorded_audited_bounded_and_named_on_the_case(app, item, clerk,
                                                                     reviewer):
    day = today()
    post = Post.get(Post.title == "审查员")
    row = delegation.grant(reviewer, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                           valid_until=day + dt.timedelta(days=3), reason="出差三天")
    audit = AuditEvent.get(AuditEvent.action == "eservice.delegation.grant")
    assert audit.object_id == str(row.id) and "clerk1" in audit.summary
    case = case_in("in_review", item, clerk)
    # outside its period it gives no right
    with pytest.raises(AccessDenied):
        cases.transition(case, "advance", user=clerk, on=day + dt.timedelta(days=4))
    case = cases.transition(case, "advance", user=clerk)
    done = CaseEvent.get((CaseEvent.case == case.id) & (CaseEvent.event == "step_completed"))
    assert done.post_title == "审查员" and done.actor_name == "clerk1"
    assert json.loads(done.data)["delegation"] == {
        "id": row.id, "post": "审查员", "delegator": "reviewer1",
        "valid_from": day.isoformat(), "valid_until": (day + dt.timedelta(days=3)).isoformat()}
    assert "(delegation" in AuditEvent.get(
        AuditEvent.action == "eservice.case.step_completed").summary
    # a delegation of 审查员 gives nothing for the 局长's step
    with pytest.raises(AccessDenied):
        cases.transition(case, "decide", user=clerk, decision="approved")


def test_revoked_delegation_and_grantor_who_left_give_no_right(app, item, clerk, reviewer):
    day = today()
    post = Post.get(Post.title == "审查员")
    row = delegation.grant(reviewer, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                           valid_until=day + dt.timedelta(days=3), reason="休假")
    case = case_in("in_review", item, clerk)
    delegation.revoke(reviewer, row)
    assert AuditEvent.select().where(AuditEvent.action == "eservice.delegation.revoke").exists()
    with pytest.raises(AccessDenied):
        cases.transition(case, "advance", user=clerk)
    with pytest.raises(FieldError):
        delegation.revoke(reviewer, StepDelegation.get_by_id(row.id))
    delegation.grant(reviewer, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                     valid_until=day + dt.timedelta(days=3), reason="休假")
    PostHolding.update(end=day - dt.timedelta(days=1)).where(
        PostHolding.person == reviewer.person_id).execute()
    with pytest.raises(AccessDenied):  # the grantor no longer holds the post
        cases.transition(case, "advance", user=clerk)


def test_who_may_delegate_and_to_whom(app, org, item, clerk, reviewer, director, make_user):
    day = today()
    post = Post.get(Post.title == "审查员")
    with pytest.raises(AccessDenied):  # the clerk does not hold 审查员
        delegation.grant(clerk, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                         valid_until=day, reason="x")
    # the head of the department may delegate any of its posts
    row = delegation.grant(director, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                           valid_until=day, reason="审查员病假")
    assert row.delegator_id == director.id
    outsider = make_user("outsider", "clerk", org["b"])
    bad = [({"delegate_id": outsider.id}, "delegate_id"),
           ({"delegate_id": reviewer.id}, "delegate_id"),
           ({"valid_from": day - dt.timedelta(days=1)}, "valid_from"),
           ({"valid_until": day - dt.timedelta(days=1)}, "valid_until"),
           ({"valid_until": day + dt.timedelta(days=92)}, "valid_until"),
           ({"valid_from": "2026-13-01"}, "valid_from"),
           ({"reason": " "}, "reason")]
    for change, field in bad:
        kw = {"post_id": post.id, "delegate_id": clerk.id, "valid_from": day,
              "valid_until": day + dt.timedelta(days=1), "reason": "出差"} | change
        with pytest.raises(FieldError) as err:
            delegation.grant(reviewer, **kw)
        assert err.value.field == field, change
    assert StepDelegation.select().count() == 1


def test_http_refusal_is_403_with_the_reason_and_changes_nothing(app, client, login, item,
                                                                clerk):
    case = case_in("in_review", item, clerk)
    before = snapshot(case)
    login(clerk)
    page = f"/eservice/cases/{case.id}"
    html = client.get(page).get_data(as_text=True)
    assert "assigned to the post 审查员" in html
    assert "Only a holder of this post or a delegate may complete it" in html
    assert "/act/advance" not in html and "Complete step" not in html  # not offered
    tok = csrf(client, page)
    for url in (f"{page}/act/advance", f"{page}/act/advance?in=row"):
        resp = client.post(url, data={"csrf_token": tok},
                           headers={"HX-Request": "true"} if "row" in url else {})
        assert resp.status_code == 403
        assert "only a holder of that post" in resp.get_data(as_text=True)
    assert snapshot(case)[:4] == before[:4]


def test_delegation_pages(app, client, login, item, clerk, reviewer):
    login(reviewer)
    html = client.get("/eservice/delegations").get_data(as_text=True)
    assert "审查员" in html and "clerk1" in html
    post = Post.get(Post.title == "审查员")
    tok = csrf(client, "/eservice/delegations")
    day = today()
    form = {"csrf_token": tok, "post_id": post.id, "delegate_id": clerk.id,
            "valid_from": day.isoformat(), "valid_until": "2026-02-30", "reason": "出差"}
    resp = client.post("/eservice/delegations", data=form)
    assert resp.status_code == 422 and StepDelegation.select().count() == 0
    resp = client.post("/eservice/delegations", data=form | {
        "valid_until": (day + dt.timedelta(days=2)).isoformat()})
    assert resp.status_code == 303
    row = StepDelegation.get()
    case = case_in("in_review", item, clerk)
    client = app.test_client()
    login(clerk, c=client)
    html = client.get(f"/eservice/cases/{case.id}").get_data(as_text=True)
    assert "You act under a delegation" in html and "reviewer1 → clerk1" in html
    tok = csrf(client, f"/eservice/cases/{case.id}")
    resp = client.post(f"/eservice/cases/{case.id}/act/advance", data={"csrf_token": tok})
    assert resp.status_code == 303
    html = client.get(f"/eservice/cases/{case.id}").get_data(as_text=True)
    assert "Under delegation" in html and "from reviewer1, post 审查员" in html
    resp = client.post(f"/eservice/delegations/{row.id}/revoke", data={"csrf_token": tok})
    assert resp.status_code == 303
    assert StepDelegation.get_by_id(row.id).revoked_by_id == clerk.id


def test_a_county_b_user_cannot_revoke_a_county_a_delegation(app, org, client, login,
                                                             clerk, reviewer, make_user):
    day = today()
    post = Post.get(Post.title == "审查员")
    row = delegation.grant(reviewer, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                           valid_until=day, reason="x")
    other = make_user("clerk_b", "clerk", org["b"])
    login(other)
    tok = csrf(client, "/eservice/worklist")
    resp = client.post(f"/eservice/delegations/{row.id}/revoke", data={"csrf_token": tok})
    assert resp.status_code in (403, 404)
    assert StepDelegation.get_by_id(row.id).revoked_at is None
    assert Department.select().count() >= 2


def test_worklist_rows_offer_the_step_only_to_its_post_or_delegate(app, client, login, item,
                                                                   clerk, reviewer):
    case = case_in("in_review", item, clerk)
    login(clerk)
    row = f"/eservice/cases/{case.id}/act/advance"

    def worklist():
        html = client.get("/eservice/worklist").get_data(as_text=True)
        assert f"case-row-{case.id}" in html
        return html
    assert row not in worklist()  # the clerk holds the case, not the 审查员 post
    assert f"/eservice/cases/{case.id}/act/" in worklist()  # other actions stay (e.g. suspend)
    day = today()
    post = Post.get(Post.title == "审查员")
    assert (post.department_id, "审查员") not in delegation.authorities(clerk, day)
    grant = delegation.grant(reviewer, post_id=post.id, delegate_id=clerk.id, valid_from=day,
                             valid_until=day + dt.timedelta(days=2), reason="出差")
    assert (post.department_id, "审查员") in delegation.authorities(clerk, day)
    assert row in worklist()
    delegation.revoke(reviewer, grant)
    assert row not in worklist()
    assert (post.department_id, "审查员") in delegation.authorities(reviewer, day)
