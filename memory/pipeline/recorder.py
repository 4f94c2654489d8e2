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
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from memory.errors import BadQuery
from memory.pipeline.audio import AudioSink
from memory.pipeline.indexer import IndexWorker
from memory.pipeline.ingest import ScreenSink
from memory.pipeline.retention import GIB, RetentionPolicy, apply_retention, low_disk
from memory.settings.keys import set_keys

if TYPE_CHECKING:
    from memory.home import Home
    from memory.pipeline.core import Pipeline
    from memory.settings import Settings

logger = logging.getLogger(__name__)

DISK_CHECK_S = 10.0
RETENTION_EVERY_S = 600.0
HOUSEKEEPING_TICK_S = 1.0


class Memorizing(Protocol):
    """The agents' hooks a recorder drives (``memory.agents.handle.AgentsHandle``)."""

    def start_memorizing(self) -> None:
        """Start the memorising worker."""
        ...

    def notify_indexed(self, n: int = 0) -> None:
        """Observations were indexed."""
        ...

    def stop_memorizing(self) -> None:
        """Stop the memorising worker (joins it)."""
        ...


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
    private: int = 0

    def line(self) -> str:
        """The one-line status shown in the terminal."""
        return (
            f"{self.state}: frames kept {self.kept}, skipped {self.skipped}; "
            f"pending {self.pending}; indexed {self.indexed}; errors {self.errors}; "
            f"audio: {self.audio}"
        )


def screen_problem(config: CaptureConfig | None = None) -> str | None:
    """Why the screen cannot be captured here, or None when it can (X11 or Wayland, by the
    session; on Wayland the portal's question comes only when recording starts)."""
    from capture.screen import probe_screen

    try:
        probe_screen(config)
    except CaptureUnavailable as exc:
        return exc.reason
    return None


def _title_regex(pattern: str) -> str:
    """A settings title pattern (a glob like ``*private*``, or plain words) as a regex."""
    import re

    if any(ch in pattern for ch in "*?["):
        return fnmatch.translate(pattern)
    return re.escape(pattern)


def _audio_device(text: str) -> str | int | None:
    text = text.strip()
    if text.lower() in ("", "default"):
        return None
    return int(text) if text.isdigit() else text


#: Engram's own windows (the app's name as the window system reports it).
ENGRAM_APP_NAMES = ("engram",)
#: ... and by title, for when the window class is the interpreter's ("python3"): "Engram",
#: "Search — Engram" (#13).
ENGRAM_TITLE = r"(^|\s[-\u2013\u2014|]\s)Engram$"


def capture_config(settings: Settings) -> CaptureConfig:
    """The capture layer's configuration from the user's settings.

    Raises:
        ValueError: a setting the capture layer refuses (e.g. a title pattern).
    """
    cap, audio = settings.capture, settings.audio
    apps = list(cap.excluded_apps)
    titles = [_title_regex(p) for p in cap.excluded_titles]
    pids: list[int] = []
    if cap.exclude_engram_windows:  # the app and its searches and chats never record themselves
        apps += [name for name in ENGRAM_APP_NAMES if name not in apps]
        titles.append(ENGRAM_TITLE)
        pids.append(os.getpid())
    return CaptureConfig(
        interval_s=cap.interval_s,
        monitors=cap.monitors,
        excluded_apps=apps,
        excluded_title_patterns=titles,
        excluded_pids=pids,
        mask_excluded_windows=cap.mask_private_windows,
        idle_pause_minutes=cap.idle_pause_minutes,
        pause_on_lock=cap.pause_on_lock,
        audio_enabled=audio.enabled,
        audio_device=_audio_device(audio.device),
    )


def retention_policy(settings: Settings) -> RetentionPolicy:
    """Frame retention, the disk quota and the low-disk pause from the user's settings."""
    ret = settings.retention
    return RetentionPolicy(
        keep_full_days=ret.keep_full_days,
        quota_bytes=int(ret.quota_gb * GIB),
        min_free_bytes=int(ret.min_free_gb * GIB),
    )


def config_from_settings(settings: Settings) -> tuple[CaptureConfig, RetentionPolicy]:
    """The capture configuration and retention policy the settings ask for.

    Raises:
        ValueError: a setting the capture layer refuses.
    """
    return capture_config(settings), retention_policy(settings)


