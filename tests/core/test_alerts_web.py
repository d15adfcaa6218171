"""Alert pages over HTTP: inbox, header badge, actions in place, board scope, CLI."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from core.alerts import service
from core.alerts.models import Alert, InboxItem
from core.alerts.outbox import dispatch
from core.org.models import Person


def person(name):
    return Person.get(Person.name == name)


@pytest.fixture
def clerk(org, make_user):
    return make_user("clerk_a", "staff", org["a"], person=person("受理员a"))


@pytest.fixture
def supervisor(org, make_user):
    """A supervisor of district a only."""
    return make_user("sup_a", "supervisor", org["a"], person=person("主任a"))


@pytest.fixture
def alerts(org, clerk):
    out = {
        "yellow": service.emit("core.test", org["a"], "Approval 17 near its limit",
                               target_post=org["clerk_a"], level="yellow"),
        "red": service.emit("core.test", org["a"], "Tender 9 red flag",
                            target_post=org["clerk_a"], level="red"),
        "other": service.emit("core.test", org["b"], "District b only",
                              target_post=org["clerk_b"]),
    }
    dispatch()
    return out


def htmx(token):
    return {"HX-Request": "true", "X-CSRFToken": token}


def body_token(client):
    html = client.get("/alerts/").get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def test_inbox_lists_my_alerts_and_header_badge_counts_unread(client, login, clerk, alerts):
    login(clerk)
    html = client.get("/alerts/").get_data(as_text=True)
    assert "Approval 17 near its limit" in html and "Tender 9 red flag" in html
    assert "District b only" not in html
    assert html.count('alert-new">New<') == 2
    assert 'id="alert-badge"' in html and 'hx-trigger="every 30s, ' in html
    assert '<span class="alert-count">2</span>' in html
    badge = client.get("/alerts/badge", headers={"HX-Request": "true"})
    assert badge.status_code == 200 and '<span class="alert-count">2</span>' in badge.text
    red_only = client.get("/alerts/?level=red").get_data(as_text=True)
    assert "Tender 9 red flag" in red_only and "Approval 17" not in red_only
    assert client.get("/alerts/?level=purple").status_code == 400
    assert "level" in client.get("/alerts/?level=purple").get_data(as_text=True)


def test_acknowledge_and_resolve_in_place(client, login, clerk, alerts):
    login(clerk)
    token = body_token(client)
    red = alerts["red"]
    resp = client.post(f"/alerts/{red.id}/acknowledge", headers=htmx(token))
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "ql-alerts-changed"
    assert f'id="alert-{red.id}"' in resp.text and "Acknowledged" in resp.text
    assert Alert.get_by_id(red.id).state == "acknowledged"
    resp = client.post(f"/alerts/{red.id}/resolve", data={"note": ""}, headers=htmx(token))
    assert resp.status_code == 422 and "note" in resp.text
    assert Alert.get_by_id(red.id).state == "acknowledged"
    resp = client.post(f"/alerts/{red.id}/resolve", data={"note": "Tender annulled."},
                       headers=htmx(token))
    assert resp.status_code == 200 and "Tender annulled." in resp.text
    assert Alert.get_by_id(red.id).state == "resolved"
    resolved = client.get("/alerts/?state=resolved").get_data(as_text=True)
    assert "Tender 9 red flag" in resolved and "Approval 17" not in resolved
    badge = client.get("/alerts/badge").text
    assert '<span class="alert-count">1</span>' in badge


def test_action_without_csrf_is_refused(client, login, clerk, alerts):
    login(clerk)
    resp = client.post(f"/alerts/{alerts['red'].id}/acknowledge")
    assert resp.status_code == 400
    assert Alert.get_by_id(alerts["red"].id).state == "open"


def test_alert_of_someone_else_answers_404(client, login, clerk, alerts):
    login(clerk)
    token = body_token(client)
    other = alerts["other"]
    assert client.get(f"/alerts/{other.id}").status_code == 404
    assert client.post(f"/alerts/{other.id}/acknowledge", headers=htmx(token)).status_code == 404
    assert Alert.get_by_id(other.id).state == "open"


def test_detail_marks_read_and_shows_the_outbox(client, login, clerk, alerts):
    login(clerk)
    html = client.get(f"/alerts/{alerts['yellow'].id}").get_data(as_text=True)
    assert "Approval 17 near its limit" in html and "inbox" in html and "Delivered" in html
    item = InboxItem.get((InboxItem.alert == alerts["yellow"].id) & (InboxItem.user == clerk.id))
    assert item.read_at is not None
    assert client.get("/alerts/").get_data(as_text=True).count('alert-new">New<') == 1


def test_board_shows_alerts_in_scope_only(client, login, supervisor, alerts):
    login(supervisor)
    html = client.get("/alerts/board").get_data(as_text=True)
    assert "Tender 9 red flag" in html and "Approval 17" in html
    assert "District b only" not in html
    assert client.get("/alerts/board?level=red").get_data(as_text=True).count("<tr>") == 2
    assert client.get(f"/alerts/{alerts['other'].id}").status_code == 404
    assert client.get(f"/alerts/{alerts['red'].id}").status_code == 200
    assert client.get("/alerts/board?older_than=-1").status_code == 400
    old = client.get("/alerts/board?older_than=3").get_data(as_text=True)
    assert "Tender 9" not in old


def test_supervisor_may_act_on_alerts_in_scope(client, login, supervisor, alerts):
    login(supervisor)
    token = body_token(client)
    resp = client.post(f"/alerts/{alerts['yellow'].id}/acknowledge", headers=htmx(token))
    assert resp.status_code == 200
    assert Alert.get_by_id(alerts["yellow"].id).acknowledged_by_id == supervisor.id


def test_board_is_refused_without_the_permission(client, login, clerk):
    login(clerk)
    assert client.get("/alerts/board").status_code == 403


def test_preferences_page_saves_choices(client, login, clerk):
    login(clerk)
    token = body_token(client)
    resp = client.post("/alerts/preferences", data={"sms": "on", "csrf_token": token})
    assert resp.status_code == 303
    assert service.preferences(clerk) == {"inbox": True, "email": False, "sms": True,
                                          "webhook": False}


def test_cli_emit_and_outbox(runner, org, clerk):
    result = runner.invoke(args=["alerts", "emit", "--kind", "core.test", "--user", "clerk_a",
                                 "--subject", "Channel check", "--level", "yellow"])
    assert result.exit_code == 0, result.output
    assert "1 notification(s) queued" in result.output
    assert Alert.get(Alert.subject == "Channel check").level == "yellow"
    result = runner.invoke(args=["alerts", "outbox"])
    assert result.exit_code == 0 and "pending 1  failed 0  delivered 0" in result.output
    result = runner.invoke(args=["alerts", "sweep"])
    assert result.exit_code == 0 and "delivered 1 in the inbox" in result.output
    result = runner.invoke(args=["alerts", "outbox"])
    assert "pending 0  failed 0  delivered 1" in result.output


def test_cli_refuses_unknown_kind_and_user(runner, org, clerk):
    bad_kind = runner.invoke(args=["alerts", "emit", "--kind", "no.such", "--user", "clerk_a",
                                   "--subject", "x"])
    assert bad_kind.exit_code != 0 and "Unknown alert kind no.such" in bad_kind.output
    bad_user = runner.invoke(args=["alerts", "emit", "--kind", "core.test", "--user", "nobody",
                                   "--subject", "x"])
    assert bad_user.exit_code != 0 and "Unknown user nobody" in bad_user.output
    assert Alert.select().count() == 0


def test_actions_without_htmx_redirect_to_the_alert(client, login, clerk, alerts):
    login(clerk)
    token = body_token(client)
    red = alerts["red"]
    resp = client.post(f"/alerts/{red.id}/resolve", data={"note": "", "csrf_token": token})
    assert resp.status_code == 422 and "note" in resp.get_data(as_text=True)
    resp = client.post(f"/alerts/{red.id}/resolve", data={"note": "Fixed.", "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/alerts/{red.id}")
    assert "Alert resolved." in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_board_groups_a_subject_with_its_recipients(client, login, supervisor, org, clerk):
    """One matter alerting the clerk's post and the head of the department is one row
    naming both recipients; the counts say subjects and alerts and which period."""
    for target in ({"target_post": org["clerk_a"]}, {"target_department": org["dept_a"]}):
        service.emit("core.test", org["a"], "Case 5 red flag", ref="case:5", level="red",
                     dedupe_key=f"c5:{min(target)}", **target)
    from core.org.models import PostHolding
    PostHolding.update(end=dt.date(2025, 1, 1)).where(  # the office of a has no head now
        PostHolding.post == org["sup_a"].posts.get().id).execute()
    service.emit("core.test", org["a"], "Nobody holds this", target_post=org["head_b"],
                 level="red", dedupe_key="lonely")
    dispatch()
    login(supervisor)
    html = client.get("/alerts/board?level=red").get_data(as_text=True)
    assert html.count("Case 5 red flag") == 1 and html.count("<tr>") == 3
    assert "2 recipients" in html and "锦江区政务服务局 · 窗口受理员" in html
    assert "锦江区政务服务局</a>" in html  # the department (its head) as the second recipient
    assert "nobody reached" in html
    assert "<strong>2</strong> <span class=\"muted small\">3 alerts</span>" in html
    assert "raised in all time" in html
    month = client.get("/alerts/board?period=month").get_data(as_text=True)
    assert "raised in this month" in month and "Case 5 red flag" in month
    assert client.get("/alerts/board?period=year").status_code == 400


def test_inbox_says_what_it_holds(app, client, login, org, make_user, supervisor, alerts):
    """A supervisor holding no post learns why the inbox is empty and what the board holds."""
    boss = make_user("boss", "supervisor", org["a"])
    login(boss)
    html = client.get("/alerts/").get_data(as_text=True)
    assert "You hold no post in the organisation" in html
    assert "2 not yet resolved" in html
    other = app.test_client()
    login(supervisor, c=other)
    html = other.get("/alerts/").get_data(as_text=True)
    assert "锦江区纪委监委 · 主任 (head of the department)" in html


def test_a_kind_words_its_alerts_and_links_the_matter(app, client, login, clerk, org):
    """A kind's ``subject`` and ``link`` callables word the alert in the reader's language
    and point to its matter; the stored subject stays the fallback."""
    from core.alerts.service import kinds
    kinds()["core.test"] = dict(kinds()["core.test"],
                                subject=lambda d: f"worded {d['n']}", link=lambda r: "/m/" + r)
    alert = service.emit("core.test", org["a"], "stored words", target_post=org["clerk_a"],
                         details={"n": 7}, ref="x1")
    plain = service.emit("core.test", org["a"], "no details", target_post=org["clerk_a"])
    dispatch()
    login(clerk)
    html = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "worded 7" in html and 'href="/m/x1"' in html and "stored words" not in html
    assert "no details" in client.get(f"/alerts/{plain.id}").get_data(as_text=True)
