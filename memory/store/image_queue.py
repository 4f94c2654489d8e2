"""SQL of the image queue (#17): screens waiting for their CLIP image vector.

Runs inside the store's write transactions (writers) or on a read connection (readers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

#: what a screen must be to get an image vector: indexed (its text side done), with a frame
EMBEDDABLE = (
    "kind = 'screen' AND status IN ('indexed', 'memorized') "
    "AND (thumb_path IS NOT NULL OR frame_path IS NOT NULL)"
)


def enqueue(conn: sqlite3.Connection, obs_ids: Iterable[int]) -> int:
    """Queue these observations (already queued ones keep their attempts); returns how many."""
    cur = conn.executemany(
        "INSERT OR IGNORE INTO image_queue (obs_id) SELECT id FROM observations WHERE id = ?",
        [(int(i),) for i in obs_ids],
    )
    return max(cur.rowcount, 0)


def enqueue_all(conn: sqlite3.Connection) -> int:
    """Queue every embeddable screen (a backfill, or a new image model); returns how many."""
    cur = conn.execute(
        f"INSERT OR IGNORE INTO image_queue (obs_id) SELECT id FROM observations WHERE {EMBEDDABLE}"
    )
    return max(cur.rowcount, 0)


def due(conn: sqlite3.Connection, now: float, max_attempts: int, limit: int) -> list[int]:
    """Queued observation ids whose turn has come, oldest first."""
    rows = conn.execute(
        "SELECT obs_id FROM image_queue WHERE attempts < ? AND next_at <= ? ORDER BY obs_id "
        "LIMIT ?",
        (max_attempts, now, limit),
    ).fetchall()
    return [int(r[0]) for r in rows]


def done(conn: sqlite3.Connection, obs_ids: Iterable[int]) -> None:
    """Remove embedded (or no longer embeddable) observations from the queue."""
    conn.executemany("DELETE FROM image_queue WHERE obs_id = ?", [(int(i),) for i in obs_ids])


def failed(conn: sqlite3.Connection, obs_id: int, error: str, retry_at: float) -> None:
    """Count a failed attempt; the row waits until ``retry_at``."""
    conn.execute(
        "UPDATE image_queue SET attempts = attempts + 1, next_at = ?, error = ? WHERE obs_id = ?",
        (retry_at, error[:500], obs_id),
    )


def waiting(conn: sqlite3.Connection, max_attempts: int) -> tuple[int, int]:
    """(queued with attempts left, given up after ``max_attempts``)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(attempts < ?), 0), COALESCE(SUM(attempts >= ?), 0) FROM image_queue",
        (max_attempts, max_attempts),
    ).fetchone()
    return int(row[0]), int(row[1])


def clear(conn: sqlite3.Connection) -> None:
    """Empty the queue (the image model went away, or a backfill starts over)."""
    conn.execute("DELETE FROM image_queue")


def retry_failed(conn: sqlite3.Connection) -> None:
    """Give every queued row its attempts back (`engram reindex --images`)."""
    conn.execute("UPDATE image_queue SET attempts = 0, next_at = 0, error = NULL")


def attempts(conn: sqlite3.Connection, obs_id: int) -> int:
    """How many times embedding this observation failed (0 when it is not queued)."""
    row = conn.execute("SELECT attempts FROM image_queue WHERE obs_id = ?", (obs_id,)).fetchone()
    return int(row[0]) if row else 0
