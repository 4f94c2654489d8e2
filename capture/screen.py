"""The screen recorder: every monitor at an interval, deduplicated, privacy-filtered.

Frames come from a *frame source*: mss on X11 (:class:`MssFrameSource`), the ScreenCast
portal's PipeWire streams on Wayland (``capture.wayland.PortalFrameSource``); everything
after the grab -- privacy rules, dedup, the frozen ``ScreenFrame`` and the sink -- is shared.

Threads: ``ScreenRecorder`` is the capture thread (mss grabs, window queries, dedup);
a second daemon thread hands kept frames from a bounded queue to the sink, so a slow
sink never delays capture. When the queue is full the newest frame is dropped and
counted, and that monitor's deduper is reset so the next frame is kept again.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import mss
import numpy as np
from mss.exception import ScreenShotError
from PIL import Image

from capture.config import CaptureConfig
from capture.dedup import Deduper
from capture.errors import CaptureUnavailable, StreamEnded
from capture.privacy import PrivacyRules, apply_masks
from capture.records import ScreenFrame, Sink, WindowInfo
from capture.window import (
    ActiveWindowProvider,
    VisibleWindow,
    default_window_provider,
    session_kind,
)

logger = logging.getLogger(__name__)

MONITOR_REFRESH_S = 10.0
"""How often the monitor list is re-read (monitors plugged in or out mid-run)."""
Clock = Callable[[], datetime]


Monitor = dict[str, int]
"""A monitor's ``left``, ``top``, ``width`` and ``height`` in desktop pixels."""
REOPEN_AFTER_S = 10.0
"""After a Wayland stream ended, how long before the portal is asked again."""


class FrameSource(Protocol):
    """Where the recorder's pixels come from."""

    name: str

    def monitors(self) -> list[tuple[int, Monitor]]:
        """Every monitor, 1-based, with its rectangle."""
        ...

    def grab(self, index: int, monitor: Monitor) -> np.ndarray | None:
        """The monitor's pixels now, ``(H, W, 4)`` BGRA/BGRx ``uint8``; ``None`` when the
        source has no picture yet (a new stream over a still screen)."""
        ...

    def close(self) -> None:
        """Release the display connection or the stream."""
        ...


class MssFrameSource:
    """X11 frames through mss (one connection for grabs; a fresh one re-reads RandR)."""

    name = "x11"

    def __init__(self, factory: Callable[[], Any] = mss.MSS) -> None:
        self._factory = factory
        self._sct = factory()

    def monitors(self) -> list[tuple[int, Monitor]]:
        """mss caches its monitor list: a fresh connection sees monitors plugged in or out."""
        fresh = self._factory()
        try:
            return [(i, dict(m)) for i, m in list(enumerate(fresh.monitors))[1:]]
        finally:
            fresh.close()

    def grab(self, index: int, monitor: Monitor) -> np.ndarray:
        """Grab one monitor (raises mss's ``ScreenShotError`` when the display went away)."""
        del index
        shot = self._sct.grab(monitor)
        return np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)

    def close(self) -> None:
        """Close the mss connection."""
        self._sct.close()


def screen_backend(config: CaptureConfig) -> str:
    """``"x11"`` or ``"wayland"``: the configured one, or the session's for ``"auto"``."""
    if config.backend != "auto":
        return config.backend
    return "wayland" if sys.platform.startswith("linux") and session_kind() == "wayland" else "x11"


