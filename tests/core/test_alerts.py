"""The alert bus without HTTP: emit, recipients, dedupe, lifecycle, escalation, outbox."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from core.alerts import service
from core.alerts.models import Alert, InboxItem, Notification
from core.alerts.outbox import dispatch, sweep
from core.audit.models import AuditEvent
from core.db import db, utcnow
from core.org.models import Person


def person(name):
    return Person.get(Person.name == name)


@pytest.fixture
def people(org, make_user):
    """Accounts for the holders of the org fixture's posts (clerk, head, office head)."""
    out = {}
    for key in ("a", "b", "city"):
        out[f"clerk_{key}"] = make_user(f"clerk_{key}", person=person("受理员" + key))
        out[f"head_{key}"] = make_user(f"head_{key}", person=person("局长" + key))
        out[f"sup_{key}"] = make_user(f"sup_{key}", person=person("主任" + key))
    return out


class EscalatingKinds:
    """A throw-away plugin declaring a kind that escalates after one hour."""

    @staticmethod
    def ql_alert_kinds():
        return [{"code": "test.deadline", "label": "Deadline", "level": "yellow",
                 "escalate_after_hours": 1}]


@pytest.fixture
def escalating(app):
    from core.hookspecs import hookimpl
    from core.plugins import host
    plugin = EscalatingKinds()
    hookimpl(EscalatingKinds.ql_alert_kinds)
    host().pm.register(plugin, name="test-escalating")
    app.extensions.pop("qinglian.alert_kinds", None)
    yield "test.deadline"
    host().pm.unregister(plugin)
    app.extensions.pop("qinglian.alert_kinds", None)


def test_emit_writes_alert_outbox_and_audit_for_post_holders(org, people):
    with db.atomic():
        alert = service.emit("core.test", org["a"], "Window 3 is unattended",
                             target_post=org["clerk_a"], ref="case-1")
    assert alert.state == "open" and alert.level == "reminder" and not alert.deduplicated
    rows = list(Notification.select().where(Notification.alert == alert.id))
    assert [(n.user_id, n.channel, n.state) for n in rows] == \
        [(people["clerk_a"].id, "inbox", "pending")]
    assert len(rows[0].uid) == 32
    event = AuditEvent.get(AuditEvent.action == "alert.raise")
    assert event.object_id == str(alert.id) and event.region_id == org["a"].id


def test_emit_refuses_bad_input_and_writes_nothing(org, people):
    with pytest.raises(service.AlertError, match="Unknown alert kind nope"):
        service.emit("nope", org["a"], "x", target_user=people["clerk_a"])
    with pytest.raises(service.AlertError, match="level"):
        service.emit("core.test", org["a"], "x", target_user=people["clerk_a"], level="pink")
    with pytest.raises(service.AlertError, match="subject"):
        service.emit("core.test", org["a"], "  ", target_user=people["clerk_a"])
    with pytest.raises(service.AlertError, match="target"):
        service.emit("core.test", org["a"], "x")
    assert Alert.select().count() == 0 and Notification.select().count() == 0
    long = service.emit("core.test", org["a"], "长" * 300, target_user=people["clerk_a"])
    assert len(long.subject) == 200 and long.subject.endswith("…")


def test_department_target_reaches_its_head_and_user_target_the_user(org, people):
    a = service.emit("core.test", org["a"], "dept", target_department=org["dept_a"])
    u = service.emit("core.test", org["a"], "user", target_user=people["sup_b"])
    assert [n.user_id for n in a.notifications] == [people["head_a"].id]
    assert [n.user_id for n in u.notifications] == [people["sup_b"].id]


def test_ended_holding_is_not_a_recipient_and_vacant_post_goes_to_the_head(org, people):
    from core.org.models import PostHolding
    PostHolding.update(end=dt.date(2024, 6, 30)).where(
        PostHolding.post == org["clerk_a"]).execute()
    alert = service.emit("core.test", org["a"], "vacant", target_post=org["clerk_a"])
    assert alert.escalation_level == 1 and alert.escalated_to == "department_head"
    assert [n.user_id for n in alert.notifications] == [people["head_a"].id]


def test_dedupe_key_keeps_one_open_alert_until_resolved(org, people):
    first = service.emit("core.test", org["a"], "late", target_post=org["clerk_a"],
                         dedupe_key="case-7")
    again = service.emit("core.test", org["a"], "late again", target_post=org["clerk_a"],
                         dedupe_key="case-7")
    assert again.deduplicated and again.id == first.id
    assert Notification.select().count() == 1
    service.acknowledge(first, people["clerk_a"])
    assert service.emit("core.test", org["a"], "x", target_post=org["clerk_a"],
                        dedupe_key="case-7").id == first.id
    service.resolve(Alert.get_by_id(first.id), people["clerk_a"], "Window staffed again.")
    third = service.emit("core.test", org["a"], "late once more", target_post=org["clerk_a"],
                         dedupe_key="case-7")
    assert not third.deduplicated and third.id != first.id
    assert Alert.get_by_id(first.id).open_key is None


