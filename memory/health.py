"""Is a home sound? The guard at open, `engram doctor`'s checks, what `engram repair` fixes (#12).

SQLite is the system of record and is never rewritten here beyond what SQLite rebuilds from the
rows themselves (indexes, FTS). The vector index is derived data: a damaged one is moved aside
(kept, never deleted) and rebuilt from SQLite.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from memory.atrest.keys import db_key, keys_for
from memory.errors import StoreDamaged, StoreError
from memory.paths import HomePaths
from memory.store import db, health

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Check:
    """One finding of the doctor: what was checked, whether it is fine, and what would fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _evidence(paths: HomePaths) -> list[str]:
    """Files that show a home held data (so an empty database is a loss, not a new home)."""
    out = []
    wal = paths.root / "engram.db-wal"
    if wal.is_file() and wal.stat().st_size > 0:
        out.append(f"a {wal.stat().st_size}-byte write-ahead log")
    chroma = paths.vectors / "chroma.sqlite3"
    if chroma.is_file() and chroma.stat().st_size > 0:
        out.append("a vector index")
    if _stored_frame(paths.frames):
        out.append("stored frames")
    return out


def _stored_frame(frames: Path) -> bool:
    """Whether Engram stored any frame (under ``frames/YYYY/``; other files may be the user's)."""
    if not frames.is_dir():
        return False
    years = (d for d in frames.iterdir() if d.is_dir() and d.name.isdigit() and len(d.name) == 4)
    return any(p.is_file() for d in years for p in d.rglob("*"))


def _db_key(paths: HomePaths) -> bytes | None:
    """The database key of an encrypted home (EngramLocked when it cannot be had)."""
    return db_key(paths.db, keys_for(paths.root))


def guard_database(paths: HomePaths) -> None:
    """Refuse to open a home whose database is missing or empty while its other files hold data.

    Opening would create an empty database and the start-up reconciliation would then delete
    every vector of the old home.

    Raises:
        StoreDamaged: the database is gone or 0 bytes; nothing was opened or changed.
    """
    dbf = paths.db
    if dbf.is_file() and dbf.stat().st_size > 0:
        return
    evidence = _evidence(paths)
    if not evidence:
        return
    state = "is empty (0 bytes)" if dbf.exists() else "is missing"
    raise StoreDamaged(
        f"{dbf} {state}, but the home still holds {', '.join(evidence)}: the database was "
        "truncated, deleted or replaced. Engram opened nothing and changed nothing. Stop every "
        "Engram process, then copy engram.db (and engram.db-wal, if your backup has one) from a "
        f"backup into {paths.root}; or move {paths.root} aside to start a new, empty home"
    )


def database_checks(paths: HomePaths) -> list[Check]:
    """Checks of engram.db that need no open store: presence, integrity, schema version."""
    try:
        guard_database(paths)
    except StoreDamaged as exc:
        return [Check("database", False, str(exc), "restore engram.db from a backup")]
    if not paths.db.is_file():
        return [Check("database", True, "no database yet (a new home)")]
    problems = health.integrity_problems(paths.db, key=_db_key(paths))
    if problems:
        return [
            Check(
                "database",
                False,
                "integrity_check: " + "; ".join(problems[:5]),
                "`engram repair` rebuilds indexes and full-text tables; if that is not "
                "enough, restore engram.db from a backup",
            )
        ]
    return [Check("database", True, "integrity_check ok")]


def vector_file_checks(paths: HomePaths) -> list[Check]:
    """Integrity of Chroma's SQLite file (the index is derived: repair rebuilds it)."""
    chroma = paths.vectors / "chroma.sqlite3"
    if not chroma.is_file():
        return [Check("vector index file", True, "none yet")]
    problems = health.integrity_problems(chroma)
    if problems:
        return [
            Check(
                "vector index file",
                False,
                "integrity_check: " + "; ".join(problems[:3]),
                "`engram repair` moves it aside and rebuilds it from the database",
            )
        ]
    return [Check("vector index file", True, "integrity_check ok")]


