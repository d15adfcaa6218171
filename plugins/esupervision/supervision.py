"""Supervision cases (督办) for red signals and accountability records (问责).

verify (核实: confirmed, or dismissed with a reason) → rectification demanded (整改,
deadline in working days) → rectification reported (回告) → closed. A rectification
not reported by its due day escalates through the alert bus. Every step is audited.
"""
from __future__ import annotations

import datetime as dt

from core.api import (
    Alert,
    Region,
    _,
    add_workdays,
    clean_text,
    db,
    deployment_language,
    emit,
    enabled_for,
    first_record,
    has_permission,
    is_postgres,
    publish,
    record,
    resolve,
    supervision_office,
    utcnow,
)
from core.api import today as current_day
from plugins.esupervision import reports, wording
from plugins.esupervision.models import Accountability, Signal, SupervisionCase

PERM = "esupervision.supervise"
OVERDUE_KIND = "esupervision.rectification.overdue"
TRANSFER_ACTION = "esupervision.supervision.transfer"
TRANSFERRED_EVENT = "esupervision.supervision.transferred"


class SupervisionError(ValueError):
    """A supervision step that is not allowed now, or bad input (message names it)."""


def _allowed(user, region_id: int) -> None:
    if user is not None and not has_permission(user, PERM, region_id):
        raise SupervisionError(_("you may not supervise cases of this region"))


def _name(user) -> str:
    return getattr(user, "username", "") or "system"


def _text(value: str, field: str, required: bool = True, size: int = 4000) -> str:
    text = (value or "").strip()
    if required and not text:
        raise SupervisionError(_("%(field)s: is required", field=field))
    if len(text) > size:
        raise SupervisionError(_("%(field)s: at most %(n)d characters", field=field, n=size))
    return text


def _state(sc: SupervisionCase, *allowed: str) -> None:
    if sc.state not in allowed:
        raise SupervisionError(_("The supervision case is %(state)s; this step needs %(allowed)s.",
                                 state=sc.state, allowed=" / ".join(allowed)))


def open_case(signal: Signal, user) -> SupervisionCase:
    """Open a supervision case for a red signal (one per signal)."""
    if signal.level != "red":
        raise SupervisionError(_("only red signals are supervised"))
    _allowed(user, signal.region_id)
    with db.atomic():
        if SupervisionCase.select().where(SupervisionCase.signal == signal).exists():
            raise SupervisionError(_("this signal already has a supervision case"))
        sc = SupervisionCase.create(signal=signal, case=signal.case_id,
                                    region=signal.region_id,
                                    department=signal.case.department_id,
                                    opened_by=_name(user))
        record("esupervision.supervision.open", object_type="supervision_case",
               object_id=sc.id, region_id=sc.region_id, user=user,
               summary=f"supervision opened for {signal.code} on {signal.case.serial}")
    return sc


def verify(sc: SupervisionCase, user, finding: str, reason: str) -> SupervisionCase:
    """Record the finding (核实): ``confirmed`` or ``dismissed`` (dismissal closes)."""
    _allowed(user, sc.region_id)
    _state(sc, "opened")
    if finding not in ("confirmed", "dismissed"):
        raise SupervisionError(_("finding: must be confirmed or dismissed"))
    reason = _text(reason, "reason", required=finding == "dismissed")
    with db.atomic():
        changes = {"finding": finding, "finding_reason": reason, "verified_by": _name(user),
                   "verified_at": utcnow()}
        if finding == "dismissed":
            changes.update(state="dismissed", closed_at=utcnow())
        SupervisionCase.update(**changes).where(SupervisionCase.id == sc.id).execute()
        if finding == "dismissed":
            with deployment_language():
                text = _("Signal dismissed on verification: %(reason)s", reason=reason)
            _resolve_alerts(sc, user, text)
            _publish_closed(sc, "dismissed", changes["closed_at"])
        record("esupervision.supervision.verify", object_type="supervision_case",
               object_id=sc.id, region_id=sc.region_id, user=user,
               summary=f"signal {finding}", changes={"finding": ["", finding]})
    return SupervisionCase.get_by_id(sc.id)


def demand_rectification(sc: SupervisionCase, user, demand: str, days: int,
                         today: dt.date | None = None) -> SupervisionCase:
    """Demand rectification (整改) within ``days`` working days."""
    _allowed(user, sc.region_id)
    _state(sc, "opened")
    if sc.finding != "confirmed":
        raise SupervisionError(_("verify the signal (confirmed) before demanding rectification"))
    demand = _text(demand, "demand")
    if not isinstance(days, int) or not 1 <= days <= 120:
        raise SupervisionError(_("days: must be a whole number from 1 to 120"))
    due = add_workdays(today or current_day(), days)
    with db.atomic():
        SupervisionCase.update(state="rectifying", rectification_demand=demand,
                               rectification_days=days, rectification_due=due) \
            .where(SupervisionCase.id == sc.id).execute()
        record("esupervision.supervision.demand", object_type="supervision_case",
               object_id=sc.id, region_id=sc.region_id, user=user,
               summary=f"rectification demanded within {days} working days (due {due})")
    return SupervisionCase.get_by_id(sc.id)


