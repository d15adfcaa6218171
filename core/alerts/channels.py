"""Delivery channels (通知渠道): in-app inbox, e-mail over SMTP, SMS gateway, webhook.

A channel has ``code``, ``label``, ``configured(settings)`` (is it set up at all, and
``setting``: the QL_* setting that sets it up), ``available(user, settings)`` (can this
user be reached on it) and ``send(notification, recipient)``, which raises
:class:`PermanentFailure` (do not retry) or :class:`TemporaryFailure` (retry later).
A channel may add ``send_many(notifications)`` to deliver a batch in one transaction.
Every message carries the notification's stable id so a receiver can deduplicate.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from flask import current_app

from core.i18n import _l

RETRYABLE_HTTP = {408, 429}


class DeliveryError(Exception):
    """A notification could not be delivered."""


class PermanentFailure(DeliveryError):
    """The receiver refused the notification for good (e.g. HTTP 400): do not retry."""


class TemporaryFailure(DeliveryError):
    """The receiver is unreachable or busy (e.g. HTTP 503): retry with backoff."""


def _settings():
    return current_app.config["QL_SETTINGS"]


def email_of(user) -> str:
    person = user.person if user.person_id else None
    return user.email or (person.email if person else "")


def phone_of(user) -> str:
    person = user.person if user.person_id else None
    return user.phone or (person.phone if person else "")


def payload(notification, recipient) -> dict:
    """The JSON document the SMS gateway and the webhook receive (see docs/alerts.md)."""
    alert = notification.alert
    return {
        "id": notification.uid,
        "alert": {
            "id": alert.id, "kind": alert.kind, "level": alert.level,
            "subject": alert.subject, "region_code": alert.region.code,
            "ref": alert.ref, "state": alert.state,
            "created_at": alert.created_at.isoformat() + "Z",
        },
        "recipient": {"user_id": recipient.id, "username": recipient.username},
        "escalation_level": notification.escalation_level,
    }


def post_json(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST ``body``; 2xx is delivered, 4xx (but 408/429) permanent, the rest temporary."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=_settings().alert_send_timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in RETRYABLE_HTTP:
            raise PermanentFailure(f"HTTP {exc.code} {exc.reason}") from None
        raise TemporaryFailure(f"HTTP {exc.code} {exc.reason}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None


class InboxChannel:
    """The in-app inbox: an InboxItem row, unique per (alert, user)."""

    code = "inbox"
    label = _l("In-app inbox")
    transactional = True

    def configured(self, settings) -> bool:
        return True

    def available(self, user, settings) -> bool:
        return True

    def send(self, notification, recipient) -> None:
        self.send_many([notification])

    def send_many(self, notifications) -> None:
        from core.alerts.models import InboxItem
        from core.db import utcnow
        now = utcnow()
        rows = [{"alert": n.alert_id, "user": n.user_id, "notification_uid": n.uid,
                 "created_at": now} for n in notifications]
        if rows:
            InboxItem.insert_many(rows).on_conflict_ignore().execute()


class EmailChannel:
    """E-mail over SMTP (QL_SMTP_URL ``smtp://[user:pass@]host:port`` or ``smtps://``)."""

    code = "email"
    label = _l("E-mail")
    setting = "QL_SMTP_URL"

    def configured(self, settings) -> bool:
        return bool(settings.smtp_url)

    def available(self, user, settings) -> bool:
        return bool(settings.smtp_url and email_of(user))

    def send(self, notification, recipient) -> None:
        settings = _settings()
        to = email_of(recipient)
        if not to:
            raise PermanentFailure("the recipient has no e-mail address")
        alert = notification.alert
        msg = EmailMessage()
        msg["From"] = settings.smtp_from
        msg["To"] = to
        from core.alerts.service import LEVEL_LABELS, kind_label, title
        msg["Subject"] = f"[{LEVEL_LABELS[alert.level]}] {title(alert)}"
        msg["Message-ID"] = f"<{notification.uid}@qinglian>"
        msg["X-Qinglian-Notification"] = notification.uid
        msg["X-Qinglian-Alert"] = str(alert.id)
        msg.set_content(f"{title(alert)}\n\n{kind_label(alert.kind)} · "
                        f"{LEVEL_LABELS[alert.level]} · {alert.region.name}\n{alert.ref}\n")
        smtp_send(msg)


def smtp_send(msg: EmailMessage) -> None:
    """Hand ``msg`` to QL_SMTP_URL (``smtp://[user:pass@]host:port`` or ``smtps://``).

    A 5xx refusal raises PermanentFailure, anything else TemporaryFailure. The e-mail
    channel and the audit anchor's delivery (which attaches the anchor) both send here."""
    settings = _settings()
    url = urlparse(settings.smtp_url)
    smtps = url.scheme == "smtps"
    cls = smtplib.SMTP_SSL if smtps else smtplib.SMTP
    try:
        with cls(url.hostname or "localhost", url.port or (465 if smtps else 25),
                 timeout=settings.alert_send_timeout) as smtp:
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if all(500 <= c < 600 for c in codes):
            raise PermanentFailure(f"recipient refused: {codes}") from None
        raise TemporaryFailure(f"recipient deferred: {codes}") from None
    except smtplib.SMTPResponseException as exc:
        failure = PermanentFailure if 500 <= exc.smtp_code < 600 else TemporaryFailure
        raise failure(f"SMTP {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None


class SmsChannel:
    """SMS through an HTTP gateway: a JSON POST to QL_SMS_GATEWAY_URL."""

    code = "sms"
    label = _l("SMS")
    setting = "QL_SMS_GATEWAY_URL"

    def configured(self, settings) -> bool:
        return bool(settings.sms_gateway_url)

    def available(self, user, settings) -> bool:
        return bool(settings.sms_gateway_url and phone_of(user))

    def send(self, notification, recipient) -> None:
        phone = phone_of(recipient)
        if not phone:
            raise PermanentFailure("the recipient has no phone number")
        alert = notification.alert
        doc = payload(notification, recipient)
        from core.alerts.service import LEVEL_LABELS, title
        doc.update(to=phone, text=f"[{LEVEL_LABELS[alert.level]}] {title(alert)}")
        body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
        post_json(_settings().sms_gateway_url, body,
                  {"X-Qinglian-Notification": notification.uid})


class WebhookChannel:
    """A webhook: JSON POST to QL_WEBHOOK_URL signed with HMAC-SHA256 over the body."""

    code = "webhook"
    label = _l("Webhook")
    setting = "QL_WEBHOOK_URL"

    def configured(self, settings) -> bool:
        return bool(settings.webhook_url)

    def available(self, user, settings) -> bool:
        return bool(settings.webhook_url)

    def send(self, notification, recipient) -> None:
        settings = _settings()
        body = json.dumps(payload(notification, recipient), ensure_ascii=False,
                          sort_keys=True).encode()
        post_json(settings.webhook_url, body, {
            "X-Qinglian-Notification": notification.uid,
            "X-Qinglian-Signature": "sha256=" + sign(settings.webhook_secret, body),
        })


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` under the webhook secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


CORE_CHANNELS = (InboxChannel(), EmailChannel(), SmsChannel(), WebhookChannel())
