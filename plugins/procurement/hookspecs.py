"""Hooks the procurement plugin calls (its own, added when it loads): other packages add
red-flag rules (风险预警规则) here."""
from __future__ import annotations

from core.api import hookspec


@hookspec
def ql_procurement_rules():
    """Return extra red-flag rules: ``[rule]``.

    A rule (see ``plugins/procurement/rules.py``, class ``Rule``) has ``code`` (unique,
    upper-case), ``name`` and ``basis`` (lazy-translated: what it detects and its legal
    basis or source), ``params`` (dict of number defaults a supervisor may change per
    region), ``level`` (``yellow`` or ``red``), ``describe(detail) -> str`` and
    ``query(ctx) -> (sql, args)``: one SELECT returning ``project_id, subject,
    subject_id, key, value, detail`` (``detail`` a JSON object as text) over the relation
    ``procurement_facts`` (one row per process: see ``FACTS_COLUMNS``) or the plugin's
    tables, restricted with ``ctx.scope("f.project_id")``. Every row becomes one flag
    once (``code:subject:subject_id:key``), with its alert and a
    ``procurement.flag.raised`` event.

    Example::

        @hookimpl(optionalhook=True)
        def ql_procurement_rules():
            from plugins.procurement_extra.rules import NoContractPublished
            return [NoContractPublished()]
    """
