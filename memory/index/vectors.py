"""Vector indexes: ids, vectors and filter metadata only, never text (derived from SQLite)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from memory.errors import StoreError

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
        import chromadb
        from chromadb.config import Settings

        folder.mkdir(parents=True, exist_ok=True)
        try:
            self._client = chromadb.PersistentClient(
                path=str(folder), settings=Settings(anonymized_telemetry=False, allow_reset=True)
            )
            self._cols = {src: self._open(f"{name}-{label}") for src, label in self.NAMES.items()}
        except Exception as exc:  # chromadb raises many kinds; report one clear error
            raise StoreError(f"cannot open the vector index in {folder}: {exc}") from exc
        self._name = name

    def _open(self, name: str) -> Any:
        return self._client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine", "ef_search": 64}}
        )

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Upsert vectors in batches Chroma accepts, each into its source's collection."""
        vectors = np.asarray(vectors, dtype=np.float32)
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
        """Nearest neighbours as (id, 1 - cosine distance); ``src`` of ``where``: the collection."""
        src, rest = _pop_src(where)
        out: list[tuple[str, float]] = []
        for name, col in self._cols.items():
            if src not in (None, name) or k <= 0 or col.count() == 0:
                continue
            res = col.query(
                query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
                n_results=k,
                where=rest,
                include=["distances"],
            )
            out += [
                (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
            ]
        return sorted(out, key=lambda x: -x[1])[:k]

    def delete(self, ids: Sequence[str]) -> None:
        """Delete by id in batches."""
        for src, col in self._cols.items():
            mine = [i for i in ids if i.startswith(src + ":")]
            for lo in range(0, len(mine), self.BATCH):
                col.delete(ids=mine[lo : lo + self.BATCH])

    def count(self) -> int:
        """Number of vectors."""
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

    def reset(self) -> None:
        """Drop every vector (the index is rebuilt from SQLite afterwards)."""
        for src, label in self.NAMES.items():
            self._client.delete_collection(f"{self._name}-{label}")
            self._cols[src] = self._open(f"{self._name}-{label}")


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
        """Drop everything."""
        self.__init__()  # type: ignore[misc]


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
