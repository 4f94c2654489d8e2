"""`engram encrypt`: convert a plain home to an encrypted one in place, resumably (#12).

Steps, each safe to interrupt (kill -9) and finished by running the command again:

1. The data key: created once (``store.key``); a re-run unlocks the same key.
2. ``engram.db``: with every other connection closed (an exclusive lock proves it), SQLCipher's
   ``sqlcipher_export`` copies it into ``engram.db.encrypting``, checked row for row, then renamed
   over ``engram.db``. A hard link keeps the old plain file until the rename, then its bytes are
   overwritten with zeros and it is unlinked (a re-run finishes that too).
3. Frames and audio, file by file: a sealed file starts with a magic (``memory.media.sealed``),
   so the files themselves are the journal: a re-run skips the sealed ones. Each plain file is
   replaced atomically, and its old bytes overwritten through a hard link the same way.
4. The vector index: copied (vectors kept, no re-embedding; text and image collections) into a
   new Chroma folder whose app names are keyed tags, swapped in, and the old folder overwritten
   and removed.
5. ``privacy.encrypt_at_rest`` is switched on.

Overwriting old bytes helps on ordinary disks; copy-on-write filesystems, snapshots and SSD
wear-levelling may keep old blocks (docs/security.md says so).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2 as cipher

from memory.atrest.keys import HomeKeys, unlock
from memory.errors import StoreError, StoreLocked
from memory.index.tagged import TAGGED_MARK, TaggedIndex
from memory.index.vectors import ChromaIndex
from memory.media.sealed import MAGIC, seal
from memory.paths import HomePaths
from memory.progress import phase
from memory.store.db import ERRORS, is_plain_sqlite

logger = logging.getLogger(__name__)

OLD = ".plain-old"


@dataclass(frozen=True, slots=True)
class ConvertReport:
    """What one run of `engram encrypt` did."""

    database: bool
    files: int
    files_already: int
    vectors: int


def encrypt_home(root: Path, passphrase: str | None, progress: Any = None) -> ConvertReport:
    """Encrypt a home in place (see the module); safe to run again after any interruption.

    Raises:
        EngramLocked: wrong passphrase, or no passphrase for a new key.
        StoreLocked: another Engram process has the home open.
        StoreError: the database copy did not match (the plain database is untouched).
    """
    paths = HomePaths(Path(root))
    paths.create()  # umask 077: every file written below is 0600
    if paths.db.is_file() and is_plain_sqlite(paths.db):  # refuse before a key exists
        conn = cipher.connect(str(paths.db), isolation_level=None, timeout=1)
        try:
            _take_exclusive(conn, paths.db)
        finally:
            conn.close()
    keys = unlock(paths.root, passphrase, create=True)
    phase(progress, "database")
    done_db = _encrypt_database(paths, keys)
    files, already = _seal_files(paths, keys, progress)
    vectors = _tag_vectors(paths, keys, progress)
    from memory.settings.live import LiveSettings

    LiveSettings(paths.root).update({"privacy.encrypt_at_rest": True})
    return ConvertReport(done_db, files, already, vectors)


# -- overwriting the plain copy ------------------------------------------------------------------


def _shred(path: Path) -> None:
    """Overwrite a file's bytes with zeros, then unlink it."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            left = size
            while left > 0:
                n = min(left, 1 << 20)
                fh.write(b"\0" * n)
                left -= n
            fh.flush()
            os.fsync(fh.fileno())
    except FileNotFoundError:
        return
    path.unlink(missing_ok=True)


def _settle_old(path: Path, old: Path) -> None:
    """Finish a replacement a crash interrupted: the old copy is shredded once ``path`` no
    longer is the same file (else the link is simply dropped: nothing was replaced yet)."""
    if not old.exists():
        return
    if path.exists() and os.path.samefile(path, old):
        old.unlink()
    else:
        _shred(old)


def _old_of(path: Path) -> Path:
    return path.with_name(f".{path.name}{OLD}") if path.parent.name else Path(f"{path}{OLD}")


def _replace_and_shred(path: Path, new: Path) -> None:
    """Rename ``new`` over ``path`` atomically, then overwrite the old content."""
    old = _old_of(path)
    old.unlink(missing_ok=True)
    os.link(path, old)
    _fsync_dir(path.parent)
    os.replace(new, path)
    _fsync_dir(path.parent)
    _shred(old)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the database ---------------------------------------------------------------------------------


