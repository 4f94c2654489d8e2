"""The frame viewer: one moment's image, its text with search terms highlighted, where it came from,
the memories derived from it, and "forget" actions with confirmation."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import ops, theme
from app.bridge import CoreBridge
from app.ops import StoreOp
from app.widgets.thumbs import decode_file

MAX_IMAGE = QSize(1920, 1080)


@dataclass(frozen=True, slots=True)
class Moment:
    """What the viewer shows, gathered on a worker thread."""

    obs: Any
    memories: list[Any]
    image: QImage


def load_moment(service: Any, obs_id: int) -> Moment:
    """Read an observation, its memories and its image (worker thread)."""
    obs = service.observation(obs_id)
    path = service.frame_file(obs)
    image = decode_file(service, path, MAX_IMAGE)
    return Moment(obs, service.memories_from(obs_id), image)


def highlight(text: str, terms: tuple[str, ...]) -> str:
    """HTML of ``text`` with every term marked (case-insensitive, escaped)."""
    body = html.escape(text)
    words = sorted({t for t in terms if len(t) > 1}, key=len, reverse=True)
    if words:
        pattern = re.compile("|".join(re.escape(html.escape(w)) for w in words), re.IGNORECASE)
        mark = theme.current().highlight
        body = pattern.sub(lambda m: f'<span style="background:{mark}">{m.group(0)}</span>', body)
    return f'<div style="white-space: pre-wrap">{body}</div>'


class ClickableImage(QLabel):
    """The frame preview: a click asks for the full-size viewer."""

    clicked = Signal()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()


class FrameViewer(QWidget):
    """Shows one observation.

    Signals:
        moment_shown(object): an observation is now shown (the Observation).
        memory_activated(int): the user opened a derived memory.
        step_requested(int): previous (-1) or next (+1) frame asked for.
        full_size_requested(int): the preview was clicked (open this observation full size).
        looks_like_requested(int): "Looks like this": moments that look like this one (#17).
    """

    moment_shown = Signal(object)
    memory_activated = Signal(int)
    step_requested = Signal(int)
    full_size_requested = Signal(int)
    looks_like_requested = Signal(int)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.obs: Any = None
        self.terms: tuple[str, ...] = ()
        self._pixmap: QPixmap | None = None
        self._build()
        self.show_empty()

    def _build(self) -> None:
        self.image = ClickableImage(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.clicked.connect(self._on_image_clicked)
        self.image.setMinimumSize(240, 135)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.meta = QLabel(objectName="heading", wordWrap=True)
        self.sub = QLabel(objectName="muted", wordWrap=True)
        self.sub.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QTextBrowser()
        self.memories = QListWidget()
        self.memories.itemActivated.connect(self._on_memory_item_activated)
        self.memories.itemClicked.connect(self._on_memory_item_activated)
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        for w in (
            self.meta,
            self.sub,
            QLabel("Text on screen", objectName="muted"),
            self.text,
            QLabel("Memories from this moment", objectName="muted"),
            self.memories,
        ):
            side_lay.addWidget(w)
        side_lay.addLayout(self._buttons())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.image)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.prev_b = QPushButton("◀")  # compact: the results column needs the width
        self.next_b = QPushButton("▶")
        self.prev_b.setToolTip("Previous moment (Left)")
        self.next_b.setToolTip("Next moment (Right)")
        self.looks_b = QPushButton("Looks like this")
        self.looks_b.setToolTip("Find moments whose screen looked like this one")
        self.looks_b.clicked.connect(self._on_looks_clicked)
        self.forget_b = QPushButton("Forget moment", objectName="danger")
        self.forget_range_b = QPushButton("Forget range…", objectName="danger")
        self.prev_b.clicked.connect(lambda: self.step_requested.emit(-1))
        self.next_b.clicked.connect(lambda: self.step_requested.emit(1))
        self.forget_b.clicked.connect(self.confirm_forget_moment)
        self.forget_range_b.clicked.connect(self.confirm_forget_range)
        for b in (self.prev_b, self.next_b, self.looks_b):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.forget_b)
        row.addWidget(self.forget_range_b)
        return row

    # -- showing ---------------------------------------------------------------------------------

    def show_empty(self, why: str = "No moment selected") -> None:
        """Nothing selected (``why`` says so, e.g. a day with nothing captured)."""
        self.obs, self._pixmap = None, None
        self.image.setPixmap(QPixmap())
        self.image.setText("Pick a moment on the timeline, or search above.")
        self.image.setToolTip("")
        self.image.setCursor(Qt.CursorShape.ArrowCursor)
        self.meta.setText(why)
        self.sub.setText("")
        self.text.clear()
        self.memories.clear()
        for b in (self.forget_b, self.forget_range_b, self.prev_b, self.next_b, self.looks_b):
            b.setEnabled(False)

    def show_observation(self, obs_id: int, terms: tuple[str, ...] = ()) -> None:
        """Load and show an observation (off the GUI thread)."""
        self.terms = terms
        StoreOp(self._bridge, lambda s: load_moment(s, obs_id)).success(
            self._on_moment_loaded
        ).run()

    def _on_moment_loaded(self, moment: Moment) -> None:
        obs = self.obs = moment.obs
        self._pixmap = None if moment.image.isNull() else QPixmap.fromImage(moment.image)
        if self._pixmap is None:
            self.image.setPixmap(QPixmap())
            self.image.setText("(chat message)" if obs.kind == "chat" else "(no image kept)")
        has_image = self._pixmap is not None
        self.image.setToolTip("Click to open full size (zoom, pan, copy text)" if has_image else "")
        self.image.setCursor(
            Qt.CursorShape.PointingHandCursor if has_image else Qt.CursorShape.ArrowCursor
        )
        self._fit_image()
        when = datetime.fromtimestamp(obs.ts_start).strftime("%a %d %b %Y, %H:%M:%S")
        who = obs.speaker if obs.kind == "chat" and obs.speaker else (obs.app or obs.kind)
        self.meta.setText(html.escape(obs.window_title or who))
        self.sub.setText(" · ".join(x for x in (who, when, obs.url or "", obs.status) if x))
        self.text.setHtml(highlight(obs.text or "(no text)", self.terms))
        self._fill_memories(moment.memories)
        for b in (self.forget_b, self.forget_range_b, self.prev_b, self.next_b):
            b.setEnabled(True)
        self.looks_b.setEnabled(obs.kind == "screen" and has_image)
        self.moment_shown.emit(obs)

    def _on_looks_clicked(self) -> None:
        if self.obs is not None:
            self.looks_like_requested.emit(self.obs.id)

    def _on_image_clicked(self) -> None:
        if self.obs is not None and self._pixmap is not None:
            self.full_size_requested.emit(self.obs.id)

    def _fill_memories(self, memories: list[Any]) -> None:
        self.memories.clear()
        for m in memories:
            item = QListWidgetItem(f"{m.type}: {m.title or m.summary[:80]}")
            item.setData(Qt.ItemDataRole.UserRole, m.id)
            self.memories.addItem(item)
        if not memories:
            self.memories.addItem(QListWidgetItem("(none yet)"))

    def _on_memory_item_activated(self, item: QListWidgetItem) -> None:
        mid = item.data(Qt.ItemDataRole.UserRole)
        if mid is not None:
            self.memory_activated.emit(int(mid))

    def _fit_image(self) -> None:
        if self._pixmap is not None:
            self.image.setPixmap(
                self._pixmap.scaled(
                    self.image.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_image()

    # -- forgetting ------------------------------------------------------------------------------

    def confirm_forget_moment(self) -> None:
        """Ask, then forget the shown moment and what derives only from it."""
        if self.obs is None or not self._confirm(
            "Forget this moment? Its image, text and the memories "
            "that come only from it are removed for good."
        ):
            return
        ops.forget_moment(
            bridge=self._bridge, observation_id=self.obs.id, on_done=lambda _c: self.show_empty()
        )

    def confirm_forget_range(self) -> None:
        """Ask, then forget the 15 minutes around the shown moment."""
        if self.obs is None:
            return
        since, until = self.obs.ts_start - 450, self.obs.ts_start + 450
        span = "–".join(datetime.fromtimestamp(t).strftime("%H:%M") for t in (since, until))
        if self._confirm(f"Forget everything captured {span}? This cannot be undone."):
            ops.forget_range(
                bridge=self._bridge, since=since, until=until, on_done=lambda _c: self.show_empty()
            )

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.warning(
            self,
            "Forget",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes
