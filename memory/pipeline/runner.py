"""`engram run --headless`: screen capture into the inbox, the indexing worker and a status line.

Stops cleanly on Ctrl-C, SIGTERM or after ``duration`` seconds: capture stops first, then the
indexer flushes what is pending, so everything captured is searchable when the command returns.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from capture.config import CaptureConfig
from memory.pipeline.indexer import IndexWorker
from memory.pipeline.ingest import ScreenSink
from memory.pipeline.retention import RetentionPolicy, apply_retention, low_disk

if TYPE_CHECKING:
    from memory.service import MemoryService

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 1.0
DISK_CHECK_S = 10.0
RETENTION_EVERY_S = 600.0


@dataclass(frozen=True, slots=True)
class RunStatus:
    """One snapshot of a headless run."""

    state: str
    kept: int
    skipped: int
    pending: int
    indexed: int
    errors: int
    audio: str

    def line(self) -> str:
        """The one-line status shown in the terminal."""
        return (f"{self.state}: frames kept {self.kept}, skipped {self.skipped}; pending {self.pending}; "
                f"indexed {self.indexed}; errors {self.errors}; audio: {self.audio}")


def audio_state() -> str:
    """Whether a microphone exists ("no audio" when none does)."""
    try:
        import sounddevice

        devices = sounddevice.query_devices()
    except Exception as exc:  # PortAudio missing or broken: no audio, not a crash
        return f"no audio ({type(exc).__name__})"
    if not any(d.get("max_input_channels", 0) > 0 for d in devices):
        return "no audio (no input device)"
    # TODO(#4): record with capture's audio recorder once it and speech indexing are wired.
    return "input device found; audio recording not wired yet"


class HeadlessRun:
    """The parts of one headless run; ``run`` blocks until stopped."""

    def __init__(self, service: MemoryService, *, interval: float | None = None,
                 policy: RetentionPolicy | None = None, audio: bool = True) -> None:
        from capture.screen import ScreenRecorder

        self.service = service
        self.pipeline = service.pipeline()
        self.policy = policy or RetentionPolicy()
        cfg = CaptureConfig(interval_s=interval) if interval else CaptureConfig()
        self.worker = IndexWorker(self.pipeline.indexer, after_batch=self.pipeline_hooks())
        self.sink = ScreenSink(self.pipeline.inbox, on_added=lambda _id: self.worker.wake())
        self.recorder = ScreenRecorder(cfg, self.sink)
        self.audio = audio_state() if audio else "off"
        self.stop_event = threading.Event()

    def pipeline_hooks(self) -> list[Any]:
        """Callables run after each indexed batch (memorising adds itself here)."""
        hooks = getattr(self.pipeline, "after_index", None)
        if hooks is None:
            hooks = self.pipeline.after_index = []
        return hooks  # type: ignore[no-any-return]

    def status(self) -> RunStatus:
        """A snapshot for the status line."""
        rs = self.recorder.status()
        state = rs.state if self.sink.paused_reason is None else self.sink.paused_reason
        stats = self.pipeline.indexer.stats
        return RunStatus(state, self.sink.kept, rs.frames_skipped, self.pipeline.indexer.backlog(),
                         stats.indexed, stats.failed + rs.sink_errors, self.audio)

    def _check_disk(self) -> None:
        reason = low_disk(self.service.paths.root, self.policy)
        if reason is not None and self.sink.paused_reason is None:
            logger.warning("%s", reason)
            self.recorder.pause()
        elif reason is None and self.sink.paused_reason is not None:
            self.recorder.resume()
        self.sink.paused_reason = reason

    def run(self, duration: float | None, out: TextIO) -> RunStatus:
        """Capture and index until stopped; returns the final status.

        Raises:
            CaptureUnavailable: no display to capture (nothing was started).
        """
        self.recorder.start()
        self.worker.start()
        started = time.monotonic()
        next_disk = next_retention = 0.0
        try:
            while not self.stop_event.wait(STATUS_EVERY_S):
                now = time.monotonic()
                if now >= next_disk:
                    self._check_disk()
                    next_disk = now + DISK_CHECK_S
                if now >= next_retention:
                    apply_retention(self.service.store, self.pipeline.frames, self.policy)
                    next_retention = now + RETENTION_EVERY_S
                _show(out, self.status().line())
                if duration is not None and now - started >= duration:
                    break
        except KeyboardInterrupt:
            logger.info("interrupted")
        finally:
            self.recorder.stop()
            self.worker.stop(flush=True)
            self.service._remember_vector_count()
        final = self.status()
        _show(out, final.line(), end=True)
        return final


def _show(out: TextIO, line: str, end: bool = False) -> None:
    if out.isatty():
        out.write("\r\x1b[K" + line + ("\n" if end else ""))
    elif end:
        out.write(line + "\n")
    out.flush()


def run_headless(service: MemoryService, *, duration: float | None = None, interval: float | None = None,
                 audio: bool = True, out: TextIO) -> int:
    """Run capture and indexing in this process; returns the exit code.

    Raises:
        CaptureUnavailable: no display (the CLI exits with code 4).
    """
    run = HeadlessRun(service, interval=interval, audio=audio)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: run.stop_event.set())
    try:
        final = run.run(duration, out)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if final.errors == 0 else 3
