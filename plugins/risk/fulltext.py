"""Chinese full-text search (全文检索) of the rules library, the same on SQLite and
PostgreSQL, without a word segmenter.

Chinese has no spaces between words, so splitting on spaces finds nothing. Each run of
CJK characters is indexed as its overlapping bigrams (土地整治 → 土地 地整 整治) and each
run of letters or digits as one lower-cased word; a query term becomes the phrase of its
own bigrams, which matches exactly the documents holding the term as a substring (up to
the bigram chain, checked again on the text where it matters). The bigram string is kept
beside each rule (``risk_rule_search``) and indexed by SQLite FTS5 (``unicode61``) or a
PostgreSQL GIN index over ``to_tsvector('simple', …)``: no extension, no dictionary.
A one-character Chinese query has no bigram: it is answered by a LIKE scan instead.
``bench/risk_search.py`` measures this against LIKE, FTS5 trigram and pg_trgm.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_CJK = (r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
        r"\U00020000-\U0002a6df\U0002a700-\U0002ebef\U00030000-\U0003134f")
_RUN = re.compile(rf"[{_CJK}]+|[0-9a-z]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def tokens(text: str) -> list[str]:
    """The index tokens of ``text``: CJK bigrams (a lone character stays itself) and
    lower-cased ASCII words, in order (NFKC first: full-width digits and letters fold)."""
    out: list[str] = []
    for run in _RUN.findall(unicodedata.normalize("NFKC", text or "").lower()):
        if _IS_CJK.match(run):
            out.extend([run] if len(run) == 1 else
                       [run[i:i + 2] for i in range(len(run) - 1)])
        else:
            out.append(run)
    return out


def index_text(text: str) -> str:
    """The space-separated token string stored for ``text`` (what the index reads)."""
    return " ".join(tokens(text))


@dataclass
class Plan:
    """How to answer a query: ``phrases`` for the index (each a list of tokens that must
    stand next to each other, the last one a prefix when ``prefix`` says so), ``verify``:
    terms the index cannot answer exactly, checked again as substrings of the text, and
    ``scan``: one-character Chinese terms, answered by a substring scan alone."""

    phrases: list[tuple[list[str], bool]] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)
    scan: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.phrases or self.scan)


def plan(query: str, limit: int = 8) -> Plan:
    """The plan of a user's query: its space-separated terms (at most ``limit``), each a
    phrase of its runs' tokens. A term's first or last run that is one Chinese character
    may continue in the document (第12条 in 的第12条管理) and so is left out of the phrase
    and checked as a substring instead; a run between two others is whole in the
    document too, so it stays."""
    out = Plan()
    for term in (query or "").split()[:limit]:
        term = unicodedata.normalize("NFKC", term).lower()
        runs = _RUN.findall(term)
        if not runs:
            continue
        if len(runs) == 1 and len(runs[0]) == 1 and _IS_CJK.match(runs[0]):
            out.scan.append(term)
            continue
        kept = list(runs)
        edge_dropped = False
        for end in (0, -1):
            if len(kept) > 1 and len(kept[end]) == 1 and _IS_CJK.match(kept[end]):
                kept.pop(end)
                edge_dropped = True
        toks = [t for run in kept for t in tokens(run)]
        prefix = not _IS_CJK.match(toks[-1]) and not edge_dropped
        out.phrases.append((toks, prefix))
        if edge_dropped or len(runs) > 1 and _RUN.sub("", term):
            out.verify.append(term)
    return out


def fts5_query(p: Plan) -> str:
    """An FTS5 MATCH expression: every phrase in double quotes (tokens are [0-9a-z] or
    CJK, so nothing inside needs quoting), ``*`` after a prefix phrase, joined by AND."""
    return " AND ".join('"' + " ".join(toks) + '"' + ("*" if prefix else "")
                        for toks, prefix in p.phrases)


def tsquery(p: Plan) -> str:
    """A PostgreSQL ``to_tsquery('simple', …)`` text: tokens of a phrase joined by ``<->``
    (next to each other), phrases by ``&``; a prefix phrase ends in ``:*``."""
    parts = []
    for toks, prefix in p.phrases:
        toks = list(toks)
        if prefix:
            toks[-1] += ":*"
        parts.append("(" + " <-> ".join(toks) + ")")
    return " & ".join(parts)


PART_TOKENS = 12000
PART_OVERLAP = 16
FTS_TABLE = "risk_rule_fts"
DOCUMENT = ("setweight(to_tsvector('simple', title_terms), 'A') || "
            "setweight(to_tsvector('simple', body_terms), 'D')")


def search_ddl(postgres: bool) -> list[str]:
    """What ``risk_rule_search`` needs beside its columns, on either backend."""
    if postgres:
        return [
            ("ALTER TABLE risk_rule_search ADD COLUMN IF NOT EXISTS document tsvector "
             f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"),
            ("CREATE INDEX IF NOT EXISTS risk_rule_search_document "
             "ON risk_rule_search USING gin (document)"),
        ]
    cols = "title_terms, body_terms"
    insert = f"INSERT INTO {FTS_TABLE}(rowid, {cols}) VALUES (new.id, new.title_terms, " \
             "new.body_terms);"
    delete = (f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {cols}) "
              "VALUES ('delete', old.id, old.title_terms, old.body_terms);")
    trigger = "CREATE TRIGGER IF NOT EXISTS risk_rule_search_{} AFTER {} ON risk_rule_search"
    return [
        (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({cols}, "
         "content='risk_rule_search', content_rowid='id', tokenize='unicode61')"),
        f"{trigger.format('ai', 'INSERT')} BEGIN {insert} END",
        f"{trigger.format('ad', 'DELETE')} BEGIN {delete} END",
        f"{trigger.format('au', 'UPDATE')} BEGIN {delete} {insert} END",
    ]


def parts(title: str, body: str) -> list[tuple[str, str]]:
    """``[(title tokens, body tokens)]`` of a document: the title in the first part, the
    body cut into parts of PART_TOKENS tokens that overlap by PART_OVERLAP (a phrase
    across a cut is found in the next part)."""
    body_tokens = tokens(body)
    step = PART_TOKENS - PART_OVERLAP
    chunks = [body_tokens[i:i + PART_TOKENS]
              for i in range(0, max(len(body_tokens) - PART_OVERLAP, 1), step)] or [[]]
    return [(index_text(title) if n == 0 else "", " ".join(chunk))
            for n, chunk in enumerate(chunks)]
