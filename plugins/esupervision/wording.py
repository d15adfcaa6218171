"""How e-supervision's alerts read (their subject) and where they lead (their link).

Each alert carries what its words need in ``details``; the subject is worded from them in
the reader's language on pages, e-mail and SMS (``ql_alert_kinds`` ``subject``), and once
in the deployment's language as the stored subject line."""
from __future__ import annotations

from collections.abc import Callable

from flask import url_for

from core.api import _, deployment_language
from plugins.esupervision.labels import month_label
from plugins.esupervision.widgets import signal_label


def signal(d: dict) -> str:
    """A yellow warning or red signal: "环节超时 · 510104-20261023-0001-T 食品经营许可"."""
    return _("%(signal)s · %(serial)s %(item)s", signal=signal_label(d["code"]),
             serial=d["serial"], item=d.get("item", ""))


def stalled(d: dict) -> str:
    return _("Case stalled: %(serial)s %(item)s, no event for %(days)d working days",
             serial=d["serial"], item=d.get("item", ""), days=int(d["days"]))


def absent(d: dict) -> str:
    if d["why"] == "disabled":
        return _("Handler absent: %(serial)s %(item)s, the account %(who)s is disabled",
                 serial=d["serial"], item=d.get("item", ""), who=d["who"])
    return _("Handler absent: %(serial)s %(item)s, nobody holds the handler's post",
             serial=d["serial"], item=d.get("item", ""))


def rectification_overdue(d: dict) -> str:
    return _("Rectification not reported: %(serial)s, due %(due)s", serial=d["serial"],
             due=d["due"])


def letter(d: dict) -> str:
    return _("Suggestion letter %(number)s to %(to)s: %(total)s points in the %(month)s "
             "evaluation", number=d["number"], to=d["to"], total=d["total"],
             month=month_label(d["month"]))


def letter_overdue(d: dict) -> str:
    return _("Suggestion letter %(number)s: no rectification report from %(to)s by %(due)s",
             number=d["number"], to=d["to"], due=d["due"])


def report_returned(d: dict) -> str:
    return _("Rectification report on %(what)s returned: %(note)s (new deadline %(due)s)",
             what=d["what"], note=d["note"], due=d["due"])


def stored(words: Callable[[dict], str], details: dict) -> str:
    """The subject line kept with the alert: in the deployment's language."""
    with deployment_language():
        return words(details)[:200]


PAGES = {"esupervision.case": ("esupervision.case", "case_id"),
         "esupervision.supervision": ("esupervision.supervision_detail", "sc_id"),
         "esupervision.rectification": ("esupervision.supervision_report", "sc_id"),
         "esupervision.letter": ("esupervision.letter", "letter_id")}


def link(ref: str) -> str | None:
    """The page of an alert's matter from its reference ("esupervision.case:12")."""
    kind, _sep, ident = ref.partition(":")
    page = PAGES.get(kind)
    if page is None or not ident.isdigit():
        return None
    return url_for(page[0], **{page[1]: int(ident)})
