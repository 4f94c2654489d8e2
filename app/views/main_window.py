"""The main window: search bar, timeline + frame viewer, memory and settings tabs, chat aside."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.bridge import CoreBridge
from app.ops import StoreOp
from app.views.chat_pane import ChatPane
from app.views.frame_dialog import FrameDialog
from app.views.frame_viewer import FrameViewer
from app.views.memory_view import MemoryView
from app.views.search_view import SearchView
from app.views.settings_view import SettingsView
from app.views.timeline_panel import TimelinePanel
from app.widgets import wheel_guard
from app.widgets.capture_control import CaptureControl
from memory.changes import Changes
from memory.timeline import day_bounds

logger = logging.getLogger(__name__)
VIEWS = ("timeline", "chat", "memory", "settings")
STATUS_REFRESH_MS = 5000  # capture adds moments without a Changes: poll the counts (one query)


class MainWindow(QMainWindow):
    """Engram's window; every piece talks to the core through ``bridge`` only."""

    def __init__(
        self, bridge: CoreBridge, *, chat_backend: Any = None, icon: QIcon | None = None
    ) -> None:
        super().__init__()
        self.bridge = bridge
        self.setWindowTitle("Engram")
        if icon is not None:
            self.setWindowIcon(icon)
        self.capture = CaptureControl(bridge, parent=self)
        self.timeline = TimelinePanel(bridge)
        self.viewer = FrameViewer(bridge)
        self.search_view = SearchView(bridge)
        self.memory_view = MemoryView(bridge)
        self.settings_view = SettingsView(bridge, self.capture)
        self.chat = ChatPane(bridge, backend=chat_backend)
        self.frame_dialog: FrameDialog | None = None
        self.status_counts: dict[str, Any] = {}
        self._open_first_result = False
        self._status_in_flight = False
        self._build()
        self._connect()
        self._shortcuts()
        app = QApplication.instance()
        if app is not None:
            wheel_guard.install(app)
        bridge.changes_applied.connect(self._on_changes_applied)
        bridge.op_failed.connect(self._on_op_failed)
        self._status_timer = QTimer(self, interval=STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self.refresh_status()

    # -- layout ----------------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_bar = QLineEdit(objectName="searchBar", clearButtonEnabled=True)
        self.search_bar.setPlaceholderText("Search everything you saw, heard or said…  (Ctrl+F)")
        self.chat_toggle = QToolButton(text="Assistant", checkable=True, checked=True)
        self.chat_toggle.setToolTip("Show the assistant (Ctrl+J)")
        top = QHBoxLayout()
        top.addWidget(self.search_bar, 1)
        top.addWidget(self.capture.button(self))
        top.addWidget(self.chat_toggle)
        self.moment_split = QSplitter(Qt.Orientation.Horizontal)
        self.moment_split.addWidget(self.search_view)
        self.moment_split.addWidget(self.viewer)
        self.search_view.setMinimumWidth(420)
        self.moment_split.setSizes([520, 760])
        self.search_view.hide()
        timeline_tab = QWidget()
        tl_lay = QVBoxLayout(timeline_tab)
        tl_lay.addWidget(self.timeline)
        tl_lay.addWidget(self.moment_split, 1)
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(timeline_tab, "Timeline")
        self.tabs.addTab(self.memory_view, "Memory")
        self.tabs.addTab(self.settings_view, "Settings")
        self.side_split = QSplitter(Qt.Orientation.Horizontal)
        self.side_split.addWidget(self.tabs)
        self.side_split.addWidget(self.chat)
        self.side_split.setStretchFactor(0, 3)
        self.side_split.setSizes([1100, 420])
        root = QWidget()
        lay = QVBoxLayout(root)
        lay.setContentsMargins(12, 10, 12, 6)
        lay.addLayout(top)
        lay.addWidget(self.side_split, 1)
        self.setCentralWidget(root)
        self.resize(1560, 960)

    def _connect(self) -> None:
        self.search_bar.textEdited.connect(self._on_search_text_edited)
        self.search_bar.returnPressed.connect(self._on_search_return_pressed)
        self.search_view.hit_activated.connect(self._on_hit_activated)
        self.search_view.results_shown.connect(self._on_results_shown)
        self.timeline.strip.moment_selected.connect(self._on_moment_selected)
        self.timeline.day_chosen.connect(self._on_day_chosen)
        self.timeline.filmstrip.frame_selected.connect(self.open_moment)
        self.timeline.filmstrip.frame_opened.connect(self.open_full_size)
        self.viewer.full_size_requested.connect(self.open_full_size)
        self.timeline.strip.summary_loaded.connect(
            lambda s: self.search_view.set_apps([b.app for b in s.bands])
        )
        self.viewer.moment_shown.connect(self._on_moment_shown)
        self.viewer.step_requested.connect(self.step)
        self.viewer.looks_like_requested.connect(self.show_similar)
        self.search_view.looks_like_requested.connect(self.show_similar)
        self.viewer.memory_activated.connect(self.open_memory)
        self.memory_view.moment_requested.connect(self.open_moment)
        self.chat.citation_activated.connect(self._on_citation_activated)
        self.chat_toggle.toggled.connect(self.chat.setVisible)

    def _shortcuts(self) -> None:
        for keys, slot in (
            ("Ctrl+F", self.focus_search),
            ("Ctrl+J", self.focus_chat),
            ("Ctrl+T", self.timeline.go_to_today),
            ("Left", lambda: self.step(-1)),
            ("Right", lambda: self.step(1)),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)

    # -- actions ---------------------------------------------------------------------------------

    def show_view(self, name: str) -> None:
        """Bring one of timeline, chat, memory or settings to the front.

        "chat" shows the assistant as the main pane (the other views keep a narrow column).
        """
        total = max(self.side_split.width(), 1000)
        if name == "chat":
            self.focus_chat()
            self.side_split.setSizes([int(total * 0.38), int(total * 0.62)])
        else:
            if self.chat.width() > self.tabs.width():
                self.side_split.setSizes([int(total * 0.73), int(total * 0.27)])
            self.tabs.setCurrentIndex({"timeline": 0, "memory": 1, "settings": 2}[name])

    def current_view(self) -> str:
        """The view in front: chat when the assistant is the main pane, else the open tab."""
        if self.chat.isVisible() and self.chat.width() > self.tabs.width():
            return "chat"
        return ("timeline", "memory", "settings")[self.tabs.currentIndex()]

    def focus_search(self) -> None:
        """Put the cursor in the search bar."""
        self.search_bar.setFocus()
        self.search_bar.selectAll()

    def focus_chat(self) -> None:
        """Show the assistant and put the cursor in its input."""
        self.chat_toggle.setChecked(True)
        self.chat.input.setFocus()

    def open_moment(self, obs_id: int, terms: tuple[str, ...] = (), *, reveal: bool = True) -> None:
        """Show an observation in the frame viewer and on the timeline (``reveal``: bring the
        timeline to the front)."""
        if reveal:
            self.tabs.setCurrentIndex(0)
        self.viewer.show_observation(obs_id, terms)

    def open_latest(self) -> None:
        """Open on the latest moment: its day, fitted to the data, with it selected (start-up).

        Leaves the view in front as it is, so ``--view memory`` still renders the memory view.
        """
        StoreOp(self.bridge, lambda s: s.nearest_observation(time.time())).success(
            self._on_latest_loaded
        ).run()

    def _on_latest_loaded(self, obs: Any) -> None:
        if obs is None:
            self.viewer.show_empty("Nothing captured yet: start capture, or import screenshots")
            return
        self.timeline.strip.focus_on(obs.ts_start)
        self.open_moment(obs.id, reveal=False)

    def open_full_size(self, obs_id: int) -> None:
        """Open a moment in the full-size viewer (zoom, pan, copy text)."""
        if self.frame_dialog is None:
            self.frame_dialog = FrameDialog(self.bridge, self)
        self.frame_dialog.show_observation(obs_id)

    def open_memory(self, memory_id: int) -> None:
        """Show a memory in the memory browser."""
        self.tabs.setCurrentIndex(1)
        self.memory_view.show_memory(memory_id)

    def step(self, direction: int) -> None:
        """Show the previous (-1) or next (+1) moment."""
        obs = self.viewer.obs
        if obs is None:
            return
        StoreOp(self.bridge, lambda s: s.neighbour(obs.id, direction)).success(
            lambda o: o is not None and self.open_moment(o.id, self.viewer.terms)
        ).run()

    def show_similar(self, obs_id: int) -> None:
        """ "Looks like this": list the moments whose screen looked like this one (#17)."""
        self.tabs.setCurrentIndex(0)
        if not self.search_view.isVisible():
            self.show_results_column()
        self.search_view.show_similar(obs_id)

    def show_results_column(self) -> None:
        """Show the search results beside the moment, at a readable width (45 %, 560 px or more)."""
        self.search_view.show()
        total = max(self.moment_split.width(), 900)
        left = max(560, int(total * 0.45))
        self.moment_split.setSizes([left, total - left])

    def refresh_status(self) -> None:
        """Update the status bar counts (off the GUI thread; one request at a time)."""
        if self._status_in_flight or self.bridge.closed:
            return
        self._status_in_flight = True
        StoreOp(self.bridge, lambda s: s.status()).success(self._on_status_loaded).failure(
            self._on_status_failed
        ).run()

    def _on_status_failed(self, exc: Exception) -> None:
        self._status_in_flight = False
        logger.debug("status refresh failed: %s", exc)

    # -- slots -----------------------------------------------------------------------------------

    def _on_search_text_edited(self, text: str) -> None:
        if text.strip() and not self.search_view.isVisible():
            self.show_results_column()
        self.search_view.setVisible(bool(text.strip()))
        self.tabs.setCurrentIndex(0)
        self.search_view.search_debounced(text)

    def _on_search_return_pressed(self) -> None:
        text = self.search_bar.text().strip()
        if text and text == self.search_view.query and self.search_view.hits:
            self.search_view.activate_current()
        elif text:
            self._open_first_result = True
            if not self.search_view.isVisible():
                self.show_results_column()
            self.search_view.search(text)

    def _on_results_shown(self, count: int) -> None:
        if self._open_first_result and count:
            self.search_view.activate_current()
        self._open_first_result = False

    def _on_hit_activated(self, hit: Any) -> None:
        terms = tuple(self.search_view.query.split())
        if hit.sources:
            self.open_moment(hit.sources[0].observation_id, terms)
        elif hit.ref.is_memory:
            self.open_memory(hit.ref.id)

    def _on_citation_activated(self, citation: dict[str, Any]) -> None:
        if citation.get("observation_id") is not None:
            self.open_moment(int(citation["observation_id"]))
        elif citation.get("memory_id") is not None:
            self.open_memory(int(citation["memory_id"]))

    def _on_moment_selected(self, ts: float) -> None:
        StoreOp(self.bridge, lambda s: s.nearest_observation(ts)).success(
            lambda o: o is not None and self.open_moment(o.id)
        ).run()

    def _on_day_chosen(self, day: Any) -> None:
        start, end = day_bounds(day)
        StoreOp(self.bridge, lambda s: s.latest_observation(start, end)).success(
            lambda o: self._on_day_moment_loaded(day, o)
        ).run()

    def _on_day_moment_loaded(self, day: Any, obs: Any) -> None:
        if day != self.timeline.strip.timeline.day:
            return  # the user moved on meanwhile
        if obs is None:  # one date on screen: never a moment of another day beside this one
            self.viewer.show_empty(f"Nothing captured on {day:%A %d %B %Y}")
            self.timeline.strip.current_ts = None
            self.timeline.strip.update()
        else:
            self.open_moment(obs.id, self.viewer.terms)

    def _on_moment_shown(self, obs: Any) -> None:
        self.timeline.strip.set_current(obs.ts_start)
        self.timeline.filmstrip.update()

    def _on_changes_applied(self, changes: Changes) -> None:
        if changes.observations or changes.memories:
            self.refresh_status()

    def _on_status_loaded(self, status: dict[str, Any]) -> None:
        self._status_in_flight = False
        self.status_counts = status
        self.memory_view.set_counts(dict(status.get("memories", {})))
        mems = sum(status.get("memories", {}).values())
        self.statusBar().showMessage(
            f"{status['observations']:,} moments · {mems:,} memories · data in {status['home']}"
        )

    def _on_op_failed(self, exc: Exception) -> None:
        from app.errors import user_message

        try:
            message, _code = user_message(exc)
        except Exception:  # not one of ours: still tell the user, and log the trace
            logger.exception("operation failed", exc_info=exc)
            message = str(exc) or type(exc).__name__
        self.statusBar().showMessage(f"Error: {message}", 10_000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.chat.stop()
        super().closeEvent(event)

    def ask_quit(self) -> None:
        """Confirm, then quit the app."""
        if (
            QMessageBox.question(self, "Quit Engram", "Stop capturing and quit?")
            == QMessageBox.StandardButton.Yes
        ):
            QTimer.singleShot(0, self.close)
