"""The prevention rules library (风险防控制度): laws, regulations and internal rules that
risk points and measures rest on, with their issuing body, document number (文号),
effective and repeal dates and full text, searchable in Chinese (``fulltext``).

A rule belongs to a region and applies there and below: a county's units cite the
city's rules and their own. Repealing a rule flags every risk point in force that cites
it (:func:`flagged_points`) until the unit's next version cites a rule in force.
"""
from __future__ import annotations

import datetime as dt

from peewee import SQL, fn

from core.api import (
    FieldError,
    Region,
    _,
    clean_text,
    db,
    is_postgres,
    parse_date,
    record,
    region_ids,
    today,
    utcnow,
)
from plugins.risk import fulltext
from plugins.risk.access import actor, require_region
from plugins.risk.models import (
    Measure,
    MeasureRule,
    Point,
    PointRule,
    Register,
    Rule,
    RuleSearch,
)

MANAGE = "risk.rules.manage"
VIEW = "risk.view"
STATUSES = ("in_force", "repealed")


# -- where a user may read rules ---------------------------------------------------------
def visible_regions(user, perm: str = VIEW) -> set[int]:
    """The regions in the user's scope and their ancestors (a county reads the city's
    rules too)."""
    ids = set(region_ids(user, perm))
    if not ids:
        return set()
    parents = dict(Region.select(Region.id, Region.parent).tuples())
    out = set()
    for rid in ids:
        seen = 0
        while rid is not None and rid not in out and seen < 32:
            out.add(rid)
            rid = parents.get(rid)
            seen += 1
    return out


def applicable_regions(region_id: int) -> list[int]:
    """A region and its ancestors: whose rules apply there."""
    return [r.id for r in Region.get_by_id(region_id).lineage()]


# -- writing -------------------------------------------------------------------------------
def _values(data: dict) -> dict:
    effective = parse_date(data.get("effective_on"), "effective_on", default=None)
    repealed = parse_date(data.get("repealed_on"), "repealed_on", default=None)
    if effective and repealed and repealed < effective:
        raise FieldError("repealed_on", _("A rule is repealed after it takes effect."))
    if repealed and repealed > today():
        raise FieldError("repealed_on", _("A repeal is recorded on or after its day, "
                                          "not in advance."))
    return {
        "title": clean_text(data.get("title"), "title", max_length=200, required=True),
        "issuing_body": clean_text(data.get("issuing_body"), "issuing_body", max_length=100),
        "doc_number": clean_text(data.get("doc_number"), "doc_number", max_length=64,
                                 nfkc=True),
        "effective_on": effective, "repealed_on": repealed,
        "status": "repealed" if repealed else "in_force",
        "full_text": clean_text(data.get("full_text"), "full_text", max_length=500_000,
                                multiline=True),
    }


def reindex(rule: Rule) -> None:
    """Write the rule's full-text rows again (the FTS5 table follows by triggers; the
    PostgreSQL tsvector column is generated)."""
    RuleSearch.delete().where(RuleSearch.rule == rule.id).execute()
    head = " ".join(x for x in (rule.title, rule.doc_number, rule.issuing_body) if x)
    RuleSearch.insert_many([{"rule": rule.id, "part": n, "title_terms": title,
                             "body_terms": body}
                            for n, (title, body) in enumerate(
                                fulltext.parts(head, rule.full_text))]).execute()


def create(user, region_id: int, data: dict) -> Rule:
    require_region(user, MANAGE, region_id)
    values = _values(data)
    with db.atomic():
        rule = Rule.create(region=region_id, created_by=actor(user), **values)
        reindex(rule)
        record("risk.rule.create", object_type="risk_rule", object_id=rule.id,
               region_id=region_id, user=user,
               summary=f"rule {rule.doc_number or rule.title} added to the library"[:200],
               changes={k: [None, str(v)] for k, v in values.items() if k != "full_text"})
    return rule


def update(user, rule: Rule, data: dict) -> Rule:
    require_region(user, MANAGE, rule.region_id)
    values = _values(data)
    with db.atomic():
        before = {k: getattr(rule, k) for k in values}
        Rule.update(updated_at=utcnow(), **values).where(Rule.id == rule.id).execute()
        rule = Rule.get_by_id(rule.id)
        reindex(rule)
        changes = {k: [str(before[k]) if k != "full_text" else len(before[k] or ""),
                       str(values[k]) if k != "full_text" else len(values[k] or "")]
                   for k in values if before[k] != values[k]}
        record("risk.rule.update", object_type="risk_rule", object_id=rule.id,
               region_id=rule.region_id, user=user,
               summary=f"rule {rule.doc_number or rule.title} changed"[:200], changes=changes)
    return rule


