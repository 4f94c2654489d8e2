"""Capture start/pause/resume and status (capturing, paused, unavailable, stale, error), shared by
window and the tray.

The wish is kept in the ``capture.enabled`` setting, so a restart keeps it; the service's recorder
(``start_capture``/``pause_capture``/``resume_capture``/``restart_capture``) is told too. All calls
run off the GUI thread through ``StoreOp``.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QToolButton, QWidget

from app.bridge import CoreBridge
from app.ops import StoreOp

STALE_AFTER_S = 300.0
STATES = ("capturing", "paused", "unavailable", "stale", "error", "unknown")
_LABELS = {
    "capturing": "● Capturing",
    "paused": "❚❚ Paused",
    "unavailable": "○ Not capturing",
    "stale": "● Stale",
    "error": "⚠ Capture error",
    "unknown": "…",
}


def capture_report(service: Any, now: float | None = None) -> tuple[str, str | None]:
    """The capture state and why (worker thread): settings, the recorder, the newest screen frame.

    A recorder that is not running in this process ("stopped") falls back to the age of the newest
    screen frame, so ``engram run --headless`` in another process still reads as capturing.
    """
    now = time.time() if now is None else now
    enabled = service.get_settings().get("capture.enabled", True)
    probe = getattr(service, "capture_status", None)
    reported = probe() if callable(probe) else None
    if isinstance(reported, dict) and reported.get("state") in STATES:
        state, reason = str(reported["state"]), reported.get("reason")
        if enabled or state == "paused":
            return state, reason
    if not enabled:
        return "paused", "capture is off"
    last = service.nearest_observation(now, ("screen",))
    if last is None or now - last.ts_start > STALE_AFTER_S:
        return "stale", "no recent screen frame"
    return "capturing", None


def capture_state(service: Any, now: float | None = None) -> str:
    """Just the state of ``capture_report`` (worker thread)."""
    return capture_report(service, now)[0]


def apply_capture(service: Any, enabled: bool, *, start: bool = False) -> tuple[str, str | None]:
    """Store the wish, tell the recorder, and return the new state and reason (worker thread).

    With ``start`` (the app records in this process) resuming starts a recorder that is not running,
    e.g. when the app was launched with capture off.
    """
    service.set_settings({"capture.enabled": enabled})
    hook = getattr(service, "resume_capture" if enabled else "pause_capture", None)
    if callable(hook):
        status = hook()
        if enabled and start and isinstance(status, dict) and status.get("state") == "stopped":
            service.start_capture()
    return capture_report(service)


def start_if_enabled(service: Any) -> tuple[str, str | None]:
    """Start the recorder when ``capture.enabled`` is on (worker thread; the app's launch)."""
    hook = getattr(service, "start_capture", None)
    if callable(hook) and service.get_settings().get("capture.enabled", True):
        hook()
    return capture_report(service)


def restart(service: Any) -> tuple[str, str | None]:
    """Apply saved capture settings to the recorder (worker thread)."""
    hook = getattr(service, "restart_capture", None)
    if callable(hook):
        hook()
    return capture_report(service)


class CaptureControl(QObject):
    """The capture state and the pause/resume action.

    Signals:
        state_changed(str): one of ``STATES``.
    """

    state_changed = Signal(str)

    def __init__(
        self, bridge: CoreBridge, poll_ms: int = 30_000, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.state = "unknown"
        self.reason: str | None = None
        self.records = False  # True once the app asked this process to record (``start``)
        self._timer = QTimer(self, interval=poll_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    @property
    def label(self) -> str:
        """A short label for the current state."""
        return _LABELS[self.state]

    def refresh(self) -> None:
        """Re-read the state off the GUI thread."""
        self._run(capture_report)

    def start(self) -> None:
        """Record in this process from now on: start when the settings say so (off GUI thread)."""
        self.records = True
        self._run(start_if_enabled)

    def restart(self) -> None:
        """Restart the recorder with the saved settings (off the GUI thread)."""
        self._run(restart)

    def set_paused(self, paused: bool) -> None:
        """Pause or resume capture."""
        start = self.records
        self._run(lambda s: apply_capture(s, not paused, start=start))

    def _run(self, op: Any) -> None:
        StoreOp(self._bridge, op).success(self._on_report).failure(
            lambda e: self._on_report(("error", str(e)))
        ).run()

    def _on_report(self, report: tuple[str, str | None]) -> None:
        state, reason = report
        reason_changed = reason != self.reason
        self.reason = reason
        if state == self.state and reason_changed:
            self.state_changed.emit(state)  # same state, new reason: the tooltips change
        self._on_state_loaded(state)

    def toggle(self) -> None:
        """Pause when capturing, resume when paused."""
        self.set_paused(self.state != "paused")

    def _on_state_loaded(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def button(self, parent: QWidget) -> QToolButton:
        """A toolbar button that shows the state and toggles pause."""
        btn = QToolButton(parent)
        btn.setToolTip("Pause or resume capture")
        btn.setText(self.label)
        btn.clicked.connect(self.toggle)
        self.state_changed.connect(
            lambda _s: (btn.setText(self.label), btn.setToolTip(self.tooltip))
        )
        return btn

    @property
    def tooltip(self) -> str:
        """The state and why, for tooltips."""
        return f"{self.state}: {self.reason}" if self.reason else self.state
