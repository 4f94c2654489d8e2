"""Forgetting: the rows go in one transaction, then every copy outside it follows (#12).

Order matters for a crash at any point: the transaction deletes the rows and records what is owed
(``vector_outbox`` by trigger, ``pending_deletions`` explicitly); after the commit the vectors are
settled, Chroma's write-ahead queue is scrubbed of the forgotten vectors, the files are unlinked
and the WAL is checkpointed and truncated. ``settle_debts`` redoes the owed parts at start-up.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from memory.index.sync import VectorSync
from memory.media.frames import stored_files
from memory.store import MemoryStore, journal
from memory.store.forgetting import FORGOTTEN_ANSWER, ForgetReport
from memory.store.forgetting import forget_rows as _forget_rows

if TYPE_CHECKING:
    from memory.home import Home

logger = logging.getLogger(__name__)

__all__ = [
    "FORGOTTEN_ANSWER",
    "ForgetReport",
    "forget",
    "forget_observations",
    "forget_rows",
    "settle_debts",
]


def forget_rows(conn: sqlite3.Connection, obs_ids: list[int]) -> ForgetReport:
    """Forget SQL with the home's stored-file rule (inside the caller's transaction)."""
    return _forget_rows(conn, obs_ids, stored_files)


def forget(store: MemoryStore, vectors: VectorSync, root: Path, ids: list[int]) -> ForgetReport:
    """Forget observations and everything derived from them, on disk too."""
    report = store.write(lambda c: forget_rows(c, ids), "forget")
    if not report.observation_ids:
        return report
    vectors.drain()
    vectors.scrub_log(report.observation_ids, report.memory_ids)
    sweep_deletions(store, root)
    store.checkpoint()
    logger.info(
        "forgot %d observations, %d memories, %d answers",
        report.observations,
        report.memories_deleted,
        report.answers_removed,
    )
    return report


def sweep_deletions(store: MemoryStore, root: Path) -> int:
    """Unlink the files committed forgets still owe; returns how many were removed."""
    removed = 0
    base = root.resolve()
    while True:
        owed = journal.pending_deletions(store.read(), 2000)
        if not owed:
            return removed
        for rel in owed:
            path = (root / rel).resolve()
            if not path.is_relative_to(base):  # a journal entry never points outside the home
                logger.warning("ignoring a pending deletion outside the home: %s", rel)
                continue
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        store.write(partial(journal.deletions_done, paths=owed), "pending deletions")


def settle_debts(store: MemoryStore, vectors: VectorSync, root: Path) -> tuple[int, int]:
    """Start-up: unlink owed files and carry out owed vector work; (files, vector keys)."""
    files = sweep_deletions(store, root)
    keys = vectors.drain()
    if files:
        logger.info("start-up: unlinked %d files an interrupted forget left", files)
        store.checkpoint()
    return files, keys


def forget_observations(home: Home, obs_ids: list[int]) -> ForgetReport:
    """Forget these observations in a home (every caller: a time range, one moment)."""
    report = forget(home.store, home.vectors, home.paths.root, obs_ids)
    home.remember_vector_count()
    return report


@dataclass(frozen=True, slots=True)
class ForgetPreview:
    """What forgetting ``[since, until)`` would remove, before anything is removed."""

    since: float
    until: float
    by_kind: dict[str, int]
    first_ts: float | None
    last_ts: float | None
    memories: int

    @property
    def observations(self) -> int:
        """How many observations the range holds."""
        return sum(self.by_kind.values())


def forget_preview(conn: sqlite3.Connection, since: float, until: float) -> ForgetPreview:
    """Count what ``[since, until)`` holds: observations per kind, their span, derived memories."""
    by_kind = dict(
        conn.execute(
            "SELECT kind, COUNT(*) FROM observations WHERE ts_start >= ? AND ts_start < ? "
            "GROUP BY kind ORDER BY kind",
            (since, until),
        ).fetchall()
    )
    first, last = conn.execute(
        "SELECT MIN(ts_start), MAX(ts_start) FROM observations "
        "WHERE ts_start >= ? AND ts_start < ?",
        (since, until),
    ).fetchone()
    (memories,) = conn.execute(
        "SELECT COUNT(DISTINCT s.memory_id) FROM memory_sources s JOIN observations o "
        "ON o.id = s.observation_id WHERE o.ts_start >= ? AND o.ts_start < ?",
        (since, until),
    ).fetchone()
    return ForgetPreview(since, until, by_kind, first, last, int(memories))