def repeal(user, rule: Rule, repealed_on=None, note: str = "") -> int:
    """Repeal a rule (废止) from ``repealed_on`` (today); the number of points in force
    that cite it and are now flagged."""
    require_region(user, MANAGE, rule.region_id)
    day = parse_date(repealed_on, "repealed_on", max=today(), default=None) or today()
    if rule.effective_on and day < rule.effective_on:
        raise FieldError("repealed_on", _("A rule is repealed after it takes effect."))
    note = clean_text(note, "note", max_length=500)
    with db.atomic():
        Rule.update(status="repealed", repealed_on=day, updated_at=utcnow()) \
            .where(Rule.id == rule.id).execute()
        flagged = flagged_points(rule_id=rule.id).count()
        record("risk.rule.repeal", object_type="risk_rule", object_id=rule.id,
               region_id=rule.region_id, user=user,
               summary=(f"rule {rule.doc_number or rule.title} repealed from {day}; "
                        f"{flagged} risk point(s) in force cite it" + (f": {note}" if note
                                                                      else ""))[:300],
               changes={"status": [rule.status, "repealed"],
                        "repealed_on": [str(rule.repealed_on), str(day)]})
    return flagged


# -- reading -------------------------------------------------------------------------------
def search(query, text: str):
    """``query`` (of Rule) narrowed to the rules matching ``text``: every space-separated
    term must occur in the title, number, issuing body or full text (Chinese terms as
    substrings, without word-splitting)."""
    plan = fulltext.plan(text)
    if not plan:
        return query
    if plan.phrases:
        if is_postgres():
            hits = (RuleSearch.select(RuleSearch.rule)
                    .where(SQL("document @@ to_tsquery('simple', %s)",
                               [fulltext.tsquery(plan)])))
        else:
            hits = (RuleSearch.select(RuleSearch.rule)
                    .where(RuleSearch.id.in_(SQL(  # the parentheses: peewee adds none
                        f"(SELECT rowid FROM {fulltext.FTS_TABLE} WHERE "
                        f"{fulltext.FTS_TABLE} MATCH ?)", [fulltext.fts5_query(plan)]))))
        query = query.where(Rule.id.in_(hits))
    for term in plan.verify + plan.scan:
        query = query.where(Rule.title.contains(term) | Rule.doc_number.contains(term)
                            | Rule.issuing_body.contains(term) | Rule.full_text.contains(term))
    return query


def excerpt(rule: Rule, text: str, width: int = 60) -> str:
    """A passage of the rule's text around the first term of ``text`` found in it."""
    body = rule.full_text or ""
    lowered = body.lower()
    for term in (text or "").split():
        at = lowered.find(term.lower())
        if at >= 0:
            start = max(at - width // 2, 0)
            return ("…" if start else "") + body[start:start + width] + \
                ("…" if start + width < len(body) else "")
    return body[:width] + ("…" if len(body) > width else "")


def flagged_points(rule_id: int | None = None):
    """Points of registers in force that cite a repealed rule (``rule_id``: that one)."""
    repealed = Rule.select(Rule.id).where(Rule.status == "repealed")
    if rule_id is not None:
        repealed = repealed.where(Rule.id == rule_id)
    cited = PointRule.select(PointRule.point).where(PointRule.rule.in_(repealed))
    return (Point.select().join(Register)
            .where((Register.state == "approved") & Point.id.in_(cited)))


def citing(rule: Rule, regions: set[int]):
    """Points and measures of registers in force in ``regions`` that cite the rule."""
    points = (Point.select(Point).join(PointRule).switch(Point).join(Register)
              .where((PointRule.rule == rule.id) & (Register.state == "approved")
                     & Point.region.in_(sorted(regions))).order_by(Point.code))
    measures = (Measure.select(Measure, Point).join(MeasureRule).switch(Measure).join(Point)
                .join(Register)
                .where((MeasureRule.rule == rule.id) & (Register.state == "approved")
                       & Point.region.in_(sorted(regions))).order_by(Point.code, Measure.key))
    return points, measures


def counts_by_rule(rule_ids: list[int]) -> dict[int, int]:
    """How many points in force cite each rule."""
    if not rule_ids:
        return {}
    return dict(PointRule.select(PointRule.rule, fn.COUNT(PointRule.id))
                .join(Point).join(Register)
                .where(PointRule.rule.in_(rule_ids) & (Register.state == "approved"))
                .group_by(PointRule.rule).tuples())


def in_force_on(day: dt.date):
    """Rules in force on ``day``."""
    return Rule.select().where((Rule.effective_on.is_null() | (Rule.effective_on <= day))
                               & (Rule.repealed_on.is_null() | (Rule.repealed_on > day)))
