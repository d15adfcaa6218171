"""E-supervision services: event ingestion, clock replay, settings, source tokens.

Every write records an audit event in the same transaction.
"""
from __future__ import annotations

import datetime as dt
import json

from flask import current_app
from peewee import IntegrityError

from core.api import (
    Department,
    FieldError,
    Region,
    _,
    add_workdays,
    db,
    deployment_language,
    issue_api_token,
    record,
    require_city_wide,
    require_level,
    revoke_api_token,
    utcnow,
)
from plugins.esupervision import clocks as clockmod
from plugins.esupervision import regional
from plugins.esupervision.detectors import KIND_CODE, Context, all_detectors
from plugins.esupervision.labels import clock_label
from plugins.esupervision.models import (
    THRESHOLD_SCOPES,
    CaseEvent,
    Clock,
    DetectorSetting,
    MonitoredCase,
    Signal,
    Threshold,
)
from plugins.esupervision.payloads import PayloadError, normalise, validate


class IngestError(ValueError):
    """An event that cannot be applied: ``status`` is the HTTP answer (400/409)."""

    def __init__(self, status: int, code: str, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.errors = status, code, errors or {}

    def body(self) -> dict:
        out = {"error": self.code, "message": str(self)}
        if self.errors:
            out["fields"] = self.errors
        return out


# -- source tokens ----------------------------------------------------------------------
INGEST_SCOPE = "esupervision.ingest"


def create_token(source: str, by: str = "cli") -> str:
    """Issue the ingestion token of source system ``source`` (a core API token of scope
    ``esupervision.ingest``, only its hash stored); it replaces the source's old one."""
    source = (source or "").strip()
    if not source or len(source) > 64 or not all(c.isalnum() or c in "-_." for c in source):
        raise ValueError(_("SOURCE must be 1-64 letters, digits, '-', '_' or '.'"))
    return issue_api_token(INGEST_SCOPE, source, by=by)


def revoke_token(source: str, by: str = "cli") -> bool:
    """End ``source``'s ingestion token; False if it had none."""
    return bool(revoke_api_token(INGEST_SCOPE, source, by=by))


# -- settings ---------------------------------------------------------------------------
def detector_settings(region_id: int | None = None) -> dict[str, tuple[bool, dict]]:
    """code -> (enabled, params) for every detector, for the cases of ``region_id`` (the
    nearest override, else the city default; None: the city default), defaults filled in."""
    return {code: (r.enabled, r.params)
            for code, r in regional.Detectors().for_region(region_id).items()}


def _override_region(region) -> Region | None:
    """The region an override is stored for: None for the city default."""
    if region is None:
        return None
    region = region if isinstance(region, Region) else Region.get_by_id(region)
    if region.parent_id is None:
        return None
    return region


MANAGE = "esupervision.manage"


def _check_level(user, region: Region | None) -> None:
    """The city default is a city-wide setting; a county's override needs a grant covering
    that county. ``user`` None is the system itself (CLI, demo data)."""
    if user is None:
        return
    if region is None:
        require_city_wide(user, MANAGE)
    else:
        require_level(user, MANAGE, region)


def _where(region: Region | None) -> str:
    return "city default" if region is None else f"override for {region.code} {region.name}"


def set_detector(code: str, enabled: bool, params: dict, user=None,
                 region=None) -> DetectorSetting:
    """Switch a detector on/off and set its parameters (integers, known names only): the
    city default, or the override of ``region`` (a county) for its cases."""
    det = {d.code: d for d in all_detectors()}.get(code)
    if det is None:
        raise ValueError(_("Unknown detector %(code)s.", code=code))
    known = dict(getattr(det, "params", {}) or {})
    clean = {}
    for key, value in params.items():
        if key not in known:
            raise ValueError(_("%(code)s: unknown parameter %(key)s", code=code, key=key))
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(_("%(code)s.%(key)s: must be a whole number",
                               code=code, key=key)) from None
        if number < 0 or number > 10000:
            raise ValueError(_("%(code)s.%(key)s: must be between 0 and 10000", code=code, key=key))
        clean[key] = number
    region = _override_region(region)
    _check_level(user, region)
    region_id = region.id if region else None
    mine = (DetectorSetting.code == code) & _region_is(DetectorSetting.region, region_id)
    payload = json.dumps(clean, sort_keys=True)
    with db.atomic():
        row = DetectorSetting.get_or_none(mine)
        old = {"enabled": row.enabled, "params": row.params} if row else {}
        (DetectorSetting.insert(region=region_id, code=code, enabled=enabled, params=payload,
                                updated_at=utcnow())
         .on_conflict(**_conflict(DetectorSetting, region_id, [DetectorSetting.code]),
                      update={DetectorSetting.enabled: enabled,
                              DetectorSetting.params: payload,
                              DetectorSetting.updated_at: utcnow()})
         .execute())
        record("esupervision.detector.update", object_type="detector", object_id=code,
               region_id=region_id, user=user,
               summary=f"detector {code} {'on' if enabled else 'off'} ({_where(region)})",
               changes={"enabled": [old.get("enabled"), enabled],
                        "params": [old.get("params"), payload]})
    return DetectorSetting.get(mine)


def clear_detector(code: str, region, user=None) -> bool:
    """Remove a county's override of a detector: its cases follow the city again. False
    if there was none."""
    region = _override_region(region)
    if region is None:
        raise ValueError(_("The city's settings are the defaults: only a district's or "
                           "county's override can be cleared."))
    _check_level(user, region)
    with db.atomic():
        row = DetectorSetting.get_or_none((DetectorSetting.code == code)
                                          & (DetectorSetting.region == region.id))
        if row is None:
            return False
        row.delete_instance()
        record("esupervision.detector.clear", object_type="detector", object_id=code,
               region_id=region.id, user=user,
               summary=f"detector {code}: {_where(region)} cleared, the city default applies",
               changes={"enabled": [row.enabled, None], "params": [row.params, None]})
    return True


def _region_is(field, region_id: int | None):
    return field.is_null() if region_id is None else (field == region_id)


def _conflict(model, region_id: int | None, fields: list) -> dict:
    """The ON CONFLICT target of a setting: the partial unique index of the city rows, or
    (region, …) for an override."""
    if region_id is None:
        return {"conflict_target": fields, "conflict_where": model.region.is_null()}
    return {"conflict_target": [model.region, *fields]}


def set_threshold(scope: str, key: str, share_percent: int, days_left: int,
                  user=None, region=None) -> Threshold:
    """Yellow threshold for all items (``scope="all"``), an item type
    (``scope="item_type"``) or one item (``scope="item"``, key = item code): the city
    default, or the override of ``region`` (a county). Open clocks are re-derived at once."""
    if scope not in THRESHOLD_SCOPES:
        raise ValueError(_("scope must be all, item_type or item"))
    key = "*" if scope == "all" else (key or "").strip()
    if not key or len(key) > 64:
        raise ValueError(_("key is required (an item type or item code)"))
    try:
        share_percent, days_left = int(share_percent), int(days_left)
    except (TypeError, ValueError):
        raise ValueError(_("share_percent and days_left must be whole numbers")) from None
    if not 1 <= share_percent <= 100:
        raise ValueError(_("share_percent must be between 1 and 100"))
    if not 0 <= days_left <= 30:
        raise ValueError(_("days_left must be between 0 and 30"))
    region = _override_region(region)
    _check_level(user, region)
    region_id = region.id if region else None
    mine = ((Threshold.scope == scope) & (Threshold.key == key)
            & _region_is(Threshold.region, region_id))
    with db.atomic():
        (Threshold.insert(region=region_id, scope=scope, key=key, share_percent=share_percent,
                          days_left=days_left, updated_at=utcnow())
         .on_conflict(**_conflict(Threshold, region_id, [Threshold.scope, Threshold.key]),
                      update={Threshold.share_percent: share_percent,
                              Threshold.days_left: days_left,
                              Threshold.updated_at: utcnow()})
         .execute())
        record("esupervision.threshold.update", object_type="threshold",
               object_id=f"{scope}:{key}", region_id=region_id, user=user,
               summary=f"yellow threshold {scope} {key}: {share_percent}% or "
                       f"{days_left} day(s) left ({_where(region)})")
        restamp_yellow(region_id, scope, key)
    return Threshold.get(mine)


def delete_threshold(threshold_id: int, user=None) -> None:
    """Remove a threshold: a county's override falls back to the city's value, a city
    threshold to the next wider one (or the built-in default). Open clocks follow at once."""
    with db.atomic():
        row = Threshold.get_by_id(threshold_id)
        region = Region.get_by_id(row.region_id) if row.region_id else None
        _check_level(user, region)
        row.delete_instance()
        record("esupervision.threshold.delete", object_type="threshold",
               object_id=f"{row.scope}:{row.key}", region_id=row.region_id, user=user,
               summary=f"yellow threshold {row.scope} {row.key} removed ({_where(region)})")
        restamp_yellow(row.region_id, row.scope, row.key)


def restamp_yellow(region_id: int | None, scope: str, key: str) -> int:
    """Re-derive the yellow day of the open clocks a threshold change can touch (those of
    ``region_id`` and below, None: everywhere, and of the item or item type) without
    replaying their cases: only ``yellow_on`` depends on the threshold. Returns the
    number of clocks whose yellow day moved."""
    tree = regional.Tree()
    query = (Clock.select(Clock.id, Clock.start_day, Clock.limit_days, Clock.stopped_days,
                          Clock.yellow_on, MonitoredCase.region, MonitoredCase.item_type,
                          MonitoredCase.item_code)
             .join(MonitoredCase)
             .where(Clock.ended_on.is_null() & Clock.kind.in_(clockmod.WARNED_KINDS)))
    if scope == "item":
        query = query.where(MonitoredCase.item_code == key)
    elif scope == "item_type":
        query = query.where(MonitoredCase.item_type == key)
    if region_id is not None:
        below = [rid for rid in tree.parent if region_id in tree.lineage(rid)]
        query = query.where(MonitoredCase.region.in_(below))
    thresholds = regional.Thresholds(tree)
    moved: dict[dt.date, list[int]] = {}
    for clock_id, start, limit, stopped, yellow_on, rid, item_type, item_code in \
            query.tuples().iterator():
        share, days_left = thresholds.for_case(rid, item_type, item_code)
        day = add_workdays(
            start, clockmod.yellow_elapsed(limit, share, days_left) + stopped)
        if day != yellow_on:
            moved.setdefault(day, []).append(clock_id)
    for day, ids in moved.items():
        for i in range(0, len(ids), 500):
            Clock.update(yellow_on=day).where(Clock.id.in_(ids[i:i + 500])).execute()
    return sum(len(ids) for ids in moved.values())


def threshold_for(case: MonitoredCase) -> tuple[int, int]:
    """(share percent, days left) for the case: item, else item type, else all items
    (each the county's override, else the city's), else the default."""
    return regional.threshold_for(case)


# -- ingestion --------------------------------------------------------------------------
def _region(code: str) -> Region:
    region = Region.get_or_none(Region.code == code)
    if region is None:
        raise IngestError(400, "invalid_payload", "case.region_code: unknown region",
                          {"case.region_code": f"no region with code {code!r}"})
    return region


def _case_fields(c: dict, region: Region) -> dict:
    dept = Department.get_or_none((Department.region == region)
                                  & (Department.code == c["department_code"]))
    keys = ("department_code", "department_name", "item_code", "item_name", "item_type",
            "item_version", "statutory_limit_days", "committed_limit_days", "fee_due",
            "channel", "handler_username", "handler_post_id", "submitted_at")
    return {"region": region, "department": dept, **{k: c[k] for k in keys}}


def ingest(payload, source: str, received_at: dt.datetime | None = None) -> CaseEvent:
    """Store one case event and re-derive its case (clocks, history signals).

    Raises IngestError: 400 for a bad payload, 409 for a duplicate (source, event_id)
    or an event about a case that was never submitted. Nothing is applied then."""
    try:
        ev = validate(payload)
    except PayloadError as exc:
        raise IngestError(400, "invalid_payload", "the event breaks the contract",
                          exc.errors) from None
    if ev["source"] and ev["source"] != source:
        raise IngestError(400, "invalid_payload", "source does not match the token",
                          {"source": f"must be {source!r} (the token's source) or absent"})
    with db.atomic():
        if CaseEvent.select().where((CaseEvent.source == source)
                                    & (CaseEvent.event_id == ev["event_id"])).exists():
            raise IngestError(409, "duplicate_event",
                              f"event {ev['event_id']} from {source} was already received")
        c = ev["case"]
        region = _region(c["region_code"])
        case = MonitoredCase.get_or_none((MonitoredCase.source == source)
                                         & (MonitoredCase.serial == c["serial"]))
        if case is None:
            if ev["short"] != "submitted":
                raise IngestError(409, "unknown_case",
                                  f"case {c['serial']} from {source} is not known: send its "
                                  "eservice.case.submitted event first")
            case = MonitoredCase.create(source=source, serial=c["serial"],
                                        **_case_fields(c, region))
        elif ev["short"] == "submitted":
            MonitoredCase.update(**_case_fields(c, region)) \
                .where(MonitoredCase.id == case.id).execute()
            case = MonitoredCase.get_by_id(case.id)
        elif c["handler_username"] or c["handler_post_id"]:
            MonitoredCase.update(handler_username=c["handler_username"],
                                 handler_post_id=c["handler_post_id"]) \
                .where(MonitoredCase.id == case.id).execute()
            case = MonitoredCase.get_by_id(case.id)
        try:
            with db.atomic():
                row = CaseEvent.create(source=source, event_id=ev["event_id"],
                                       name=ev["event"], case=case,
                                       occurred_at=ev["occurred_at"],
                                       received_at=received_at or utcnow(),
                                       payload=json.dumps(payload, ensure_ascii=False))
        except IntegrityError:
            raise IngestError(409, "duplicate_event",
                              f"event {ev['event_id']} from {source} was already received") \
                from None
        rebuild(case)
        record("esupervision.event.ingest", object_type="case_event", object_id=row.id,
               region_id=region.id, summary=f"{ev['event']} {c['serial']} from {source}")
    return row


def ingest_batch(payloads: list, source: str) -> list[CaseEvent]:
    """All-or-nothing backfill: every event is applied, or none (the first error is
    raised with its index in ``errors``)."""
    if not isinstance(payloads, list) or not payloads:
        raise IngestError(400, "invalid_payload", "events must be a non-empty list",
                          {"events": "must be a non-empty list"})
    if len(payloads) > 1000:
        raise IngestError(400, "invalid_payload", "at most 1000 events per batch",
                          {"events": "at most 1000 events per batch"})
    rows = []
    with db.atomic() as txn:
        for i, payload in enumerate(payloads):
            try:
                rows.append(ingest(payload, source))
            except IngestError as exc:
                txn.rollback()
                exc.errors = {f"events[{i}].{k}" if k else f"events[{i}]": v
                              for k, v in exc.errors.items()} or {f"events[{i}]": str(exc)}
                exc.args = (f"event {i}: {exc}",)
                raise
    return rows


def handle_event(name: str, payload: dict) -> CaseEvent | None:
    """Receive an eservice case event through the core event bus (duplicates ignored).

    An in-process event is published in the transaction that records the act, so it
    arrives when it happened: its arrival time is its own time. (Late arrival is a sign
    of handling outside the system only for events pushed by external systems.)"""
    source = payload.get("source") or "eservice"
    arrived = _parse_time(payload.get("occurred_at"))
    try:
        return ingest(dict(payload, event=payload.get("event") or name), source,
                      received_at=arrived)
    except IngestError as exc:
        if exc.code == "duplicate_event":
            return None
        if exc.code == "invalid_payload":
            # The publisher's act breaks the event contract (a suspension of 10^6 working
            # days, say): refuse the act itself, in its transaction, naming the field —
            # never store a case event's source act that supervision cannot follow.
            field, message = next(iter(exc.errors.items()), ("", str(exc)))
            raise FieldError(field or "event", f"{field}: {message}" if field else message,
                             errors=exc.errors) from None
        current_app.logger.error("esupervision: event %s rejected: %s %s", name, exc,
                                 exc.errors)
        return None


def _parse_time(value) -> dt.datetime | None:
    """A payload's ISO time as naive UTC, or None when absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _events_of(case: MonitoredCase) -> list[dict]:
    out = []
    for row in CaseEvent.select().where(CaseEvent.case == case).order_by(CaseEvent.id):
        ev = normalise(json.loads(row.payload))
        ev["received_at"] = row.received_at
        ev["_order"] = row.id
        out.append(ev)
    return out


def rebuild(case: MonitoredCase) -> list[Clock]:
    """Re-derive the case's clocks and history signals from all its events."""
    events = _events_of(case)
    settings = detector_settings(case.region_id)
    _on, acc = settings.get("ACCEPTANCE_LATE", (True, {"days": 5}))
    _on2, spa = settings.get("SPECIAL_PROCEDURE_ABUSE", (True, {"delivery_days": 10}))
    result = clockmod.replay(case, events, acceptance_days=int(acc.get("days", 5)),
                             delivery_days=int(spa.get("delivery_days", 10)))
    share, days_left = threshold_for(case)
    completion = result.clocks.get(("completion", 0))
    if completion is not None:
        clockmod.finish(completion, share, days_left)
    (MonitoredCase.update(status=result.status, decision=result.decision,
                          accepted_at=result.accepted_at, decided_at=result.decided_at,
                          closed_at=result.closed_at, rating=result.rating,
                          completion_due=completion.due if completion else None,
                          last_event_at=max((e["occurred_at"] for e in events), default=None))
     .where(MonitoredCase.id == case.id).execute())
    kept = []
    for state in result.clocks.values():
        clockmod.finish(state, share, days_left)
        values = {"label": state.label[:100], "post_id": state.post_id,
                  "start_day": state.start_day, "limit_days": state.limit_days,
                  "stopped_days": state.stopped_days, "paused_since": state.paused_since,
                  "due": state.due, "yellow_on": state.yellow_on, "ended_on": state.ended_on}
        existing = Clock.get_or_none((Clock.case == case) & (Clock.kind == state.kind)
                                     & (Clock.step_seq == state.step_seq))
        if existing is None:
            existing = Clock.create(case=case, kind=state.kind, step_seq=state.step_seq,
                                    **values)
        else:
            Clock.update(**values).where(Clock.id == existing.id).execute()
        kept.append(existing.id)
    Clock.delete().where((Clock.case == case) & Clock.id.not_in(kept)).execute()
    clocks = list(Clock.select().where(Clock.case == case))
    _history_signals(MonitoredCase.get_by_id(case.id), events, result, clocks, settings)
    return clocks


def _raise(case, level: str, code: str, key: str, detail: str, at: dt.datetime,
           clock=None) -> None:
    (Signal.insert(case=case.id, region=case.region_id, level=level, code=code,
                   dedupe_key=key[:160], detail=detail[:2000],
                   clock=clock.id if clock else None, raised_at=at)
     .on_conflict_ignore().execute())


def _history_signals(case, events, result, clocks, settings) -> None:
    """Signals found in the history: detector findings and clocks that ended late.

    A signal is raised when the event that shows it arrives: the newest arrival among
    the case's events (now, for a live event; its own time, for the service hall's
    events recorded after the fact). Its detail is worded in the deployment's language."""
    at = max((e["received_at"] for e in events if e.get("received_at")), default=None) \
        or utcnow()
    with deployment_language():
        for clock in clocks:
            code = KIND_CODE.get(clock.kind)
            if (code and settings.get(code, (True, {}))[0] and clock.ended_on is not None
                    and clockmod.is_overdue(clock, clock.ended_on)):
                _raise(case, "red", code, f"R:{case.id}:{clock.kind}:{clock.step_seq}",
                       _("%(clock)s ended %(ended)s, due %(due)s",
                         clock=clock_label(clock.kind, clock.label, clock.step_seq),
                         ended=clock.ended_on, due=clock.due), at, clock)
        for det in all_detectors():
            enabled, params = settings.get(det.code, (True, {}))
            if not enabled:
                continue
            ctx = Context(case=case, events=events, replay=result, params=params)
            for finding in det.evaluate(ctx):
                _raise(case, "red", det.code, f"D:{det.code}:{case.id}:{finding.key}",
                       finding.detail, at)


def calendar_changed(payload: dict) -> int:
    """Working days changed (core.calendar.changed): re-derive the clocks of every case
    with a clock running over a changed day, so due and yellow days follow the calendar
    in force (monitoring clocks were never communicated; dates told to applicants and
    departments are kept by their owners). Returns how many cases were re-numbered."""
    first, last = dt.date.fromisoformat(payload["first"]), dt.date.fromisoformat(payload["last"])
    ids = [cid for (cid,) in Clock.select(Clock.case).distinct()
           .where(Clock.ended_on.is_null() & (Clock.start_day <= last) & (Clock.due >= first))
           .tuples()]
    for case in MonitoredCase.select().where(MonitoredCase.id.in_(ids)).order_by(MonitoredCase.id):
        before = {(c.kind, c.step_seq): c.due for c in Clock.select().where(Clock.case == case)}
        after = {(c.kind, c.step_seq): c.due for c in rebuild(case)}
        moved = sorted(f"{k[0]}#{k[1]} {before.get(k)}→{due}" for k, due in after.items()
                       if before.get(k) != due)
        record("esupervision.clocks.renumber", object_type="monitored_case", object_id=case.id,
               region_id=case.region_id,
               summary=(f"{case.serial}: clocks re-numbered for calendar change "
                        f"{payload['change_id']}: " + ("; ".join(moved) or "no due day moved")
                        )[:500])
    return len(ids)
