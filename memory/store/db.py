"""Opening SQLite connections with Engram's pragmas, and running numbered migrations."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from memory.errors import DiskFull, SchemaTooNewError, StoreError, StoreLocked

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000


def _migration_files() -> list[tuple[int, str]]:
    folder = resources.files("memory.store.migrations")
    steps = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            steps.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(steps)


def schema_version() -> int:
    """Return the newest schema version this code knows."""
    return max(number for number, _ in _migration_files())


def connect(
    path: Path, *, readonly: bool = False, check_same_thread: bool = True
) -> sqlite3.Connection:
    """Open the database with WAL, foreign keys and a busy timeout.

    Raises:
        StoreError: the file cannot be opened.
    """
    try:
        if readonly:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=check_same_thread,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        else:
            conn = sqlite3.connect(
                path,
                isolation_level=None,
                check_same_thread=check_same_thread,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")  # forgotten text is zeroed on disk
    except sqlite3.Error as exc:
        if not readonly and _read_only_folder(Path(path).parent):
            raise DiskFull(
                f"cannot open the database {path}: the data folder is read-only; "
                "nothing was written"
            ) from exc
        raise translate_error(exc, f"cannot open the database {path}") from exc
    return conn


def _read_only_folder(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def _statements(script: str) -> Iterator[str]:
    buf = ""
    for line in script.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf
            buf = ""
    if buf.strip():
        yield buf


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date in one transaction; return the version now in force.

    Raises:
        SchemaTooNewError: the database was written by a newer Engram.
    """
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    steps = _migration_files()
    latest = steps[-1][0]
    if current > latest:
        raise SchemaTooNewError(current, latest)
    if current == latest:
        return current
    conn.execute("BEGIN IMMEDIATE")
    # another process may have migrated while we waited for the write lock: read it again
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    try:
        for number, script in steps:
            if number <= current:
                continue
            logger.info("applying schema migration %04d", number)
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {latest}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return latest


def translate_error(exc: sqlite3.Error, what: str) -> StoreError:
    """Turn an sqlite3 error into the StoreError the user should see."""
    msg = str(exc).lower()
    if "disk is full" in msg or "disk i/o" in msg:
        return DiskFull(
            f"{what}: the disk is full; nothing was written (free some space and retry)"
        )
    if "readonly" in msg or "read-only" in msg:
        return DiskFull(f"{what}: the data folder is read-only; nothing was written")
    if "locked" in msg or "busy" in msg:
        return StoreLocked(f"{what}: another Engram process kept the database busy; try again")
    if "unable to open" in msg:
        return StoreError(f"{what}: the database file cannot be opened ({exc})")
    return StoreError(f"{what}: {exc}")