def test_concurrent_emits_of_one_dedupe_key_raise_one_alert(app, org, people):
    """Eight threads, each with its own connection, emit the same key at once."""
    db.commit() if db.in_transaction() else None
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        try:
            with app.app_context(), db.connection_context():
                barrier.wait()
                with db.atomic():
                    results.append(service.emit("core.test", org["a"].id, "race",
                                                target_post=org["clerk_a"].id,
                                                dedupe_key="race-1"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({a.id for a in results}) == 1
    assert sum(1 for a in results if not a.deduplicated) == 1
    assert Alert.select().where(Alert.open_key == "core.test|race-1").count() == 1
    assert Alert.select().count() == 1
    assert Notification.select().count() == 1


def test_acknowledge_and_resolve_with_note_are_audited(org, people):
    alert = service.emit("core.test", org["a"], "x", target_post=org["clerk_a"])
    dispatch()
    assert service.unread_count(people["clerk_a"]) == 1
    alert = service.acknowledge(alert, people["clerk_a"])
    assert alert.state == "acknowledged" and alert.acknowledged_by_id == people["clerk_a"].id
    assert service.unread_count(people["clerk_a"]) == 0
    with pytest.raises(service.AlertError, match="only an open|Only an open"):
        service.acknowledge(alert, people["clerk_a"])
    with pytest.raises(service.AlertError, match="note"):
        service.resolve(alert, people["clerk_a"], "  ")
    assert Alert.get_by_id(alert.id).state == "acknowledged"
    alert = service.resolve(alert, people["clerk_a"], "Done.")
    assert alert.state == "resolved" and alert.resolution_note == "Done."
    with pytest.raises(service.AlertError, match="already resolved"):
        service.resolve(alert, people["clerk_a"], "again")
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.object_type == "alert")
               .order_by(AuditEvent.id)]
    assert actions == ["alert.raise", "alert.acknowledge", "alert.resolve"]


def test_escalation_goes_to_head_then_supervision_office(org, people, escalating):
    t0 = utcnow()
    alert = service.emit(escalating, org["a"], "approval overdue", target_post=org["clerk_a"],
                         now=t0)
    assert alert.escalate_at == t0 + dt.timedelta(hours=1)
    assert service.escalate_due(t0 + dt.timedelta(minutes=59)) == 0
    assert service.escalate_due(t0 + dt.timedelta(hours=1, minutes=1)) == 1
    alert = Alert.get_by_id(alert.id)
    assert (alert.escalation_level, alert.escalated_to) == (1, "department_head")
    assert alert.escalate_at == t0 + dt.timedelta(hours=2, minutes=1)
    recipients = {(n.user_id, n.escalation_level) for n in alert.notifications}
    assert recipients == {(people["clerk_a"].id, 0), (people["head_a"].id, 1)}
    service.acknowledge(alert, people["head_a"])  # acknowledged still escalates
    assert service.escalate_due(t0 + dt.timedelta(hours=3)) == 1
    alert = Alert.get_by_id(alert.id)
    assert (alert.escalation_level, alert.escalated_to) == (2, "supervision_office")
    assert alert.escalate_at is None
    assert people["sup_a"].id in {n.user_id for n in alert.notifications}
    assert service.escalate_due(t0 + dt.timedelta(hours=9)) == 0
    assert AuditEvent.select().where(AuditEvent.action == "alert.escalate").count() == 2


def test_resolved_alert_does_not_escalate(org, people, escalating):
    t0 = utcnow()
    alert = service.emit(escalating, org["a"], "x", target_post=org["clerk_a"], now=t0)
    service.resolve(alert, people["clerk_a"], "handled")
    assert service.escalate_due(t0 + dt.timedelta(hours=5)) == 0


def test_supervision_office_is_found_up_the_region_tree(org, people, escalating):
    from core.org.models import Department
    Department.update(is_supervision_office=False).where(
        Department.id == org["sup_a"].id).execute()
    t0 = utcnow()
    alert = service.emit(escalating, org["a"], "x", target_department=org["dept_a"], now=t0)
    service.escalate_due(t0 + dt.timedelta(hours=2))
    alert = Alert.get_by_id(alert.id)
    assert alert.escalated_to == "supervision_office"
    assert people["sup_city"].id in {n.user_id for n in alert.notifications}


def test_inbox_delivery_is_set_based_and_never_doubles(org, people):
    for i in range(3):
        service.emit("core.test", org["a"], f"n{i}", target_post=org["clerk_a"])
    assert dispatch()["batched"] == 3
    assert dispatch()["batched"] == 0
    assert InboxItem.select().where(InboxItem.user == people["clerk_a"].id).count() == 3
    assert Notification.select().where(Notification.state == "sent").count() == 3
    assert service.outbox_counts() == {"pending": 0, "failed": 0, "sent": 3}


