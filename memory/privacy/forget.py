"""Forgetting: observations, their text, FTS rows, vectors, frames and derived memories, one policy
for every caller (a time range, one moment). The queries live in ``memory.store.forget``.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from memory.pipeline.frames import stored_files
from memory.store.forget import delete_observations

if TYPE_CHECKING:
    from memory.home import Home

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


def forget_observations(home: Home, obs_ids: list[int]) -> ForgetReport:
    """Delete these observations and what derives only from them (one transaction), then their
    vectors and stored files (frames, thumbnails, audio; never an import's original)."""
    rows = home.store.write(lambda c: delete_observations(c, obs_ids), "forget")
    files = tuple(
        f for origin, frame, thumb in rows.file_rows for f in stored_files(origin, frame, thumb)
    )
    if rows.observation_ids or rows.memories_deleted:
        home.vectors.delete_observations(list(rows.observation_ids))
        home.vectors.delete_memories(list(rows.memories_deleted))
    for rel in files:
        path = home.paths.root / rel
        if path.is_file():
            path.unlink()
    home.remember_vector_count()
    logger.info(
        "forgot %d observations and %d memories",
        len(rows.observation_ids),
        len(rows.memories_deleted),
    )
    return ForgetReport(
        len(rows.observation_ids),
        len(files),
        len(rows.memories_deleted),
        rows.memories_trimmed,
        rows.observation_ids,
        rows.memories_deleted,
        files,
    )


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
