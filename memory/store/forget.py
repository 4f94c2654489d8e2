"""Deleting observations and what derives only from them: the forget queries (#10).

``memory.privacy.forget`` runs these inside one write transaction and then removes the vectors and
the files; the rows here say which files those are.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass

from memory.store.store import log_event

logger = logging.getLogger(__name__)

#: (origin, frame_path, thumb_path) of a deleted observation.
FileRow = tuple[str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class DeletedRows:
    """What ``delete_observations`` removed from the database."""

    observation_ids: tuple[int, ...] = ()
    file_rows: tuple[FileRow, ...] = ()
    memories_deleted: tuple[int, ...] = ()
    memories_trimmed: int = 0


def delete_observations(conn: sqlite3.Connection, obs_ids: list[int]) -> DeletedRows:
    """Delete observations and what derives only from them, inside the caller's transaction.

    Memories whose every source is forgotten are deleted with their audit text; memories with other
    sources lose these ids from their provenance. FTS rows follow by trigger.
    """
    if not obs_ids:
        return DeletedRows()
    gone = set(obs_ids)
    file_rows: list[FileRow] = []
    for chunk in _chunks(obs_ids):
        marks = ",".join("?" * len(chunk))
        file_rows += conn.execute(
            f"SELECT origin, frame_path, thumb_path FROM observations WHERE id IN ({marks})", chunk
        ).fetchall()
    deleted: list[int] = []
    trimmed = 0
    for mid in _memories_from(conn, obs_ids):
        row = conn.execute("SELECT source_ids FROM memories WHERE id = ?", (mid,)).fetchone()
        if row is None:
            continue
        before = set(json.loads(row[0]))
        sources = [s for s in json.loads(row[0]) if s not in gone]
        if sources:
            conn.execute(
                "UPDATE memories SET source_ids = ? WHERE id = ?", (json.dumps(sources), mid)
            )
            lost = sorted(gone & before)
            conn.execute(
                "DELETE FROM memory_sources WHERE memory_id = ? AND observation_id IN "
                f"({','.join('?' * len(lost))})",
                (mid, *lost),
            )
            trimmed += 1
        else:
            _delete_memory(conn, mid)
            deleted.append(mid)
    for chunk in _chunks(obs_ids):
        conn.execute(f"DELETE FROM observations WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    conn.execute("INSERT INTO observations_fts (observations_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
    return DeletedRows(tuple(obs_ids), tuple(file_rows), tuple(deleted), trimmed)


def _memories_from(conn: sqlite3.Connection, obs_ids: list[int]) -> list[int]:
    found: set[int] = set()
    for chunk in _chunks(obs_ids):
        rows = conn.execute(
            "SELECT memory_id FROM memory_sources WHERE observation_id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        )
        found.update(int(r[0]) for r in rows)
    return sorted(found)


def _delete_memory(conn: sqlite3.Connection, mid: int) -> None:
    """Delete a memory whose every source is gone, keeping only a content-free audit line."""
    conn.execute("UPDATE memories SET superseded_by = NULL WHERE superseded_by = ?", (mid,))
    conn.execute("DELETE FROM memories WHERE id = ?", (mid,))
    conn.execute("UPDATE memory_events SET before = NULL, after = NULL WHERE memory_id = ?", (mid,))
    log_event(conn, mid, "user", "forget", None, None)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
