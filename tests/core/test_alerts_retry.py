"""Delivery problems (投递异常) and manual retry, against a real SMTP server (aiosmtpd) and
a real webhook receiver: the page, its scope and permissions, retry in place, refusals
that change nothing, the CLI, and the counts on the dashboard and the board."""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from dataclasses import replace

import pytest

from core.alerts import deliveries, service
from core.alerts.models import Alert, Notification
from core.alerts.outbox import dispatch, sweep
from core.audit.models import AuditEvent
from core.auth.models import Role, RolePermission, User
from core.db import utcnow
from core.org.models import Person
from core.queue import huey
from tests.conftest import make_settings

PAGE = "/alerts/deliveries"


@pytest.fixture
def settings(tmp_path, fresh_db_url, smtp, hook):
    return make_settings(tmp_path, database_url=fresh_db_url, smtp_url=smtp.url,
                         webhook_url=hook.url + "/hook", webhook_secret="s3cret",
                         alert_retry_base_seconds=60)


@pytest.fixture
def wang(org, make_user):
    """The recipient: a window clerk of district a with an e-mail address."""
    return make_user("wang", person=Person.get(Person.name == "受理员a"), email="wang@example.cn")


@pytest.fixture
def li(org, make_user):
    """A recipient in district b."""
    return make_user("li", person=Person.get(Person.name == "受理员b"), email="li@example.cn")


@pytest.fixture
def ops(org, make_user):
    """The city's system administrator: sees and retries everywhere."""
    return make_user("ops", "sys_admin", org["city"], totp=True)


@pytest.fixture
def auditor(org, make_user):
    return make_user("auditor", "audit_admin", org["city"], totp=True)


@contextmanager
def queued():
    """A real (SQLite) queue instead of running tasks inline: what a retry enqueues stays
    there until the test dispatches it."""
    huey.immediate = False
    try:
        yield huey
    finally:
        huey.flush()
        huey.immediate = True


def failed_mail(org, user, smtp, subject="Approval 17 near its limit", region="a"):
    """An e-mail notification the SMTP server refused for good (550)."""
    smtp.refuse.add(user.email)
    alert = service.emit("core.test", org[region], subject, target_user=user, level="yellow")
    dispatch()
    smtp.refuse.discard(user.email)
    row = Notification.get((Notification.alert == alert.id) & (Notification.channel == "email"))
    assert (row.state, row.attempts) == ("failed", 1) and "550" in row.last_error
    return row


def fresh(row) -> Notification:
    return Notification.get_by_id(row.id)


def token_of(client) -> str:
    html = client.get("/dashboard").get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def htmx(token):
    return {"HX-Request": "true", "X-CSRFToken": token}


def retries_audited() -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == "alert.notification.retry")
                .order_by(AuditEvent.id))


# -- roles ---------------------------------------------------------------------------
def test_sys_admin_may_retry_audit_admin_only_see(app, org):
    perms = {code: {p for (p,) in RolePermission.select(RolePermission.permission)
                    .join(Role).where(Role.code == code).tuples()}
             for code in ("sys_admin", "security_admin", "audit_admin", "staff", "supervisor")}
    assert {deliveries.VIEW, deliveries.RETRY} <= perms["sys_admin"]
    assert deliveries.VIEW in perms["audit_admin"] and deliveries.RETRY not in perms["audit_admin"]
    for code in ("security_admin", "staff", "supervisor"):
        assert not {deliveries.VIEW, deliveries.RETRY} & perms[code], code


