"""Image memory (#17): CLIP vectors of kept screens, computed after their text side, in batches.

A screen is queued (``image_queue``) when the indexer has made it searchable by its words, and
only while an image model is available; the queue is worked through in batches on the indexer's
thread, never on the capture path. What is embedded is the frame as stored: excluded windows were
never written or are blacked out, and secret lines are already blurred in it. A frame that fails
is retried with backoff up to ``max_attempts``; the text side never waits for it. A new image
model drops the old collection and queues every screen again (the text vectors stay).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from memory.index.images import (
    META_KEY,
    ImageVectors,
    collection_name,
    image_collections,
    image_key,
)
from memory.index.vectors import Metadata, VectorIndex
from memory.media.frames import THUMB_SUFFIX, FrameStore, full_for_thumb
from memory.store import MemoryStore
from memory.store import image_queue as queue
from memory.store.records import Observation
from models.errors import ModelUnavailable
from models.protocols import ImageTextEmbedder

if TYPE_CHECKING:
    from capture.privacy import PrivacyRules
    from memory.settings import Settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ImageStats:
    """Counters of the image side (mutable; read by benchmarks and the status line)."""

    embedded: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    last_error: str | None = None


def model_key(clip: ImageTextEmbedder) -> str:
    """What identifies an image model's vectors: its id and dimension."""
    return f"{clip.model_id}:{clip.dim}"


def stored_image(o: Observation, root: Path) -> str | None:
    """The stored picture of a screen, relative to the home: its frame, else its thumbnail."""
    thumb = o.thumb_path
    if thumb and thumb.endswith(THUMB_SUFFIX):
        full = full_for_thumb(thumb)
        return full if (root / full).is_file() else thumb
    if o.origin == "capture" and o.frame_path and not Path(o.frame_path).is_absolute():
        return o.frame_path
    return thumb


