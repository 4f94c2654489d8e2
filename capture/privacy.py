"""Privacy rules: which frames are never recorded and which rectangles are blacked out.

A frame is dropped when the active window belongs to an excluded app, its title matches an
excluded pattern, or it is a private browser window. Other visible excluded windows are
blacked out where they are not covered by windows above them (or, with masking turned
off, the frame is dropped). Secrets inside ordinary windows are not this module's job:
the indexer redacts text after OCR.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from capture.config import CaptureConfig
from capture.records import WindowInfo
from capture.window import VisibleWindow

logger = logging.getLogger(__name__)

Rect = tuple[int, int, int, int]
_TITLE_TAIL = re.compile(r"\s[-\u2013\u2014|]\s+([^-\u2013\u2014|]+)$")


@dataclass(frozen=True, slots=True)
class PrivacyDecision:
    """The verdict for one monitor's frame.

    Attributes:
        drop: never record this frame.
        reason: why it was dropped (``None`` when kept); never contains the title.
        masks: monitor-local (x, y, w, h) rectangles to black out before anything else.
    """

    drop: bool
    reason: str | None = None
    masks: tuple[Rect, ...] = ()


def _normalise_app(name: str) -> str:
    name = name.strip().lower()
    for suffix in (".exe", ".app"):
        name = name.removesuffix(suffix)
    return name


def intersect(a: Rect, b: Rect) -> Rect | None:
    """Intersection of two (x, y, w, h) rectangles, or ``None`` when they do not overlap."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def subtract(rect: Rect, hole: Rect) -> list[Rect]:
    """Parts of ``rect`` outside ``hole`` as up to four non-overlapping rectangles."""
    inner = intersect(rect, hole)
    if inner is None:
        return [rect]
    x, y, w, h = rect
    ix, iy, iw, ih = inner
    parts = [
        (x, y, w, iy - y),  # above
        (x, iy + ih, w, y + h - iy - ih),  # below
        (x, iy, ix - x, ih),  # left
        (ix + iw, iy, x + w - ix - iw, ih),  # right
    ]
    return [p for p in parts if p[2] > 0 and p[3] > 0]


class PrivacyRules:
    """Applies a ``CaptureConfig``'s exclusions to window information. Thread-safe."""

    def __init__(self, config: CaptureConfig) -> None:
        self.config = config
        self._apps = {_normalise_app(a) for a in config.excluded_apps}
        self._titles = [re.compile(p, re.I) for p in config.excluded_title_patterns]
        self._pids = frozenset(config.excluded_pids)

    def excluded(self, info: WindowInfo) -> str | None:
        """Return why a window must not be recorded, or ``None`` if it may be."""
        if info.private:
            return "private window"
        if info.pid is not None and info.pid in self._pids:
            return "excluded process"  # Engram's own window, whatever its class or title
        if info.app and _normalise_app(info.app) in self._apps:
            return "excluded app"
        title = info.title or ""
        tail = _TITLE_TAIL.search(title)
        if tail and _normalise_app(tail.group(1)) in self._apps:
            return "excluded app"  # e.g. "vault.kdbx - KeePassXC" under an odd WM class
        if any(p.search(title) for p in self._titles):
            return "excluded title"
        return None

    def decide(
        self, active: WindowInfo, windows: Sequence[VisibleWindow], monitor: Rect
    ) -> PrivacyDecision:
        """Decide about one monitor's frame.

        Args:
            active: the active window.
            windows: visible windows, bottom to top, in virtual-screen coordinates.
            monitor: the monitor's (left, top, width, height) in the same coordinates.
        """
        reason = self.excluded(active)
        if reason is not None:
            return PrivacyDecision(drop=True, reason=f"active window: {reason}")
        hidden = self.visible_excluded(windows, monitor)
        if not hidden:
            return PrivacyDecision(drop=False)
        if not self.config.mask_excluded_windows:
            return PrivacyDecision(drop=True, reason="excluded window visible")
        local = tuple((x - monitor[0], y - monitor[1], w, h) for x, y, w, h in hidden)
        return PrivacyDecision(drop=False, masks=local)

    def visible_excluded(self, windows: Sequence[VisibleWindow], monitor: Rect) -> list[Rect]:
        """Uncovered parts of excluded windows on ``monitor`` (virtual-screen coordinates)."""
        out: list[Rect] = []
        for index, window in enumerate(windows):
            if self.excluded(window.info) is None:
                continue
            on_screen = intersect(window.rect, monitor)
            if on_screen is None:
                continue
            parts = [on_screen]
            for above in windows[index + 1 :]:
                if self.excluded(above.info) is None:
                    parts = [p for part in parts for p in subtract(part, above.rect)]
            out.extend(parts)
        return out


def apply_masks(pixels: np.ndarray, masks: Iterable[Rect]) -> None:
    """Black out ``masks`` (monitor-local x, y, w, h) in a writable ``(H, W, C)`` array."""
    height, width = pixels.shape[:2]
    for x, y, w, h in masks:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 > x0 and y1 > y0:
            pixels[y0:y1, x0:x1, :3] = 0
