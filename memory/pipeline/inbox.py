"""The durable inbox: a frame file is written first, then a ``pending`` observation row.

A crash between the two leaves at most one unreferenced frame file; a crash after the row is
written loses nothing, because the indexer picks up ``pending`` rows at start-up. Imports are
idempotent: their manifest id is the row's ``ext_id`` (unique per kind).

The inbox also keeps, in memory only, a *hint* per new observation (the full-resolution image or
where to read it, and the changed boxes). The indexer uses it for better OCR; after a restart the
hint is gone and the stored frame is read instead.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from memory.media.frames import FrameStore
from memory.store import MemoryStore, NewObservation

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
MAX_IMAGE_HINTS = 12
"""Full-resolution frames kept in memory for the indexer (about 6 MB each at 1080p)."""


@dataclass(frozen=True, slots=True)
class FrameMeta:
    """What is known about a frame when it enters the inbox.

    Attributes:
        kind: always ``screen`` today (a screenshot is a screen however it arrived, #13).
        origin: ``capture`` (live) or ``import``.
        frame_ref: for imports, the path the manifest gave (kept as the row's ``frame_path``).
    """

    kind: str
    ts: float
    app: str | None = None
    title: str | None = None
    url: str | None = None
    monitor: int | None = None
    ext_id: str | None = None
    phash: int | None = None
    frame_ref: str | None = None
    origin: str = "capture"


@dataclass(frozen=True, slots=True)
class FrameHint:
    """In-memory help for indexing one observation (never persisted)."""

    load: Callable[[], Image.Image]
    boxes: tuple[Box, ...] = ()
    previous_id: int | None = None
    heavy: bool = False


def signed64(value: int | None) -> int | None:
    """A 64-bit unsigned hash as the signed integer SQLite can store."""
    if value is None:
        return None
    return value - (1 << 64) if value >= (1 << 63) else value


class Inbox:
    """Writes frames and pending rows. Thread-safe."""

    def __init__(self, store: MemoryStore, frames: FrameStore) -> None:
        self.store = store
        self.frames = frames
        self._hints: OrderedDict[int, FrameHint] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes_written = 0

    def existing(self, kind: str, ext_id: str) -> int | None:
        """The id of an observation already imported with this ext_id, if any."""
        row = (
            self.store.read()
            .execute("SELECT id FROM observations WHERE kind = ? AND ext_id = ?", (kind, ext_id))
            .fetchone()
        )
        return int(row[0]) if row else None

    def add(self, img: Image.Image, meta: FrameMeta, hint: FrameHint | None = None) -> int | None:
        """Store the frame, then its pending row; returns the new id (None: already imported)."""
        if meta.ext_id is not None and self.existing(meta.kind, meta.ext_id) is not None:
            return None
        imported = meta.origin == "import"
        stored = self.frames.save(img, meta.ts, "i" if imported else meta.kind[0])
        self.bytes_written += stored.bytes_written
        frame_path = meta.frame_ref if imported and meta.frame_ref else stored.frame
        row = NewObservation(
            kind=meta.kind,
            ts_start=meta.ts,
            ts_end=meta.ts,
            ext_id=meta.ext_id,
            app=meta.app,
            window_title=meta.title,
            url=meta.url,
            monitor=meta.monitor,
            frame_path=frame_path,
            thumb_path=stored.thumb,
            phash=signed64(meta.phash),
            origin=meta.origin,
        )
        try:
            (obs_id,) = self.store.add_observations([row])
        except BaseException:
            self._remove(stored.frame, stored.thumb)
            raise
        if obs_id is None:  # lost a race with another import of the same file
            self._remove(stored.frame, stored.thumb)
            return None
        size = self.frames.size(stored.frame)
        self.store.write(
            lambda c: c.execute(
                "UPDATE observations SET frame_bytes = ? WHERE id = ?", (size, obs_id)
            ),
            "frame size",
        )
        if hint is not None:
            self._remember(obs_id, hint)
        return obs_id

    def extend(self, obs_id: int, ts: float) -> None:
        """Stretch an observation's span to ``ts`` (a skipped near-duplicate was seen then)."""
        self.store.write(
            lambda c: c.execute(
                "UPDATE observations SET ts_end = MAX(COALESCE(ts_end, ts_start), ?) WHERE id = ?",
                (ts, obs_id),
            ),
            "extend observation",
        )

    def take_hint(self, obs_id: int) -> FrameHint | None:
        """Remove and return the hint of an observation, if it is still in memory."""
        with self._lock:
            return self._hints.pop(obs_id, None)

    def _remember(self, obs_id: int, hint: FrameHint) -> None:
        with self._lock:
            self._hints[obs_id] = hint
            heavy = [k for k, h in self._hints.items() if h.heavy]
            for key in heavy[: max(0, len(heavy) - MAX_IMAGE_HINTS)]:
                del self._hints[key]  # the indexer falls back to the stored frame

    def _remove(self, *rels: str) -> None:
        for rel in rels:
            (self.frames.root / rel).unlink(missing_ok=True)
