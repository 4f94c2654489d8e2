"""Capture pause/resume and status (capturing, paused, stale, error) shared by the window and the tray.

The wish is kept in the ``capture.enabled`` setting, so a restart keeps it; when the service runs a
recorder (``pause_capture``/``resume_capture``, added by the pipeline), it is told too.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QToolButton, QWidget

from app.bridge import CoreBridge
from app.ops import StoreOp

STALE_AFTER_S = 300.0
STATES = ("capturing", "paused", "stale", "error", "unknown")
_LABELS = {"capturing": "● Capturing", "paused": "❚❚ Paused", "stale": "● Stale",
           "error": "⚠ Capture error", "unknown": "…"}


def capture_state(service: Any, now: float | None = None) -> str:
    """Work out the capture state (worker thread): settings, recorder, and the newest screen frame."""
    now = time.time() if now is None else now
    if not service.get_settings().get("capture.enabled", True):
        return "paused"
    probe = getattr(service, "capture_status", None)
    if callable(probe):
        reported = probe()
        if reported in STATES:
            return str(reported)
    last = service.nearest_observation(now, ("screen",))
    if last is None or now - last.ts_start > STALE_AFTER_S:
        return "stale"
    return "capturing"


def apply_capture(service: Any, enabled: bool) -> str:
    """Store the wish, tell a running recorder, and return the new state (worker thread)."""
    service.set_settings({"capture.enabled": enabled})
    hook = getattr(service, "resume_capture" if enabled else "pause_capture", None)
    if callable(hook):
        hook()
    return capture_state(service)


class CaptureControl(QObject):
    """The capture state and the pause/resume action.

    Signals:
        state_changed(str): one of ``STATES``.
    """

    state_changed = Signal(str)

    def __init__(self, bridge: CoreBridge, poll_ms: int = 30_000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.state = "unknown"
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
        StoreOp(self._bridge, capture_state).success(self._on_state_loaded).failure(
            lambda _e: self._on_state_loaded("error")).run()

    def set_paused(self, paused: bool) -> None:
        """Pause or resume capture."""
        StoreOp(self._bridge, lambda s: apply_capture(s, not paused)).success(self._on_state_loaded).run()

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
        self.state_changed.connect(lambda _s: btn.setText(self.label))
        return btn
