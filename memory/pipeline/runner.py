"""`engram run --headless`: screen and microphone capture into the inbox, indexing, a status line.

Pending work left by an earlier run resumes first. Without a display the run goes on without screen
capture (indexing, memorising, audio); without a microphone it goes on without audio; the status
line says which and why. Stops cleanly on Ctrl-C, SIGTERM or after ``duration`` seconds: capture
stops first, then the indexer flushes what is pending, so everything captured is searchable when
the command returns.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from memory.pipeline.audio import AudioSink
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


def screen_problem() -> str | None:
    """Why the screen cannot be captured here, or None when it can."""
    from capture.screen import probe_display

    try:
        probe_display()
    except CaptureUnavailable as exc:
        return exc.reason
    return None


class HeadlessRun:
    """The parts of one headless run; ``run`` blocks until stopped.

    Args:
        audio: record the microphone (when one exists); ``audio_device`` names it (None: default).
        memorize: run the memorising worker on what gets indexed.
    """

    def __init__(self, service: MemoryService, *, interval: float | None = None,
                 policy: RetentionPolicy | None = None, audio: bool = True,
                 audio_device: str | int | None = None, memorize: bool = True) -> None:
        from capture.screen import ScreenRecorder

        self.service = service
        self.pipeline = service.pipeline()
        self.policy = policy or RetentionPolicy()
        timing = {"interval_s": interval} if interval else {}
        cfg = CaptureConfig(**timing, audio_enabled=audio, audio_device=audio_device)
        self.worker = IndexWorker(self.pipeline.indexer, after_batch=self.pipeline_hooks())
        self.sink = ScreenSink(self.pipeline.inbox, on_added=lambda _id: self.worker.wake())
        self.screen_problem = screen_problem()
        self.recorder = ScreenRecorder(cfg, self.sink) if self.screen_problem is None else None
        self.audio_sink = AudioSink(service.store, self.pipeline.frames, on_added=lambda _id: self.worker.wake())
        self.mic: Any = None
        self.audio = "off"
        if audio:
            from capture.audio import AudioRecorder

            self.mic = AudioRecorder(cfg, self.audio_sink)
            self.audio = "starting"
        self.memorize = memorize
        self.stop_event = threading.Event()

    def pipeline_hooks(self) -> list[Any]:
        """Callables run after each indexed batch (memorising adds itself here)."""
        hooks = getattr(self.pipeline, "after_index", None)
        if hooks is None:
            hooks = self.pipeline.after_index = []
        return hooks  # type: ignore[no-any-return]

    def status(self) -> RunStatus:
        """A snapshot for the status line."""
        stats = self.pipeline.indexer.stats
        skipped = sink_errors = 0
        if self.recorder is None:
            state = f"no screen capture ({self.screen_problem})"
        else:
            rs = self.recorder.status()
            state = rs.state if self.sink.paused_reason is None else self.sink.paused_reason
            skipped, sink_errors = rs.frames_skipped, rs.sink_errors
        if self.mic is not None and self.audio == "recording":
            sink_errors += self.mic.status().sink_errors
        return RunStatus(state, self.sink.kept, skipped, self.pipeline.indexer.backlog(),
                         stats.indexed, stats.failed + sink_errors, self._audio_line())

    def _audio_line(self) -> str:
        if self.mic is None or self.audio != "recording":
            return self.audio
        st = self.mic.status()
        paused = f", {self.audio_sink.paused_reason}" if self.audio_sink.paused_reason else ""
        return f"{st.state} from {st.device}, {self.audio_sink.kept} chunks{paused}"

    def _check_disk(self) -> None:
        reason = low_disk(self.service.paths.root, self.policy)
        if reason is not None and self.sink.paused_reason is None:
            logger.warning("%s", reason)
            if self.recorder is not None:
                self.recorder.pause()
        elif reason is None and self.sink.paused_reason is not None and self.recorder is not None:
            self.recorder.resume()
        self.sink.paused_reason = self.audio_sink.paused_reason = reason

    def _start(self, out: TextIO) -> None:
        """Start the indexer (it resumes frames and audio left pending first), memorising, recorders."""
        self.service.index_pending()  # chat text: cheap, done before capture starts
        backlog = self.pipeline.indexer.backlog()
        if backlog:
            logger.info("resuming %d frame/audio observations left pending", backlog)
        if self.memorize:
            self._start_memorizing()
        self.worker.start()
        if self.recorder is None:
            _note(out, f"engram: screen capture unavailable: {self.screen_problem}; "
                       "indexing, memorising and audio go on")
        else:
            self.recorder.start()
        if self.mic is not None:
            self._start_mic(out)

    def _start_mic(self, out: TextIO) -> None:
        try:
            self.mic.start()
        except CaptureUnavailable as exc:
            self.mic = None
            self.audio = f"no audio ({exc.reason})"
            _note(out, f"engram: audio capture unavailable: {exc.reason}; going on without audio")
            return
        self.audio = "recording"

    def _start_memorizing(self) -> None:
        try:
            self.service.start_memorizing()
        except Exception:  # memorising is a bonus here: capture and search go on without it
            logger.exception("memorising could not start")
            return
        self.worker.after_batch.append(self.service.notify_indexed)

    def _stop(self) -> None:
        if self.recorder is not None:
            self.recorder.stop()
        if self.mic is not None:
            self.mic.stop()
        self.worker.stop(flush=True)
        self.service._remember_vector_count()
        if self.memorize:
            self.service.stop_memorizing()

    def run(self, duration: float | None, out: TextIO) -> RunStatus:
        """Capture and index until stopped; returns the final status.

        Without a display or a microphone the run goes on without them (said on ``out``).
        """
        self._start(out)
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
            self._stop()
        final = self.status()
        _show(out, final.line(), end=True)
        return final


def _show(out: TextIO, line: str, end: bool = False) -> None:
    if out.isatty():
        out.write("\r\x1b[K" + line + ("\n" if end else ""))
    elif end:
        out.write(line + "\n")
    out.flush()


def _note(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


def run_headless(service: MemoryService, *, duration: float | None = None, interval: float | None = None,
                 audio: bool = True, audio_device: str | int | None = None, memorize: bool = True,
                 out: TextIO) -> int:
    """Run capture and indexing in this process; returns the exit code (0, or 3 after errors)."""
    run = HeadlessRun(service, interval=interval, audio=audio, audio_device=audio_device, memorize=memorize)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: run.stop_event.set())
    try:
        final = run.run(duration, out)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if final.errors == 0 else 3
