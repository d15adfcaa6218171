"""Off-site anchors: the newest seal e-mailed (a real aiosmtpd server) and POSTed signed (a
real HTTP receiver) after the seal; retried with backoff, alerted when it gives up; sent at
most every interval; and what arrives verifies the chain with ``audit verify --anchor``."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import replace
from email.header import decode_header, make_header

import pytest

from core.alerts.models import Alert
from core.audit import anchor, tasks
from core.audit import seal as sealing
from core.audit.models import (
    AuditAnchorDelivery,
    AuditBlock,
    AuditEvent,
    AuditSealEntry,
)
from core.db import utcnow
from core.settings import Settings, SettingsError
from tests.conftest import make_settings
from tests.core.alert_receivers import SmtpReceiver, free_port
from tests.core.test_audit import drop_guard

SECRET = "anchor-secret-for-tests"
ADDRESSES = ("audit@example.cn", "archive@example.cn")


@pytest.fixture
def settings(tmp_path, fresh_db_url, smtp, hook):
    return make_settings(tmp_path, database_url=fresh_db_url, smtp_url=smtp.url,
                         smtp_from="qinglian@example.cn",
                         audit_anchor_email=",".join(ADDRESSES),
                         audit_anchor_url=hook.url + "/anchor", audit_anchor_secret=SECRET,
                         alert_retry_base_seconds=60, alert_max_attempts=3)


def configure(app, **changes) -> None:
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"], **changes).resolved()


def old_events(n: int, prefix: str = "anchor") -> None:
    """Events past the sealing lag, so the minute job seals them."""
    for i in range(n):
        AuditEvent.create(action=f"{prefix}.act", summary=f"{prefix} {i}",
                          ts=utcnow() - dt.timedelta(seconds=60))


def deliveries(channel: str | None = None) -> list[AuditAnchorDelivery]:
    q = AuditAnchorDelivery.select().order_by(AuditAnchorDelivery.id)
    if channel:
        q = q.where(AuditAnchorDelivery.channel == channel)
    return list(q)


def head() -> AuditBlock:
    return AuditBlock.select().order_by(AuditBlock.last_seq.desc()).get()


def attachment(msg) -> tuple[str, bytes]:
    part = next(p for p in msg.walk() if p.get_filename())
    return part.get_filename(), part.get_payload(decode=True)


def subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


# -- delivery after the seal --------------------------------------------------------------
def test_seal_job_emails_and_posts_the_signed_anchor(app, city, smtp, hook, settings):
    old_events(3)
    result = tasks.seal_job.call_local()
    assert result.events == 3
    block = head()
    anchor_file = (settings.instance_path / "audit_anchor.json").read_text()

    assert sorted(rcpts[0] for rcpts, _msg in smtp.messages) == sorted(ADDRESSES)
    rows = {r.destination: r for r in deliveries()}
    for rcpts, msg in smtp.messages:
        assert subject(msg) == f"[成都市 510100] Audit anchor: block {block.id}"
        assert msg["From"] == "qinglian@example.cn"
        assert msg["X-Qinglian-Anchor"] == rows[rcpts[0]].uid
        name, data = attachment(msg)
        assert name == f"audit_anchor-{block.id}.json"
        assert data.decode() == anchor_file  # the anchor file, byte for byte
        body = next(p for p in msg.walk() if p.get_content_type() == "text/plain"
                    and not p.get_filename()).get_payload(decode=True).decode()
        assert anchor_file.strip() in body and "audit verify --anchor" in body

    (req,) = hook.requests
    assert req["path"] == "/anchor"
    expected = hmac.new(SECRET.encode(), req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["X-Qinglian-Signature"] == f"sha256={expected}"
    doc = req["json"]
    assert (doc["block_id"], doc["last_seq"], doc["hash"]) == (block.id, block.last_seq,
                                                                block.hash)
    assert doc["id"] == req["headers"]["X-Qinglian-Anchor"] == rows[hook.url + "/anchor"].uid
    assert doc["deployment"] == "成都市 510100"

    assert {(r.channel, r.state, r.attempts, r.block_id) for r in rows.values()} == {
        ("email", "sent", 1, block.id), ("http", "sent", 1, block.id)}
    assert all(r.open_key is None and r.sent_at is not None for r in rows.values())


def test_received_anchors_verify_the_chain_and_catch_a_truncated_tail(app, city, smtp, hook,
                                                                      settings, runner,
                                                                      tmp_path):
    old_events(6)
    sealing.seal(lag_seconds=0, block_size=2)
    anchor.queue()
    anchor.deliver()
    by_mail = tmp_path / "from-mail.json"
    by_mail.write_bytes(attachment(smtp.messages[0][1])[1])
    by_post = tmp_path / "from-post.json"
    by_post.write_bytes(hook.requests[0]["body"])
    for received in (by_mail, by_post):
        out = runner.invoke(args=["audit", "verify", "--anchor", str(received)])
        assert out.exit_code == 0, out.output
        assert f"matches the anchor: block {head().id}" in out.output

    # a database administrator cuts off the newest block and rewrites the local anchor file
    newest = head()
    for table in ("audit_block", "audit_seal_entry", "audit_event"):
        drop_guard(table)
    doomed = [e for (e,) in AuditSealEntry.select(AuditSealEntry.event_id)
              .where(AuditSealEntry.block_id == newest.id).tuples()]
    AuditSealEntry.delete().where(AuditSealEntry.block_id == newest.id).execute()
    AuditBlock.delete().where(AuditBlock.id == newest.id).execute()
    AuditEvent.delete().where(AuditEvent.id.in_(doomed)).execute()
    sealing.write_anchor(head())
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # the local copy is fooled
    for received in (by_mail, by_post):
        out = runner.invoke(args=["audit", "verify", "--anchor", str(received)])
        assert out.exit_code == 1
        assert f"block {newest.id}" in out.output and "truncated" in out.output


def test_interval_holds_back_new_seals_but_always_sends_the_newest(app, city, smtp, hook):
    configure(app, audit_anchor_email="")
    old_events(2, "first")
    tasks.seal_job.call_local()
    (first,) = deliveries()
    assert first.state == "sent"

    old_events(2, "second")
    tasks.seal_job.call_local()  # sealed, but the last delivery is younger than an hour
    assert len(deliveries()) == 1 and len(hook.requests) == 1
    old_events(2, "third")
    tasks.seal_job.call_local()
    newest = head()
    assert newest.id > first.block_id

    later = utcnow() + dt.timedelta(minutes=61)
    assert anchor.queue(now=later)  # an hour on: one delivery, of the newest seal
    anchor.deliver(now=later)
    second = deliveries()[-1]
    assert (second.state, second.block_id) == ("sent", newest.id)
    assert hook.requests[-1]["json"]["block_id"] == newest.id
    # nothing new sealed since: nothing more is sent, however long one waits
    assert anchor.queue(now=later + dt.timedelta(hours=5)) == []
    assert len(hook.requests) == 2


def test_a_failing_receiver_is_retried_with_backoff_then_alerts(app, org, make_user, hook):
    configure(app, audit_anchor_email="")
    secadmin = make_user("sec1", role="security_admin", region=org["city"])
    auditadmin = make_user("aud1", role="audit_admin", region=org["city"])
    make_user("staff1", role="staff", region=org["a"])
    hook.script = [503] * 10
    old_events(2)
    result = tasks.seal_job.call_local()  # the seal stands, whatever the receiver does
    assert result.events == 2 and AuditBlock.select().count() == 1

    (row,) = deliveries()
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error == "HTTP 503 Service Unavailable"
    first_try = row.last_attempt_at
    assert row.next_attempt_at == first_try + dt.timedelta(seconds=60)

    assert anchor.deliver(now=row.next_attempt_at - dt.timedelta(seconds=1)) == []
    (outcome,) = anchor.deliver(now=row.next_attempt_at)
    assert outcome.state == "retry"
    row = AuditAnchorDelivery.get_by_id(row.id)
    assert row.attempts == 2
    assert row.next_attempt_at == row.last_attempt_at + dt.timedelta(seconds=120)  # doubled
    assert not Alert.select().where(Alert.kind == anchor.ALERT_KIND).exists()

    (outcome,) = anchor.deliver(now=row.next_attempt_at)  # the third and last try
    assert outcome.state == "failed"
    row = AuditAnchorDelivery.get_by_id(row.id)
    assert (row.state, row.attempts, row.open_key) == ("failed", 3, None)
    assert row.last_error.startswith("gave up after 3 attempts: HTTP 503")
    assert len(hook.requests) == 3

    alerts = list(Alert.select().where(Alert.kind == anchor.ALERT_KIND))
    assert {a.target_user_id for a in alerts} == {secadmin.id, auditadmin.id}
    assert {a.level for a in alerts} == {"red"}
    assert all(hook.url in a.subject and a.region_id == org["city"].id for a in alerts)
    assert json.loads(alerts[0].details)["attempts"] == 3
    failed = AuditEvent.get(AuditEvent.action == "audit.anchor.undelivered")
    assert failed.success is False and failed.object_id == row.uid

    # an hour later the next cycle starts; its failure does not raise the alerts again
    hook.script = [400]
    later = utcnow() + dt.timedelta(minutes=61)
    anchor.queue(now=later)
    (outcome,) = anchor.deliver(now=later)
    assert outcome.state == "failed" and outcome.error == "HTTP 400 Bad Request"
    assert Alert.select().where(Alert.kind == anchor.ALERT_KIND).count() == 2


def test_refusals_fail_at_once(app, org, make_user, hook):
    """An SMTP 550 for one address and an HTTP 400 are final: no retries."""
    refusing = SmtpReceiver(refuse={"gone@example.cn"})
    try:
        configure(app, smtp_url=refusing.url, audit_anchor_email="gone@example.cn,ok@example.cn")
        make_user("sec2", role="security_admin", region=org["city"])
        hook.script = [400]
        old_events(1)
        tasks.seal_job.call_local()
        states = {r.destination: (r.state, r.attempts) for r in deliveries()}
        assert states == {"gone@example.cn": ("failed", 1), "ok@example.cn": ("sent", 1),
                          hook.url + "/anchor": ("failed", 1)}
        assert [rcpts for rcpts, _msg in refusing.messages] == [["ok@example.cn"]]
        assert Alert.select().where(Alert.kind == anchor.ALERT_KIND).count() == 2
    finally:
        refusing.close()


def test_unreachable_destinations_never_hold_up_the_seal(app, city):
    closed = f"http://127.0.0.1:{free_port()}/anchor"
    configure(app, smtp_url=f"smtp://127.0.0.1:{free_port()}", audit_anchor_url=closed)
    old_events(3)
    result = tasks.seal_job.call_local()
    assert result.events == 3 and sealing.verify().ok
    rows = deliveries()
    assert len(rows) == 3 and {r.state for r in rows} == {"pending"}
    assert all("Connection refused" in r.last_error or "ConnectionRefused" in r.last_error
               for r in rows), [r.last_error for r in rows]


def test_a_retry_carries_the_newest_seal(app, city, hook):
    configure(app, audit_anchor_email="")
    hook.script = [503]
    old_events(1, "first")
    tasks.seal_job.call_local()
    (row,) = deliveries()
    first_block = row.block_id
    old_events(1, "second")
    tasks.seal_job.call_local()  # a delivery is under way: no second one is opened
    assert len(deliveries()) == 1
    newest = head()
    assert newest.id != first_block
    (outcome,) = anchor.deliver(now=row.next_attempt_at)
    assert outcome.state == "sent" and outcome.block_id == newest.id
    assert [r["json"]["block_id"] for r in hook.requests] == [first_block, newest.id]
    assert AuditAnchorDelivery.get_by_id(row.id).hash == newest.hash


def test_the_minute_job_sends_what_a_lost_hand_over_left(app, city, hook):
    """A seal committed but its worker died before queueing: the anchor job sends it."""
    configure(app, audit_anchor_email="")
    old_events(2)
    sealing.seal(lag_seconds=0)  # no after_seal: as if the worker died right here
    assert deliveries() == []
    assert tasks.anchor_job.call_local() == 1
    assert [r.state for r in deliveries()] == ["sent"]
    assert hook.requests[0]["json"]["block_id"] == head().id
    assert tasks.anchor_job.call_local() == 0  # nothing new: nothing sent


def test_a_tampered_chain_is_not_anchored_off_site(app, city, hook):
    configure(app, audit_anchor_email="")
    old_events(2)
    sealing.seal(lag_seconds=0)
    block = head()
    drop_guard("audit_block")
    AuditBlock.update(hash="f" * 64).where(AuditBlock.id == block.id).execute()
    with pytest.raises(sealing.ChainError):
        anchor.queue(force=True)
    assert tasks.anchor_job.call_local() == 0
    assert hook.requests == []


# -- command line ---------------------------------------------------------------------------
def test_cli_send_now_and_status(app, city, runner, hook, smtp):
    out = runner.invoke(args=["audit", "anchor", "send", "--now"])
    assert out.exit_code == 0 and "Nothing has been sealed yet" in out.output
    old_events(2)
    sealing.seal(lag_seconds=0)
    out = runner.invoke(args=["audit", "anchor", "send"])
    assert out.exit_code == 0, out.output
    assert out.output.count("sent ") == 3
    out = runner.invoke(args=["audit", "anchor", "send"])
    assert out.exit_code == 0 and "Nothing is due" in out.output  # the interval holds
    hook.script = [503]
    out = runner.invoke(args=["audit", "anchor", "send", "--now"])
    assert out.exit_code == 1
    assert f"Not delivered to: {hook.url}/anchor" in out.output
    assert len(smtp.messages) == 4
    out = runner.invoke(args=["audit", "anchor", "status"])
    assert out.exit_code == 0, out.output
    assert f"Newest seal: block {head().id}" in out.output
    assert "audit@example.cn, archive@example.cn" in out.output
    assert re.search(r"pending\s+http\s+" + re.escape(hook.url), out.output)
    assert "HTTP 503 Service Unavailable" in out.output
    assert len(re.findall(r"^\s*\d+\s+sent\s", out.output, re.MULTILINE)) == 5


def test_cli_seal_hands_the_anchor_over(app, city, runner, hook, smtp):
    AuditEvent.create(action="cli.act")
    out = runner.invoke(args=["audit", "seal", "--lag", "0"])
    assert out.exit_code == 0 and "off-site anchor delivery queued" in out.output
    assert [r.state for r in deliveries()] == ["sent"] * 3
    configure(app, audit_anchor_email="", audit_anchor_url="")
    AuditEvent.create(action="cli.act")
    out = runner.invoke(args=["audit", "seal", "--lag", "0"])
    assert "no off-site destination is configured" in out.output


def test_cli_send_without_destinations(app, runner):
    configure(app, audit_anchor_email="", audit_anchor_url="")
    out = runner.invoke(args=["audit", "anchor", "send", "--now"])
    assert out.exit_code == 1 and "No off-site destination is configured" in out.output


# -- the page -------------------------------------------------------------------------------
def _token(client) -> str:
    html = client.get("/audit/?sort=time&order=desc").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_page_panel_and_send_now(app, client, org, make_user, login, hook, smtp):
    old_events(2)
    sealing.seal(lag_seconds=0)
    auditor = make_user("auditor", role="audit_admin", region=org["city"])
    login(auditor)
    html = client.get("/audit/?sort=time&order=desc").get_data(as_text=True)
    assert "Off-site anchor" in html and f"Newest seal: block {head().id}" in html
    assert "audit@example.cn" in html and "Nothing sent yet." in html
    assert 'hx-post="/audit/anchor/send"' in html

    resp = client.post("/audit/anchor/send", headers={"X-CSRFToken": _token(client),
                                                      "HX-Request": "true"})
    assert resp.status_code == 200
    fragment = resp.get_data(as_text=True)
    assert 'id="anchor-panel"' in fragment
    assert fragment.count("Sent") == 3 and "<html" not in fragment
    assert "every 2s" not in fragment  # nothing pending: the panel does not poll
    assert len(smtp.messages) == 2 and len(hook.requests) == 1
    event = AuditEvent.get(AuditEvent.action == "audit.anchor.send")
    assert event.user_id == auditor.id and event.object_id == str(head().id)
    assert {r.trigger for r in deliveries()} == {"page"}

    hook.script = [503]
    resp = client.post("/audit/anchor/send", headers={"X-CSRFToken": _token(client),
                                                      "HX-Request": "true"})
    fragment = resp.get_data(as_text=True)
    assert "Pending" in fragment and "HTTP 503" in fragment
    assert 'hx-trigger="every 2s"' in fragment  # polls until the retry is done
    assert client.get("/audit/anchor").status_code == 200


def test_send_now_needs_a_whole_deployment_audit_reader(app, client, org, make_user, login):
    old_events(1)
    sealing.seal(lag_seconds=0)
    county = make_user("county_auditor", role="audit_admin", region=org["a"])
    login(county)
    html = client.get("/audit/?sort=time&order=desc").get_data(as_text=True)
    assert "Off-site anchor" in html and "/audit/anchor/send" not in html
    resp = client.post("/audit/anchor/send", headers={"X-CSRFToken": _token(client)})
    assert resp.status_code == 403
    assert deliveries() == []
    assert not AuditEvent.select().where(AuditEvent.action == "audit.anchor.send").exists()


def test_send_now_without_destinations_changes_nothing(app, client, org, make_user, login):
    configure(app, audit_anchor_email="", audit_anchor_url="")
    old_events(1)
    sealing.seal(lag_seconds=0)
    login(make_user("auditor2", role="audit_admin", region=org["city"]))
    html = client.get("/audit/?sort=time&order=desc").get_data(as_text=True)
    assert "No off-site destination is configured" in html
    resp = client.post("/audit/anchor/send", headers={"X-CSRFToken": _token(client)})
    assert resp.status_code == 409
    assert deliveries() == []
    assert not AuditEvent.select().where(AuditEvent.action == "audit.anchor.send").exists()


def test_send_now_on_a_tampered_chain_is_refused_and_recorded(app, client, org, make_user,
                                                              login, hook):
    old_events(2)
    sealing.seal(lag_seconds=0)
    drop_guard("audit_block")
    AuditBlock.update(hash="f" * 64).where(AuditBlock.id == head().id).execute()
    login(make_user("auditor3", role="audit_admin", region=org["city"]))
    resp = client.post("/audit/anchor/send", headers={"X-CSRFToken": _token(client),
                                                      "HX-Request": "true"})
    assert resp.status_code == 200
    assert "The anchor was not sent." in resp.get_data(as_text=True)
    assert deliveries() == [] and hook.requests == []
    event = AuditEvent.get(AuditEvent.action == "audit.anchor.send")
    assert event.success is False and "missing or changed" in event.summary


# -- settings -------------------------------------------------------------------------------
BASE_ENV = {"QL_SMTP_URL": "smtp://127.0.0.1:25"}


@pytest.mark.parametrize("env, message", [
    ({"QL_AUDIT_ANCHOR_EMAIL": "audit@example.cn, not-an-address"},
     "QL_AUDIT_ANCHOR_EMAIL: 'not-an-address' is not an e-mail address"),
    ({"QL_AUDIT_ANCHOR_EMAIL": "audit@example.cn;archive@example.cn"},
     "QL_AUDIT_ANCHOR_EMAIL: 'audit@example.cn;archive@example.cn' is not an e-mail address"),
    ({"QL_AUDIT_ANCHOR_EMAIL": "audit@example.cn", "QL_SMTP_URL": ""},
     "QL_AUDIT_ANCHOR_EMAIL needs QL_SMTP_URL"),
    ({"QL_AUDIT_ANCHOR_URL": "ftp://log.example.cn/anchor", "QL_AUDIT_ANCHOR_SECRET": "s"},
     "QL_AUDIT_ANCHOR_URL: 'ftp://log.example.cn/anchor' is not an http:// or https:// URL"),
    ({"QL_AUDIT_ANCHOR_URL": "https:///anchor", "QL_AUDIT_ANCHOR_SECRET": "s"},
     "is not an http:// or https:// URL with a host"),
    ({"QL_AUDIT_ANCHOR_URL": "https://log.example.cn/anchor"},
     "QL_AUDIT_ANCHOR_URL needs QL_AUDIT_ANCHOR_SECRET"),
    ({"QL_AUDIT_ANCHOR_INTERVAL_MINUTES": "0"},
     "QL_AUDIT_ANCHOR_INTERVAL_MINUTES: expected at least 1, got 0"),
    ({"QL_AUDIT_ANCHOR_INTERVAL_MINUTES": "hourly"}, "QL_AUDIT_ANCHOR_INTERVAL_MINUTES: "),
])
def test_settings_refuse_bad_anchor_destinations(tmp_path, env, message):
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({**BASE_ENV, "QL_INSTANCE_PATH": str(tmp_path), **env})
    assert message in str(exc.value)


def test_settings_read_anchor_destinations(tmp_path):
    settings = Settings.from_env({
        **BASE_ENV, "QL_INSTANCE_PATH": str(tmp_path),
        "QL_AUDIT_ANCHOR_EMAIL": " audit@example.cn , ops@localhost,",
        "QL_AUDIT_ANCHOR_URL": "https://log.example.cn/anchor",
        "QL_AUDIT_ANCHOR_SECRET": "s3cret", "QL_AUDIT_ANCHOR_INTERVAL_MINUTES": "15"})
    assert settings.audit_anchor_emails() == ("audit@example.cn", "ops@localhost")
    assert settings.audit_anchor_interval_minutes == 15
    assert [d.key for d in anchor.destinations(settings)] == [
        "email|audit@example.cn", "email|ops@localhost", "http|https://log.example.cn/anchor"]
    assert Settings.from_env({"QL_INSTANCE_PATH": str(tmp_path)}) \
        .audit_anchor_interval_minutes == 60


@pytest.mark.browser
def test_panel_sends_in_place_and_polls_until_delivered(app, live_server, page, org,
                                                         make_user, hook, smtp):
    from playwright.sync_api import expect

    from tests.browser import browser_login, shot
    from tests.conftest import STRONG
    old_events(3)
    sealing.seal(lag_seconds=0)
    auditor = make_user("e2e_anchor", role="audit_admin", region=org["city"], totp=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server, auditor.username, STRONG, auditor.totp_secret)
    page.goto(f"{live_server}/audit/?sort=time&order=desc")
    panel = page.locator("#anchor-panel")
    expect(panel).to_contain_text("audit@example.cn")
    hook.script = [503]
    page.click("#anchor-panel button[type=submit]")
    expect(panel.locator(".badge-yellow")).to_have_count(1)  # the receiver: pending
    expect(panel.locator(".badge-ok")).to_have_count(2)  # both addresses: sent
    shot(page, "audit-anchor-pending")
    (row,) = deliveries("http")
    anchor.deliver(now=row.next_attempt_at)  # the worker's retry, while the page polls
    expect(panel.locator(".badge-ok")).to_have_count(3, timeout=10_000)
    expect(panel).not_to_have_attribute("hx-trigger", "every 2s")
    shot(page, "audit-anchor-sent")
    assert page.url.endswith("/audit/?sort=time&order=desc")  # swapped in place
    assert not [e for e in errors if "Content Security Policy" in e], errors