def test_sweep_returns_expired_leases_and_delivers(org, people):
    alert = service.emit("core.test", org["a"], "x", target_post=org["clerk_a"])
    past = utcnow() - dt.timedelta(minutes=5)
    Notification.update(claimed_until=past, claim_token="dead-worker").execute()
    live = utcnow() + dt.timedelta(minutes=5)
    alert2 = service.emit("core.test", org["a"], "y", target_post=org["clerk_b"])
    Notification.update(claimed_until=live, claim_token="busy-worker").where(
        Notification.alert == alert2.id).execute()
    done = sweep()
    assert done["released"] == 1 and done["batched"] == 1
    assert Notification.get(Notification.alert == alert.id).state == "sent"
    assert Notification.get(Notification.alert == alert2.id).state == "pending"


def test_channel_choice_follows_preferences_and_red_goes_everywhere(app, org, make_user):
    from dataclasses import replace
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"], smtp_url="smtp://127.0.0.1:1",
                                        sms_gateway_url="http://127.0.0.1:1/sms")
    user = make_user("wang", person=person("受理员a"), email="wang@example.cn",
                     phone="13800000000")
    y = service.emit("core.test", org["a"], "y", target_user=user, level="yellow")
    assert {n.channel for n in y.notifications} == {"inbox", "email"}
    service.set_preferences(user, {"email": False, "sms": True})
    assert service.preferences(user) == {"inbox": True, "email": False, "sms": True,
                                         "webhook": False}
    y2 = service.emit("core.test", org["a"], "y2", target_user=user, level="yellow")
    assert {n.channel for n in y2.notifications} == {"inbox", "sms"}
    r = service.emit("core.test", org["a"], "r", target_user=user, level="red")
    assert {n.channel for n in r.notifications} == {"inbox", "email", "sms"}
    with pytest.raises(service.AlertError, match="Unknown channel"):
        service.set_preferences(user, {"pigeon": True})


class SmsKinds:
    """A throw-away plugin declaring a reminder kind that always goes by SMS."""

    @staticmethod
    def ql_alert_kinds():
        return [{"code": "test.arrival", "label": "Arrival", "level": "reminder",
                 "escalate_after_hours": 0, "channels": ["sms"]}]


def test_a_kind_names_the_channels_it_always_uses(app, org, make_user):
    """A site-arrival reminder is an SMS whatever the preferences (which still hold for
    other kinds); a user who cannot be reached there gets the rest; the raiser reads what
    went where with notifications_of."""
    from dataclasses import replace

    from core.hookspecs import hookimpl
    from core.plugins import host
    app.config["QL_SETTINGS"] = replace(app.config["QL_SETTINGS"], smtp_url="smtp://127.0.0.1:1",
                                        sms_gateway_url="http://127.0.0.1:1/sms")
    plugin = SmsKinds()
    hookimpl(SmsKinds.ql_alert_kinds)
    host().pm.register(plugin, name="test-sms-kinds")
    app.extensions.pop("qinglian.alert_kinds", None)
    try:
        phone = make_user("wang", person=person("受理员a"), email="w@example.cn",
                          phone="13800000000")
        no_phone = make_user("li", person=person("局长a"), email="l@example.cn")
        service.set_preferences(phone, {"email": True, "sms": False})
        arrival = service.emit("test.arrival", org["a"], "到场提醒", target_user=phone)
        plain = service.emit("core.test", org["a"], "普通提醒", target_user=phone)
        other = service.emit("test.arrival", org["a"], "到场提醒", target_user=no_phone)
        assert {n.channel for n in arrival.notifications} == {"inbox", "email", "sms"}
        assert {n.channel for n in plain.notifications} == {"inbox", "email"}
        assert {n.channel for n in other.notifications} == {"inbox", "email"}
        rows = service.notifications_of([arrival.id, plain.id])
        assert sorted(r["channel"] for r in rows[arrival.id]) == ["email", "inbox", "sms"]
        assert {(r["user_id"], r["state"], r["attempts"]) for r in rows[plain.id]} == \
            {(phone.id, "pending", 0)}
        assert service.notifications_of([]) == {}
    finally:
        host().pm.unregister(plugin)
        app.extensions.pop("qinglian.alert_kinds", None)


def test_emit_survives_a_queue_outage(app, org, people, settings, caplog):
    """The outbox is the truth: an unreachable queue must not undo the caller's work."""
    from core.queue import huey
    from tests.core.alert_receivers import free_port
    huey.immediate = False
    huey.configure(f"redis://127.0.0.1:{free_port()}/0")
    service._last_kick = 0.0
    try:
        alert = service.emit("core.test", org["a"], "queue down", target_post=org["clerk_a"])
    finally:
        huey.configure(settings.queue_url)
        huey.immediate = True
    assert Alert.get_by_id(alert.id).subject == "queue down"
    assert "could not reach the job queue" in caplog.text
    assert dispatch()["batched"] == 1
