"""The tray icon: status (capturing, paused, unavailable, stale, error), pause, open, lock, quit.

Pause/resume goes through ``CaptureControl`` to the service's recorder (off the GUI thread).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon, QWidget

from app.widgets.capture_control import CaptureControl


class Tray(QSystemTrayIcon):
    """Tray icon bound to a window and the capture control."""

    def __init__(
        self,
        icon: QIcon,
        window: QWidget,
        capture: CaptureControl,
        lock: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(icon, window)
        self._window = window
        self._capture = capture
        menu = QMenu(window)
        self.status_action = QAction("…", menu, enabled=False)
        self.pause_action = QAction("Pause capture", menu)
        open_action = QAction("Open Engram", menu)
        quit_action = QAction("Quit", menu)
        self.pause_action.triggered.connect(capture.toggle)
        open_action.triggered.connect(self.open_window)
        quit_action.triggered.connect(QApplication.quit)
        for act in (self.status_action, self.pause_action, open_action):
            menu.addAction(act)
        if lock is not None:  # an encrypted home: lock really locks (key dropped, app quits)
            self.lock_action = QAction("Lock Engram and quit", menu)
            self.lock_action.triggered.connect(lock)
            menu.addAction(self.lock_action)
        menu.addSeparator()
        menu.addAction(quit_action)
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)
        capture.state_changed.connect(self._on_state_changed)
        self._on_state_changed(capture.state)

    def open_window(self) -> None:
        """Show and raise the main window."""
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_window()

    def _on_state_changed(self, state: str) -> None:
        self.status_action.setText(f"Status: {self._capture.tooltip}")
        self.pause_action.setText("Resume capture" if state == "paused" else "Pause capture")
        self.setToolTip(f"Engram — {self._capture.tooltip}")