def _encrypt_database(paths: HomePaths, keys: HomeKeys) -> bool:
    db = paths.db
    _settle_old(db, _old_of(db))
    tmp = db.with_name(db.name + ".encrypting")
    tmp.unlink(missing_ok=True)  # a killed export starts again from the plain file
    if not db.is_file() or not is_plain_sqlite(db):
        return False
    conn = cipher.connect(str(db), isolation_level=None, timeout=1)
    try:
        _take_exclusive(conn, db)
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE '%fts%'"
            )
        ]
        counts = {t: _count(conn, "main", t) for t in tables}
        conn.execute(f"ATTACH DATABASE ? AS enc KEY \"x'{keys.db.hex()}'\"", (str(tmp),))
        conn.execute("SELECT sqlcipher_export('enc')")
        conn.execute(f"PRAGMA enc.user_version = {version}")
        copied = {t: _count(conn, "enc", t) for t in tables}
        conn.execute("DETACH DATABASE enc")
    except ERRORS as exc:
        raise StoreError(f"cannot encrypt {db}: {exc}; the plain database is untouched") from exc
    finally:
        conn.close()
    if copied != counts:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"the encrypted copy of {db} does not match it; nothing was replaced")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    for side in ("-wal", "-shm"):  # empty after the checkpoint; they belong to the plain file
        db.with_name(db.name + side).unlink(missing_ok=True)
    os.chmod(tmp, 0o600)
    _replace_and_shred(db, tmp)
    return True


def _take_exclusive(conn: Any, db: Path) -> None:
    """Hold the database alone (no other connection open), with the WAL folded in.

    Raises:
        StoreLocked: another process has it open.
    """
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
    except ERRORS as exc:
        raise StoreLocked(
            f"another Engram process has {db.parent} open (the app, `engram run`, a server): "
            "stop it and run `engram encrypt` again; nothing was changed"
        ) from exc


def _count(conn: Any, schema: str, table: str) -> int:
    quoted = table.replace('"', '""')
    return int(conn.execute(f'SELECT count(*) FROM {schema}."{quoted}"').fetchone()[0])


# -- frames and audio ---------------------------------------------------------------------------


def _stored_files(paths: HomePaths) -> Iterator[Path]:
    if not paths.frames.is_dir():
        return
    for p in sorted(paths.frames.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            yield p


def _seal_files(paths: HomePaths, keys: HomeKeys, progress: Any) -> tuple[int, int]:
    for old in list(paths.frames.rglob(f".*{OLD}")) if paths.frames.is_dir() else []:
        _settle_old(old.with_name(old.name[1 : -len(OLD)]), old)
    files = list(_stored_files(paths))
    phase(progress, "frames and audio")
    sealed = already = 0
    for n, path in enumerate(files, 1):
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC))
        if head == MAGIC:
            already += 1
        else:
            tmp = path.with_name(f".{path.name}.sealing.tmp")
            data = seal(keys.files, path.read_bytes())
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            _replace_and_shred(path, tmp)
            sealed += 1
        if progress is not None:
            progress(n, len(files))
    return sealed, already


# -- the vector index ----------------------------------------------------------------------------


def _tag_vectors(paths: HomePaths, keys: HomeKeys, progress: Any) -> int:
    folder = paths.vectors
    old = folder.with_name(folder.name + OLD)
    new = folder.with_name(folder.name + ".encrypting")
    if old.exists() and not folder.exists() and (new / TAGGED_MARK).exists():
        os.replace(new, folder)  # killed between the two renames: finish the swap
    if old.exists():  # swapped in by a killed run: only the old copy is left to destroy
        _shred_tree(old)
    if not (folder / "chroma.sqlite3").is_file() or (folder / TAGGED_MARK).exists():
        return 0
    shutil.rmtree(new, ignore_errors=True)
    phase(progress, "vector index")
    source = ChromaIndex(folder)
    total = source.count()
    target = TaggedIndex(ChromaIndex(new), keys.tag)
    copied = 0
    for image_name, ids, vectors, metas in source.export():
        into = target if image_name is None else target.image_collection(image_name)
        into.add(ids, vectors, metas)
        copied += len(ids)
        if progress is not None:
            progress(copied, max(total, copied))
    if target.count() != total:
        raise StoreError(f"the copy of the vector index has {target.count()} of {total} vectors")
    source.close()
    (new / TAGGED_MARK).write_text("app names are keyed tags\n")
    os.replace(folder, old)
    os.replace(new, folder)
    _shred_tree(old)
    return copied


def _shred_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*"), reverse=True):
        if p.is_file():
            _shred(p)
    shutil.rmtree(folder, ignore_errors=True)


__all__ = ["ConvertReport", "encrypt_home"]
