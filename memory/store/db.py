"""Opening SQLite connections with Engram's pragmas, and running numbered migrations.

Every connection to a home's ``engram.db`` is opened here (#12): a plain home through the standard
``sqlite3`` module, an encrypted one through SQLCipher (``sqlcipher3``, the same DB-API) with a raw
256-bit key. ``ERRORS`` / ``OPERATIONAL_ERRORS`` / ``DATABASE_ERRORS`` catch either driver's
exceptions; code outside this module names those tuples, never ``sqlite3.Error`` alone.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import cast

from sqlcipher3 import dbapi2 as _cipher

from memory.errors import (
    DiskFull,
    EngramLocked,
    SchemaTooNewError,
    StoreDamaged,
    StoreError,
    StoreLocked,
)

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
STORE_KEY_FILE = "store.key"
"""The wrapped data key of an encrypted home (``memory.atrest``), next to ``engram.db``."""
SQLITE_MAGIC = b"SQLite format 3\x00"

ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, _cipher.Error)
"""Any error of either driver (``except db.ERRORS``)."""
OPERATIONAL_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    _cipher.OperationalError,
)
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, _cipher.DatabaseError)


def is_plain_sqlite(path: Path) -> bool:
    """Whether ``path`` starts with SQLite's plain header (False: SQLCipher, absent or empty)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _open(
    path: Path, *, readonly: bool, check_same_thread: bool, key: bytes | None
) -> sqlite3.Connection:
    target: str | Path = f"file:{path}?mode=ro" if readonly else path
    if key is None:
        return sqlite3.connect(
            target,
            uri=readonly,
            isolation_level=None,
            check_same_thread=check_same_thread,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    conn = _cipher.connect(
        str(target),
        uri=readonly,
        isolation_level=None,
        check_same_thread=check_same_thread,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our error, not a stderr line
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("PRAGMA temp_store = MEMORY")  # sorts and FTS merges never spill plain temp files
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except _cipher.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc).lower():
            # the passphrase was already checked against store.key, so this is the file
            raise StoreDamaged(
                f"{path} does not open with this home's key: it is damaged, or it is another "
                "home's database; nothing was changed. Restore engram.db from a backup of this "
                "home (its store.key must come from the same backup)"
            ) from exc
        raise
    conn.row_factory = _cipher.Row
    return cast("sqlite3.Connection", conn)


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
    path: Path,
    *,
    readonly: bool = False,
    check_same_thread: bool = True,
    key: bytes | None = None,
) -> sqlite3.Connection:
    """Open the database with WAL, foreign keys and a busy timeout; SQLCipher when ``key`` is given.

    Raises:
        EngramLocked: the file is encrypted and no ``key`` was given.
        StoreDamaged: ``key`` does not open it (damaged, or another home's file).
        StoreError: the file cannot be opened.
    """
    if key is None and Path(path).is_file() and _encrypted(Path(path)):
        raise EngramLocked(
            f"Engram is locked: {path} is encrypted and no key was given; run `engram unlock` "
            "(or set ENGRAM_VAULT_PASSPHRASE for a headless run)"
        )
    try:
        conn = _open(Path(path), readonly=readonly, check_same_thread=check_same_thread, key=key)
        if key is None:
            conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")  # forgotten text is zeroed on disk
    except ERRORS as exc:
        if not readonly and _read_only_folder(Path(path).parent):
            raise DiskFull(
                f"cannot open the database {path}: the data folder is read-only; "
                "nothing was written"
            ) from exc
        raise translate_error(exc, f"cannot open the database {path}") from exc
    return conn


def _encrypted(path: Path) -> bool:
    """A non-empty file without SQLite's header next to a home key: an encrypted database."""
    try:
        if path.stat().st_size == 0:
            return False
    except OSError:
        return False
    return not is_plain_sqlite(path) and (path.parent / STORE_KEY_FILE).is_file()


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


def translate_error(exc: Exception, what: str) -> StoreError:
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
    if "malformed" in msg or "not a database" in msg or "corrupt" in msg:
        return StoreDamaged(
            f"{what}: the database is damaged ({exc}); nothing more was written. Run "
            "`engram doctor` to see what is wrong and `engram repair` to fix what can be fixed "
            "without losing rows"
        )
    if "unable to open" in msg:
        return StoreError(f"{what}: the database file cannot be opened ({exc})")
    return StoreError(f"{what}: {exc}")
