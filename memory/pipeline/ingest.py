"""Feeding frames into the inbox: imported images (with dedup) and live ``ScreenFrame`` records."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from capture.config import DedupConfig
from capture.dedup import Deduper
from capture.records import Captured, ScreenFrame
from memory.importers.frames import FrameEntry
from memory.pipeline.inbox import FrameHint, FrameMeta, Inbox
from models.ocr import open_image

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What entering a set of images into the inbox did."""

    new: int
    existing: int
    near_duplicates: int


def _load_rgb(path: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        return open_image(path).convert("RGB")

    return load


def ingest_entries(
    inbox: Inbox,
    entries: list[FrameEntry],
    *,
    dedup: DedupConfig | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Enter imported frames, oldest first, through the same dedup as live capture.

    Dedup runs per window (app and title), with the capture time as its clock and the live
    thresholds: a frame the deduper calls the same is not stored; it stretches the kept
    observation's span (``ts_end``) instead, so a search still lands on the kept frame. A frame
    scrolled by a few pixels changes too many cells to be "the same" and is recorded, as live
    capture would (a pixel test cannot tell a scroll from a few changed characters, and dropping
    the latter would lose text). Re-running an import re-makes the same decisions and adds
    nothing twice (manifest ids are ``ext_id``).
    """
    order = sorted(entries, key=lambda e: (e.ts, e.line))
    dedupers: dict[tuple[str | None, str | None], Deduper] = {}
    last_kept: dict[tuple[str | None, str | None], int] = {}
    new = existing = near = 0
    for n, e in enumerate(order, 1):
        key = (e.app, e.title)
        img = open_image(e.path).convert("RGB")
        decision = dedupers.setdefault(key, Deduper(dedup)).decide(np.asarray(img), now=e.ts)
        if not decision.keep and key in last_kept:
            inbox.extend(last_kept[key], e.ts)
            near += 1
        else:
            meta = FrameMeta(
                "screen",
                e.ts,
                e.app,
                e.title,
                e.url,
                ext_id=e.id,
                phash=decision.phash,
                frame_ref=e.rel,
                origin="import",
            )
            obs_id = inbox.add(img, meta, FrameHint(_load_rgb(str(e.path))))
            if obs_id is None:
                obs_id = inbox.existing("screen", e.id)
                existing += 1
            else:
                new += 1
            assert obs_id is not None
            last_kept[key] = obs_id
        if progress:
            progress(n, len(order))
    return IngestResult(new, existing, near)


class ScreenSink:
    """The capture sink of ``engram run``: each kept ``ScreenFrame`` goes into the inbox.

    Runs on the recorder's delivery thread. ``paused`` (low disk) drops frames and counts them.
    """

    def __init__(self, inbox: Inbox, on_added: Callable[[int], None] | None = None) -> None:
        self.inbox = inbox
        self.on_added = on_added
        self.paused_reason: str | None = None
        self.kept = 0
        self.dropped = 0
        self._previous: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, item: Captured) -> None:
        if not isinstance(item, ScreenFrame):
            return  # audio chunks go to the audio sink
        if self.paused_reason is not None:
            self.dropped += 1
            return
        img = Image.frombytes("RGB", (item.width, item.height), item.rgb)
        w = item.window
        meta = FrameMeta(
            "screen",
            item.ts.timestamp(),
            w.app,
            w.title,
            w.url,
            monitor=item.monitor,
            phash=item.phash,
        )
        with self._lock:
            previous = self._previous.get(item.monitor)
        hint = FrameHint(lambda: img, tuple(item.changed_boxes), previous, heavy=True)
        obs_id = self.inbox.add(img, meta, hint)
        if obs_id is None:
            return
        with self._lock:
            self._previous[item.monitor] = obs_id
        self.kept += 1
        if self.on_added:
            self.on_added(obs_id)
