"""Forgetting a time range: observations, text, FTS rows, vectors, frames and derived memories."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field

from memory.pipeline.frames import stored_files
from memory.store.store import log_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What a forget removed."""

    observations: int = 0
    frames: int = 0
    memories_deleted: int = 0
    memories_trimmed: int = 0
    observation_ids: tuple[int, ...] = ()
    memory_ids: tuple[int, ...] = ()
    files: tuple[str, ...] = field(default=(), repr=False)


def forget_rows(conn: sqlite3.Connection, obs_ids: list[int]) -> ForgetReport:
    """Delete observations and what derives only from them, inside the caller's transaction.

    Memories whose every source is forgotten are deleted with their audit text; memories with other
    sources lose these ids from their provenance. Returns the files the caller must unlink (relative
    to the home: stored frames, thumbnails and audio of every kind; never an import's original).
    """
    if not obs_ids:
        return ForgetReport()
    gone = set(obs_ids)
    files: list[str] = []
    for chunk in _chunks(obs_ids):
        marks = ",".join("?" * len(chunk))
        for origin, frame, thumb in conn.execute(
            f"SELECT origin, frame_path, thumb_path FROM observations WHERE id IN ({marks})", chunk
        ):
            files += stored_files(origin, frame, thumb)
    deleted, trimmed = [], 0
    mem_ids = sorted(
        {
            r[0]
            for chunk in _chunks(obs_ids)
            for r in conn.execute(
                "SELECT memory_id FROM memory_sources WHERE observation_id IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            )
        }
    )
    for mid in mem_ids:
        row = conn.execute("SELECT source_ids FROM memories WHERE id = ?", (mid,)).fetchone()
        if row is None:
            continue
        sources = [s for s in json.loads(row[0]) if s not in gone]
        if sources:
            conn.execute(
                "UPDATE memories SET source_ids = ? WHERE id = ?", (json.dumps(sources), mid)
            )
            conn.execute(
                f"DELETE FROM memory_sources WHERE memory_id = ? AND observation_id IN "
                f"({','.join('?' * len(gone & set(json.loads(row[0]))))})",
                (mid, *sorted(gone & set(json.loads(row[0])))),
            )
            trimmed += 1
        else:
            conn.execute("UPDATE memories SET superseded_by = NULL WHERE superseded_by = ?", (mid,))
            conn.execute("DELETE FROM memories WHERE id = ?", (mid,))
            conn.execute(
                "UPDATE memory_events SET before = NULL, after = NULL WHERE memory_id = ?", (mid,)
            )
            log_event(conn, mid, "user", "forget", None, None)
            deleted.append(mid)
    for chunk in _chunks(obs_ids):
        conn.execute(f"DELETE FROM observations WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    conn.execute("INSERT INTO observations_fts (observations_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
    logger.info(
        "forgot %d observations and %d memories at %s", len(obs_ids), len(deleted), time.time()
    )
    return ForgetReport(
        len(obs_ids),
        len(files),
        len(deleted),
        trimmed,
        tuple(obs_ids),
        tuple(deleted),
        tuple(files),
    )


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


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
