"""Searchable pickers: the department (部门) a finding is about and the person (人员) held
accountable, chosen from the organisation rather than typed.

The demo's city has 409 departments and thousands of people: a page lists the first
matches and a search box asks the server for more (HTMX active search, no other script);
every search and every submitted choice is limited to the user's scope, so a picker never
offers, and a form never takes, a department or a person outside it."""
from __future__ import annotations

import datetime as dt

from core.api import (
    Department,
    Person,
    Post,
    PostHolding,
    Region,
    _,
    descendants,
    region_ids,
    today,
)

LIMIT = 20
QUERY_MAX = 50


def _terms(q: str | None) -> str:
    """The search text: trimmed, at most QUERY_MAX characters, no control characters."""
    text = "".join(ch for ch in str(q or "")[:QUERY_MAX] if ch.isprintable())
    return text.strip()


def departments(user, permission: str, q: str | None = "",
                limit: int = LIMIT) -> list[Department]:
    """Departments of the regions where ``user`` holds ``permission`` whose name, short
    name, code or region's name contains ``q``; in the organisation's order."""
    allowed = sorted(region_ids(user, permission))
    if not allowed:
        return []
    query = (Department.select(Department, Region).join(Region)
             .where(Department.region.in_(allowed)))
    terms = _terms(q)
    if terms:
        query = query.where(Department.name.contains(terms)
                            | Department.short_name.contains(terms)
                            | Department.code.contains(terms) | Region.name.contains(terms))
    return list(query.order_by(Region.sort, Region.id, Department.sort, Department.code)
                .limit(limit))


def department_in_scope(user, permission: str, department_id: int | None) -> Department | None:
    """The department ``department_id`` if it lies in the user's scope, else None."""
    if not department_id:
        return None
    return (Department.select().where((Department.id == department_id)
                                      & Department.region.in_(
                                          sorted(region_ids(user, permission))))
            .first())


def _people_query(region_id: int):
    return Person.select(Person, Region).join(Region).where(
        Person.region.in_(sorted(descendants(region_id))))


def people(region_id: int, q: str | None = "", limit: int = LIMIT,
           on: dt.date | None = None) -> list[tuple[Person, str]]:
    """People of the region ``region_id`` (and the regions below it) whose name, or the
    title or department of a post they hold on ``on``, contains ``q``: (person, label),
    the label naming their posts so that two people of one name can be told apart."""
    on = on or today()
    current = ((PostHolding.start <= on)
               & (PostHolding.end.is_null() | (PostHolding.end >= on)))
    query = _people_query(region_id)
    terms = _terms(q)
    if terms:
        holders = (PostHolding.select(PostHolding.person).join(Post).join(Department)
                   .where(current & (Post.title.contains(terms)
                                     | Department.name.contains(terms))))
        query = query.where(Person.name.contains(terms) | Person.id.in_(holders))
    found = list(query.order_by(Person.name, Person.id).limit(limit))
    return [(p, label) for p, label in zip(found, labels(found, on))]


def labels(found: list[Person], on: dt.date | None = None) -> list[str]:
    """"张三 · 局长（锦江区政务服务局）" for each person: their name and the posts they
    hold on ``on``."""
    on = on or today()
    posts: dict[int, list[str]] = {}
    if found:
        rows = (PostHolding.select(PostHolding.person, Post.title, Department.name)
                .join(Post).join(Department)
                .where(PostHolding.person.in_([p.id for p in found])
                       & (PostHolding.start <= on)
                       & (PostHolding.end.is_null() | (PostHolding.end >= on)))
                .order_by(PostHolding.id).tuples())
        for person_id, title, dept in rows:
            posts.setdefault(person_id, []).append(
                _("%(post)s (%(department)s)", post=title, department=dept))
    return [" · ".join([p.name, *posts.get(p.id, [])]) for p in found]


def person_in_region(region_id: int, person_id: int | None) -> Person | None:
    """The person ``person_id`` if they belong to the region or one below it."""
    if not person_id:
        return None
    return _people_query(region_id).where(Person.id == person_id).first()