def agreement_checks(conn: sqlite3.Connection, vector_ids: set[str]) -> list[Check]:
    """Do the vectors match the rows (by id), and is any crash debt still owed?"""
    want_obs, want_mem = health.wanted_vector_keys(conn)
    have_obs = {int(v.split(":")[1]) for v in vector_ids if v.startswith("o:")}
    have_mem = {int(v.split(":")[1]) for v in vector_ids if v.startswith("m:")}
    missing = len(want_obs - have_obs) + len(want_mem - have_mem)
    extra = len(have_obs - want_obs) + len(have_mem - want_mem)
    outbox, deletions = health.owed_work(conn)
    agree = Check(
        "vectors agree with rows",
        missing == 0 and extra == 0,
        f"{len(want_obs)} observations and {len(want_mem)} memories; {missing} without a "
        f"vector, {extra} vectors of rows that are gone",
        "" if missing == extra == 0 else "`engram repair` reconciles them by id",
    )
    owed = Check(
        "crash journals",
        outbox == 0 and deletions == 0,
        f"{outbox} vector updates and {deletions} file deletions owed",
        "" if outbox == deletions == 0 else "`engram repair` (or any start) carries them out",
    )
    return [agree, owed]


def encryption_checks(paths: HomePaths) -> list[Check]:
    """Is the home encrypted at rest, as the setting asks, and is a conversion finished? (#12)"""
    from memory.atrest.keys import is_encrypted
    from memory.settings.load import read_settings
    from memory.store.db import is_plain_sqlite

    wanted = read_settings(paths.root).settings.privacy.encrypt_at_rest
    if not is_encrypted(paths.root):
        if wanted and paths.db.is_file():
            return [Check("encryption at rest", False, "the setting is on but the home is plain",
                          "`engram encrypt`")]  # fmt: skip
        return [Check("encryption at rest", True, "off (privacy.encrypt_at_rest)")]
    leftovers = [p.name for p in paths.root.glob("*.plain-old")] + (
        ["engram.db is still plain"] if is_plain_sqlite(paths.db) else []
    )
    if leftovers or not wanted:
        return [Check("encryption at rest", False, "an `engram encrypt` run was interrupted",
                      "run `engram encrypt` again to finish it")]  # fmt: skip
    return [Check("encryption at rest", True, "on (SQLCipher database, sealed files)")]


def check_home(paths: HomePaths) -> list[Check]:
    """Every store check of `engram doctor`, read-only, without opening the store."""
    checks = encryption_checks(paths) + database_checks(paths) + vector_file_checks(paths)
    if not all(c.ok for c in checks) or not paths.db.is_file():
        return checks
    from memory.index.vectors import ChromaIndex

    try:
        ids = ChromaIndex(paths.vectors).all_ids() if paths.vectors.is_dir() else set()
    except Exception as exc:  # noqa: BLE001 - chromadb raises many kinds: all mean damage
        return [
            *checks,
            Check(
                "vector index",
                False,
                f"cannot be read: {exc}",
                "`engram repair` moves it aside and rebuilds it from the database",
            ),
        ]
    conn = db.connect(paths.db, readonly=True, key=_db_key(paths))
    try:
        return checks + agreement_checks(conn, ids)
    finally:
        conn.close()


def repair_files(paths: HomePaths) -> tuple[list[str], bool]:
    """The repairs done before the store is opened: the database's own indexes, and a damaged
    vector index moved aside; returns (what was done, whether the vectors must be rebuilt).

    Raises:
        StoreDamaged: the database cannot be repaired without losing rows (nothing changed).
    """
    done = repair_database(paths)
    if all(c.ok for c in vector_file_checks(paths)):
        return done, False
    from memory.index.vectors import move_aside

    target = move_aside(paths.vectors)
    done.append(f"moved the damaged vector index aside to {target.name}")
    return done, True


def repair_database(paths: HomePaths) -> list[str]:
    """Fix engram.db where SQLite can rebuild from the rows; returns what was done.

    Raises:
        StoreDamaged: the database is missing/empty, or still damaged after the rebuild (then
            nothing but indexes was touched, and the message says how to restore).
    """
    guard_database(paths)
    if not paths.db.is_file():
        return []
    key = _db_key(paths)
    if not health.integrity_problems(paths.db, key=key):
        return []
    try:
        health.rebuild_derived_tables(paths.db, key=key)  # one transaction: rolled back if it fails
        left = health.integrity_problems(paths.db, key=key)
    except StoreError as exc:
        left = [str(exc)]
    if left:
        raise StoreDamaged(
            f"{paths.db} is damaged beyond its indexes ({'; '.join(left[:3])}); rows would be "
            "lost by rewriting it, so it was left as it is. Stop Engram, keep a copy of the "
            "folder, and restore engram.db from a backup (or salvage rows with the sqlite3 "
            "shell's `.recover` into a new file and put that in its place)"
        )
    return ["rebuilt the database's indexes and full-text tables (integrity_check now ok)"]


__all__ = [
    "Check",
    "agreement_checks",
    "database_checks",
    "guard_database",
    "repair_database",
    "vector_file_checks",
]
