"""MemoryStore: one writer thread owns the write connection; each reader thread has its own."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from memory.errors import NotFound, StoreError
from memory.privacy.redaction import scrub_optional
from memory.store import db
from memory.store import memories as mem
from memory.store.records import MEMORY_TYPES, Memory, NewObservation, Observation

logger = logging.getLogger(__name__)
T = TypeVar("T")

_TEXT_COLUMNS = frozenset({"app", "window_title", "url", "speaker", "text", "context", "error"})
"""Observation columns that carry captured or typed text: redacted on every write (#12)."""
_OBS_COLUMNS = (
    "kind",
    "ext_id",
    "ts_start",
    "ts_end",
    "app",
    "window_title",
    "url",
    "monitor",
    "speaker",
    "session",
    "text",
    "context",
    "frame_path",
    "thumb_path",
    "phash",
    "status",
    "origin",
)


class MemoryStore:
    """The SQLite system of record.

    Writes run on one store thread (``write``); reads use a per-thread WAL connection (``read``).
    """

    def __init__(self, path: Path, *, key: bytes | None = None) -> None:
        self.path = Path(path)
        self._key = key  # SQLCipher key of an encrypted home (#12); None: plain SQLite
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-store")
        self._closed = False
        try:
            self._writer.submit(self._open_writer).result()
        except BaseException:
            self._writer.shutdown(wait=True)
            raise

    def _open_writer(self) -> None:
        self._conn = db.connect(self.path, key=self._key)
        try:
            db.migrate(self._conn)
        except db.ERRORS as exc:
            self._conn.close()
            raise db.translate_error(exc, f"cannot open the database {self.path}") from exc
        try:
            os.chmod(self.path, 0o600)
        except OSError:
            pass

    # -- plumbing -------------------------------------------------------------------------------

    def write(self, fn: Callable[[sqlite3.Connection], T], what: str = "write") -> T:
        """Run ``fn(conn)`` in one IMMEDIATE transaction on the store thread; return its result.

        Raises:
            StoreError: the transaction failed and was rolled back (disk full, read-only, locked).
        """
        if self._closed:
            raise StoreError("the store is closed")
        return self._writer.submit(self._transact, fn, what).result()

    def _transact(self, fn: Callable[[sqlite3.Connection], T], what: str) -> T:
        conn = self._conn
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
        except db.ERRORS as exc:
            raise db.translate_error(exc, what) from exc
        try:
            result = fn(conn)
            conn.execute("COMMIT")
            return result
        except db.ERRORS as exc:
            self._rollback(conn)
            raise db.translate_error(exc, what) from exc
        except BaseException:
            self._rollback(conn)
            raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("ROLLBACK")
        except db.ERRORS:
            logger.debug("rollback after a failed write had nothing to undo")

    def checkpoint(self, attempts: int = 20) -> bool:
        """Copy the WAL into the database and truncate it to zero bytes (after a forget).

        A reader in the middle of a statement holds the WAL; the busy timeout waits for it, and a
        few retries cover readers that start again. Returns whether the WAL was fully truncated.
        """

        def _do() -> bool:
            conn = self._conn
            assert conn is not None
            for n in range(attempts):
                try:
                    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                except db.OPERATIONAL_ERRORS:
                    busy = 1
                if not busy:
                    return True
                time.sleep(0.05 * (n + 1))
            logger.warning("the WAL could not be truncated: a reader kept it busy")
            return False

        if self._closed:
            raise StoreError("the store is closed")
        return self._writer.submit(_do).result()

    def read(self) -> sqlite3.Connection:
        """This thread's read connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the store is closed")
            # Closed from close() on another thread, so not bound to this one; used only here.
            conn = db.connect(self.path, check_same_thread=False, key=self._key)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def drop_reader(self) -> None:
        """Close this thread's read connection; the next ``read()`` opens a fresh one.

        For a loop that met a database error: a connection that reported "disk I/O error" keeps
        reporting it (seen in clean-clone CI runs of `engram run`), a new one may not.
        """
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._readers_lock:
            if conn in self._readers:
                self._readers.remove(conn)
        try:
            conn.close()
        except db.ERRORS:
            pass

    def close(self) -> None:
        """Finish pending writes, close every connection and join the store thread."""
        if self._closed:
            return
        self._closed = True

        def _close_writer() -> None:
            if self._conn is not None:
                self._conn.close()

        self._writer.submit(_close_writer).result()
        self._writer.shutdown(wait=True)
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    # -- meta and settings ----------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        row = self.read().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        self.write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
            ),
            "set meta",
        )

    # -- observations ---------------------------------------------------------------------------

    def add_observations(self, items: list[NewObservation]) -> list[int | None]:
        """Insert observations in one transaction; an ``ext_id`` seen before gives None (skip)."""
        now = time.time()

        def _do(conn: sqlite3.Connection) -> list[int | None]:
            ids: list[int | None] = []
            for item in items:
                values = [_scrub_column(c, getattr(item, c)) for c in _OBS_COLUMNS]
                cur = conn.execute(
                    f"INSERT OR IGNORE INTO observations ({', '.join(_OBS_COLUMNS)}, created_at) "
                    f"VALUES ({', '.join('?' * len(_OBS_COLUMNS))}, ?)",
                    (*values, now),
                )
                ids.append(cur.lastrowid if cur.rowcount else None)
            return ids

        return self.write(_do, "add observations")

    def update_observation(self, obs_id: int, **changes: Any) -> None:
        """Set columns of one observation (text, status, error, frame paths, ...)."""
        allowed = set(_OBS_COLUMNS) | {"attempts", "error"}
        bad = set(changes) - allowed
        if bad:
            raise StoreError(f"unknown observation column(s): {', '.join(sorted(bad))}")
        changes = {k: _scrub_column(k, v) for k, v in changes.items()}
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.write(
            lambda c: c.execute(
                f"UPDATE observations SET {sets} WHERE id = ?", (*changes.values(), obs_id)
            ),
            "update observation",
        )

    def set_status(self, ids: list[int], status: str, error: str | None = None) -> None:
        """Move observations to a status; ``failed`` counts an attempt and keeps the error."""
        bump = 1 if status == "failed" else 0
        self.write(
            lambda c: c.executemany(
                "UPDATE observations SET status = ?, error = ?, attempts = attempts + ? "
                "WHERE id = ?",
                [(status, scrub_optional(error), bump, i) for i in ids],
            ),
            "set status",
        )

    def get_observations(self, ids: list[int]) -> dict[int, Observation]:
        """Observations by id."""
        out: dict[int, Observation] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.read().execute(
                f"SELECT * FROM observations WHERE id IN ({marks})", chunk
            ):
                out[row["id"]] = Observation.from_row(row)
        return out

    def get_observation(self, obs_id: int) -> Observation:
        """One observation.

        Raises:
            NotFound: no observation has that id.
        """
        found = self.get_observations([obs_id])
        if obs_id not in found:
            raise NotFound(f"no observation {obs_id}")
        return found[obs_id]

    def observations_between(
        self,
        start: float,
        end: float,
        *,
        kinds: tuple[str, ...] = (),
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Observation]:
        """Observations with ``start <= ts_start < end``, oldest first (timeline paging)."""
        sql = "SELECT * FROM observations WHERE ts_start >= ? AND ts_start < ?"
        args: list[Any] = [start, end]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        sql += " ORDER BY ts_start, id LIMIT ? OFFSET ?"
        rows = self.read().execute(sql, (*args, limit, offset)).fetchall()
        return [Observation.from_row(r) for r in rows]

    def neighbour(self, obs_id: int, step: int) -> Observation | None:
        """The observation right after (step=1) or before (step=-1) this one on the timeline."""
        cur = self.get_observation(obs_id)
        op, order = (">", "ASC") if step > 0 else ("<", "DESC")
        row = (
            self.read()
            .execute(
                f"SELECT * FROM observations WHERE (ts_start, id) {op} (?, ?) "
                f"ORDER BY ts_start {order}, id {order} LIMIT 1",
                (cur.ts_start, cur.id),
            )
            .fetchone()
        )
        return Observation.from_row(row) if row else None

    def observation_ids_between(self, since: float, until: float) -> list[int]:
        """Ids of the observations with ``since <= ts_start < until``."""
        rows = self.read().execute(
            "SELECT id FROM observations WHERE ts_start >= ? AND ts_start < ?", (since, until)
        )
        return [int(r[0]) for r in rows]

    def observation_contexts(self, ids: list[int]) -> dict[int, str]:
        """The neighbouring-turn context stored with each of these observations (id -> text)."""
        out: dict[int, str] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.read().execute(
                f"SELECT id, context FROM observations WHERE id IN ({marks})", chunk
            )
            out.update({int(i): str(c or "") for i, c in rows})
        return out

    def observations_with_status(self, status: str, limit: int = 100) -> list[Observation]:
        """The oldest observations in a status (work queues)."""
        rows = (
            self.read()
            .execute(
                "SELECT * FROM observations WHERE status = ? ORDER BY id LIMIT ?", (status, limit)
            )
            .fetchall()
        )
        return [Observation.from_row(r) for r in rows]

    def counts(self) -> dict[str, Any]:
        """Counts of observations by status and kind, and of live memories by type."""
        conn = self.read()
        by_status = dict(
            conn.execute("SELECT status, COUNT(*) FROM observations GROUP BY status").fetchall()
        )
        by_kind = dict(
            conn.execute("SELECT kind, COUNT(*) FROM observations GROUP BY kind").fetchall()
        )
        by_type = dict(
            conn.execute(
                "SELECT type, COUNT(*) FROM memories "
                "WHERE deleted_at IS NULL AND superseded_by IS NULL "
                "GROUP BY type"
            ).fetchall()
        )
        return {
            "observations": sum(by_status.values()),
            "by_status": by_status,
            "by_kind": by_kind,
            "memories": {t: by_type.get(t, 0) for t in MEMORY_TYPES},
        }

    def iter_observations(self, batch: int = 1000) -> Iterator[list[Observation]]:
        """Every observation in id order, in batches (reindexing)."""
        last = 0
        while True:
            rows = (
                self.read()
                .execute(
                    "SELECT * FROM observations WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
                )
                .fetchall()
            )
            if not rows:
                return
            last = rows[-1]["id"]
            yield [Observation.from_row(r) for r in rows]

    # -- memories -------------------------------------------------------------------------------

    def add_memory(
        self,
        mtype: str,
        data: dict[str, Any],
        *,
        source_ids: Sequence[int] = (),
        tree_path: Sequence[str] = (),
        agent: str = "user",
    ) -> int:
        """Insert a memory with provenance and an audit event; return its id.

        Raises:
            InvalidMemory: the fields break the schema or a limit.
        """

        def _do(conn: sqlite3.Connection) -> int:
            return self._insert_memory(conn, mtype, data, list(source_ids), list(tree_path), agent)

        return self.write(_do, "add memory")

    def _insert_memory(
        self,
        conn: sqlite3.Connection,
        mtype: str,
        data: dict[str, Any],
        source_ids: list[int],
        tree_path: list[str],
        agent: str,
    ) -> int:
        now = time.time()
        mid = mem.insert(
            conn, mtype, data, source_ids=list(source_ids), tree_path=list(tree_path), now=now
        )
        after = mem.snapshot(mem.load(conn, [mid])[mid])
        log_event(conn, mid, agent, "insert", None, after)
        return mid

    def edit_memory(
        self,
        mid: int,
        data: dict[str, Any],
        *,
        agent: str = "user",
        source_ids: list[int] | None = None,
        tree_path: list[str] | None = None,
        op: str = "update",
    ) -> Memory:
        """Change a live memory's fields, keeping the old version in ``memory_events``.

        Raises:
            NotFound: no live memory has that id.
            InvalidMemory: the new fields break the schema or a limit.
        """

        def _do(conn: sqlite3.Connection) -> Memory:
            old = _live(conn, mid)
            mem.update(conn, old, data, source_ids=source_ids, tree_path=tree_path, now=time.time())
            new = mem.load(conn, [mid])[mid]
            log_event(conn, mid, agent, op, mem.snapshot(old), mem.snapshot(new))
            return new

        return self.write(_do, "edit memory")

    def delete_memory(self, mid: int, *, agent: str = "user") -> None:
        """Soft-delete a memory (it stays in history and can be inspected).

        Raises:
            NotFound: no live memory has that id.
        """

        def _do(conn: sqlite3.Connection) -> None:
            old = _live(conn, mid)
            conn.execute("UPDATE memories SET deleted_at = ? WHERE id = ?", (time.time(), mid))
            log_event(conn, mid, agent, "delete", mem.snapshot(old), None)

        self.write(_do, "delete memory")

    def supersede_memory(
        self,
        old_id: int,
        mtype: str,
        data: dict[str, Any],
        *,
        agent: str,
        source_ids: Sequence[int] = (),
        tree_path: Sequence[str] = (),
    ) -> int:
        """Insert a newer memory that replaces ``old_id``; the old one stays, marked superseded."""

        def _do(conn: sqlite3.Connection) -> int:
            old = _live(conn, old_id)
            new_id = self._insert_memory(
                conn, mtype, data, list(source_ids), list(tree_path), agent
            )
            conn.execute("UPDATE memories SET superseded_by = ? WHERE id = ?", (new_id, old_id))
            log_event(
                conn,
                old_id,
                agent,
                "supersede",
                mem.snapshot(old),
                f'{{"superseded_by": {new_id}}}',
            )
            return new_id

        return self.write(_do, "supersede memory")

    def get_memories(self, ids: list[int]) -> dict[int, Memory]:
        """Memories by id, in any state."""
        out: dict[int, Memory] = {}
        for chunk in _chunks(ids, 500):
            out.update(mem.load(self.read(), chunk))
        return out

    def get_memory(self, mid: int) -> Memory:
        """One memory in any state.

        Raises:
            NotFound: no memory has that id.
        """
        found = self.get_memories([mid])
        if mid not in found:
            raise NotFound(f"no memory {mid}")
        return found[mid]

    def list_memories(
        self,
        mtype: str | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        include_inactive: bool = False,
    ) -> list[Memory]:
        """Memories newest first, optionally of one type; live ones unless asked otherwise."""
        sql = "SELECT id FROM memories WHERE 1 = 1"
        args: list[Any] = []
        if mtype:
            sql += " AND type = ?"
            args.append(mtype)
        if not include_inactive:
            sql += " AND deleted_at IS NULL AND superseded_by IS NULL"
        sql += " ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?"
        ids = [r[0] for r in self.read().execute(sql, (*args, limit, offset))]
        found = self.get_memories(ids)
        return [found[i] for i in ids]

    def memories_from(self, obs_ids: list[int]) -> list[Memory]:
        """Live memories whose provenance includes any of these observations."""
        ids: set[int] = set()
        for chunk in _chunks(obs_ids, 500):
            marks = ",".join("?" * len(chunk))
            ids.update(
                r[0]
                for r in self.read().execute(
                    f"SELECT memory_id FROM memory_sources WHERE observation_id IN ({marks})", chunk
                )
            )
        return [m for m in self.get_memories(sorted(ids)).values() if m.live]

    def history(self, mid: int) -> list[dict[str, Any]]:
        """The audit events of one memory, oldest first."""
        rows = (
            self.read()
            .execute("SELECT * FROM memory_events WHERE memory_id = ? ORDER BY id", (mid,))
            .fetchall()
        )
        return [dict(r) for r in rows]

    def iter_memories(self, batch: int = 1000) -> Iterator[list[Memory]]:
        """Every live memory in id order, in batches (reindexing)."""
        last = 0
        while True:
            ids = [
                r[0]
                for r in self.read().execute(
                    "SELECT id FROM memories "
                    "WHERE id > ? AND deleted_at IS NULL AND superseded_by IS NULL "
                    "ORDER BY id LIMIT ?",
                    (last, batch),
                )
            ]
            if not ids:
                return
            last = ids[-1]
            found = self.get_memories(ids)
            yield [found[i] for i in ids]


def log_event(
    conn: sqlite3.Connection,
    mid: int | None,
    agent: str,
    op: str,
    before: str | None,
    after: str | None,
) -> None:
    """Append one row to the ``memory_events`` audit log."""
    conn.execute(
        "INSERT INTO memory_events (memory_id, ts, agent, op, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (mid, time.time(), agent, op, before, after),
    )


def _scrub_column(column: str, value: Any) -> Any:
    return scrub_optional(value) if column in _TEXT_COLUMNS and isinstance(value, str) else value


def _live(conn: sqlite3.Connection, mid: int) -> Memory:
    found = mem.load(conn, [mid]).get(mid)
    if found is None or not found.live:
        raise NotFound(f"no live memory {mid}")
    return found


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]
