"""One running recorder: screen and microphone capture into the inbox, the indexing and memorising
workers, and disk/retention housekeeping. ``engram run --headless`` and the desktop app
(``MemoryService.start_capture``) both run this class.

Without a display the recorder goes on without screen capture (indexing, memorising, audio);
without a microphone it goes on without audio; ``status`` says which and why. Pending work left by
an earlier run or a crash is resumed by the indexing worker before it looks at new captures.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from memory.pipeline.audio import AudioSink
from memory.pipeline.indexer import IndexWorker
from memory.pipeline.ingest import ScreenSink
from memory.pipeline.retention import GIB, RetentionPolicy, apply_retention, low_disk

if TYPE_CHECKING:
    from memory.service import MemoryService

logger = logging.getLogger(__name__)

DISK_CHECK_S = 10.0
RETENTION_EVERY_S = 600.0
HOUSEKEEPING_TICK_S = 1.0


@dataclass(frozen=True, slots=True)
class RunStatus:
    """One snapshot of a recorder."""

    state: str
    kept: int
    skipped: int
    pending: int
    indexed: int
    errors: int
    audio: str

    def line(self) -> str:
        """The one-line status shown in the terminal."""
        return (
            f"{self.state}: frames kept {self.kept}, skipped {self.skipped}; pending {self.pending}; "
            f"indexed {self.indexed}; errors {self.errors}; audio: {self.audio}"
        )


def screen_problem() -> str | None:
    """Why the screen cannot be captured here, or None when it can."""
    from capture.screen import probe_display

    try:
        probe_display()
    except CaptureUnavailable as exc:
        return exc.reason
    return None


def _title_regex(pattern: str) -> str:
    """A settings title pattern (a glob like ``*private*``, or plain words) as a regex."""
    import re

    if any(ch in pattern for ch in "*?["):
        return fnmatch.translate(pattern)
    return re.escape(pattern)


def _monitors(value: Any) -> Any:
    if isinstance(value, list):
        return [int(v) for v in value]
    text = str(value or "all").strip().lower()
    if text in ("", "all"):
        return "all"
    return [int(part) for part in text.replace(" ", "").split(",") if part]


def _audio_device(value: Any) -> str | int | None:
    text = str(value).strip() if value is not None else ""
    if text.lower() in ("", "default"):
        return None
    return int(text) if text.isdigit() else text


def config_from_settings(settings: dict[str, Any]) -> tuple[CaptureConfig, RetentionPolicy]:
    """The capture configuration and retention policy the saved user settings ask for.

    Raises:
        ValueError: a setting the capture layer refuses (a bad monitor list or title pattern).
    """
    cfg = CaptureConfig(
        interval_s=float(settings.get("capture.interval_s", 2.0)),
        monitors=_monitors(settings.get("capture.monitors", "all")),
        excluded_apps=[str(a) for a in settings.get("capture.excluded_apps", [])],
        excluded_title_patterns=[
            _title_regex(str(p)) for p in settings.get("capture.excluded_titles", [])
        ],
        audio_enabled=bool(settings.get("audio.enabled", False)),
        audio_device=_audio_device(settings.get("audio.device")),
    )
    policy = RetentionPolicy(
        keep_full_days=float(settings.get("retention.days", 30.0)),
        quota_bytes=int(float(settings.get("retention.quota_gb", 20.0)) * GIB),
    )
    return cfg, policy


class Recorder:
    """The parts of one capture run; ``start``/``stop`` from any thread, ``status`` any time.

    Args:
        config: capture settings (interval, monitors, privacy rules, audio on/off and device).
        policy: frame retention and the low-disk pause.
        memorize: run the memorising worker on what gets indexed.
        housekeeping: run disk checks and retention in a thread of its own (the app); a caller
            with its own loop (``engram run``) calls ``housekeep`` instead.
    """

    def __init__(
        self,
        service: MemoryService,
        config: CaptureConfig | None = None,
        *,
        policy: RetentionPolicy | None = None,
        memorize: bool = True,
        housekeeping: bool = False,
    ) -> None:
        from capture.screen import ScreenRecorder

        self.service = service
        self.pipeline = service.pipeline()
        self.config = config or CaptureConfig()
        self.policy = policy or RetentionPolicy()
        self.worker = IndexWorker(
            self.pipeline.indexer, after_batch=self._pipeline_hooks(), before=self._resume_chat
        )
        self.sink = ScreenSink(self.pipeline.inbox, on_added=lambda _id: self.worker.wake())
        self.screen_problem = screen_problem()
        self.recorder: Any = None if self.screen_problem else ScreenRecorder(self.config, self.sink)
        self.audio_sink = AudioSink(
            service.store, self.pipeline.frames, on_added=lambda _id: self.worker.wake()
        )
        self.mic: Any = None
        self.audio = "off"
        if self.config.audio_enabled:
            from capture.audio import AudioRecorder

            self.mic = AudioRecorder(self.config, self.audio_sink)
            self.audio = "starting"
        self.memorize = memorize
        self.memorizing = False
        self.user_paused = False
        self._housekeeping = housekeeping
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_disk = self._next_retention = 0.0
        self._started = self._stopped = False

    def _pipeline_hooks(self) -> list[Any]:
        hooks = getattr(self.pipeline, "after_index", None)
        if hooks is None:
            hooks = self.pipeline.after_index = []
        return hooks  # type: ignore[no-any-return]

    def _resume_chat(self) -> None:
        """Index chat text left pending (runs first on the indexing worker's thread)."""
        self.service.index_pending()
        backlog = self.pipeline.indexer.backlog()
        if backlog:
            logger.info("resuming %d frame/audio observations left pending", backlog)

    # -- control ------------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Start the indexer (it resumes pending work first), memorising, the recorders.

        Returns notes for the user about what is unavailable (no display, no microphone).
        """
        notes: list[str] = []
        self._started = True
        if self.memorize:
            self._start_memorizing()
        self.worker.start()
        if self.recorder is not None:
            try:
                self.recorder.start()
            except CaptureUnavailable as exc:
                self.recorder, self.screen_problem = None, exc.reason
        if self.recorder is None:
            notes.append(
                f"screen capture unavailable: {self.screen_problem}; "
                "indexing, memorising and audio go on"
            )
        if self.mic is not None:
            notes.extend(self._start_mic())
        if self._housekeeping:
            self._thread = threading.Thread(
                target=self._housekeeping_loop, name="engram-housekeeping", daemon=True
            )
            self._thread.start()
        return notes

    def _start_mic(self) -> list[str]:
        try:
            self.mic.start()
        except CaptureUnavailable as exc:
            self.mic = None
            self.audio = f"no audio ({exc.reason})"
            return [f"audio capture unavailable: {exc.reason}; going on without audio"]
        self.audio = "recording"
        return []

    def _start_memorizing(self) -> None:
        try:
            self.service.start_memorizing()
        except Exception:  # memorising is a bonus here: capture and search go on without it
            logger.exception("memorising could not start")
            return
        self.memorizing = True
        self.worker.after_batch.append(self.service.notify_indexed)

    def pause(self) -> None:
        """Pause screen and microphone capture (indexing and memorising go on)."""
        self.user_paused = True
        if self.recorder is not None:
            self.recorder.pause()
        if self.mic is not None and self.audio == "recording":
            self.mic.pause()

    def resume(self) -> None:
        """Resume after ``pause``."""
        self.user_paused = False
        if self.recorder is not None and self.sink.paused_reason is None:
            self.recorder.resume()
        if self.mic is not None and self.audio == "recording":
            self.mic.resume()

    def stop(self) -> None:
        """Stop capture, flush the indexing backlog, stop memorising; joins every thread it started."""
        if self._stopped or not self._started:
            self._stopped = True
            return
        self._stopped = True
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join()
        if self.recorder is not None:
            self.recorder.stop()
        if self.mic is not None:
            self.mic.stop()
        self.worker.stop(flush=True)
        self.service._remember_vector_count()
        if self.memorizing:
            self.service.stop_memorizing()

    # -- housekeeping -------------------------------------------------------------------------

    def housekeep(self, now: float | None = None) -> None:
        """Check free disk space (pausing capture while low) and apply retention when due."""
        now = time.monotonic() if now is None else now
        if now >= self._next_disk:
            self._check_disk()
            self._next_disk = now + DISK_CHECK_S
        if now >= self._next_retention:
            apply_retention(self.service.store, self.pipeline.frames, self.policy)
            self._next_retention = now + RETENTION_EVERY_S

    def _housekeeping_loop(self) -> None:
        while not self._stop_event.wait(HOUSEKEEPING_TICK_S):
            try:
                self.housekeep()
            except Exception:  # never let housekeeping kill the recorder
                logger.exception("capture housekeeping failed")

    def _check_disk(self) -> None:
        reason = low_disk(self.service.paths.root, self.policy)
        if reason is not None and self.sink.paused_reason is None:
            logger.warning("%s", reason)
            if self.recorder is not None:
                self.recorder.pause()
        elif reason is None and self.sink.paused_reason is not None and self.recorder is not None:
            if not self.user_paused:
                self.recorder.resume()
        self.sink.paused_reason = self.audio_sink.paused_reason = reason

    # -- status -------------------------------------------------------------------------------

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
        return RunStatus(
            state,
            self.sink.kept,
            skipped,
            self.pipeline.indexer.backlog(),
            stats.indexed,
            stats.failed + sink_errors,
            self.audio_line(),
        )

    def audio_line(self) -> str:
        """The microphone's state in words."""
        if self.mic is None or self.audio != "recording":
            return self.audio
        st = self.mic.status()
        paused = f", {self.audio_sink.paused_reason}" if self.audio_sink.paused_reason else ""
        return f"{st.state} from {st.device}, {self.audio_sink.kept} chunks{paused}"

    def summary(self) -> dict[str, Any]:
        """The app's view: state (capturing|paused|unavailable|error), reason and counters."""
        run = self.status()
        state, reason = self._state_and_reason()
        return {
            "state": state,
            "reason": reason,
            "frames_kept": run.kept,
            "frames_skipped": run.skipped,
            "pending": run.pending,
            "indexed": run.indexed,
            "errors": run.errors,
            "audio": run.audio,
        }

    def _state_and_reason(self) -> tuple[str, str | None]:
        if self.user_paused:
            return "paused", "user"
        if self.recorder is None:
            if self.mic is not None and self.audio == "recording":
                return "capturing", f"audio only; screen: {self.screen_problem}"
            return "unavailable", self.screen_problem
        rs = self.recorder.status()
        if self.sink.paused_reason is not None:
            return "paused", self.sink.paused_reason
        if self._started and not self._stopped and not self.recorder.is_alive():
            return "error", rs.last_error or "the screen recorder stopped"
        if rs.state == "paused":
            return "paused", rs.reason
        if rs.last_error is not None and rs.frames_kept == 0 and rs.frames_skipped == 0:
            return "error", rs.last_error
        return ("capturing", None) if rs.state == "capturing" else ("unavailable", rs.reason)
