"""Raw checks of a home's SQLite files, run without opening the store (doctor, repair, #12)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from memory.errors import EngramLocked, StoreError
from memory.store import db


def integrity_problems(path: Path, limit: int = 20, key: bytes | None = None) -> list[str]:
    """``PRAGMA integrity_check`` of a SQLite file, read-only: [] when it is sound.

    Raises:
        EngramLocked: the file is encrypted and ``key`` is missing or wrong.
    """
    try:
        conn = db.connect(path, readonly=True, key=key)
    except EngramLocked:
        raise
    except StoreError as exc:
        return [f"cannot open: {exc}"]
    try:
        rows = conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()
    except db.ERRORS as exc:
        return [str(exc)]
    finally:
        conn.close()
    found = [line for r in rows for line in str(r[0]).splitlines() if line.strip()]
    return [] if found == ["ok"] else found


def rebuild_derived_tables(path: Path, key: bytes | None = None) -> None:
    """Rebuild what SQLite can rebuild from the rows themselves: indexes and the FTS5 tables.

    Raises:
        StoreError: the file cannot be opened or written.
    """
    conn = db.connect(path, key=key)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("REINDEX")
        conn.execute("INSERT INTO observations_fts (observations_fts) VALUES ('rebuild')")
        conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('rebuild')")
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except db.ERRORS as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise db.translate_error(exc, f"cannot rebuild the indexes of {path}") from exc
    finally:
        conn.close()


def wanted_vector_keys(conn: sqlite3.Connection) -> tuple[set[int], set[int]]:
    """Observation ids that should have vectors (not pending) and live memory ids."""
    obs = {r[0] for r in conn.execute("SELECT id FROM observations WHERE status != 'pending'")}
    mems = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM memories WHERE deleted_at IS NULL AND superseded_by IS NULL"
        )
    }
    return obs, mems


def owed_work(conn: sqlite3.Connection) -> tuple[int, int]:
    """Entries waiting in ``vector_outbox`` and ``pending_deletions``."""
    return (
        int(conn.execute("SELECT COUNT(*) FROM vector_outbox").fetchone()[0]),
        int(conn.execute("SELECT COUNT(*) FROM pending_deletions").fetchone()[0]),
    )
