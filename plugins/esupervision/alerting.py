"""Signals to alerts: yellow to the handler's post holders; red to the handler, the
department head and the region's supervision office, through ``core.alerts.emit``."""
from __future__ import annotations

from core.alerts import emit
from core.alerts.service import supervision_office
from core.auth.models import User
from core.db import db, utcnow
from core.org.models import Post, Region
from plugins.esupervision.models import Clock, MonitoredCase, Signal
from plugins.esupervision.sweep import YELLOW_KIND

BATCH = 500


def kind_of(signal: Signal) -> str:
    return YELLOW_KIND if signal.level == "yellow" else f"esupervision.signal.{signal.code}"


def _cached(cache: dict, key, load):
    if key not in cache:
        cache[key] = load()
    return cache[key]


def _targets(signal: Signal, case: MonitoredCase, clock: Clock | None, cache: dict) -> dict:
    post_id = (clock.post_id if clock is not None and clock.post_id else None) \
        or case.handler_post_id
    post = _cached(cache, ("post", post_id),
                   lambda: Post.get_or_none(Post.id == post_id)) if post_id else None
    name = case.handler_username
    user = _cached(cache, ("user", name),
                   lambda: User.get_or_none(User.username == name)) if name else None
    targets = {"target_post": post, "target_user": user}
    if signal.level == "red" or (post is None and user is None):
        targets["target_department"] = case.department_id
    return {k: v for k, v in targets.items() if v is not None}


def alert_one(signal: Signal, cache: dict | None = None) -> list[str]:
    """Emit the alert(s) of one signal; return lines describing them."""
    cache = {} if cache is None else cache
    case = signal.case
    clock = Clock.get_or_none(Clock.id == signal.clock_id) if signal.clock_id else None
    subject = f"{signal.code} {case.serial} {case.item_name}"[:200]
    details = {"serial": case.serial, "source": case.source, "code": signal.code,
               "detail": signal.detail, "department": case.department_name,
               "item": case.item_name}
    lines = []
    targets = _targets(signal, case, clock, cache)
    kind = kind_of(signal)
    ref = f"esupervision.case:{case.id}"
    region = _cached(cache, ("region", case.region_id), lambda: Region.get_by_id(case.region_id))
    if targets:
        emit(kind, region, subject, ref=ref, dedupe_key=signal.dedupe_key, details=details,
             **targets)
        lines.append(f"{signal.level} {signal.code} {case.serial} -> handler/department")
    if signal.level == "red":
        office = _cached(cache, ("office", region.id), lambda: supervision_office(region))
        if office is not None:
            emit(kind, region, subject, target_department=office, ref=ref,
                 dedupe_key=signal.dedupe_key + ":office", details=details)
            lines.append(f"{signal.level} {signal.code} {case.serial} -> {office.name}")
    return lines


def alert_pending(limit: int | None = None) -> list[str]:
    """Alert every signal not yet alerted, in batches, each batch in one transaction."""
    lines: list[str] = []
    cache: dict = {}
    done = 0
    while limit is None or done < limit:
        with db.atomic():
            batch = list(Signal.select(Signal, MonitoredCase).join(MonitoredCase)
                         .where(Signal.alerted_at.is_null())
                         .order_by(Signal.id)
                         .limit(BATCH if limit is None else min(BATCH, limit - done)))
            if not batch:
                break
            for signal in batch:
                lines += alert_one(signal, cache)
            Signal.update(alerted_at=utcnow()) \
                .where(Signal.id.in_([s.id for s in batch])).execute()
            done += len(batch)
    return lines
