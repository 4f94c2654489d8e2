"""`engram run --headless`: a ``Recorder`` in the foreground with a status line.

Pending work left by an earlier run resumes first. Without a display the run goes on without screen
capture (indexing, memorising, audio); without a microphone it goes on without audio; the status
line says which and why. Stops cleanly on Ctrl-C, SIGTERM or after ``duration`` seconds: capture
stops first, then the indexer flushes what is pending, so everything captured is searchable when
the command returns. The desktop app runs the same ``Recorder`` (``MemoryService.start_capture``).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import TYPE_CHECKING, TextIO

from capture.errors import CaptureUnavailable
from memory.atrest.keys import is_locked
from memory.pipeline.recorder import Memorizing, Recorder, RunStatus, screen_problem

if TYPE_CHECKING:
    from memory.home import Home
    from memory.pipeline.core import Pipeline

logger = logging.getLogger(__name__)

STATUS_EVERY_S = 1.0

__all__ = ["HeadlessRun", "RunStatus", "run_headless", "screen_problem"]


class HeadlessRun(Recorder):
    """A recorder run in the foreground; ``run`` blocks until stopped.

    It reads the home's settings (config.toml) like the app, and follows changes saved while it
    runs (``engram config set`` in another terminal) at its next housekeeping tick.

    Args:
        memorizing: the agents' hooks; None runs no memorising worker.
        overrides: dotted settings keys that win for this run only (the command's flags).
    """

    def __init__(
        self,
        home: Home,
        pipeline: Pipeline,
        *,
        memorizing: Memorizing | None = None,
        overrides: dict[str, object] | None = None,
    ) -> None:
        super().__init__(home, pipeline, memorizing=memorizing, overrides=overrides)
        self.stop_event = threading.Event()
        self.require_screen = False
        """Stop with ``CaptureUnavailable`` when recording starts without the screen (the
        portal refused, the display went away between the probe and the start)."""

    def run(self, duration: float | None, out: TextIO) -> RunStatus:
        """Capture and index until stopped; returns the final status.

        Without a display or a microphone the run goes on without them (said on ``out``).

        Raises:
            CaptureUnavailable: ``require_screen`` is set and the screen cannot be recorded.
        """
        notes = self.start()
        if self.require_screen and self.recorder is None:
            self.stop()
            raise CaptureUnavailable("screen", self.screen_problem or "unknown reason")
        for note in notes:
            _note(out, f"engram: {note}")
        started = time.monotonic()
        try:
            while not self.stop_event.wait(STATUS_EVERY_S):
                if is_locked(self.home.paths.root):  # `engram lock` elsewhere (#12)
                    _note(out, "engram: Engram was locked: capture stopped, the store closes")
                    break
                self.housekeep()
                _show(out, self.status().line())
                if duration is not None and time.monotonic() - started >= duration:
                    break
        except KeyboardInterrupt:
            logger.info("interrupted")
        finally:
            self.stop()
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


def run_headless(
    run: HeadlessRun,
    *,
    duration: float | None = None,
    out: TextIO,
) -> int:
    """Run capture and indexing in this process until stopped (SIGTERM too); returns the exit
    code (0, or 3 after errors)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: run.stop_event.set())
    try:
        final = run.run(duration, out)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if final.errors == 0 else 3
