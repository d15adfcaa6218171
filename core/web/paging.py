"""Sortable, paged tables: one helper shared by every list page."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import request, url_for

from core.parse import parse_int

PAGE_MAX = 10 ** 6  # a page number beyond any table; larger is refused, not clamped


@dataclass
class Page:
    """A page of a sorted query, with the URL builder the table macros use."""

    items: list
    total: int
    number: int
    per_page: int
    sort: str
    order: str
    target: str
    endpoint: str
    args: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def url(self, **changes) -> str:
        params = {**self.args, "sort": self.sort, "order": self.order, "page": self.number}
        params.update(changes)
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return url_for(self.endpoint, **params)


def paginate(query, sortable: dict, default_sort: str, *, target: str = "results",
             per_page: int = 25, endpoint: str | None = None, extra_args=None,
             tiebreak: list | None = None) -> Page:
    """Apply ``?sort=&order=&page=`` from the request to ``query``.

    ``sortable`` maps the public sort key to a field; unknown keys fall back to the
    default, so a hand-edited URL cannot sort by an arbitrary column. Equal keys are
    ordered by the primary key, or by ``tiebreak`` (a grouped query's own expressions)."""
    sort = request.args.get("sort", default_sort)
    if sort not in sortable:
        sort = default_sort
    order = "desc" if request.args.get("order") == "desc" else "asc"
    number = parse_int(request.args.get("page"), "page", min=1, max=PAGE_MAX, default=1)
    total = query.count()
    pages = max(1, math.ceil(total / per_page))
    number = min(number, pages)
    key = sortable[sort]
    model = getattr(query, "model", None)
    tie = [model._meta.primary_key.asc()] if model is not None and model._meta.primary_key \
        and key is not model._meta.primary_key else []
    if tiebreak is not None:
        tie = tiebreak
    ordered = query.order_by(key.desc() if order == "desc" else key.asc(), *tie)
    items = list(ordered.paginate(number, per_page))
    args = {k: v for k, v in request.args.items() if k not in ("sort", "order", "page")}
    if extra_args:
        args.update(extra_args)
    return Page(items, total, number, per_page, sort, order, target,
                endpoint or request.endpoint, args)
