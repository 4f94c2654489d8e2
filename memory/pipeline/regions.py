"""OCR of only the parts of a frame that changed since the monitor's previous kept frame.

The recorder's deduper reports the changed boxes of each kept frame relative to the previous kept
frame of the same monitor. When this reader still holds that previous frame's OCR lines and
pixels, it keeps the lines outside every changed row and reads only the (padded) changed rows,
widened to whole text lines. Otherwise, or when much of the frame changed, it reads the whole frame.

The changed rows come from an exact comparison with the previous frame's pixels, not from the
deduper's boxes alone (#16): those are found on a grey copy sampled every 4 pixels with a
per-cell threshold, and miss small edits (a changed digit, a short word): on the screens set's
near-duplicate pairs 2,700-2,900 changed pixels fell outside them, and the lines there kept their
stale text (the first version's changed-region reads agreed 0.82 with a full read).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from PIL import Image

from models.ocr import OcrLine

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]


class OcrEngine(Protocol):
    """What the pipeline needs from an OCR model (``models.ocr.RapidOcrEngine`` fits)."""

    def read(self, source: Image.Image) -> list[OcrLine]:
        """Text lines of an image."""
        ...


@dataclass(frozen=True, slots=True)
class _Previous:
    obs_id: int
    size: tuple[int, int]
    lines: tuple[OcrLine, ...]
    pixels: np.ndarray


def changed_rows(before: np.ndarray, after: np.ndarray, gap: int = 8) -> list[Box]:
    """Full-width bands (x, y, w, h) of the rows where any pixel differs; runs closer than
    ``gap`` rows are joined."""
    rows = np.flatnonzero(np.any(before != after, axis=tuple(range(1, before.ndim))))
    if not rows.size:
        return []
    breaks = np.flatnonzero(np.diff(rows) > gap)
    starts = np.concatenate(([rows[0]], rows[breaks + 1]))
    ends = np.concatenate((rows[breaks], [rows[-1]]))
    width = before.shape[1]
    return [(0, int(a), width, int(b - a + 1)) for a, b in zip(starts, ends, strict=True)]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def _pad(box: Box, pad: int, size: tuple[int, int]) -> Box:
    x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
    x1, y1 = min(size[0], box[0] + box[2] + pad), min(size[1], box[1] + box[3] + pad)
    return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def merge_boxes(boxes: list[Box]) -> list[Box]:
    """Merge overlapping boxes until none overlap."""
    out = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if _overlaps(out[i], out[j]):
                    out[i] = _union(out[i], out.pop(j))
                    merged = True
                    break
            if merged:
                break
    return out


def read_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Lines top to bottom, left to right (rows within half a line height count as one row)."""

    def key(line: OcrLine) -> tuple[int, int]:
        row = (line.box[1] + line.box[3] // 2) // max(8, line.box[3] or 8)
        return (row, line.box[0])

    return sorted(lines, key=key)


class RegionReader:
    """Full or changed-region OCR with a per-monitor memory of the last frame's lines.

    Thread-safe; the counters say how much of the frame area was actually read.
    """

    def __init__(self, engine: OcrEngine, *, full_ratio: float = 0.45, pad: int = 12) -> None:
        self.engine = engine
        self.full_ratio = full_ratio
        self.pad = pad
        self._previous: dict[int, _Previous] = {}
        self._lock = threading.Lock()
        self.frames_full = 0
        self.frames_partial = 0

    def read(
        self,
        img: Image.Image,
        *,
        monitor: int | None = None,
        obs_id: int = 0,
        boxes: tuple[Box, ...] = (),
        previous_id: int | None = None,
    ) -> list[OcrLine]:
        """OCR ``img``; reuse the previous frame's lines outside the changed rows when that is safe.

        ``boxes`` (the deduper's) only say that the frame changed since ``previous_id``; where,
        an exact comparison with the remembered frame decides.
        """
        with self._lock:
            prev = self._previous.get(monitor) if monitor is not None else None
        lines: list[OcrLine] | None = None
        # the monitor's frames are compared pixel by pixel with the next one (#16)
        pixels = np.asarray(img.convert("RGB")) if monitor is not None else None
        if (
            prev is not None
            and pixels is not None
            and boxes
            and previous_id == prev.obs_id
            and prev.size == img.size
        ):
            lines = self._read_changed(img, prev, changed_rows(prev.pixels, pixels))
        if lines is None:
            lines = read_order(self.engine.read(img))
            self.frames_full += 1
        else:
            self.frames_partial += 1
        if monitor is not None and pixels is not None:
            with self._lock:
                self._previous[monitor] = _Previous(obs_id, img.size, tuple(lines), pixels)
        return lines

    def forget(self, monitor: int) -> None:
        """Drop the remembered lines of a monitor (the next frame is read whole)."""
        with self._lock:
            self._previous.pop(monitor, None)

    def _read_changed(
        self, img: Image.Image, prev: _Previous, boxes: list[Box]
    ) -> list[OcrLine] | None:
        bands = self._bands(img, prev, boxes) if boxes else []
        area = sum(b[2] * b[3] for b in bands)
        if area > self.full_ratio * img.width * img.height:
            return None
        kept = [ln for ln in prev.lines if not any(_overlaps(ln.box, b) for b in bands)]
        fresh: list[OcrLine] = []
        for x, y, w, h in bands:
            if w < 4 or h < 4:
                continue
            for ln in self.engine.read(img.crop((x, y, x + w, y + h))):
                bx, by, bw, bh = ln.box
                fresh.append(replace(ln, box=(bx + x, by + y, bw, bh)))
        return read_order(kept + fresh)

    def _bands(self, img: Image.Image, prev: _Previous, boxes: list[Box]) -> list[Box]:
        """Full-width horizontal bands around the changes and the old lines they touch.

        Whole-width bands keep every text line in one piece (a crop that cuts a line makes the
        detector split it into fragments); the padding gives the detector some margin.
        """
        width = img.width
        bands = merge_boxes([(0, b[1], width, b[3]) for b in boxes])
        for _ in range(2):  # grow to whole old lines that the change cuts through
            bands = merge_boxes(
                [
                    (0, y, width, h)
                    for _x, y, _w, h in (
                        _union_all(b, [ln.box for ln in prev.lines if _overlaps(ln.box, b)])
                        for b in bands
                    )
                ]
            )
        bands = [_pad(b, self.pad, img.size) for b in bands]
        return merge_boxes(bands)


def _union_all(box: Box, others: list[Box]) -> Box:
    for other in others:
        box = _union(box, other)
    return box
