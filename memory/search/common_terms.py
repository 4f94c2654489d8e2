"""BM25 at a year's scale: rank by every query term without scoring every row a common term is in.

FTS5 computes bm25() for each row that holds any term of an OR query, so a term found in 10% of a
million rows costs 100,000 scored rows, whatever the LIMIT (#16). When a query has both rare and
common terms (document frequency at least ``COMMON_ROWS``), the same top k comes from two cheaper
queries, each scoring only rows that hold a rare term:

- ``rare``: MATCH ``(r1 OR r2)`` scores every row holding a rare term by its rare terms alone;
- ``both``: MATCH ``(r1 OR r2) AND (c1 OR c2)`` gives the rows that also hold a common term their
  full score (bm25() sums one share per phrase of the expression, and each phrase appears once);
- a row that holds only common terms scores below ``bound``: each phrase's share is below
  ``idf * (k1 + 1)``.

A row's full score is the higher of its two (a row without a common term is only in ``rare``),
and a row above another in full score is above it in ``rare`` too when it holds no common term, so
the top k of the merged lists is the top k of the rows holding a rare term. When its k-th score
reaches ``bound``, no common-only row can enter and it is the answer; otherwise (too few rare
matches, or common terms too strong) the plain OR query runs. Homes smaller than ``COMMON_ROWS``
rows never take this path.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from collections.abc import Callable

COMMON_ROWS = 20_000
"""A phrase in at least this many rows is common: scoring its rows is what makes a search slow."""
K1 = 1.2  # FTS5's bm25() constant k1
NARROW = 0.1  # a filter keeping less than this share of the rows runs the plain query
MARGIN = 1.05  # the bound is raised by this much against rounding and a slightly stale count
_PHRASE = re.compile(r'"(?:[^"]|"")*"')

Ranker = Callable[[str, int], list[tuple[int, float]]]
"""Runs one MATCH expression: (id, score) best first, at most k."""


def phrases(match: str) -> list[str] | None:
    """The quoted phrases of an OR expression made by ``fts.quote_fts`` (None: another form)."""
    parts = match.split(" OR ")
    if not parts or not all(_PHRASE.fullmatch(p) for p in parts):
        return None
    return parts


def idf(rows_with: int, rows: int) -> float:
    """FTS5's bm25() inverse document frequency (never below its floor of 1e-6)."""
    value = math.log((rows - rows_with + 0.5) / (rows_with + 0.5))
    return max(value, 1e-6)


class DocFrequency:
    """Rows holding each phrase, per FTS table, counted on first use and kept for a while.

    A count is exact when made; it is counted again once the table has grown by 1% or after
    ``ttl`` seconds, so the bound it gives stays close (``MARGIN`` covers the rest). A count may
    stop at a cap: the answer is then "at least the cap", which is all ``ranked`` needs to tell a
    common phrase from a rare one without reading the whole list of a common one.
    """

    def __init__(self, ttl: float = 120.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        # (database, table, phrase) -> (rows, exact, table's top id when counted, when)
        self._seen: dict[tuple[str, str, str], tuple[int, bool, int, float]] = {}

    def clear(self) -> None:
        """Forget every count (benchmarks, to time the first query of each term)."""
        with self._lock:
            self._seen.clear()

    def count(  # noqa: PLR0913 - where, what, how fresh and how far to count
        self,
        conn: sqlite3.Connection,
        fts: str,
        phrase: str,
        top_id: int,
        cap: int | None = None,
    ) -> int:
        """Rows of ``fts`` that hold ``phrase``, or ``cap`` when at least that many do.

        ``top_id``: the table's largest rowid now (a count made at a much smaller one is stale).
        """
        db = str(conn.execute("PRAGMA database_list").fetchone()[2])
        key = (db, fts, phrase)
        now = time.monotonic()
        with self._lock:
            got = self._seen.get(key)
        if db and got is not None and top_id <= got[2] * 1.01 and now - got[3] < self.ttl:
            rows, exact = got[0], got[1]
            if exact:
                return rows if cap is None else min(rows, cap)
            if cap is not None and cap <= rows:
                return cap
        sql = f"SELECT 1 FROM {fts} WHERE {fts} MATCH ?"
        if cap is None:
            rows = int(conn.execute(f"SELECT count(*) FROM ({sql})", (phrase,)).fetchone()[0])
        else:
            rows = int(
                conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (phrase, cap)).fetchone()[0]
            )
        if db:
            with self._lock:
                self._seen[key] = (rows, cap is None or rows < cap, top_id, now)
        return rows


FREQUENCIES = DocFrequency()


def ranked(  # noqa: PLR0913 - the table, the query and how to run it
    conn: sqlite3.Connection,
    table: str,
    match: str,
    k: int,
    run: Ranker,
    kept: int | None = None,
    frequencies: DocFrequency = FREQUENCIES,
) -> list[tuple[int, float]]:
    """The top ``k`` of ``run(match, k)`` over ``table`` (whose FTS5 index is ``<table>_fts``),
    split as the module says when that is cheaper.

    ``kept``: about how many rows ``run``'s filters leave (a time range), None for all. Under a
    tenth of the table (a short range: the id range bounds its cost already), or when the rare
    terms are then expected in fewer than ``2 * k`` rows, the split would mostly end in the
    plain query after all (or cost more counting than it saves), so that runs at once.
    """
    parts = phrases(match)
    if parts is None or len(parts) < 2:
        return run(match, k)
    fts = f"{table}_fts"
    top_id = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])
    if top_id < COMMON_ROWS or (kept is not None and kept < top_id * NARROW):
        return run(match, k)
    freq = {p: frequencies.count(conn, fts, p, top_id, COMMON_ROWS) for p in parts}
    common = [p for p in parts if freq[p] >= COMMON_ROWS]
    rare = [p for p in parts if freq[p] < COMMON_ROWS]
    if not common or not rare:
        return run(match, k)
    share = 1.0 if kept is None else min(1.0, kept / top_id)
    if sum(freq[p] for p in rare) * share < 2 * k:
        return run(match, k)
    any_rare = " OR ".join(rare)
    merged: dict[int, float] = {}
    for expr in (any_rare, f"({any_rare}) AND ({' OR '.join(common)})"):
        for rowid, score in run(expr, k):
            merged[rowid] = max(score, merged.get(rowid, score))
    top = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    if len(top) < k:
        return run(match, k)
    # max(rowid) >= the row count and a capped count <= the true one, so each idf is at least
    # the true one: first the bound from the capped counts, then, if needed, the exact one
    for exact in (False, True):
        rows = {p: frequencies.count(conn, fts, p, top_id) for p in common} if exact else freq
        if top[-1][1] >= MARGIN * (K1 + 1) * sum(idf(rows[p], top_id) for p in common):
            return top
    return run(match, k)
