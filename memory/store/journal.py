"""The two crash journals (#12): vector work owed to the index and files owed to the disk.

Both are written inside the transaction that commits the change (``vector_outbox`` by triggers,
``pending_deletions`` by forget), so a kill after the commit leaves the debt recorded, and both are
drained after the commit and again at start-up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def outbox_batch(conn: sqlite3.Connection, limit: int = 500) -> tuple[int, list[str]]:
    """The oldest outbox entries: (highest entry id read, distinct keys), (0, []) when empty."""
    rows = conn.execute(
        "SELECT id, vid FROM vector_outbox ORDER BY id LIMIT ?", (limit,)
    ).fetchall()
    if not rows:
        return 0, []
    return int(rows[-1][0]), list(dict.fromkeys(str(r[1]) for r in rows))


def outbox_done(conn: sqlite3.Connection, upto: int) -> None:
    """Drop the entries a drain has carried out (newer ones, written meanwhile, stay)."""
    conn.execute("DELETE FROM vector_outbox WHERE id <= ?", (upto,))


def outbox_size(conn: sqlite3.Connection) -> int:
    """How many entries wait."""
    return int(conn.execute("SELECT COUNT(*) FROM vector_outbox").fetchone()[0])


def queue_deletions(conn: sqlite3.Connection, paths: Iterable[str]) -> None:
    """Record files (relative to the home) to unlink once the caller's transaction commits."""
    conn.executemany(
        "INSERT OR IGNORE INTO pending_deletions (path) VALUES (?)", [(p,) for p in paths]
    )


def pending_deletions(conn: sqlite3.Connection, limit: int = 10_000) -> list[str]:
    """Files still owed to the disk."""
    return [
        str(r[0])
        for r in conn.execute("SELECT path FROM pending_deletions LIMIT ?", (limit,)).fetchall()
    ]


def deletions_done(conn: sqlite3.Connection, paths: Iterable[str]) -> None:
    """Forget the journal entries of files now gone."""
    conn.executemany("DELETE FROM pending_deletions WHERE path = ?", [(p,) for p in paths])
