"""Reading the audit trail: what the audit administrator may see, and the viewer's filters."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee as pw

from core.audit.models import AuditEvent, AuditSealEntry
from core.auth.scope import descendants, grants_of, region_ids
from core.clock import utc_midnight
from core.org.models import Region

PERM = "core.audit.read"


@dataclass
class AuditFilter:
    """The viewer's filters; empty values filter nothing. Dates are local calendar days."""

    user: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    region_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    outcome: str = ""  # "", "success" or "failure"

    def as_text(self) -> str:
        parts = [f"{k}={v}" for k, v in self.__dict__.items() if v not in (None, "")]
        return ", ".join(parts) or "no filter"


def sees_unregioned(user) -> bool:
    """True if ``user`` reads the audit trail at a root region (the city): only they see
    events that belong to no region (logins, accounts, system settings)."""
    roots = {rid for _role, rid, perms in grants_of(user) if PERM in perms}
    if not roots:
        return False
    return Region.select().where(Region.id.in_(sorted(roots))
                                 & Region.parent.is_null(True)).exists()


def visible_events(user) -> pw.ModelSelect:
    """Audit events within ``user``'s audit-reading scope (region grants and descendants)."""
    ids = sorted(region_ids(user, PERM))
    cond = AuditEvent.region_id.in_(ids) if ids else (AuditEvent.id.is_null(True)
                                                       & AuditEvent.id.is_null(False))
    if sees_unregioned(user):
        cond = cond | AuditEvent.region_id.is_null(True)
    return AuditEvent.select().where(cond)


def scope_regions(user) -> list[Region]:
    """The regions the viewer's region filter offers."""
    ids = sorted(region_ids(user, PERM))
    return list(Region.select().where(Region.id.in_(ids)).order_by(Region.code))


def apply_filter(query: pw.ModelSelect, f: AuditFilter) -> pw.ModelSelect:
    """Narrow ``query`` by the viewer's filters (the region filter includes sub-regions)."""
    if f.user:
        query = query.where(AuditEvent.username.contains(f.user))
    if f.action:
        query = query.where(AuditEvent.action.startswith(f.action))
    if f.object_type:
        query = query.where(AuditEvent.object_type == f.object_type)
    if f.object_id:
        query = query.where(AuditEvent.object_id == f.object_id)
    if f.region_id is not None:
        query = query.where(AuditEvent.region_id.in_(sorted(descendants(f.region_id))))
    if f.date_from:
        query = query.where(AuditEvent.ts >= utc_midnight(f.date_from))
    if f.date_to:
        query = query.where(AuditEvent.ts < utc_midnight(f.date_to + dt.timedelta(days=1)))
    if f.outcome in ("success", "failure"):
        query = query.where(AuditEvent.success == (f.outcome == "success"))
    return query


def export_rows(query: pw.ModelSelect):
    """(event, seal seq or None) for the CSV export, oldest first."""
    rows = (query.select(AuditEvent, AuditSealEntry.seq)
            .join(AuditSealEntry, pw.JOIN.LEFT_OUTER,
                  on=(AuditSealEntry.event_id == AuditEvent.id))
            .order_by(AuditEvent.id).dicts())
    return rows.iterator()
