"""Vector indexes: ids, vectors and filter metadata only, never text (derived from SQLite)."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from memory.errors import StoreDamaged, StoreError

if TYPE_CHECKING:
    from memory.index.images import ChromaImages

logger = logging.getLogger(__name__)

Metadata = dict[str, str | int | float | bool]


class VectorIndex(Protocol):
    """The four operations Engram needs; ``query`` returns similarity, higher is closer."""

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Add or replace vectors."""
        ...

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with cosine similarity, best first."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors (unknown ids are ignored)."""
        ...

    def count(self) -> int:
        """How many vectors the index holds."""
        ...


class ChromaIndex:
    """ChromaDB persistent collections (cosine space), one per source: observations and memories.

    Two collections instead of one with a ``src`` filter: an unfiltered HNSW query is several times
    faster than a filtered one, and most searches filter on nothing else.
    """

    BATCH = 4000
    NAMES = {"o": "observations", "m": "memories"}

    def __init__(self, folder: Path, name: str = "engram") -> None:
        self._name = name
        self._folder = folder
        self._connect()

    def _connect(self) -> None:
        import chromadb
        from chromadb.config import Settings

        self._folder.mkdir(parents=True, exist_ok=True)
        try:
            self._client = chromadb.PersistentClient(
                path=str(self._folder),
                settings=Settings(anonymized_telemetry=False, allow_reset=True),
            )
            self._cols = {
                src: self._open(f"{self._name}-{label}") for src, label in self.NAMES.items()
            }
        except Exception as exc:  # chromadb raises many kinds; report one clear error
            _forget_clients()
            raise StoreError(f"cannot open the vector index in {self._folder}: {exc}") from exc

    @classmethod
    def open_or_replace(cls, folder: Path) -> tuple[ChromaIndex, bool]:
        """Open the index; a damaged one is moved aside (kept) and a new, empty one opened.

        The index is derived data: the caller rebuilds it from SQLite when the second value
        (replaced) is True (#12).

        Raises:
            StoreError: even a new index cannot be created there.
        """
        try:
            index = cls(folder)
            index.count()  # reads Chroma's metadata segment: damage there shows now
            return index, False
        except StoreError as exc:
            if not _is_damage(exc):  # busy, racing, read-only: not ours to move aside
                raise
            logger.warning("the vector index is damaged (%s): rebuilding it", exc)
        _forget_clients()
        move_aside(folder)
        return cls(folder), True

    def replace(self) -> None:
        """Move this (damaged) index aside and start a new, empty one in its place."""
        self._cols = {}
        _forget_clients()
        if self._folder.exists():
            move_aside(self._folder)
        self._connect()

    def _open(self, name: str) -> Any:
        return self._client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine", "ef_search": 64}}
        )

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Upsert vectors in batches Chroma accepts, each into its source's collection."""
        with _damage_as_error(self._folder):
            self._add(ids, np.asarray(vectors, dtype=np.float32), metadatas)

    def _add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        for src, col in self._cols.items():
            rows = [i for i, vid in enumerate(ids) if vid.startswith(src + ":")]
            for lo in range(0, len(rows), self.BATCH):
                part = rows[lo : lo + self.BATCH]
                col.upsert(
                    ids=[ids[i] for i in part],
                    embeddings=vectors[part],
                    metadatas=[metadatas[i] for i in part],
                )

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest ids with 1 - cosine distance; ``src`` in ``where`` picks the collection."""
        src, rest = _pop_src(where)
        out: list[tuple[str, float]] = []
        with _damage_as_error(self._folder):
            for name, col in self._cols.items():
                out += self._query_one(name, col, src, rest, vector, k)
        return sorted(out, key=lambda x: -x[1])[:k]

    @staticmethod
    def _query_one(  # noqa: PLR0913 - one collection's share of query()
        name: str,
        col: Any,
        src: str | None,
        rest: dict[str, Any] | None,
        vector: np.ndarray,
        k: int,
    ) -> list[tuple[str, float]]:
        # no count() first: Chroma answers an empty collection with no ids, and its count() is
        # a scan that took 12 ms at 100k vectors, ~6x the query itself (search_scale, #16)
        if src not in (None, name) or k <= 0:
            return []
        res = col.query(
            query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
            n_results=k,
            where=rest,
            include=["distances"],
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def delete(self, ids: Sequence[str]) -> None:
        """Delete by id in batches."""
        with _damage_as_error(self._folder):
            for src, col in self._cols.items():
                mine = [i for i in ids if i.startswith(src + ":")]
                for lo in range(0, len(mine), self.BATCH):
                    col.delete(ids=mine[lo : lo + self.BATCH])

    def count(self) -> int:
        """Number of vectors.

        Raises:
            StoreDamaged: Chroma's files are damaged (`engram repair` rebuilds them).
        """
        with _damage_as_error(self._folder):
            return sum(int(c.count()) for c in self._cols.values())

    def all_ids(self) -> set[str]:
        """Every id in the index (start-up reconciliation)."""
        out: set[str] = set()
        for col in self._cols.values():
            offset = 0
            while True:
                got = col.get(include=[], limit=10_000, offset=offset)["ids"]
                if not got:
                    break
                out.update(got)
                offset += len(got)
        return out

    def export(
        self, batch: int = 2000
    ) -> Iterator[tuple[str | None, list[str], np.ndarray, list[Metadata]]]:
        """Every vector with its id and metadata, in batches (copying an index, #12); the first
        value names the image collection a batch belongs to (None: the text collections)."""
        from memory.index.images import PREFIX

        images = [c.name for c in self._client.list_collections() if c.name.startswith(PREFIX)]
        sources = [(None, col) for col in self._cols.values()]
        sources += [(name, self._open(name)) for name in images]
        for image_name, col in sources:
            offset = 0
            while True:
                got = col.get(include=["embeddings", "metadatas"], limit=batch, offset=offset)
                if not got["ids"]:
                    break
                metas = [dict(m or {}) for m in got["metadatas"]]
                vecs = np.asarray(got["embeddings"], dtype=np.float32)
                yield image_name, list(got["ids"]), vecs, metas
                offset += len(got["ids"])

    def close(self) -> None:
        """Let go of Chroma's client for this folder (before the folder is moved)."""
        self._cols = {}
        _forget_clients()

    def scrub_log(self, ids: Sequence[str]) -> int:
        """Overwrite the vectors and metadata of ``ids`` in Chroma's ``embeddings_queue``.

        Chroma keeps every write in that table until its HNSW segment persists (up to its sync
        threshold), so a deleted vector stays readable there. The entries are not removed (a
        replay after a crash must still see the add and its delete): the vector becomes a fixed
        unit vector and the metadata empty, with ``secure_delete`` zeroing the old bytes.
        """
        db = self._folder / "chroma.sqlite3"
        if not ids or not db.is_file():
            return 0
        conn = sqlite3.connect(db, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("BEGIN IMMEDIATE")
            done = 0
            for lo in range(0, len(ids), 500):
                part = list(ids[lo : lo + 500])
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT seq_id, length(vector) FROM embeddings_queue "
                    f"WHERE id IN ({marks}) AND vector IS NOT NULL",
                    part,
                ).fetchall()
                for seq, size in rows:
                    blank = np.zeros(max(int(size) // 4, 1), dtype=np.float32)
                    blank[0] = 1.0
                    conn.execute(
                        "UPDATE embeddings_queue SET vector = ?, metadata = NULL WHERE seq_id = ?",
                        (blank.tobytes(), seq),
                    )
                done += len(rows)
            conn.execute("COMMIT")
            return done
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"cannot scrub the vector index's log in {db}: {exc}") from exc
        finally:
            conn.close()

    def image_collection(self, name: str) -> ChromaImages:
        """Open (creating) an image collection (``memory.index.images``, #17)."""
        from memory.index.images import ChromaImages

        with _damage_as_error(self._folder):
            return ChromaImages(self._open(name), self._folder)

    def drop_image_collections(self, keep: str | None = None) -> list[str]:
        """Drop every image collection but ``keep``; returns the dropped names."""
        from memory.index.images import PREFIX

        dropped = []
        with _damage_as_error(self._folder):
            for col in self._client.list_collections():
                if col.name.startswith(PREFIX) and col.name != keep:
                    self._client.delete_collection(col.name)
                    dropped.append(col.name)
        return dropped

    def reset(self) -> None:
        """Drop every vector (the index is rebuilt from SQLite afterwards); a damaged index is
        moved aside and replaced by a new one."""
        try:
            for src, label in self.NAMES.items():
                self._client.delete_collection(f"{self._name}-{label}")
                self._cols[src] = self._open(f"{self._name}-{label}")
        except Exception as exc:
            if not _is_damage(exc):
                raise
            logger.warning("cannot reset the damaged vector index (%s): replacing it", exc)
            self.replace()


@contextmanager
def _damage_as_error(folder: Path) -> Iterator[None]:
    """Turn Chroma's errors about its own files into one clear StoreDamaged."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        if _is_damage(exc):
            raise StoreDamaged(
                f"the vector index in {folder} is damaged ({exc}); it is derived data: run "
                "`engram repair` (or `engram reindex`) to rebuild it from the database"
            ) from exc
        raise


def _is_damage(exc: BaseException) -> bool:
    """Whether an error says Chroma's SQLite file is damaged (not busy or racing)."""
    text = str(exc).lower()
    return any(w in text for w in ("malformed", "not a database", "corrupt", "is encrypted"))


def _forget_clients() -> None:
    """Drop chromadb's per-path client cache (it would hand back the broken client)."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def move_aside(folder: Path) -> Path:
    """Rename a damaged index folder to ``<name>.damaged-<time>`` (kept for inspection)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        target = folder.with_name(f"{folder.name}.damaged-{stamp}-{n}")
        n += 1
    shutil.move(str(folder), str(target))
    logger.warning("moved the damaged vector index %s aside to %s", folder, target)
    return target


def _pop_src(where: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
    """Split a ``src`` condition off a Chroma filter."""
    if not where:
        return None, None
    if "src" in where and len(where) == 1:
        return str(where["src"]), None
    if "$and" in where:
        src = next((c["src"] for c in where["$and"] if "src" in c), None)
        rest = [c for c in where["$and"] if "src" not in c]
        if len(rest) == 0:
            return src, None
        return src, rest[0] if len(rest) == 1 else {"$and": rest}
    return None, where


class NumpyIndex:
    """An exact in-memory index with the same contract (tests, tiny homes)."""

    def __init__(self) -> None:
        self._images: dict[str, NumpyIndex] = {}
        self._clear()

    def _clear(self) -> None:
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._vecs: list[np.ndarray] = []
        self._meta: list[Metadata] = []

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Add or replace vectors."""
        for vid, vec, meta in zip(ids, vectors, metadatas, strict=True):
            if vid in self._pos:
                self._vecs[self._pos[vid]] = np.asarray(vec, dtype=np.float32)
                self._meta[self._pos[vid]] = dict(meta)
                continue
            self._pos[vid] = len(self._ids)
            self._ids.append(vid)
            self._vecs.append(np.asarray(vec, dtype=np.float32))
            self._meta.append(dict(meta))

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Exact cosine search over the rows that match ``where``."""
        rows = [i for i, vid in enumerate(self._ids) if vid and _matches(self._meta[i], where)]
        if not rows or k <= 0:
            return []
        mat = np.stack([self._vecs[i] for i in rows])
        q = np.asarray(vector, dtype=np.float32)
        sims = mat @ q / (np.linalg.norm(mat, axis=1) * (np.linalg.norm(q) or 1.0) + 1e-12)
        order = np.argsort(-sims)[:k]
        return [(self._ids[rows[j]], float(sims[j])) for j in order]

    def delete(self, ids: Sequence[str]) -> None:
        """Forget vectors (their slots are blanked)."""
        for vid in ids:
            pos = self._pos.pop(vid, None)
            if pos is not None:
                self._ids[pos] = ""

    def count(self) -> int:
        """Number of live vectors."""
        return len(self._pos)

    def all_ids(self) -> set[str]:
        """Every id held."""
        return set(self._pos)

    def reset(self) -> None:
        """Drop every vector (the image collections stay: their model did not change)."""
        self._clear()

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids."""
        return {i: self._vecs[self._pos[i]] for i in ids if i in self._pos}

    def image_collection(self, name: str) -> NumpyIndex:
        """An image collection, created on first use."""
        return self._images.setdefault(name, NumpyIndex())

    def drop_image_collections(self, keep: str | None = None) -> list[str]:
        """Drop every image collection but ``keep``."""
        gone = [n for n in self._images if n != keep]
        for n in gone:
            del self._images[n]
        return gone


def _matches(meta: Metadata, where: dict[str, Any] | None) -> bool:
    if not where:
        return True
    if "$and" in where:
        return all(_matches(meta, w) for w in where["$and"])
    for key, cond in where.items():
        value = meta.get(key)
        if isinstance(cond, dict):
            for op, ref in cond.items():
                ok = {
                    "$gte": lambda v, r: v is not None and v >= r,
                    "$lt": lambda v, r: v is not None and v < r,
                    "$lte": lambda v, r: v is not None and v <= r,
                    "$in": lambda v, r: v in r,
                    "$eq": lambda v, r: v == r,
                }[op](value, ref)
                if not ok:
                    return False
        elif value != cond:
            return False
    return True
