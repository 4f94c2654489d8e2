"""Frozen records that capture hands to its sink; they know nothing of storage or models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """The active window when something was captured."""

    app: str | None = None
    title: str | None = None
    url: str | None = None
    pid: int | None = None
    private: bool = False


@dataclass(frozen=True, slots=True)
class ScreenFrame:
    """One kept screenshot of one monitor, as PNG-encodable RGB bytes.

    ``rgb`` holds ``width * height * 3`` bytes; ``phash`` is a 64-bit perceptual hash.
    ``masked`` lists rectangles (x, y, w, h) already blacked out for privacy.
    """

    ts: datetime
    monitor: int
    width: int
    height: int
    rgb: bytes
    window: WindowInfo
    phash: int
    changed_boxes: tuple[tuple[int, int, int, int], ...] = ()
    masked: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A span of microphone audio that passed the energy gate (16 kHz mono float32)."""

    ts_start: datetime
    ts_end: datetime
    samples: bytes
    sample_rate: int = 16000
    device: str | None = None


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One message of a chat with the assistant."""

    ts: datetime
    speaker: str
    text: str
    session: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


Captured = ScreenFrame | AudioChunk | ChatTurn
Sink = Callable[[Captured], None]
