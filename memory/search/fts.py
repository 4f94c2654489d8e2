"""Safe FTS5 queries: user text is tokenised and each token quoted, never passed raw to MATCH."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

_TOKEN = re.compile(r"[\w][\w'\-.]*", re.UNICODE)

STOPWORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not of off on once only or other our ours ourselves out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves did does i'm i've i'd it's what's whats ever also like get got go going
""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` with edge punctuation trimmed."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        tok = tok.strip("'-.")
        if tok.endswith("'s"):
            tok = tok[:-2]
        if tok:
            out.append(tok)
    return out


def quote_fts(text: str, *, drop_stopwords: bool = True, extra: tuple[str, ...] = ()) -> str | None:
    """An FTS5 expression matching any token of ``text`` (OR of quoted tokens), or None if empty.

    ``extra`` tokens are added even when they are stop words, if ``text`` has words of its own.
    """
    toks = tokens(text)
    kept = [t for t in toks if t not in STOPWORDS] if drop_stopwords else toks
    if not kept:
        kept = toks
    seen: list[str] = []
    for tok in kept:
        for part in re.split(r"[.\-']", tok):
            if part and part not in seen:
                seen.append(part)
    if not seen:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in seen)


OBS_WEIGHTS = (1.0, 0.6, 0.3, 0.3, 0.35)  # text, window_title, app, url, context
MEM_WEIGHTS = (1.2, 1.0, 0.8)  # title, summary, details


def search_observations(
    conn: sqlite3.Connection,
    match: str,
    k: int,
    *,
    start: float | None = None,
    end: float | None = None,
    apps: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
) -> list[tuple[int, float]]:
    """BM25 over observations: (id, score) best first; score is minus FTS5's rank."""
    w = ", ".join(str(x) for x in OBS_WEIGHTS)
    sql = (
        f"SELECT o.id, -bm25(observations_fts, {w}) AS s FROM observations_fts "
        "JOIN observations o ON o.id = observations_fts.rowid WHERE observations_fts MATCH ?"
    )
    args: list[Any] = [match]
    sql, args = _filters(sql, args, "o.ts_start", start, end)
    if apps:
        sql += f" AND o.app IN ({','.join('?' * len(apps))})"
        args += list(apps)
    if kinds:
        sql += f" AND o.kind IN ({','.join('?' * len(kinds))})"
        args += list(kinds)
    sql += " ORDER BY bm25(observations_fts, " + w + ") LIMIT ?"
    return [(r[0], r[1]) for r in conn.execute(sql, (*args, k))]


def search_memories(
    conn: sqlite3.Connection,
    match: str,
    k: int,
    *,
    start: float | None = None,
    end: float | None = None,
    types: tuple[str, ...] = (),
) -> list[tuple[int, float]]:
    """BM25 over live memories: (id, score) best first."""
    w = ", ".join(str(x) for x in MEM_WEIGHTS)
    sql = (
        f"SELECT m.id, -bm25(memories_fts, {w}) AS s FROM memories_fts "
        "JOIN memories m ON m.id = memories_fts.rowid WHERE memories_fts MATCH ? "
        "AND m.deleted_at IS NULL AND m.superseded_by IS NULL"
    )
    args: list[Any] = [match]
    sql, args = _filters(sql, args, "m.ts", start, end)
    if types:
        sql += f" AND m.type IN ({','.join('?' * len(types))})"
        args += list(types)
    sql += f" ORDER BY bm25(memories_fts, {w}) LIMIT ?"
    return [(r[0], r[1]) for r in conn.execute(sql, (*args, k))]


def _filters(
    sql: str, args: list[Any], col: str, start: float | None, end: float | None
) -> tuple[str, list[Any]]:
    if start is not None:
        sql += f" AND {col} >= ?"
        args.append(start)
    if end is not None:
        sql += f" AND {col} < ?"
        args.append(end)
    return sql, args