# -- the page and retry in place -------------------------------------------------------
def test_refused_mail_retried_in_place_is_delivered_exactly_once(client, login, org, wang,
                                                                 ops, smtp):
    row = failed_mail(org, wang, smtp)
    assert smtp.messages == []
    login(ops)
    html = client.get(PAGE).get_data(as_text=True)
    assert f'id="notification-{row.id}"' in html
    assert "Approval 17 near its limit" in html and "wang" in html and "550" in html
    assert f'/alerts/deliveries/{row.id}/retry' in html and 'name="id"' in html
    fragment = client.get(f"{PAGE}?channel=email&sort=last&order=desc",
                          headers={"HX-Request": "true", "HX-Target": "delivery-list"}
                          ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section class="card" id="delivery-list">')
    assert f'id="notification-{row.id}"' in fragment and "<html" not in fragment
    assert "sort=last" in fragment and "channel=email" in fragment
    restore = client.get(f"{PAGE}?channel=email", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"}).get_data(as_text=True)
    assert "<html" in restore  # a history restore gets the whole page
    token = token_of(client)
    resp = client.post(f"{PAGE}/{row.id}/retry", headers=htmx(token))
    assert resp.status_code == 200, resp.text
    assert 'id="delivery-list"' in resp.text
    assert "1 notification is queued for delivery again." in resp.text
    assert f'id="notification-{row.id}"' not in resp.text  # no longer a problem
    done = fresh(row)
    assert (done.state, done.attempts, done.retries, done.last_error) == ("sent", 1, 1, "")
    assert done.last_attempt_at is not None and done.claimed_until is None
    (rcpts, msg), = smtp.messages
    assert rcpts == ["wang@example.cn"] and msg["Message-ID"] == f"<{row.uid}@qinglian>"
    event, = retries_audited()
    assert event.username == "ops" and event.object_id == row.uid
    assert event.region_id == org["a"].id and '"ids": [' + str(row.id) + "]" in event.changes
    sweep(now=utcnow() + dt.timedelta(days=1))
    assert len(smtp.messages) == 1 and fresh(row).state == "sent"
    again = client.post(f"{PAGE}/{row.id}/retry", headers=htmx(token))
    assert again.status_code == 422
    assert f"Notification #{row.id} was already delivered" in again.text
    assert 'id="delivery-list"' not in again.text  # the section's inner part, for innerHTML
    assert fresh(row).retries == 1 and len(retries_audited()) == 1 and len(smtp.messages) == 1


def test_retry_resets_attempts_keeps_the_error_and_nudges_dispatch(app, org, wang, ops, smtp):
    row = failed_mail(org, wang, smtp)
    before = utcnow()
    with queued():
        result = deliveries.retry([row.id], user=ops)
        assert result.ids == [row.id]
        queued_row = fresh(row)
        assert (queued_row.state, queued_row.attempts, queued_row.retries) == ("pending", 0, 1)
        assert "550" in queued_row.last_error  # visible until the next attempt
        assert queued_row.claimed_until is None and queued_row.claim_token is None
        assert before <= queued_row.next_attempt_at <= utcnow()
        task, = huey.pending()
        assert task.name.endswith("dispatch_task") and task.args == ([row.id],)
        assert smtp.messages == []
    dispatch(ids=[row.id])
    sent = fresh(row)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert len(smtp.messages) == 1


def test_retry_selected_and_all_failed_matching_the_filter(client, login, org, wang, li, ops,
                                                           smtp):
    a1 = failed_mail(org, wang, smtp, "first")
    a2 = failed_mail(org, wang, smtp, "second")
    b1 = failed_mail(org, li, smtp, "in b", region="b")
    login(ops)
    token = token_of(client)
    resp = client.post(f"{PAGE}/retry?region={org['a'].id}",
                       data={"id": [str(a1.id), str(a2.id)]}, headers=htmx(token))
    assert resp.status_code == 200, resp.text
    assert "2 notifications are queued for delivery again." in resp.text
    assert [fresh(r).state for r in (a1, a2, b1)] == ["sent", "sent", "failed"]
    event, = retries_audited()
    assert '"count": 2' in event.changes and event.object_id == ""
    listing = client.get(PAGE).get_data(as_text=True)
    assert "Retry the 1 failed notification matching the filters" in listing
    resp = client.post(f"{PAGE}/retry-failed?channel=email", headers=htmx(token))
    assert resp.status_code == 200 and "1 notification is queued" in resp.text
    assert fresh(b1).state == "sent" and len(smtp.messages) == 3
    assert retries_audited()[-1].region_id == org["b"].id
    resp = client.post(f"{PAGE}/retry-failed", headers=htmx(token))
    assert resp.status_code == 200 and "0 notifications are queued" in resp.text


def test_non_htmx_retry_redirects_back_with_the_filters(client, login, org, wang, ops, smtp):
    row = failed_mail(org, wang, smtp)
    login(ops)
    token = token_of(client)
    resp = client.post(f"{PAGE}/{row.id}/retry?channel=email",
                       data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"{PAGE}?channel=email")
    assert fresh(row).state == "sent"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "1 notification is queued for delivery again." in page


# -- refusals --------------------------------------------------------------------------
def test_refusals_name_the_reason_and_change_nothing(app, client, login, org, wang, ops, smtp,
                                                     hook):
    failed = failed_mail(org, wang, smtp)
    hook.script = [503]
    red = service.emit("core.test", org["a"], "red one", target_user=wang, level="red")
    dispatch()
    retrying = Notification.get((Notification.alert == red.id)
                                & (Notification.channel == "webhook"))
    assert (retrying.state, retrying.attempts) == ("pending", 1)
    sent = Notification.get((Notification.alert == red.id) & (Notification.channel == "inbox"))
    mails = len(smtp.messages)  # the red alert's own e-mail
    login(ops)
    token = token_of(client)

    def refused(nid, *phrases):
        resp = client.post(f"{PAGE}/{nid}/retry", headers=htmx(token))
        assert resp.status_code == 422, resp.text
        for phrase in phrases:
            assert phrase in resp.text, resp.text

    refused(sent.id, "already delivered")
    refused(retrying.id, "still pending")
    User.update(active=False).where(User.id == wang.id).execute()
    refused(failed.id, "account wang is disabled")
    User.update(active=True).where(User.id == wang.id).execute()
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"], smtp_url="")
    refused(failed.id, "channel email is not configured (QL_SMTP_URL is not set)")
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"], smtp_url=smtp.url)
    User.update(email="").where(User.id == wang.id).execute()
    refused(failed.id, "wang has no address for channel email")
    User.update(email="wang@example.cn").where(User.id == wang.id).execute()
    Alert.update(state="resolved").where(Alert.id == failed.alert_id).execute()
    refused(failed.id, "its alert is resolved")
    Alert.update(state="open").where(Alert.id == failed.alert_id).execute()
    # several at once: all or none
    resp = client.post(f"{PAGE}/retry", data={"id": [str(failed.id), str(sent.id)]},
                       headers=htmx(token))
    assert resp.status_code == 422 and "already delivered" in resp.text
    assert client.post(f"{PAGE}/retry", data={}, headers=htmx(token)).status_code == 422
    bad = client.post(f"{PAGE}/retry", data={"id": "x1"}, headers=htmx(token))
    assert bad.status_code == 400 and "id:" in bad.text
    assert client.get(f"{PAGE}?state=nope").status_code == 400
    assert "channel" in client.get(f"{PAGE}?channel=fax").get_data(as_text=True)
    assert fresh(failed).state == "failed" and fresh(failed).retries == 0
    assert retries_audited() == [] and len(smtp.messages) == mails
    # the pending row with a failed try is listed under "retrying", without a retry button
    html = client.get(f"{PAGE}?state=retrying").get_data(as_text=True)
    assert f'id="notification-{retrying.id}"' in html and "HTTP 503" in html
    assert f'id="notification-{failed.id}"' not in html
    assert f"{PAGE}/{retrying.id}/retry" not in html


def test_all_failed_skips_what_cannot_be_delivered_and_says_why(app, org, wang, li, smtp):
    keep = failed_mail(org, wang, smtp)
    gone = failed_mail(org, li, smtp, region="b")
    User.update(active=False).where(User.id == li.id).execute()
    result = deliveries.retry_failed(channel="email")
    assert result.ids == [keep.id] and dict(result.skipped) == {"disabled": 1}
    assert "1 × the recipient's account is disabled" in result.skipped_text()
    assert fresh(keep).state == "sent" and fresh(gone).state == "failed"
    with pytest.raises(service.AlertError, match="unknown channel fax"):
        deliveries.retry_failed(channel="fax")


# -- scope, permission, CSRF -----------------------------------------------------------
def test_a_sys_admin_of_another_county_neither_sees_nor_retries(client, login, org, wang,
                                                                make_user, smtp):
    row = failed_mail(org, wang, smtp, "secret of district a")
    other = make_user("ops_b", "sys_admin", org["b"], totp=True)
    login(other)
    html = client.get(PAGE).get_data(as_text=True)
    assert "secret of district a" not in html and f"notification-{row.id}" not in html
    assert client.get(f"{PAGE}?region={org['a'].id}").status_code == 400
    token = token_of(client)
    assert client.post(f"{PAGE}/{row.id}/retry", headers=htmx(token)).status_code == 404
    resp = client.post(f"{PAGE}/retry", data={"id": str(row.id)}, headers=htmx(token))
    assert resp.status_code == 422 and f"There is no notification #{row.id}." in resp.text
    resp = client.post(f"{PAGE}/retry-failed", headers=htmx(token))
    assert resp.status_code == 200 and "0 notifications are queued" in resp.text
    assert fresh(row).state == "failed" and retries_audited() == []


def test_audit_admin_sees_but_cannot_retry(client, login, org, wang, auditor, smtp):
    row = failed_mail(org, wang, smtp)
    login(auditor)
    html = client.get(PAGE).get_data(as_text=True)
    assert f'id="notification-{row.id}"' in html and "550" in html
    assert f"{PAGE}/{row.id}/retry" not in html and "retry-failed" not in html
    token = token_of(client)
    assert client.post(f"{PAGE}/{row.id}/retry", headers=htmx(token)).status_code == 403
    assert client.post(f"{PAGE}/retry", data={"id": str(row.id)},
                       headers=htmx(token)).status_code == 403
    assert client.post(f"{PAGE}/retry-failed", headers=htmx(token)).status_code == 403
    assert fresh(row).state == "failed" and retries_audited() == []


def test_staff_cannot_see_the_page(client, login, org, make_user, wang, smtp):
    failed_mail(org, wang, smtp)
    login(make_user("clerk", "staff", org["city"]))
    assert client.get(PAGE).status_code == 403
    assert "Delivery problems" not in client.get("/dashboard").get_data(as_text=True)


def test_retry_without_csrf_is_refused(client, login, org, wang, ops, smtp):
    row = failed_mail(org, wang, smtp)
    login(ops)
    assert client.post(f"{PAGE}/{row.id}/retry").status_code == 400
    assert client.post(f"{PAGE}/retry", data={"id": str(row.id)}).status_code == 400
    assert client.post(f"{PAGE}/retry-failed").status_code == 400
    assert client.post(f"{PAGE}/{row.id}/retry", data={"csrf_token": "forged"},
                       headers={"HX-Request": "true"}).status_code == 400
    assert fresh(row).state == "failed" and retries_audited() == [] and smtp.messages == []


# -- counts ----------------------------------------------------------------------------
def test_dashboard_widget_and_board_count_failed_notifications(client, login, org, wang, ops,
                                                               make_user, smtp):
    failed_mail(org, wang, smtp, "one")
    failed_mail(org, wang, smtp, "two")
    login(ops)
    html = client.get("/dashboard").get_data(as_text=True)
    widget = html[html.index("Failed notifications"):]
    assert re.search(r'<dd class="bad">2</dd>', widget)
    assert f'href="{PAGE}"' in widget
    page = client.get(PAGE).get_data(as_text=True)
    assert "Delivery problems" in page and "<strong>2</strong>" in page


def test_board_links_the_failed_count_only_for_those_allowed(app, org, wang, make_user, smtp,
                                                             login):
    failed_mail(org, wang, smtp)
    sup = make_user("sup", "supervisor", org["city"])
    plain = app.test_client()
    login(sup, c=plain)
    assert "could not be delivered" not in plain.get("/alerts/board").get_data(as_text=True)
    both = Role.create(code="sup_ops", label="Supervisor and operator")
    RolePermission.insert_many([{"role": both.id, "permission": p} for p in
                                ("core.alerts.board", deliveries.VIEW)]).execute()
    sup_ops = make_user("sup_ops", "sup_ops", org["city"])
    allowed = app.test_client()
    login(sup_ops, c=allowed)
    board = allowed.get("/alerts/board").get_data(as_text=True)
    assert "1 notification could not be delivered" in board and f'href="{PAGE}"' in board


# -- CLI ---------------------------------------------------------------------------------
def test_cli_retry_by_id_and_all_failed(runner, org, wang, li, smtp):
    one = failed_mail(org, wang, smtp, "first")
    two = failed_mail(org, li, smtp, "second", region="b")
    result = runner.invoke(args=["alerts", "retry", "--id", str(one.id)])
    assert result.exit_code == 0, result.output
    assert f"1 notification(s) queued for delivery again: {one.id}" in result.output
    assert fresh(one).state == "sent" and fresh(two).state == "failed"
    event, = retries_audited()
    assert event.summary.endswith("(cli)") and event.object_id == one.uid
    User.update(active=False).where(User.id == li.id).execute()
    result = runner.invoke(args=["alerts", "retry", "--all-failed", "--channel", "email"])
    assert result.exit_code == 0, result.output
    assert "0 notification(s) queued" in result.output
    assert "skipped 1: the recipient's account is disabled" in result.output
    User.update(active=True).where(User.id == li.id).execute()
    result = runner.invoke(args=["alerts", "retry", "--all-failed", "--region", "510105"])
    assert result.exit_code == 0 and f"1 notification(s) queued for delivery again: {two.id}" \
        in result.output
    assert fresh(two).state == "sent" and len(smtp.messages) == 2


def test_cli_retry_errors_exit_non_zero_and_change_nothing(runner, org, wang, smtp):
    row = failed_mail(org, wang, smtp)
    sent = Notification.get((Notification.alert == row.alert_id)
                            & (Notification.channel == "inbox"))
    cases = [
        ([], 2, "Give either --id"),
        (["--id", str(row.id), "--all-failed"], 2, "Give either --id"),
        (["--id", str(row.id), "--channel", "email"], 2, "--all-failed only"),
        (["--id", "x"], 2, "not a valid integer"),
        (["--id", "999999"], 1, "There is no notification #999999."),
        (["--id", str(sent.id), "--id", str(row.id)], 1,
         f"Notification #{sent.id} was already delivered"),
        (["--all-failed", "--channel", "fax"], 1, "unknown channel fax"),
        (["--all-failed", "--region", "999999"], 1, "Unknown region code 999999."),
    ]
    for args, code, phrase in cases:
        result = runner.invoke(args=["alerts", "retry", *args])
        assert result.exit_code == code, (args, result.output)
        assert phrase in result.output, (args, result.output)
    assert fresh(row).state == "failed" and retries_audited() == [] and smtp.messages == []
