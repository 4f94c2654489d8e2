"""The full-size frame viewer: one moment's image at full resolution with zoom and pan, and its text
to read, select and copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.bridge import CoreBridge
from app.ops import StoreOp
from app.widgets.thumbs import decode_file

MIN_SCALE, MAX_SCALE = 0.05, 8.0


@dataclass(frozen=True, slots=True)
class FullFrame:
    """A moment's full-resolution image and text, read on a worker thread."""

    obs: Any
    image: QImage


def load_full_frame(service: Any, obs_id: int) -> FullFrame:
    """Read an observation and decode its stored image unscaled (worker thread)."""
    obs = service.observation(obs_id)
    path = service.frame_file(obs)
    image = decode_file(service, path, None)
    return FullFrame(obs, image)


class ZoomView(QGraphicsView):
    """A picture you zoom with the wheel (around the cursor) and pan by dragging."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)

    @property
    def scale_factor(self) -> float:
        """The current zoom (1.0: one image pixel per screen pixel)."""
        return self.transform().m11()

    def set_pixmap(self, pix: QPixmap) -> None:
        """Show a new picture, fitted to the view."""
        self.item.setPixmap(pix)
        self.scene().setSceneRect(self.item.boundingRect())
        self.fit()

    def fit(self) -> None:
        """Fit the whole picture in the view."""
        if not self.item.pixmap().isNull():
            self.fitInView(self.item, Qt.AspectRatioMode.KeepAspectRatio)
            self.zoom_changed.emit(self.scale_factor)

    def zoom_to(self, scale: float) -> None:
        """Set the zoom (clamped to 5 %–800 %)."""
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        self.scale(scale / self.scale_factor, scale / self.scale_factor)
        self.zoom_changed.emit(self.scale_factor)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        delta = event.angleDelta().y()
        if delta:
            self.zoom_to(self.scale_factor * (1.25 if delta > 0 else 0.8))
        event.accept()


class FrameDialog(QDialog):
    """A window showing one moment full size.

    Signals:
        frame_loaded(object): the observation is on screen.
    """

    frame_loaded = Signal(object)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.obs: Any = None
        self.setWindowTitle("Moment — Engram")
        self.view = ZoomView(self)
        self.caption = QLabel(objectName="heading", wordWrap=True)
        self.zoom_label = QLabel(objectName="muted")
        self.text = QPlainTextEdit(readOnly=True)
        self.view.zoom_changed.connect(lambda s: self.zoom_label.setText(f"{s * 100:.0f} %"))
        self._build()
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, activated=self.zoom_in)
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, activated=self.zoom_out)
        QShortcut(QKeySequence("0"), self, activated=self.view.fit)
        self.resize(1400, 860)

    def _build(self) -> None:
        buttons = QHBoxLayout()
        for text, slot in (
            ("Fit", self.view.fit),
            ("100 %", lambda: self.view.zoom_to(1.0)),
            ("−", self.zoom_out),
            ("+", self.zoom_in),
        ):
            b = QPushButton(text)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addWidget(self.zoom_label)
        buttons.addStretch(1)
        self.copy_text_b = QPushButton("Copy text")
        self.copy_image_b = QPushButton("Copy image")
        self.copy_text_b.clicked.connect(self.copy_text)
        self.copy_image_b.clicked.connect(self.copy_image)
        buttons.addWidget(self.copy_text_b)
        buttons.addWidget(self.copy_image_b)
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(QLabel("Text on screen (select to copy part of it)", objectName="muted"))
        side_lay.addWidget(self.text)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(side)
        split.setSizes([1050, 350])
        lay = QVBoxLayout(self)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)
        lay.addLayout(buttons)

    def show_observation(self, obs_id: int) -> None:
        """Load a moment full size (off the GUI thread) and show the window."""
        self.caption.setText("Loading…")
        self.show()
        self.raise_()
        StoreOp(self._bridge, lambda s: load_full_frame(s, obs_id)).success(self._on_loaded).run()

    def _on_loaded(self, frame: FullFrame) -> None:
        obs = self.obs = frame.obs
        when = datetime.fromtimestamp(obs.ts_start).strftime("%a %d %b %Y, %H:%M:%S")
        title = obs.window_title or obs.app or obs.kind
        size = "" if frame.image.isNull() else f" · {frame.image.width()}×{frame.image.height()}"
        self.caption.setText(f"{title} — {obs.app or obs.kind} · {when}{size}")
        if frame.image.isNull():
            self.view.set_pixmap(QPixmap())
        else:
            self.view.set_pixmap(QPixmap.fromImage(frame.image))
        self.text.setPlainText(obs.text or "")
        self.copy_image_b.setEnabled(not frame.image.isNull())
        self.frame_loaded.emit(obs)

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self.view.zoom_to(self.view.scale_factor * 1.25)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self.view.zoom_to(self.view.scale_factor * 0.8)

    def copy_text(self) -> None:
        """Copy the selected text, or all of it, to the clipboard."""
        cursor = self.text.textCursor()
        text = cursor.selectedText().replace("\u2029", "\n") or self.text.toPlainText()
        QGuiApplication.clipboard().setText(text)

    def copy_image(self) -> None:
        """Copy the full-size image to the clipboard."""
        pix = self.view.item.pixmap()
        if not pix.isNull():
            QGuiApplication.clipboard().setPixmap(pix)
