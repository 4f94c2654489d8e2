"""A vector index whose app names are keyed tags, for an encrypted home (#12).

Chroma keeps its metadata in its own plain SQLite file. In an encrypted home the ``app`` field
(which app was on screen) is stored as an HMAC tag under the home's key instead of the name:
equality filters ("only Firefox") still work, because a query's names are tagged the same way,
but the file no longer says which apps the user ran. Kind, source and time stay plain (the
timeline's filters need ranges on time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from memory.index.vectors import Metadata, VectorIndex

TAGGED_MARK = "engram-tagged"
"""A file in the Chroma folder saying its app names are tags (`engram encrypt` copies once)."""


class TaggedIndex:
    """Wraps a ``VectorIndex``; tags ``app`` on the way in and in ``where`` filters."""

    def __init__(self, inner: VectorIndex, tag: Callable[[str], str]) -> None:
        self.inner = inner
        self._tag = tag

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Metadata]) -> None:
        """Add or replace vectors, their app names tagged."""
        tagged = [{**m, "app": self._tag(str(m.get("app", "")))} for m in metadatas]
        self.inner.add(ids, vectors, tagged)

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest ids; ``app`` conditions compare tags."""
        return self.inner.query(vector, k, self._where(where))

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors."""
        self.inner.delete(ids)

    def count(self) -> int:
        """How many vectors the index holds."""
        return self.inner.count()

    def all_ids(self) -> set[str]:
        """Every id in the index."""
        every = getattr(self.inner, "all_ids", None)  # Chroma's and the numpy index's
        return set(every()) if every is not None else set()

    def reset(self) -> None:
        """Empty the index."""
        reset = getattr(self.inner, "reset", None)
        if reset is not None:
            reset()

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids (image collections, #17)."""
        get = getattr(self.inner, "vectors", None)
        return dict(get(ids)) if get is not None else {}

    def image_collection(self, name: str) -> TaggedIndex:
        """An image collection of the inner index, its app names tagged too (#17).

        Raises:
            AttributeError: the inner index keeps no image collections.
        """
        return TaggedIndex(self.inner.image_collection(name), self._tag)  # type: ignore[attr-defined]

    def drop_image_collections(self, keep: str | None = None) -> list[str]:
        """Drop every image collection of the inner index but ``keep``."""
        return list(self.inner.drop_image_collections(keep))  # type: ignore[attr-defined]

    def scrub_log(self, ids: Sequence[str]) -> int:
        """Overwrite forgotten entries of the inner index's write log (when it has one)."""
        scrub = getattr(self.inner, "scrub_log", None)
        return int(scrub(ids)) if scrub is not None else 0

    def _where(self, where: Any) -> Any:
        if isinstance(where, list):
            return [self._where(w) for w in where]
        if not isinstance(where, dict):
            return where
        out: dict[str, Any] = {}
        for key, cond in where.items():
            if key == "app":
                out[key] = self._app(cond)
            else:
                out[key] = self._where(cond)
        return out

    def _app(self, cond: Any) -> Any:
        if isinstance(cond, str):
            return self._tag(cond)
        if isinstance(cond, dict):
            return {
                op: [self._tag(str(v)) for v in val]
                if isinstance(val, list)
                else self._tag(str(val))
                for op, val in cond.items()
            }
        return cond
