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

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with cosine similarity, best first."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors (unknown ids are ignored)."""
        ...

    def count(self) -> int:
        """How many vectors the index holds."""
        ...


class ChromaIndex:
    """A ChromaDB persistent collection (cosine space); only touched from the store thread."""

    BATCH = 4000

    def __init__(self, folder: Path, name: str = "engram") -> None:
        import chromadb
        from chromadb.config import Settings

        folder.mkdir(parents=True, exist_ok=True)
        try:
            self._client = chromadb.PersistentClient(
                path=str(folder), settings=Settings(anonymized_telemetry=False, allow_reset=True))
            self._col = self._client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine", "ef_search": 64}})
        except Exception as exc:  # chromadb raises many kinds; report one clear error
            raise StoreError(f"cannot open the vector index in {folder}: {exc}") from exc
        self._name = name

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Upsert vectors in batches Chroma accepts."""
        for i in range(0, len(ids), self.BATCH):
            self._col.upsert(ids=list(ids[i:i + self.BATCH]),
                             embeddings=np.asarray(vectors[i:i + self.BATCH], dtype=np.float32),
                             metadatas=list(metadatas[i:i + self.BATCH]))

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Nearest neighbours as (id, 1 - cosine distance)."""
        if k <= 0 or self._col.count() == 0:
            return []
        res = self._col.query(query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
                              n_results=k, where=where or None, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def delete(self, ids: Sequence[str]) -> None:
        """Delete by id in batches."""
        for i in range(0, len(ids), self.BATCH):
            self._col.delete(ids=list(ids[i:i + self.BATCH]))

    def count(self) -> int:
        """Number of vectors."""
        return int(self._col.count())

    def all_ids(self) -> set[str]:
        """Every id in the index (start-up reconciliation)."""
        out: set[str] = set()
        offset = 0
        while True:
            got = self._col.get(include=[], limit=10_000, offset=offset)["ids"]
            if not got:
                return out
            out.update(got)
            offset += len(got)

    def reset(self) -> None:
        """Drop every vector (the index is rebuilt from SQLite afterwards)."""
        self._client.delete_collection(self._name)
        self._col = self._client.get_or_create_collection(
            self._name, configuration={"hnsw": {"space": "cosine", "ef_search": 64}})


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

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
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
                ok = {"$gte": lambda v, r: v is not None and v >= r,
                      "$lt": lambda v, r: v is not None and v < r,
                      "$lte": lambda v, r: v is not None and v <= r,
                      "$in": lambda v, r: v in r,
                      "$eq": lambda v, r: v == r}[op](value, ref)
                if not ok:
                    return False
        elif value != cond:
            return False
    return True