def report_rectification(sc: SupervisionCase, user, text: str,
                         uploads: list | None = None) -> SupervisionCase:
    """Record the rectification report (回告) with its files: entered by the supervised
    department itself (its liaison, ``letters.may_reply``), or by a supervisor recording a
    report received on paper (marked so). A report returned for more is reported again."""
    from plugins.esupervision.letters import may_reply
    by_department = bool(sc.department_id) and may_reply(user, sc.department_id,
                                                         sc.region_id)
    if not by_department:
        _allowed(user, sc.region_id)
    _state(sc, "rectifying")
    text = _text(text, "report", size=8000)
    with db.atomic():
        reports.save(uploads or [], user, supervision=sc)
        SupervisionCase.update(state="reported", report_text=text, reported_at=utcnow(),
                               reported_by=_name(user), reported_on_paper=not by_department) \
            .where(SupervisionCase.id == sc.id).execute()
        reports.clear_returned(_department_ref(sc), user)
        record("esupervision.supervision.report", object_type="supervision_case",
               object_id=sc.id, region_id=sc.region_id, user=user,
               summary=("rectification reported by the department" if by_department
                        else "rectification report received on paper, recorded")
               + (f", {len(uploads)} file(s)" if uploads else ""))
    return SupervisionCase.get_by_id(sc.id)


def _department_ref(sc: SupervisionCase) -> str:
    return f"esupervision.rectification:{sc.id}"


def return_report(sc: SupervisionCase, user, reason: str, days: int = 5,
                  today: dt.date | None = None) -> SupervisionCase:
    """Send the rectification report back for more (退回): the reason is required, the
    department has ``days`` working days again, and is alerted."""
    _allowed(user, sc.region_id)
    _state(sc, "reported")
    reason = _text(reason, "reason", size=2000)
    if not isinstance(days, int) or not 1 <= days <= 120:
        raise SupervisionError(_("days: must be a whole number from 1 to 120"))
    due = add_workdays(today or current_day(), days)
    with db.atomic():
        SupervisionCase.update(state="rectifying", rectification_due=due, escalated_at=None,
                               review_note=reason, reviewed_by=_name(user),
                               reviewed_at=utcnow()) \
            .where(SupervisionCase.id == sc.id).execute()
        if sc.department_id:
            reports.tell_returned(sc.region_id, sc.department_id, _department_ref(sc),
                                  sc.case.serial, due, reason)
        record("esupervision.supervision.return", object_type="supervision_case",
               object_id=sc.id, region_id=sc.region_id, user=user,
               summary=f"rectification report returned, due again {due}")
    return SupervisionCase.get_by_id(sc.id)


def close(sc: SupervisionCase, user, note: str = "") -> SupervisionCase:
    """Close a supervision case after the rectification report."""
    _allowed(user, sc.region_id)
    _state(sc, "reported")
    note = _text(note, "note", required=False)
    with db.atomic():
        closed_at = utcnow()
        SupervisionCase.update(state="closed", closed_at=closed_at, closing_note=note,
                               reviewed_by=_name(user), reviewed_at=closed_at) \
            .where(SupervisionCase.id == sc.id).execute()
        _publish_closed(sc, "closed", closed_at)
        with deployment_language():
            text = _("Supervision case closed: %(note)s", note=note) if note \
                else _("Supervision case closed after the rectification report.")
        _resolve_alerts(sc, user, text)
        record("esupervision.supervision.close", object_type="supervision_case",
               object_id=sc.id, region_id=sc.region_id, user=user,
               summary="supervision case closed")
    return SupervisionCase.get_by_id(sc.id)


def _publish_closed(sc: SupervisionCase, outcome: str, at: dt.datetime) -> None:
    from plugins.esupervision.alerting import publish_closed
    publish_closed(Signal.get_by_id(sc.signal_id), outcome, at)


def _resolve_alerts(sc: SupervisionCase, user, note: str) -> int:
    """Resolve, with ``note``, the alerts still open about the supervised signal (the
    handler's and the supervision office's) and about its rectification."""
    from plugins.esupervision.alerting import kind_of
    signal = Signal.get_by_id(sc.signal_id)
    about_signal = ((Alert.kind == kind_of(signal.level, signal.code))
                    & Alert.dedupe_key.in_([signal.dedupe_key, signal.dedupe_key + ":office"]))
    about_case = Alert.ref.in_([f"esupervision.supervision:{sc.id}", _department_ref(sc)])
    rows = list(Alert.select().where((Alert.state != "resolved") & (about_signal | about_case)))
    for alert in rows:
        resolve(alert, user, note[:2000])
    return len(rows)


