"""Rectification (整改) of a bad rating: opened with an alert to the department head,
closed with the follow-up, a red alert when overdue."""
from __future__ import annotations

import datetime as dt

from core.api import (
    Alert,
    FieldError,
    Post,
    _,
    add_workdays,
    db,
    emit,
    record,
    resolve,
    today,
    utcnow,
    workdays_between,
)
from plugins.eservice.models import Case, Rating, Rectification

RECTIFY_DAYS = 15


ALERT_KIND = "eservice.rating.bad"


def open_rectification(case: Case, rating: Rating, on: dt.date | None = None) -> Rectification:
    """Open the follow-up of a bad rating made on ``on`` (today): due RECTIFY_DAYS working
    days later."""
    due = add_workdays(on or today(), RECTIFY_DAYS)
    rect = Rectification.create(rating=rating, department=case.department_id,
                                region=case.region_id, due=due)
    record("eservice.rectification.open", object_type="eservice_rectification",
           object_id=rect.id, summary=f"{case.serial} due {due}", region_id=case.region_id)
    alert = emit(**alert_arguments(case, rating, rect))
    Rectification.update(alert_id=alert.id).where(Rectification.id == rect.id).execute()
    rect.alert_id = alert.id
    return rect


def alert_arguments(case: Case, rating: Rating, rect: Rectification) -> dict:
    """The bad-rating alert: to the department head's post (else the department)."""
    args = {
        "kind": ALERT_KIND,
        "region": case.region_id,
        "subject": _("Bad rating (%(r)d) for case %(s)s: rectify by %(d)s",
                     r=rating.score, s=case.serial, d=rect.due.isoformat()),
        "details": {"serial": case.serial, "item": case.item.name, "rating": rating.score,
                    "comment": rating.comment, "due": rect.due.isoformat()},
        "ref": f"eservice_rectification:{rect.id}",
        "dedupe_key": f"rating:{case.serial}",
    }
    args.update(_head_target(case.department_id))
    return args


def close_rectification(rect: Rectification, response: str, user) -> Rectification:
    """Record the department's follow-up and rectification (整改) and close it."""
    response = (response or "").strip()
    if not response:
        raise FieldError("response", _("Describe the follow-up and the rectification."))
    if rect.status == "closed":
        raise FieldError("response", _("This rectification is already closed."))
    with db.atomic():
        Rectification.update(status="closed", response=response, closed_at=utcnow(),
                             closed_by=user.id).where(Rectification.id == rect.id).execute()
        record("eservice.rectification.close", object_type="eservice_rectification",
               object_id=rect.id, summary=response[:200], region_id=rect.region_id, user=user)
        if rect.alert_id is not None:
            alert = Alert.get_or_none(Alert.id == rect.alert_id)
            if alert is not None and alert.state != "resolved":
                resolve(alert, user, response[:2000])
    return Rectification.get_by_id(rect.id)


OVERDUE_KIND = "eservice.rectification.overdue"


def _head_target(department_id: int) -> dict:
    """Alert target: the department head's post, else the department."""
    head = (Post.select().where((Post.department == department_id) & Post.is_head)
            .order_by(Post.id).first())
    return {"target_post": head.id} if head is not None else \
        {"target_department": department_id}


def raise_overdue_rectifications(on: dt.date | None = None) -> list:
    """Raise one red alert per bad-rating rectification (差评整改) still open after its due
    date. Idempotent: a rectification whose overdue alert exists (open or resolved) is
    skipped, and the dedupe key keeps concurrent runs to one alert."""
    day = on or today()
    rows = list(Rectification.select(Rectification, Rating, Case)
                .join(Rating).join(Case)
                .where((Rectification.status != "closed") & (Rectification.due < day))
                .order_by(Rectification.due, Rectification.id))
    if not rows:
        return []
    refs = {f"eservice_rectification:{r.id}": r for r in rows}
    done = {ref for (ref,) in Alert.select(Alert.ref)
            .where((Alert.kind == OVERDUE_KIND) & Alert.ref.in_(list(refs))).tuples()}
    raised = []
    for ref, rect in refs.items():
        if ref in done:
            continue
        case = rect.rating.case
        late = workdays_between(rect.due, day)
        with db.atomic():
            alert = emit(
                OVERDUE_KIND, rect.region_id,
                _("Rectification of the bad rating of case %(s)s is overdue: due %(d)s",
                  s=case.serial, d=rect.due.isoformat()),
                ref=ref, dedupe_key=f"rectification:{rect.id}", level="red",
                details={"serial": case.serial, "rating": rect.rating.score,
                         "due": rect.due.isoformat(), "working_days_late": late},
                **_head_target(rect.department_id))
            if not alert.deduplicated:
                record("eservice.rectification.overdue", object_type="eservice_rectification",
                       object_id=rect.id, summary=f"{case.serial} due {rect.due}",
                       region_id=rect.region_id)
                raised.append(alert)
    return raised