class ImageIndexer:
    """Keeps the image collection of the configured CLIP model in step with the kept screens.

    Args:
        clip: the image model, or None when none is available (then nothing is queued).
        index: the vector index that holds the image collections.
        lock: the index lock (the same one text vectors take).
        settings: the current settings (privacy rules are checked again before embedding).
    """

    def __init__(  # noqa: PLR0913 - the pieces of a home it needs, passed one by one
        self,
        store: MemoryStore,
        frames: FrameStore,
        index: Callable[[], VectorIndex],
        clip: Callable[[], ImageTextEmbedder | None],
        lock: Any,
        settings: Callable[[], Settings] | None = None,
        *,
        max_attempts: int = 3,
        backoff_s: float = 30.0,
        batch: int = 16,
    ) -> None:
        self.store, self.frames = store, frames
        self._index, self._clip, self._lock, self._settings = index, clip, lock, settings
        self.max_attempts, self.backoff_s, self.batch = max_attempts, backoff_s, batch
        self.stats = ImageStats()
        self._checked: tuple[str, ImageVectors] | None = None  # the model key and its collection

    # -- the model and its collection ---------------------------------------------------------

    def collection(self) -> tuple[ImageTextEmbedder, ImageVectors] | None:
        """The model and its collection; a new model drops the old one and queues every screen.

        None when no image model is available or the index keeps no image collections.
        """
        clip = self._clip()
        host = image_collections(self._index()) if clip is not None else None
        if clip is None or host is None:
            return None
        key = model_key(clip)
        name = collection_name(key)
        if self._checked is not None and self._checked[0] == key:
            return clip, self._checked[1]
        with self._lock:
            have = self.store.get_meta(META_KEY)
            col = host.image_collection(name)
            if have != key:
                dropped = host.drop_image_collections(keep=name)
                logger.info(
                    "image model %s (was %s): queueing every screen; dropped %d old collections",
                    key,
                    have,
                    len(dropped),
                )
                self.store.write(_requeue_all, "image queue")
                self.store.set_meta(META_KEY, key)
            elif col.count() == 0:  # a replaced (damaged) index lost its image vectors
                self.store.write(queue.enqueue_all, "image queue")
        self._checked = (key, col)
        return clip, col

    def available(self) -> bool:
        """Whether an image model is configured and loads."""
        return self.collection() is not None

    # -- queue and work -------------------------------------------------------------------------

    def after_indexed(self, obs_ids: list[int]) -> int:
        """Queue freshly indexed screens and embed what is due; returns how many were embedded.

        Runs on the indexer's thread after the text side of a batch is committed: an error here
        is logged and never undoes or blocks the text side.
        """
        try:
            if self.collection() is None:
                return 0
            if obs_ids:
                self.store.write(partial(queue.enqueue, obs_ids=obs_ids), "image queue")
            return self.process(limit=max(len(obs_ids), self.batch))
        except Exception:
            logger.exception("image embedding round failed")
            self._checked = None  # open the collection afresh next time (a replaced index)
            return 0

    def process(self, limit: int | None = None, progress: Progress | None = None) -> int:
        """Embed queued screens that are due (all of them, or about ``limit``); returns how many."""
        found = self.collection()
        if found is None:
            return 0
        clip, col = found
        total = queue.waiting(self.store.read(), self.max_attempts)[0] if progress else 0
        done = embedded = 0
        while limit is None or done < limit:
            ids = queue.due(self.store.read(), time.time(), self.max_attempts, self.batch)
            if not ids:
                break
            done += len(ids)
            embedded += self._embed_batch(ids, clip, col)
            if progress is not None:
                progress(min(done, total), total)
        return embedded

    def backfill(self, progress: Progress | None = None) -> int:
        """Embed every kept screen that has no image vector yet, failed ones again
        (`engram reindex --images`); returns how many were embedded.

        Raises:
            ModelUnavailable: no image model is available (the reason says why).
        """
        found = self.collection()
        if found is None:
            raise ModelUnavailable("clip", "image model", "no image model is available")
        have = found[1].all_ids()
        wanted = [
            int(r[0])
            for r in self.store.read().execute(
                f"SELECT id FROM observations WHERE {queue.EMBEDDABLE}"
            )
        ]
        missing = [i for i in wanted if image_key(i) not in have]

        def _queue(conn: Any) -> None:
            queue.enqueue(conn, missing)
            queue.retry_failed(conn)

        self.store.write(_queue, "image queue")
        return self.process(progress=progress)

    def waiting(self) -> tuple[int, int]:
        """(screens waiting for an image vector, screens given up on)."""
        return queue.waiting(self.store.read(), self.max_attempts)

    def _embed_batch(self, ids: list[int], clip: ImageTextEmbedder, col: ImageVectors) -> int:
        found = self.store.get_observations(ids)
        rules = self._rules()
        skip = [i for i in ids if i not in found or not self._wanted(found[i], rules)]
        todo: list[tuple[Observation, Image.Image]] = []
        for i in ids:
            if i in skip:
                continue
            try:
                todo.append((found[i], self.load(found[i])))
            except Exception as exc:  # a missing or unreadable file: retried, then given up
                self._failed(found[i].id, exc)
        vecs, ok = self._embed(clip, todo)
        if ok:
            metas: list[Metadata] = [
                {"kind": "screen", "ts": float(o.ts_start), "app": o.app or ""} for o in ok
            ]
            with self._lock:
                col.add([image_key(o.id) for o in ok], vecs, metas)
            self.stats.embedded += len(ok)
        self.stats.skipped += len(skip)
        finished = [o.id for o in ok] + skip
        if finished:
            self.store.write(partial(queue.done, obs_ids=finished), "image queue")
        return len(ok)

    def _embed(
        self, clip: ImageTextEmbedder, todo: list[tuple[Observation, Image.Image]]
    ) -> tuple[np.ndarray, list[Observation]]:
        """One batch through the model; when it fails, each frame alone finds the bad one."""
        started = time.perf_counter()
        try:
            return self._embed_all(clip, todo)
        finally:
            self.stats.seconds += time.perf_counter() - started

    def _embed_all(
        self, clip: ImageTextEmbedder, todo: list[tuple[Observation, Image.Image]]
    ) -> tuple[np.ndarray, list[Observation]]:
        if len(todo) > 1:
            try:
                return clip.embed_images([img for _, img in todo]), [o for o, _ in todo]
            except Exception:
                logger.info("an image batch failed: embedding its frames one by one")
        rows: list[np.ndarray] = []
        ok: list[Observation] = []
        for o, img in todo:
            try:
                rows.append(clip.embed_images([img])[0])
                ok.append(o)
            except Exception as exc:
                self._failed(o.id, exc)
        return (np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)), ok

    def load(self, o: Observation) -> Image.Image:
        """The stored (privacy-masked, secret-blurred) picture of a screen."""
        rel = stored_image(o, self.frames.root)
        if rel is None:
            raise FileNotFoundError(f"observation {o.id} has no stored frame")
        return self.frames.open(rel)

    def _wanted(self, o: Observation, rules: PrivacyRules | None) -> bool:
        """Only kept screens outside today's exclusions get an image vector."""
        if o.kind != "screen" or o.status not in ("indexed", "memorized"):
            return False
        if rules is None:
            return True
        from capture.records import WindowInfo

        return rules.excluded(WindowInfo(app=o.app, title=o.window_title, url=o.url)) is None

    def _rules(self) -> PrivacyRules | None:
        if self._settings is None:
            return None
        from capture.privacy import PrivacyRules
        from memory.pipeline.recorder import capture_config

        return PrivacyRules(capture_config(self._settings()))

    def _failed(self, obs_id: int, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        logger.warning("image embedding of observation %d failed: %s", obs_id, message)
        attempts = queue.attempts(self.store.read(), obs_id)
        retry = time.time() + self.backoff_s * (2**attempts)
        self.store.write(
            partial(queue.failed, obs_id=obs_id, error=message, retry_at=retry), "image queue"
        )
        self.stats.failed += 1
        self.stats.last_error = message


def _requeue_all(conn: Any) -> None:
    queue.clear(conn)
    queue.enqueue_all(conn)