def record_accountability(sc: SupervisionCase, user, person_id: int | None, what: str,
                          outcome: str) -> Accountability:
    """Record accountability (问责) for a confirmed signal: the person held accountable,
    chosen from the people of the case's region (their name kept as it is today), what,
    and the outcome."""
    from plugins.esupervision.pickers import person_in_region
    _allowed(user, sc.region_id)
    if sc.finding != "confirmed":
        raise SupervisionError(_("accountability needs a confirmed signal"))
    person = person_in_region(sc.region_id, person_id)
    if person is None:
        raise SupervisionError(_("who: choose a person of the region from the list"))
    what = _text(what, "what")
    outcome = _text(outcome, "outcome")
    with db.atomic():
        row = Accountability.create(supervision=sc, region=sc.region_id, person=person,
                                    person_name=person.name[:64], what=what,
                                    outcome=outcome, recorded_by=_name(user))
        record("esupervision.accountability.record", object_type="accountability",
               object_id=row.id, region_id=sc.region_id, user=user,
               summary=f"accountability recorded for {person.name} (person {person.id})")
    return row


def transfer_record(sc: SupervisionCase):
    """The audit record of the case's transfer as a problem lead (``ts``, ``username``,
    ``summary``), or None: the audit trail is the only place a transfer is kept. Only a
    verified case is transferred, so the search starts at its verification."""
    if sc.verified_at is None:
        return None
    return first_record(TRANSFER_ACTION, "supervision_case", sc.id, region_id=sc.region_id,
                        since=sc.verified_at - dt.timedelta(seconds=1))


def transfer_payload(sc: SupervisionCase, reason: str, user, at: dt.datetime) -> dict:
    """The ``esupervision.supervision.transferred`` payload (docs/events.md): the shared
    fields as in ``esupervision.signal.raised``, and the transfer's."""
    from plugins.esupervision.alerting import Recipients, raised_payload, row_of
    raised = raised_payload(row_of(sc.signal_id), Recipients(),
                            Region.get_by_id(sc.region_id).code)
    payload = {"supervision_id": sc.id}
    payload.update({k: raised[k] for k in ("signal_id", "code", "level", "region_code",
                                           "post_id", "handler_username", "case")})
    payload.update(finding=sc.finding, reason=reason, transferred_by=_name(user),
                   transferred_at=at.replace(microsecond=0).isoformat())
    return payload


def transfer_as_lead(sc: SupervisionCase, user, reason: str) -> dict:
    """Transfer a supervision case whose signal was confirmed to the case supervision
    platform as a problem lead (移送问题线索): audited and published as
    ``esupervision.supervision.transferred`` (the cases plugin, when enabled, takes it up).
    Once per supervision case; ``reason`` is required. Returns the payload published."""
    _allowed(user, sc.region_id)
    reason = clean_text(reason, "reason", max_length=2000, multiline=True, required=True)
    if not enabled_for("cases", Region.get_by_id(sc.region_id)):  # nobody would take it
        raise SupervisionError(_("the case supervision platform does not run in this region"))
    with db.atomic():
        query = SupervisionCase.select().where(SupervisionCase.id == sc.id)
        sc = (query.for_update() if is_postgres() else query).get()
        if sc.finding != "confirmed":
            raise SupervisionError(_("only a supervision case whose signal was confirmed may "
                                     "be transferred as a problem lead"))
        if transfer_record(sc) is not None:
            raise SupervisionError(_("this supervision case was already transferred as a "
                                     "problem lead"))
        payload = transfer_payload(sc, reason, user, utcnow())
        record(TRANSFER_ACTION, object_type="supervision_case", object_id=sc.id,
               region_id=sc.region_id, user=user,
               summary="transferred to the case supervision platform as a problem lead",
               changes={"reason": ["", reason]})
        publish(TRANSFERRED_EVENT, payload)
    return payload


def escalate_overdue(today: dt.date, now: dt.datetime | None = None) -> list[str]:
    """Alert the department head and the supervision office about every rectification
    past its due day (once per supervision case)."""
    lines = []
    rows = list(SupervisionCase.select().where(
        (SupervisionCase.state == "rectifying") & (SupervisionCase.rectification_due < today)
        & SupervisionCase.escalated_at.is_null()))
    for sc in rows:
        with db.atomic():
            region = Region.get_by_id(sc.region_id)
            details = {"serial": sc.case.serial, "due": sc.rectification_due.isoformat(),
                       "item": sc.case.item_name}
            subject = wording.stored(wording.rectification_overdue, details)
            # the department's copy links to its own report page (it cannot open the
            # supervisor's), the office's to the supervision case
            targets = [(sc.department_id, _department_ref(sc)),
                       (supervision_office(region), f"esupervision.supervision:{sc.id}")]
            for i, (target, ref) in enumerate(targets):
                if target:
                    emit(OVERDUE_KIND, region, subject, target_department=target, ref=ref,
                         dedupe_key=f"rect:{sc.id}:{sc.rectification_due}:{i}",
                         details=details, now=now)
            SupervisionCase.update(escalated_at=now or utcnow()) \
                .where(SupervisionCase.id == sc.id).execute()
            record("esupervision.supervision.escalate", object_type="supervision_case",
                   object_id=sc.id, region_id=sc.region_id,
                   summary=f"rectification overdue since {sc.rectification_due}: escalated")
        lines.append(f"rectification overdue {sc.case.serial} -> escalated")
    return lines
