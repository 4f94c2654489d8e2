"""Search as you type: a debounced query (250 ms) runs off the GUI thread; results show a thumbnail,
their type and time; filters narrow by time, app and memory type."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qdebounced

from app.bridge import CoreBridge
from app.ops import StoreOp
from app.widgets.thumbs import ThumbnailCache

TIME_FILTERS = ("Any time", "Today", "Yesterday", "Last 7 days", "Last 30 days")
TYPE_FILTERS = (
    ("Everything", ()),
    ("Screens", ("screen",)),
    ("Chats", ("chat",)),
    ("All memories", ("memory",)),
    ("Episodic", ("episodic",)),
    ("Semantic", ("semantic",)),
    ("Procedural", ("procedural",)),
    ("Resource", ("resource",)),
    ("Core", ("core",)),
)


def time_range(choice: str, now: float | None = None) -> tuple[float | None, float | None]:
    """(since, until) for a time filter label."""
    now = time.time() if now is None else now
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    if choice == "Today":
        return midnight.timestamp(), None
    if choice == "Yesterday":
        return (midnight - timedelta(days=1)).timestamp(), midnight.timestamp()
    if choice.startswith("Last "):
        days = int(choice.split()[1])
        return now - days * 86_400, None
    return None, None


class SearchView(QWidget):
    """Results list with filters.

    Signals:
        hit_activated(object): the user opened a result (a ``Hit``).
        results_shown(int): a result list for the current query is on screen.
    """

    hit_activated = Signal(object)
    results_shown = Signal(int)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._generation = 0
        self.query = ""
        self.hits: list[Any] = []
        self.thumbs = ThumbnailCache(bridge, QSize(96, 54), parent=self)
        self.thumbs.thumbnail_loaded.connect(self._on_thumbnail_loaded)
        self.time_box = QComboBox()
        self.time_box.addItems(TIME_FILTERS)
        self.type_box = QComboBox()
        for label, types in TYPE_FILTERS:
            self.type_box.addItem(label, types)
        self.app_box = QComboBox(editable=True)
        self.app_box.addItem("")
        self.app_box.lineEdit().setPlaceholderText("Any app")
        self.status = QLabel(objectName="muted")
        self.results = QListWidget()
        self.results.setIconSize(QSize(96, 54))
        self.results.setWordWrap(True)
        self.results.itemActivated.connect(self._on_item_activated)
        self.results.itemClicked.connect(self._on_item_activated)
        self._layout()
        for box in (self.time_box, self.type_box):
            box.currentIndexChanged.connect(lambda _i: self.search(self.query))
        self.app_box.currentTextChanged.connect(lambda _t: self.search(self.query))

    def _layout(self) -> None:
        filters = QHBoxLayout()
        for w in (self.time_box, self.type_box, self.app_box):
            filters.addWidget(w)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(filters)
        lay.addWidget(self.status)
        lay.addWidget(self.results, 1)

    def set_apps(self, apps: list[str]) -> None:
        """Offer these app names in the app filter (keeps the current text)."""
        current = self.app_box.currentText()
        self.app_box.blockSignals(True)
        self.app_box.clear()
        self.app_box.addItems(["", *sorted(set(apps))])
        self.app_box.setCurrentText(current)
        self.app_box.blockSignals(False)

    @qdebounced(timeout=250)
    def search_debounced(self, text: str) -> None:
        """Search 250 ms after the last keystroke."""
        self.search(text)

    def search(self, text: str) -> None:
        """Run the query now, off the GUI thread; stale answers are dropped."""
        self.query = text.strip()
        self._generation += 1
        gen = self._generation
        if not self.query:
            self._show([], gen)
            return
        since, until = time_range(self.time_box.currentText())
        types = tuple(self.type_box.currentData() or ())
        app = self.app_box.currentText().strip()
        self.status.setText("Searching…")
        query = self.query
        StoreOp(
            self._bridge,
            lambda s: s.search(
                query, k=30, since=since, until=until, types=types, apps=(app,) if app else ()
            ),
        ).success(lambda hits: self._show(hits, gen)).failure(
            lambda exc: self._on_failed(exc, gen)
        ).run()

    def _on_failed(self, exc: Exception, gen: int) -> None:
        if gen == self._generation:
            self.status.setText(f"Search failed: {exc}")

    def _show(self, hits: list[Any], gen: int) -> None:
        if gen != self._generation:
            return
        self.hits = hits
        self.results.clear()
        for hit in hits:
            self.results.addItem(self._item(hit))
        self.status.setText(f"{len(hits)} results" if self.query else "")
        if hits:
            self.results.setCurrentRow(0)
        self.results_shown.emit(len(hits))

    def _item(self, hit: Any) -> QListWidgetItem:
        when = datetime.fromtimestamp(hit.ts).strftime("%a %d %b %H:%M")
        kind = hit.obs_kind if hit.kind == "observation" else hit.kind
        snippet = " ".join(hit.text.split())[:110]
        item = QListWidgetItem(
            f"{hit.title or snippet[:60]}\n{kind} · {hit.app or ''} · {when}\n{snippet}"
        )
        item.setData(Qt.ItemDataRole.UserRole, hit)
        item.setSizeHint(QSize(0, 66))
        src = next((s for s in hit.sources if s.frame_path), None)
        if src is not None:
            pix = self.thumbs.get(src.observation_id)
            if pix is not None:
                item.setIcon(QIcon(pix))
        return item

    def _on_thumbnail_loaded(self, obs_id: int) -> None:
        for row in range(self.results.count()):
            item = self.results.item(row)
            hit = item.data(Qt.ItemDataRole.UserRole)
            if any(s.observation_id == obs_id for s in hit.sources):
                pix = self.thumbs.get(obs_id)
                if pix is not None:
                    item.setIcon(QIcon(pix))

    def activate_current(self) -> None:
        """Open the selected (or first) result."""
        item = self.results.currentItem() or self.results.item(0)
        if item is not None:
            self._on_item_activated(item)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.hit_activated.emit(item.data(Qt.ItemDataRole.UserRole))
