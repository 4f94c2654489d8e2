"""Cheap frame deduplication: a 64-bit dHash plus the share of changed grid cells.

Everything runs on a grey copy of the frame sampled every ``STRIDE`` pixels (a 1080p frame
becomes 480x270), so one decision costs a few milliseconds of numpy and no Python loop
over pixels. Changed boxes are reported in full-resolution coordinates.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from capture.config import DedupConfig

logger = logging.getLogger(__name__)

STRIDE = 4
"""Sampling step of the grey working copy, in full-resolution pixels."""
_MAX_COMPONENT_CELLS = 1024
"""Above this many changed cells, boxes are found on a coarser grid (bounded work)."""

Box = tuple[int, int, int, int]


def to_grey_small(pixels: np.ndarray, stride: int = STRIDE) -> np.ndarray:
    """Return a ``uint8`` grey copy of an RGB or BGRA frame sampled every ``stride`` pixels.

    Args:
        pixels: ``(H, W, 3)`` RGB or ``(H, W, 4)`` BGRA (mss's layout) ``uint8`` array.
        stride: sampling step.
    """
    sub = pixels[::stride, ::stride]
    if pixels.shape[2] == 4:  # BGRA from mss
        b, g, r = sub[..., 0], sub[..., 1], sub[..., 2]
    else:
        r, g, b = sub[..., 0], sub[..., 1], sub[..., 2]
    grey = r.astype(np.uint16) * 77 + g.astype(np.uint16) * 150 + b.astype(np.uint16) * 29
    return (grey >> 8).astype(np.uint8)


def _block_means(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Average ``values`` over a ``rows x cols`` grid of (nearly) equal blocks."""
    height, width = values.shape
    row_edges = np.linspace(0, height, rows + 1).astype(np.intp)
    col_edges = np.linspace(0, width, cols + 1).astype(np.intp)
    sums = np.add.reduceat(values.astype(np.float32), row_edges[:-1], axis=0)
    sums = np.add.reduceat(sums, col_edges[:-1], axis=1)
    counts = np.outer(np.diff(row_edges), np.diff(col_edges))
    return sums / np.maximum(counts, 1)


def dhash(grey: np.ndarray, margin: float = 1.0) -> int:
    """Return the 64-bit difference hash of a grey image (9x8 block means, row gradients).

    A bit is set where a block is brighter than its left neighbour by more than ``margin``
    grey levels: screens have large flat areas, where plain ``>`` would flip bits on
    dithering or compression noise.
    """
    small = _block_means(grey, 8, 9)
    bits = (small[:, 1:] - small[:, :-1] > margin).ravel()
    return int(np.packbits(bits).view(">u8")[0])


def hamming(a: int, b: int) -> int:
    """Number of differing bits of two 64-bit hashes."""
    return (a ^ b).bit_count()


def changed_cells(
    previous: np.ndarray, current: np.ndarray, cell: int, threshold: float
) -> np.ndarray:
    """Return a boolean grid: cells whose mean absolute grey difference exceeds ``threshold``.

    Args:
        previous: grey working copy of the reference frame.
        current: grey working copy of the new frame, same shape.
        cell: cell side in working-copy pixels.
        threshold: 0-255 mean absolute difference.
    """
    diff = np.abs(current.astype(np.int16) - previous.astype(np.int16))
    height, width = diff.shape
    rows = max(1, -(-height // cell))
    cols = max(1, -(-width // cell))
    row_starts = np.arange(rows) * cell
    col_starts = np.arange(cols) * cell
    sums = np.add.reduceat(diff.astype(np.int32), row_starts, axis=0)
    sums = np.add.reduceat(sums, col_starts, axis=1)
    row_sizes = np.minimum(row_starts + cell, height) - row_starts
    col_sizes = np.minimum(col_starts + cell, width) - col_starts
    return sums / np.outer(row_sizes, col_sizes) > threshold


def _components(grid: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (row0, col0, row1, col1 exclusive) of 8-connected True regions."""
    seen = np.zeros_like(grid, dtype=bool)
    rows, cols = grid.shape
    boxes = []
    for start in zip(*np.nonzero(grid), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        todo = deque([start])
        r0, c0, r1, c1 = start[0], start[1], start[0], start[1]
        while todo:
            r, c = todo.popleft()
            r0, c0, r1, c1 = min(r0, r), min(c0, c), max(r1, r), max(c1, c)
            for nr in range(max(r - 1, 0), min(r + 2, rows)):
                for nc in range(max(c - 1, 0), min(c + 2, cols)):
                    if grid[nr, nc] and not seen[nr, nc]:
                        seen[nr, nc] = True
                        todo.append((nr, nc))
        boxes.append((int(r0), int(c0), int(r1) + 1, int(c1) + 1))
    return boxes


def changed_boxes(grid: np.ndarray, cell_px: int, width: int, height: int) -> tuple[Box, ...]:
    """Turn a changed-cell grid into merged (x, y, w, h) boxes in full-resolution pixels.

    Args:
        grid: boolean grid from :func:`changed_cells`.
        cell_px: cell side in full-resolution pixels.
        width: frame width, to clip the boxes.
        height: frame height, to clip the boxes.

    Boxes are whole grid cells; a change narrower than ``STRIDE`` pixels at a cell's
    edge may fall between samples, so boxes are exact to within ``STRIDE`` pixels.
    """
    scale = 1
    while int(grid.sum()) > _MAX_COMPONENT_CELLS:
        # OR-pool 2x2 so the connected-component pass stays bounded on big changes.
        rows, cols = grid.shape
        padded = np.zeros((rows + rows % 2, cols + cols % 2), dtype=bool)
        padded[:rows, :cols] = grid
        grid = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).any(axis=(1, 3))
        scale *= 2
    size = cell_px * scale
    out = []
    for r0, c0, r1, c1 in _components(grid):
        x, y = c0 * size, r0 * size
        out.append((x, y, min(c1 * size, width) - x, min(r1 * size, height) - y))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DedupDecision:
    """What the deduper decided about one frame."""

    keep: bool
    phash: int
    distance: int
    changed_ratio: float
    boxes: tuple[Box, ...]
    reason: str


class Deduper:
    """Keeps the last kept frame of one monitor and decides keep/skip for the next one.

    Not thread-safe: one instance per monitor, used by one capture thread.
    """

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = config or DedupConfig()
        self._grey: np.ndarray | None = None
        self._hash = 0
        self._shape: tuple[int, int] | None = None
        self._kept_at = 0.0

    def reset(self) -> None:
        """Forget the reference frame (the next frame is kept)."""
        self._grey = None
        self._shape = None

    def decide(self, pixels: np.ndarray, now: float | None = None) -> DedupDecision:
        """Decide whether ``pixels`` differs enough from the last kept frame to be kept.

        Args:
            pixels: ``(H, W, 3)`` RGB or ``(H, W, 4)`` BGRA ``uint8`` frame.
            now: monotonic seconds (defaults to ``time.monotonic()``), for ``max_skip_s``.
        """
        now = time.monotonic() if now is None else now
        height, width = pixels.shape[:2]
        grey = to_grey_small(pixels)
        phash = dhash(grey)
        shape = (height, width)
        if self._grey is None or self._shape != shape:
            first = DedupDecision(True, phash, 64, 1.0, ((0, 0, width, height),), "first")
            return self._remember(grey, shape, now, first)
        cfg = self.config
        distance = hamming(phash, self._hash)
        cell = max(1, cfg.grid_px // STRIDE)
        grid = changed_cells(self._grey, grey, cell, cfg.cell_threshold)
        ratio = float(grid.mean())
        if distance > cfg.hash_distance or ratio > cfg.changed_area:
            reason = "hash" if distance > cfg.hash_distance else "area"
        elif cfg.max_skip_s and now - self._kept_at >= cfg.max_skip_s:
            reason = "age"
        else:
            return DedupDecision(False, phash, distance, ratio, (), "same")
        boxes = changed_boxes(grid, cell * STRIDE, width, height)
        decision = DedupDecision(True, phash, distance, ratio, boxes, reason)
        return self._remember(grey, shape, now, decision)

    def _remember(
        self, grey: np.ndarray, shape: tuple[int, int], now: float, decision: DedupDecision
    ) -> DedupDecision:
        self._grey, self._hash, self._shape = grey, decision.phash, shape
        self._kept_at = now
        return decision
