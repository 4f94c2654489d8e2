"""Search by what a screen looked like (#17): CLIP's text tower against the image collection,
and "similar moments" from a picture or a kept frame.

Only the collection made with the configured model is searched: when the model changed and its
collection is still being filled, the image side stays silent rather than compare vectors of two
spaces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from memory.index.images import META_KEY, ImageVectors, current_images, image_key
from memory.index.vectors import VectorIndex
from memory.store import MemoryStore
from models.protocols import ImageTextEmbedder

logger = logging.getLogger(__name__)

OVERFETCH = 1000  # nearest images fetched before a time range or a minute fold is applied
SAME_MINUTE_S = 60.0


@dataclass(frozen=True, slots=True)
class VisualMatch:
    """A screen whose picture matched: its observation key ("o:N"), time and cosine similarity."""

    key: str
    ts: float
    similarity: float


class VisualSearch:
    """The image side of search. Safe from any thread (reads only)."""

    def __init__(
        self,
        store: MemoryStore,
        index: VectorIndex,
        clip: Callable[[], ImageTextEmbedder | None],
        lock: Any,
    ) -> None:
        self._store, self._index, self._clip, self._lock = store, index, clip, lock

    def ready(self) -> tuple[ImageTextEmbedder, ImageVectors] | None:
        """The model and the collection made with it, or None (no model, or no vectors yet)."""
        clip = self._clip()
        if clip is None:
            return None
        key = f"{clip.model_id}:{clip.dim}"
        if self._store.get_meta(META_KEY) != key:
            return None
        col = current_images(key, self._index)
        return None if col is None else (clip, col)

    def for_text(
        self,
        text: str,
        pool: int,
        start: float | None = None,
        end: float | None = None,
        apps: tuple[str, ...] = (),
    ) -> list[VisualMatch]:
        """Screens whose picture matches a description, best first (empty without a model)."""
        found = self.ready()
        if found is None or not text.strip():
            return []
        clip, col = found
        vec = clip.embed_texts([text])[0]
        return self._nearest(col, vec, pool, start, end, apps)

    def similar(
        self, vector: np.ndarray, k: int, *, around: float | None = None, exclude: int | None = None
    ) -> list[VisualMatch]:
        """Screens that look like ``vector``, one per minute, best first.

        ``around`` (a time) leaves out that minute's screens (near-duplicates of the moment the
        user started from); ``exclude`` leaves out one observation.
        """
        found = self.ready()
        if found is None:
            return []
        matches = self._nearest(found[1], vector, max(OVERFETCH, k * 20), None, None, ())
        out: list[VisualMatch] = []
        minutes: set[int] = set()
        for m in matches:
            if m.key == f"o:{exclude}":
                continue
            if around is not None and abs(m.ts - around) < SAME_MINUTE_S:
                continue
            minute = int(m.ts // SAME_MINUTE_S)
            if minute in minutes:
                continue
            minutes.add(minute)
            out.append(m)
            if len(out) >= k:
                break
        return out

    def vector_of(self, obs_id: int) -> np.ndarray | None:
        """The stored image vector of an observation, or None."""
        found = self.ready()
        if found is None:
            return None
        return found[1].vectors([image_key(obs_id)]).get(image_key(obs_id))

    def _nearest(  # noqa: PLR0913 - a query with its filters
        self,
        col: ImageVectors,
        vec: np.ndarray,
        pool: int,
        start: float | None,
        end: float | None,
        apps: tuple[str, ...],
    ) -> list[VisualMatch]:
        where = {"app": {"$in": list(apps)}} if apps else None
        ranged = start is not None or end is not None
        n = max(OVERFETCH, pool * 2) if ranged else pool
        with self._lock.shared() if hasattr(self._lock, "shared") else self._lock:
            found = col.query(vec, n, where)
        keys = [f"o:{vid.split(':', 1)[1]}" for vid, _ in found]
        times = self._times([int(k[2:]) for k in keys])
        lo = start if start is not None else -1e18
        hi = end if end is not None else 1e18
        out = [
            VisualMatch(key, times[int(key[2:])], sim)
            for key, (_, sim) in zip(keys, found, strict=True)
            if int(key[2:]) in times and lo <= times[int(key[2:])] < hi
        ]
        return out[:pool] if ranged else out

    def _times(self, ids: list[int]) -> dict[int, float]:
        """Times of observations that still exist (primary-key lookups)."""
        out: dict[int, float] = {}
        conn = self._store.read()
        for lo in range(0, len(ids), 500):
            chunk = ids[lo : lo + 500]
            rows = conn.execute(
                f"SELECT id, ts_start FROM observations WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            out.update((int(r[0]), float(r[1])) for r in rows)
        return out