def utc_now() -> datetime:
    """The default clock: timezone-aware UTC now."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Scene:
    """What one tick saw, shared by all monitors."""

    active: WindowInfo
    windows: list[VisibleWindow]
    ts: datetime


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    """A snapshot of the recorder for the tray and ``engram doctor``."""

    state: str
    """``"stopped"``, ``"capturing"`` or ``"paused"``."""
    reason: str | None
    """Why paused or stopped (``"user"``, ``"screen locked"``, ``"idle"``, an error)."""
    monitors: int
    frames_kept: int
    frames_skipped: int
    frames_private: int
    frames_dropped: int
    sink_errors: int
    last_error: str | None
    window_provider: str
    backend: str = "x11"
    """Where frames come from: ``"x11"`` (mss), ``"wayland"`` (the portal) or ``"custom"``."""


def bgra_to_rgb(pixels: np.ndarray) -> bytes:
    """Pack an ``(H, W, 4)`` BGRA frame as RGB bytes (Pillow's C unpacker: ~2x numpy)."""
    height, width = pixels.shape[:2]
    buffer = np.ascontiguousarray(pixels)
    return Image.frombuffer("RGB", (width, height), buffer, "raw", "BGRX", 0, 1).tobytes()


def probe_display(mss_factory: Callable[[], Any] = mss.MSS) -> int:
    """Return the number of monitors, or raise if the screen cannot be captured here.

    Raises:
        CaptureUnavailable: no X display, or mss cannot grab.
    """
    if sys.platform.startswith("linux"):
        if not os.environ.get("DISPLAY"):
            raise CaptureUnavailable(
                "screen", "no X display: DISPLAY is not set (headless machine or SSH session)"
            )
    try:
        with mss_factory() as sct:
            return len(sct.monitors) - 1
    except ScreenShotError as exc:
        display = os.environ.get("DISPLAY", "")
        raise CaptureUnavailable("screen", f"cannot open display {display!r}: {exc}") from exc


class ScreenRecorder(threading.Thread):
    """Grabs every selected monitor each ``config.interval_s`` and sends kept frames to ``sink``.

    Args:
        config: capture settings.
        sink: called with each kept ``ScreenFrame`` on the recorder's delivery thread.
        window_provider: active-window source; ``None`` picks the platform default.
        clock: timestamps of frames (aware UTC by default).
        mss_factory: makes the mss grabber (tests may wrap it).
        source_factory: makes the frame source; ``None`` picks mss or the portal by
            ``config.backend`` and the session.
    """

    def __init__(
        self,
        config: CaptureConfig,
        sink: Sink,
        window_provider: ActiveWindowProvider | None = None,
        clock: Clock = utc_now,
        *,
        mss_factory: Callable[[], Any] = mss.MSS,
        source_factory: Callable[[], FrameSource] | None = None,
    ) -> None:
        super().__init__(name="engram-screen", daemon=True)
        self.config = config
        self.backend = "custom" if source_factory else screen_backend(config)
        self._source_factory = source_factory or self._default_source
        self._source: FrameSource | None = None
        self._reopen_at = 0.0
        self._sink = sink
        self._provider = window_provider
        self._clock = clock
        self._mss_factory = mss_factory
        self._rules = PrivacyRules(config)
        self._queue: queue.Queue[ScreenFrame] = queue.Queue(maxsize=config.queue_size)
        self._stop_event = threading.Event()
        self._user_paused = threading.Event()
        self._dedupers: dict[int, Deduper] = {}
        self._monitors: list[tuple[int, Monitor]] = []
        self._monitors_read = -MONITOR_REFRESH_S
        self._counts = dict.fromkeys(("kept", "skipped", "private", "dropped", "sink"), 0)
        self._state, self._reason, self._last_error = "stopped", "not started", None
        self._lock = threading.Lock()
        self._delivery = threading.Thread(target=self._deliver, name="engram-screen-sink")

    # -- control -------------------------------------------------------------------------

    def start(self) -> None:
        """Check the display and window provider, then start capturing.

        On Wayland this asks the ScreenCast portal now (its dialog, unless the saved restore
        token brings the last choice back), so a refusal is raised here.

        Raises:
            CaptureUnavailable: the screen cannot be captured here (the portal refused), or
                windows cannot be read on X11 so privacy rules could not be enforced (pass
                ``NullWindowProvider()`` explicitly to record without them).
        """
        if self.backend == "wayland":
            self._source = self._source_factory()
        elif self.backend == "x11":
            probe_display(self._mss_factory)
        if self._provider is None:
            try:
                self._provider = default_window_provider()
            except CaptureUnavailable as exc:
                if self._source is not None:
                    self._source.close()
                raise CaptureUnavailable(
                    "screen",
                    f"cannot read the active window ({exc.reason}), so excluded apps and "
                    "private windows could not be kept out of the recording",
                ) from exc
        self._set_state("capturing", None)
        self._delivery.start()
        super().start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop capturing, deliver what is queued and join both threads."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        if self._delivery.is_alive():
            self._delivery.join(timeout)
        self._set_state("stopped", "stopped")

    def pause(self) -> None:
        """Pause capture at the user's request (until :meth:`resume`)."""
        self._user_paused.set()
        self._set_state("paused", "user")

    def resume(self) -> None:
        """Resume after :meth:`pause` (automatic pauses still apply)."""
        self._user_paused.clear()
        if self.is_alive():
            self._set_state("capturing", None)

    def status(self) -> RecorderStatus:
        """Return counters and the current state (thread-safe)."""
        with self._lock:
            c = self._counts
            return RecorderStatus(
                state=self._state,
                reason=self._reason,
                monitors=len(self._monitors),
                frames_kept=c["kept"],
                frames_skipped=c["skipped"],
                frames_private=c["private"],
                frames_dropped=c["dropped"],
                sink_errors=c["sink"],
                last_error=self._last_error,
                window_provider=self._provider.name if self._provider else "none",
                backend=self.backend,
            )

    def _set_state(self, state: str, reason: str | None) -> None:
        with self._lock:
            if (state, reason) != (self._state, self._reason):
                logger.info("screen capture %s (%s)", state, reason or "-")
            self._state, self._reason = state, reason

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    # -- capture thread ------------------------------------------------------------------

    def run(self) -> None:
        """Capture loop (the recorder's thread)."""
        try:
            while not self._stop_event.is_set():
                started = time.monotonic()
                try:
                    if self._source is None and started >= self._reopen_at:
                        self._source = self._source_factory()
                    if self._source is not None:
                        self._tick(self._source)
                except CaptureUnavailable as exc:  # the portal refused to share again
                    self._error(f"screen capture stopped: {exc.reason}")
                    self._set_state("stopped", exc.reason)
                    return
                except (ScreenShotError, StreamEnded) as exc:
                    self._error(f"screen grab failed: {exc}")
                    self._source = self._close(self._source)
                    self._monitors_read = -MONITOR_REFRESH_S
                    if self.backend == "wayland":  # ask the portal again, not at every tick
                        self._reopen_at = time.monotonic() + REOPEN_AFTER_S
                except Exception as exc:  # the thread must not die silently
                    logger.exception("screen capture tick failed")
                    self._error(f"{type(exc).__name__}: {exc}")
                elapsed = time.monotonic() - started
                self._stop_event.wait(max(0.0, self.config.interval_s - elapsed))
        finally:
            self._source = self._close(self._source)
            provider = self._provider
            if provider is not None:
                provider.close()

    def _default_source(self) -> FrameSource:
        if self.backend == "wayland":
            from capture.wayland import PortalFrameSource

            return PortalFrameSource(self.config.portal_token_path, self.config.interval_s)
        return MssFrameSource(self._mss_factory)

    @staticmethod
    def _close(source: FrameSource | None) -> None:
        if source is not None:
            source.close()

    def _error(self, message: str) -> None:
        logger.warning("%s", message)
        with self._lock:
            self._last_error = message

    def _pause_reason(self) -> str | None:
        if self._user_paused.is_set():
            return "user"
        assert self._provider is not None
        if self.config.pause_on_lock and self._provider.screen_locked():
            return "screen locked"
        idle_limit = self.config.idle_pause_minutes * 60
        idle = self._provider.idle_seconds() if idle_limit else None
        if idle is not None and idle >= idle_limit:
            return "idle"
        return None

    def _tick(self, source: FrameSource) -> None:
        reason = self._pause_reason()
        if reason is not None:
            self._set_state("paused", reason)
            return
        self._set_state("capturing", None)
        assert self._provider is not None
        monitors = self._refresh_monitors(source)
        active = self._provider.active_window()
        windows = self._provider.visible_windows()
        scene = _Scene(active, windows, self._clock())
        for index, monitor in monitors:
            self._capture_monitor(source, index, monitor, scene)

    def _refresh_monitors(self, source: FrameSource) -> list[tuple[int, Monitor]]:
        now = time.monotonic()
        if now - self._monitors_read < MONITOR_REFRESH_S:
            return self._monitors
        all_monitors = source.monitors()
        wanted = self.config.monitors
        selected = [(i, dict(m)) for i, m in all_monitors if wanted == "all" or i in wanted]
        if selected != self._monitors:
            logger.info("monitors: %s", [(i, m["width"], m["height"]) for i, m in selected])
            if not selected:
                logger.warning("none of the configured monitors %s is connected", wanted)
            for gone in set(self._dedupers) - {i for i, _ in selected}:
                del self._dedupers[gone]
        with self._lock:
            self._monitors = selected
        self._monitors_read = now
        return selected

    def _capture_monitor(
        self,
        source: FrameSource,
        index: int,
        monitor: Monitor,
        scene: _Scene,
    ) -> None:
        rect = (monitor["left"], monitor["top"], monitor["width"], monitor["height"])
        verdict = self._rules.decide(scene.active, scene.windows, rect)
        if verdict.drop:  # never grabbed, never in memory
            self._count("private")
            return
        pixels = source.grab(index, monitor)
        if pixels is None:
            return
        height, width = pixels.shape[:2]
        if verdict.masks:
            pixels = pixels.copy()
            apply_masks(pixels, verdict.masks)
        deduper = self._dedupers.setdefault(index, Deduper(self.config.dedup))
        decision = deduper.decide(pixels)
        if not decision.keep:
            self._count("skipped")
            return
        rgb = bgra_to_rgb(pixels)
        frame = ScreenFrame(
            ts=scene.ts,
            monitor=index,
            width=width,
            height=height,
            rgb=rgb,
            window=scene.active,
            phash=decision.phash,
            changed_boxes=decision.boxes,
            masked=verdict.masks,
        )
        try:
            self._queue.put_nowait(frame)
            self._count("kept")
        except queue.Full:
            self._count("dropped")
            deduper.reset()  # or the unchanged screen would never be recorded

    # -- delivery thread -----------------------------------------------------------------

    def _deliver(self) -> None:
        while True:
            try:
                frame = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop_event.is_set() and not self.is_alive():
                    return
                continue
            try:
                self._sink(frame)
            except Exception:
                logger.exception("screen sink failed")
                self._count("sink")


def probe_screen(config: CaptureConfig | None = None) -> str:
    """Check, without asking the user anything, that the screen can be recorded here.

    Returns the backend (``"x11"`` or ``"wayland"``). On Wayland this checks the session
    bus, the portal and the GStreamer pieces; the portal's question comes at start.

    Raises:
        CaptureUnavailable: what is missing, in words.
    """
    backend = screen_backend(config or CaptureConfig())
    if backend == "x11":
        probe_display()
        return backend
    from capture.portal import portal_version
    from capture.wayland import wayland_missing

    missing = wayland_missing()
    if missing is not None:
        raise CaptureUnavailable("screen", missing)
    portal_version()
    return backend