class Recorder:
    """The parts of one capture run; ``start``/``stop`` from any thread, ``status`` any time.

    Built from the home's live settings: a saved change to the capture, audio or retention
    sections is applied to the running recorder at once (``_on_settings_changed``).

    Args:
        home: the home (its live settings, store and index).
        pipeline: the home's capture pipeline (inbox, indexer, frames).
        memorizing: the agents' hooks; None runs no memorising worker.
        overrides: dotted keys that win over the settings for this run only (CLI flags).
        housekeeping: run disk checks and retention in a thread of its own (the app); a caller
            with its own loop (``engram run``) calls ``housekeep`` instead.

    Raises:
        ValueError: the settings ask for something the capture layer refuses.
    """

    def __init__(
        self,
        home: Home,
        pipeline: Pipeline,
        *,
        memorizing: Memorizing | None = None,
        overrides: dict[str, object] | None = None,
        housekeeping: bool = False,
    ) -> None:
        self.home = home
        self.pipeline = pipeline
        self.live = home.settings
        self._memorizing = memorizing
        self.overrides = dict(overrides or {})
        effective = self._effective(home.settings.current)
        self.config = self._capture_config(effective)
        self.policy = retention_policy(effective)
        self.screen_enabled = effective.capture.enabled
        self._apply_audio_keep(effective)
        self.worker = IndexWorker(
            self.pipeline.indexer, after_batch=self._pipeline_hooks(), before=self._resume_chat
        )
        self.sink = ScreenSink(self.pipeline.inbox, on_added=lambda _id: self.worker.wake())
        self.screen_problem = screen_problem(self.config)
        self.audio_sink = AudioSink(
            home.store, self.pipeline.frames, on_added=lambda _id: self.worker.wake()
        )
        self.recorder: Any = None
        self.mic: Any = None
        self._retired = (0, 0, 0)  # skipped, private, sink errors of recorders swapped out
        self.audio = "off"
        self._build_capture()
        self.memorizing = False
        self.user_paused = False
        self._housekeeping = housekeeping
        self._stop_event = threading.Event()
        self._swap_lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._next_disk = self._next_retention = 0.0
        self._started = self._stopped = False

    def _effective(self, settings: Settings) -> Settings:
        return set_keys(settings, self.overrides) if self.overrides else settings

    def _capture_config(self, effective: Settings) -> CaptureConfig:
        """The capture configuration, with the portal's restore token kept in the home."""
        config = capture_config(effective)
        return config.model_copy(update={"portal_token_path": self.home.paths.screencast_token})

    def _build_capture(self) -> None:
        """The screen and microphone recorders of ``self.config`` (not started)."""
        from capture.screen import ScreenRecorder

        self.recorder = None if self.screen_problem else ScreenRecorder(self.config, self.sink)
        self.mic, self.audio = None, "off"
        if self.config.audio_enabled:
            from capture.audio import AudioRecorder

            self.mic = AudioRecorder(self.config, self.audio_sink)
            self.audio = "starting"

    # -- live settings --------------------------------------------------------------------------

    def _on_settings_changed(self, new: Settings, _old: Settings) -> None:
        """Apply saved settings now: retention at once; new capture rules by swapping the
        screen and microphone recorders (indexing goes on). Runs on the saving thread."""
        try:
            effective = self._effective(new)
            config = self._capture_config(effective)
        except (ValueError, BadQuery) as exc:
            logger.warning("capture settings not applied: %s", exc)
            return
        with self._swap_lock:
            if self._stopped:
                return
            self.policy = retention_policy(effective)
            self._next_disk = self._next_retention = 0.0  # check the new limits at the next tick
            self.screen_enabled = effective.capture.enabled
            self._apply_audio_keep(effective)
            if config != self.config:
                self._swap_capture(config)
            self._apply_screen_switch()
        logger.info("capture settings applied")

    def _apply_audio_keep(self, effective: Settings) -> None:
        if self.pipeline.options.keep_audio is None:  # not pinned by the pipeline's options
            self.pipeline.audio.keep_audio = effective.audio.keep_raw_audio

    def _swap_capture(self, config: CaptureConfig) -> None:
        old_screen, old_mic = self.recorder, self.mic
        if old_screen is not None:
            old_screen.stop()
            rs = old_screen.status()  # keep the run's counters across the swap
            skipped, private, errors = self._retired
            self._retired = (
                skipped + rs.frames_skipped,
                private + rs.frames_private,
                errors + rs.sink_errors,
            )
        if old_mic is not None:
            old_mic.stop()
        self.config = config
        self._build_capture()
        if not self._started:
            return
        notes = self._start_screen()
        if self.mic is not None:
            notes.extend(self._start_mic())
        for note in notes:
            logger.info("capture: %s", note)
        if self.user_paused:
            self.pause()

    def _apply_screen_switch(self) -> None:
        """``capture.enabled`` off pauses the screen recorder (the microphone follows its own)."""
        if self.recorder is None or not self._started:
            return
        if not self.screen_enabled:
            self.recorder.pause()
        elif not self.user_paused and self.sink.paused_reason is None:
            self.recorder.resume()

    def _pipeline_hooks(self) -> list[Any]:
        return self.pipeline.after_index

    def _resume_chat(self) -> None:
        """Index chat text left pending (runs first on the indexing worker's thread)."""
        self.home.index_pending()
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
        if self._memorizing is not None:
            self._start_memorizing(self._memorizing)
        self.worker.start()
        with self._swap_lock:
            notes.extend(self._start_screen())
            if self.mic is not None:
                notes.extend(self._start_mic())
            self._apply_screen_switch()
        self.live.changed.connect(self._on_settings_changed)
        if self._housekeeping:
            self._thread = threading.Thread(
                target=self._housekeeping_loop, name="engram-housekeeping", daemon=True
            )
            self._thread.start()
        return notes

    def _start_screen(self) -> list[str]:
        if self.recorder is not None:
            try:
                self.recorder.start()
            except CaptureUnavailable as exc:
                self.recorder, self.screen_problem = None, exc.reason
        if self.recorder is None:
            return [
                f"screen capture unavailable: {self.screen_problem}; "
                "indexing, memorising and audio go on"
            ]
        return []

    def _start_mic(self) -> list[str]:
        try:
            self.mic.start()
        except CaptureUnavailable as exc:
            self.mic = None
            self.audio = f"no audio ({exc.reason})"
            return [f"audio capture unavailable: {exc.reason}; going on without audio"]
        self.audio = "recording"
        return []

    def _start_memorizing(self, hooks: Memorizing) -> None:
        try:
            hooks.start_memorizing()
        except Exception:  # memorising is a bonus here: capture and search go on without it
            logger.exception("memorising could not start")
            return
        self.memorizing = True
        self.worker.after_batch.append(hooks.notify_indexed)

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
        if self.recorder is not None and self.sink.paused_reason is None and self.screen_enabled:
            self.recorder.resume()
        if self.mic is not None and self.audio == "recording":
            self.mic.resume()

    def stop(self) -> None:
        """Stop capture, flush the indexing backlog, stop memorising; joins its threads."""
        if self._stopped or not self._started:
            self._stopped = True
            return
        self.live.changed.disconnect(self._on_settings_changed)
        with self._swap_lock:
            self._stopped = True
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join()
        if self.recorder is not None:
            self.recorder.stop()
        if self.mic is not None:
            self.mic.stop()
        self.worker.stop(flush=True)
        self.home.remember_vector_count()
        if self.memorizing and self._memorizing is not None:
            self._memorizing.stop_memorizing()

    # -- housekeeping -------------------------------------------------------------------------

    def housekeep(self, now: float | None = None) -> None:
        """Check free disk space (pausing capture while low) and apply retention when due."""
        now = time.monotonic() if now is None else now
        self.live.poll()  # another process (`engram config set`) may have saved new settings
        if now >= self._next_disk:
            self._check_disk()
            self._next_disk = now + DISK_CHECK_S
        if now >= self._next_retention:
            apply_retention(self.home.store, self.pipeline.frames, self.policy)
            self._next_retention = now + RETENTION_EVERY_S

    def _housekeeping_loop(self) -> None:
        while not self._stop_event.wait(HOUSEKEEPING_TICK_S):
            try:
                self.housekeep()
            except Exception:  # never let housekeeping kill the recorder
                logger.exception("capture housekeeping failed")

    def _check_disk(self) -> None:
        reason = low_disk(self.home.paths.root, self.policy)
        if reason is not None and self.sink.paused_reason is None:
            logger.warning("%s", reason)
            if self.recorder is not None:
                self.recorder.pause()
        elif reason is None and self.sink.paused_reason is not None and self.recorder is not None:
            if not self.user_paused and self.screen_enabled:
                self.recorder.resume()
        self.sink.paused_reason = self.audio_sink.paused_reason = reason

    # -- status -------------------------------------------------------------------------------

    def status(self) -> RunStatus:
        """A snapshot for the status line."""
        stats = self.pipeline.indexer.stats
        skipped, private, sink_errors = self._retired
        if self.recorder is None:
            state = f"no screen capture ({self.screen_problem})"
        else:
            rs = self.recorder.status()
            state = rs.state if self.sink.paused_reason is None else self.sink.paused_reason
            skipped += rs.frames_skipped
            private += rs.frames_private
            sink_errors += rs.sink_errors
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
            private,
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
            "frames_private": run.private,
            "pending": run.pending,
            "indexed": run.indexed,
            "errors": run.errors,
            "audio": run.audio,
        }

    def _state_and_reason(self) -> tuple[str, str | None]:
        if self.user_paused:
            return "paused", "user"
        if not self.screen_enabled and not (self.mic is not None and self.audio == "recording"):
            return "paused", "capture is off"
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
