"""Safe FTS5 queries: user text is tokenised and each token quoted, never passed raw to MATCH."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from memory.search import common_terms

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


RANGE_CAP = 50_000
"""A time range holding more rows than this is not turned into an id range (the bound would
cost a long index scan and save little: the range then spans much of the table anyway)."""


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
    """BM25 over observations: (id, score) best first; score is minus FTS5's rank.

    FTS5 scores every row that holds a query term, so the work grows with the rows matched: an
    unfiltered search reads the FTS table alone (no per-row lookup of the observation), a time
    range also bounds the rowids FTS5 visits (``id_range``), and a query with common and rare
    terms scores only the rows that hold a rare one (``common_terms``); the results are the same.
    """
    w = ", ".join(str(x) for x in OBS_WEIGHTS)
    if start is None and end is None and not apps and not kinds:
        sql = (
            f"SELECT rowid, -bm25(observations_fts, {w}) FROM observations_fts "
            f"WHERE observations_fts MATCH ? ORDER BY bm25(observations_fts, {w}) LIMIT ?"
        )
        return common_terms.ranked(conn, "observations", match, k, _runner(conn, sql, []))
    sql = (
        f"SELECT o.id, -bm25(observations_fts, {w}) AS s FROM observations_fts "
        "JOIN observations o ON o.id = observations_fts.rowid WHERE observations_fts MATCH ?"
    )
    sql, args, kept = _in_time(conn, sql, "observations", "o.ts_start", start, end)
    if kept == 0:
        return []
    if apps:
        sql += f" AND o.app IN ({','.join('?' * len(apps))})"
        args += list(apps)
    if kinds:
        sql += f" AND o.kind IN ({','.join('?' * len(kinds))})"
        args += list(kinds)
    sql += f" ORDER BY bm25(observations_fts, {w}) LIMIT ?"
    return common_terms.ranked(conn, "observations", match, k, _runner(conn, sql, args), kept)


def search_memories(
    conn: sqlite3.Connection,
    match: str,
    k: int,
    *,
    start: float | None = None,
    end: float | None = None,
    types: tuple[str, ...] = (),
) -> list[tuple[int, float]]:
    """BM25 over live memories: (id, score) best first (bounded as ``search_observations``)."""
    w = ", ".join(str(x) for x in MEM_WEIGHTS)
    sql = (
        f"SELECT m.id, -bm25(memories_fts, {w}) AS s FROM memories_fts "
        "JOIN memories m ON m.id = memories_fts.rowid WHERE memories_fts MATCH ? "
        "AND m.deleted_at IS NULL AND m.superseded_by IS NULL"
    )
    sql, args, kept = _in_time(conn, sql, "memories", "m.ts", start, end)
    if kept == 0:
        return []
    if types:
        sql += f" AND m.type IN ({','.join('?' * len(types))})"
        args += list(types)
    sql += f" ORDER BY bm25(memories_fts, {w}) LIMIT ?"
    return common_terms.ranked(conn, "memories", match, k, _runner(conn, sql, args), kept)


def _in_time(  # noqa: PLR0913 - the query, the table's time column and the range
    conn: sqlite3.Connection,
    sql: str,
    table: str,
    col: str,
    start: float | None,
    end: float | None,
) -> tuple[str, list[Any], int | None]:
    """``sql`` limited to the time range (and to its id range when that is short), its arguments,
    and about how many rows the range keeps (None: no range; 0: none, nothing to search)."""
    span = id_range(conn, table, col.split(".")[-1], start, end)
    args: list[Any] = []
    if span is not None and 0 < span[2] <= RANGE_CAP:
        sql += f" AND {table}_fts.rowid BETWEEN ? AND ?"
        args += list(span[:2])
    sql, args = _filters(sql, args, col, start, end)
    return sql, args, None if span is None else span[2]


def _runner(conn: sqlite3.Connection, sql: str, args: list[Any]) -> common_terms.Ranker:
    """``sql`` (MATCH first, LIMIT last) as a function of the MATCH expression and the limit."""

    def run(expr: str, k: int) -> list[tuple[int, float]]:
        return [(r[0], r[1]) for r in conn.execute(sql, (expr, *args, k))]

    return run


def id_range(  # noqa: PLR0913 - a table, its time column, the range and the cap
    conn: sqlite3.Connection,
    table: str,
    col: str,
    start: float | None,
    end: float | None,
    cap: int = RANGE_CAP,
) -> tuple[int, int, int] | None:
    """(smallest id, largest id, rows) of the rows of ``table`` whose ``col`` is in [start, end).

    Rows are numbered roughly in time order, so a short time range is a short id range that
    FTS5 can seek to instead of scoring every match in the table. Rows are counted up to
    ``cap + 1``: above ``cap`` the ids bound nothing useful (the range then spans much of the
    table). None when there is no range. Reads an index on ``col``.
    """
    if start is None and end is None:
        return None
    sql, args = _filters(f"SELECT id FROM {table} WHERE 1 = 1", [], col, start, end)
    lo, hi, n = conn.execute(
        f"SELECT min(id), max(id), count(*) FROM ({sql} LIMIT ?)", (*args, cap + 1)
    ).fetchone()
    return (int(lo or 0), int(hi or 0), int(n))


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
