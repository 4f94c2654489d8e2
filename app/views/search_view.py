"""Search as you type: a debounced query (250 ms) runs off the GUI thread; each result shows a
readable thumbnail, its title, app, kind and time, and the passage around the match with the query
terms marked (``ResultDelegate``); filters narrow by time, app and memory type."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qdebounced

from app.bridge import CoreBridge
from app.ops import StoreOp
from app.widgets.passage import query_terms
from app.widgets.result_delegate import HIT_ROLE, THUMB, ResultDelegate
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
        looks_like_requested(int): "Looks like this" was chosen on a screen result (#17).
    """

    hit_activated = Signal(object)
    results_shown = Signal(int)
    looks_like_requested = Signal(int)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._generation = 0
        self.query = ""
        self.terms: tuple[str, ...] = ()
        self.hits: list[Any] = []
        self.thumbs = ThumbnailCache(bridge, THUMB * 2, capacity=120, parent=self)
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
        self.results.setItemDelegate(ResultDelegate(self.thumb_for, lambda: self.terms, self))
        self.results.setUniformItemSizes(True)
        self.results.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.itemActivated.connect(self._on_item_activated)
        self.results.itemClicked.connect(self._on_item_activated)
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._on_context_menu)
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
        self.terms = query_terms(self.query)
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

    def show_similar(self, obs_id: int) -> None:
        """List the moments that look like this one (off the GUI thread), #17."""
        self.query, self.terms = "", ()
        self._generation += 1
        gen = self._generation
        self.status.setText("Looking for moments that look like this one…")
        StoreOp(self._bridge, lambda s: s.similar_moments(obs_id, k=30)).success(
            lambda hits: self._show_similar(hits, gen)
        ).failure(lambda exc: self._on_failed(exc, gen)).run()

    def _show_similar(self, hits: list[Any], gen: int) -> None:
        self._show(hits, gen)
        if gen == self._generation:
            self.status.setText(
                f"{len(hits)} moments that look like this one"
                if hits
                else "No other moment looks like this one yet"
            )

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.results.itemAt(pos)
        hit = item.data(HIT_ROLE) if item is not None else None
        src = next((s for s in hit.sources if s.frame_path), None) if hit is not None else None
        if src is None:
            return
        menu = QMenu(self)
        menu.addAction(
            "Looks like this", lambda: self.looks_like_requested.emit(src.observation_id)
        )
        menu.exec(self.results.viewport().mapToGlobal(pos))

    def _on_failed(self, exc: Exception, gen: int) -> None:
        if gen == self._generation:
            reason = getattr(exc, "reason", None)
            self.status.setText(f"Search failed: {reason or exc}")

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
        when = datetime.fromtimestamp(hit.ts).strftime("%a %d %b %Y %H:%M")
        item = QListWidgetItem(f"{hit.title} · {hit.app or ''} · {when}")  # read by screen readers
        item.setData(HIT_ROLE, hit)
        item.setToolTip(" ".join(hit.text.split())[:400])
        return item

    def thumb_for(self, hit: Any) -> QPixmap | None:
        """The thumbnail when loaded (else starts loading it); None when the hit has no frame."""
        src = next((s for s in hit.sources if s.frame_path), None)
        return None if src is None else self.thumbs.get(src.observation_id)

    def _on_thumbnail_loaded(self, _obs_id: int) -> None:
        self.results.viewport().update()

    def activate_current(self) -> None:
        """Open the selected (or first) result."""
        item = self.results.currentItem() or self.results.item(0)
        if item is not None:
            self._on_item_activated(item)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.hit_activated.emit(item.data(HIT_ROLE))
