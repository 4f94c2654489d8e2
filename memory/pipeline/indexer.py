"""Indexing workers: pending frames -> OCR -> redaction -> text -> vectors -> ``indexed``.

Audio observations take the same road with speech-to-text instead of OCR (``pipeline.audio``).

``Indexer.process_pending`` runs synchronously (imports, tests); ``IndexWorker`` runs it in a
background thread for ``engram run``. A failure marks the row ``failed`` with its error and
counts an attempt; failed rows are retried with exponential backoff up to ``max_attempts``.
Every step is idempotent (vectors are upserted, vault entries keyed by observation and
placeholder), so work interrupted by a crash is simply done again at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PIL import Image

from memory.index.sync import VectorSync
from memory.media.frames import FrameStore, full_for_thumb
from memory.pipeline.activity import activity
from memory.pipeline.audio import AudioTranscriber
from memory.pipeline.images import ImageIndexer
from memory.pipeline.inbox import Inbox
from memory.pipeline.joined import split_joined
from memory.pipeline.regions import RegionReader
from memory.pipeline.scrub import scrub_lines
from memory.privacy.redaction import Finding
from memory.store import MemoryStore
from memory.store.db import OPERATIONAL_ERRORS
from memory.store.records import Observation
from memory.vault.store import Vault

logger = logging.getLogger(__name__)

FRAME_KINDS = ("screen",)
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class IndexStats:
    """Counters of one indexer (mutable, read by the status line)."""

    indexed: int = 0
    failed: int = 0
    secrets: int = 0
    ocr_seconds: float = 0.0
    last_error: str | None = None
    latencies: list[float] = field(default_factory=list)


class Indexer:
    """Turns pending frame observations into searchable ones. One batch at a time (thread-safe)."""

    def __init__(
        self,
        store: MemoryStore,
        frames: FrameStore,
        vectors: VectorSync,
        inbox: Inbox,
        reader: Callable[[], RegionReader],
        *,
        vault: Vault | None = None,
        images: ImageIndexer | None = None,
        audio: AudioTranscriber | None = None,
        max_attempts: int = 3,
        backoff_s: float = 5.0,
    ) -> None:
        self.store, self.frames, self.vectors, self.inbox = store, frames, vectors, inbox
        self._reader = reader
        self.vault = vault
        self.images = images
        self.audio = audio
        kinds = FRAME_KINDS + (("audio",) if audio is not None else ())
        self._kinds_sql = "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.stats = IndexStats()
        self._retry_at: dict[int, float] = {}
        self._lock = threading.Lock()

    def backlog(self) -> int:
        """Frame and audio observations waiting (pending, or failed with attempts left)."""
        return int(
            self.store.read()
            .execute(
                f"SELECT COUNT(*) FROM observations WHERE {self._kinds_sql} AND "
                "(status = 'pending' OR (status = 'failed' AND attempts < ?))",
                (self.max_attempts,),
            )
            .fetchone()[0]
        )

    def _due(self, limit: int) -> list[Observation]:
        rows = (
            self.store.read()
            .execute(
                f"SELECT * FROM observations WHERE {self._kinds_sql} AND "
                "(status = 'pending' OR (status = 'failed' AND attempts < ?)) ORDER BY id LIMIT ?",
                (self.max_attempts, limit * 4),
            )
            .fetchall()
        )
        now = time.monotonic()
        out = [Observation.from_row(r) for r in rows]
        return [o for o in out if self._retry_at.get(o.id, 0.0) <= now][:limit]

    def process_pending(
        self, progress: Progress | None = None, batch: int = 8, limit: int | None = None
    ) -> int:
        """Index everything due now (or try ``limit`` rows); returns how many were indexed."""
        total = self.backlog() if limit is None else min(limit, self.backlog())
        done = 0
        before = self.stats.indexed
        while limit is None or done < limit:
            with self._lock:
                items = self._due(batch if limit is None else min(batch, limit - done))
                if not items:
                    break
                done += len(items)
                self._index_batch(items)
            if progress:
                progress(min(done, total), total)
        if self.images is not None:  # image vectors that failed earlier get their retry here
            self.images.after_indexed([])
        return self.stats.indexed - before

    def _index_batch(self, items: list[Observation]) -> None:
        ready: list[Observation] = []
        for o in items:
            try:
                ready.append(self._index_one(o))
            except Exception as exc:  # one bad frame must not stop the queue
                self._fail(o, exc)
        if not ready:
            return
        contexts = {
            o.id: activity(o.app, o.window_title, o.url) for o in ready if o.kind != "audio"
        }
        try:  # a silent audio chunk has no text to embed
            self.vectors.add_observations(
                [o for o in ready if o.kind != "audio" or o.text], contexts
            )
        except Exception as exc:
            for o in ready:
                self._fail(o, exc)
            return
        self.store.set_status([o.id for o in ready], "indexed")
        now = time.time()
        for o in ready:
            self._retry_at.pop(o.id, None)
            if o.kind == "screen" and o.origin == "capture":
                self.stats.latencies.append(now - o.ts_start)
            elif o.kind == "audio" and self.audio is not None:
                self.audio.release(o, self.store)
        self.stats.indexed += len(ready)
        if self.images is not None:  # after the text side is committed; never blocks it (#17)
            self.images.after_indexed([o.id for o in ready if o.kind == "screen"])

    def _fail(self, o: Observation, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        logger.warning(
            "indexing observation %d failed (attempt %d): %s", o.id, o.attempts + 1, message
        )
        self.store.set_status([o.id], "failed", message[:500])
        self._retry_at[o.id] = time.monotonic() + self.backoff_s * (2**o.attempts)
        self.stats.failed += 1
        self.stats.last_error = message

    def _stored_frame(self, o: Observation) -> str | None:
        if o.origin == "import":
            return full_for_thumb(o.thumb_path) if o.thumb_path else None
        return o.frame_path

    def _index_one(self, o: Observation) -> Observation:
        if o.kind == "audio":
            return self._index_audio(o)
        hint = self.inbox.take_hint(o.id)
        stored = self._stored_frame(o)
        if hint is not None:
            img = hint.load()
        elif stored is not None:
            img = self.frames.open(stored)
        else:
            raise FileNotFoundError(f"observation {o.id} has no frame")
        started = time.perf_counter()
        lines = self._reader().read(
            img,
            monitor=o.monitor if o.kind == "screen" else None,
            obs_id=o.id,
            boxes=hint.boxes if hint else (),
            previous_id=hint.previous_id if hint else None,
        )
        self.stats.ocr_seconds += time.perf_counter() - started
        clean = scrub_lines(lines)
        if clean.findings:
            if stored is not None:
                self._blur(o, img, stored, clean.blur)
            self._to_vault(o, clean.findings)
        # searchable beside the text: what the user was doing there, and words OCR ran together
        context = "\n".join(
            x for x in (activity(o.app, o.window_title, o.url), split_joined(clean.text)) if x
        )
        self.store.update_observation(o.id, text=clean.text, context=context, error=None)
        return replace(o, text=clean.text)

    def _index_audio(self, o: Observation) -> Observation:
        if self.audio is None:
            raise RuntimeError("audio indexing is not configured")
        clean = self.audio.transcribe(o)
        if clean.findings:
            self._to_vault(o, tuple(clean.findings))
        self.store.update_observation(o.id, text=clean.text, error=None)
        return replace(o, text=clean.text)

    def _blur(
        self, o: Observation, img: Image.Image, stored: str, blur: tuple[tuple[int, ...], ...]
    ) -> None:
        """Blur the secret lines in the stored frame and its thumbnail."""
        scale = self._stored_scale(stored, img)
        boxes = [tuple(round(v * scale) for v in b) for b in blur]
        blurred = self.frames.blur_regions(self.frames.open(stored), boxes)  # type: ignore[arg-type]
        self.frames.write_images(blurred, stored, o.thumb_path)

    def _to_vault(self, o: Observation, findings: tuple[Finding, ...]) -> None:
        """Move detected secret values to the vault (the text keeps the placeholders)."""
        self.stats.secrets += len(findings)
        if self.vault is None:
            return
        where = " — ".join(x for x in (o.app, o.window_title) if x) or o.kind
        seen: set[str] = set()
        for f in findings:
            if f.placeholder in seen:
                continue
            seen.add(f.placeholder)
            self.vault.add_secret(
                f.kind,
                f.value,
                placeholder=f.placeholder,
                caption=f"{f.kind} seen in {where}",
                source=where,
                source_id=o.id,
                ts=o.ts_start,
            )

    def _stored_scale(self, stored: str, img: Image.Image) -> float:
        return self.frames.open(stored).width / img.width


class IndexWorker(threading.Thread):
    """Runs ``Indexer.process_pending`` in the background until stopped.

    ``after_batch`` callables run after every round that indexed something (the memorising hook);
    ``before`` runs once on the worker's thread before the first round (resuming chat left pending).
    """

    def __init__(
        self,
        indexer: Indexer,
        *,
        poll_s: float = 0.5,
        after_batch: list[Callable[[int], None]] | None = None,
        before: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="engram-indexer", daemon=True)
        self.indexer = indexer
        self.poll_s = poll_s
        self.after_batch = list(after_batch or [])
        self.before = before
        self._stop_event = threading.Event()
        self._wake = threading.Event()
        self._flush = True

    def wake(self) -> None:
        """Something new arrived: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, flush: bool = True, timeout: float | None = None) -> None:
        """Stop after the current round; with ``flush`` the worker first indexes the backlog."""
        self._flush = flush
        self._stop_event.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        """The worker loop."""
        if self.before is not None:
            try:
                self.before()
            except Exception:
                logger.exception("resuming pending work failed")
        while not self._stop_event.is_set():
            try:
                self._round()
            except Exception as exc:
                logger.exception("indexing round failed")
                if isinstance(exc, OPERATIONAL_ERRORS):
                    self.indexer.store.drop_reader()  # the next round reads on a new connection
            self._wake.wait(self.poll_s)
            self._wake.clear()
        if self._flush:
            self._flush_backlog()

    def _flush_backlog(self) -> None:
        for _attempt in (1, 2):
            try:
                self._after(self.indexer.process_pending())
                return
            except OPERATIONAL_ERRORS:
                logger.exception("flushing the indexing backlog failed")
                self.indexer.store.drop_reader()  # once more, on a new connection
            except Exception:
                logger.exception("flushing the indexing backlog failed")
                return

    def _round(self) -> None:
        self._after(self.indexer.process_pending(batch=4, limit=16))

    def _after(self, n: int) -> None:
        if n:
            for hook in self.after_batch:
                try:
                    hook(n)
                except Exception:
                    logger.exception("after-indexing hook failed")
