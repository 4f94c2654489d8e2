"""Image vectors (#17): one collection per image model, apart from the text vectors.

Keys are ``i:<observation id>``; metadata ``ts``, ``app`` and ``kind``. The collection's name is
derived from the model's id and dimension, so a new CLIP model starts an empty collection and
the text index is never touched; the old model's collections are dropped (never left holding
vectors of moments a later forget would not reach).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from memory.index.vectors import Metadata, VectorIndex, _damage_as_error

logger = logging.getLogger(__name__)

PREFIX = "engram-img-"


def image_key(obs_id: int) -> str:
    """The vector id of an observation's image."""
    return f"i:{obs_id}"


def collection_name(model_key: str) -> str:
    """The collection of one image model (``model_id:dim``; paths and ids alike hash to a name)."""
    return PREFIX + hashlib.sha256(model_key.encode()).hexdigest()[:16]


class ImageVectors(VectorIndex, Protocol):
    """A vector index that can also hand back the vectors it holds."""

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids (missing ones are left out)."""
        ...

    def all_ids(self) -> set[str]:
        """Every id held."""
        ...


@runtime_checkable
class ImageCollections(Protocol):
    """An index that keeps image collections beside its text ones (Chroma, or the numpy fake)."""

    def image_collection(self, name: str) -> ImageVectors:
        """Open (creating) the collection ``name``."""
        ...

    def drop_image_collections(self, keep: str | None = None) -> list[str]:
        """Drop every image collection but ``keep``; returns the dropped names."""
        ...


class ChromaImages:
    """One Chroma collection of image vectors (cosine space)."""

    BATCH = 4000

    def __init__(self, collection: Any, folder: Path) -> None:
        self._col = collection
        self._folder = folder

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Upsert vectors."""
        vecs = np.asarray(vectors, dtype=np.float32)
        with _damage_as_error(self._folder):
            for lo in range(0, len(ids), self.BATCH):
                self._col.upsert(
                    ids=list(ids[lo : lo + self.BATCH]),
                    embeddings=vecs[lo : lo + self.BATCH],
                    metadatas=list(metadatas[lo : lo + self.BATCH]),
                )

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with 1 - cosine distance, best first."""
        if k <= 0:
            return []
        with _damage_as_error(self._folder):  # no count() first: see ChromaIndex._query_one
            res = self._col.query(
                query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
                n_results=k,
                where=where or None,
                include=["distances"],
            )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]

    def delete(self, ids: Sequence[str]) -> None:
        """Delete by id (unknown ids are ignored)."""
        with _damage_as_error(self._folder):
            for lo in range(0, len(ids), self.BATCH):
                self._col.delete(ids=list(ids[lo : lo + self.BATCH]))

    def count(self) -> int:
        """Number of image vectors."""
        with _damage_as_error(self._folder):
            return int(self._col.count())

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids."""
        if not ids:
            return {}
        with _damage_as_error(self._folder):
            got = self._col.get(ids=list(ids), include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    def all_ids(self) -> set[str]:
        """Every id held."""
        out: set[str] = set()
        offset = 0
        while True:
            got = self._col.get(include=[], limit=10_000, offset=offset)["ids"]
            if not got:
                return out
            out.update(got)
            offset += len(got)


def image_collections(index: VectorIndex) -> ImageCollections | None:
    """The index's image collections, or None when it keeps none."""
    return index if isinstance(index, ImageCollections) else None


META_KEY = "image_model"


def current_images(model_key: str | None, index: VectorIndex) -> ImageVectors | None:
    """The image collection of the model a home's image vectors were made with, if any."""
    host = image_collections(index)
    if host is None or not model_key:
        return None
    return host.image_collection(collection_name(model_key))
