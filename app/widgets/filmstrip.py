"""QtFilmstrip: a row of frame thumbnails under the timeline strip, following its zoom.

The visible range is cut into as many equal slots as tiles fit; each slot shows the representative
frame of the moment nearest its middle (``memory.timeline.filmstrip_slots``). Thumbnails decode
off the GUI thread through the strip's ``ThumbnailCache``. Hovering a tile shows a larger preview,
a click opens that moment, a double click opens it full size.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app import theme
from app.widgets.hover_card import HoverCard
from app.widgets.qt_timeline import MARGIN, QtTimeline, bucket_caption
from app.widgets.thumbs import draw_cover
from memory.timeline import Bucket, filmstrip_slots

TILE_H = 90
TILE_W = 160
GAP = 4


class QtFilmstrip(QWidget):
    """Thumbnails of the strip's visible range.

    Signals:
        frame_selected(int): a tile was clicked (the observation id of its frame).
        frame_opened(int): a tile was double-clicked (open it full size).
    """

    frame_selected = Signal(int)
    frame_opened = Signal(int)

    def __init__(self, strip: QtTimeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = strip
        self.thumbs = strip.thumbs
        self.slots: list[Bucket | None] = []
        self._hover: int | None = None
        self._popup = HoverCard(self)
        strip.summary_loaded.connect(lambda _s: self._relayout())
        strip.timeline.range_changed.connect(lambda _a, _b: self._relayout())
        self.thumbs.thumbnail_loaded.connect(self._on_thumbnail_loaded)
        self.setMouseTracking(True)
        self.setFixedHeight(TILE_H + 2 * GAP)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(900, TILE_H + 2 * GAP)

    def tile_count(self) -> int:
        """How many tiles fit across the widget."""
        return max(1, (self.width() - 2 * MARGIN + GAP) // (TILE_W + GAP))

    def tile_rect(self, k: int) -> QRectF:
        """Where tile ``k`` is drawn (tiles share the width evenly)."""
        n = self.tile_count()
        w = (self.width() - 2 * MARGIN - (n - 1) * GAP) / n
        return QRectF(MARGIN + k * (w + GAP), GAP, w, TILE_H)

    def _relayout(self) -> None:
        tl, summary = self.strip.timeline, self.strip.summary
        if summary is None:
            self.slots = []
        else:
            self.slots = filmstrip_slots(summary, tl.view_start, tl.view_end, self.tile_count())
            for bucket in self.slots:
                if bucket is not None:
                    self.thumbs.get(bucket.rep_id)  # starts loading what is not cached
        self.update()

    def resizeEvent(self, _event: object) -> None:  # noqa: N802 - Qt API
        self._relayout()

    def _on_thumbnail_loaded(self, obs_id: int) -> None:
        if any(b is not None and b.rep_id == obs_id for b in self.slots):
            self.update()
        if self._hover is not None:
            self._show_popup(self._hover)

    # -- painting --------------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        c = theme.current()
        p.fillRect(self.rect(), QColor(c.base))
        for k, bucket in enumerate(self.slots):
            self._paint_tile(p, c, self.tile_rect(k), bucket, selected=self._is_current(bucket))
        p.end()

    def _is_current(self, bucket: Bucket | None) -> bool:
        ts = self.strip.current_ts
        return bucket is not None and ts is not None and bucket.start <= ts < bucket.end

    def _paint_tile(
        self, p: QPainter, c: theme.Colors, rect: QRectF, bucket: Bucket | None, *, selected: bool
    ) -> None:
        if bucket is None:
            p.fillRect(rect.adjusted(0, TILE_H / 2 - 2, 0, -TILE_H / 2 + 2), QColor(c.gap))
            return
        pix = self.thumbs.get(bucket.rep_id)
        p.save()
        if not draw_cover(p, pix, rect, theme.app_color(bucket.app).lighter(150)):
            p.setPen(QColor(c.text))  # a chat line, or the frame is still loading
            p.drawText(rect.adjusted(6, 6, -6, -22), Qt.TextFlag.TextWordWrap, bucket.app)
        label = QRectF(rect.left(), rect.bottom() - 18, rect.width(), 18)
        p.fillRect(label, QColor(0, 0, 0, 150))
        p.setPen(QColor("white"))
        when = datetime.fromtimestamp(bucket.start).strftime("%H:%M")
        text = p.fontMetrics().elidedText(
            f"{when}  {bucket.app}", Qt.TextElideMode.ElideRight, int(rect.width() - 8)
        )
        p.drawText(label.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)
        p.restore()
        p.setPen(QPen(QColor(c.accent if selected else c.border), 3 if selected else 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)

    # -- interaction -----------------------------------------------------------------------------

    def slot_at(self, x: float) -> int | None:
        """The tile under pixel ``x``, or None."""
        for k in range(len(self.slots)):
            r = self.tile_rect(k)
            if r.left() <= x <= r.right():
                return k
        return None

    def _bucket_at(self, x: float) -> Bucket | None:
        k = self.slot_at(x)
        return self.slots[k] if k is not None else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._hover = self.slot_at(event.position().x())
        self._show_popup(self._hover)

    def _show_popup(self, k: int | None) -> None:
        bucket = self.slots[k] if k is not None and k < len(self.slots) else None
        if bucket is None or k is None:
            self._popup.hide()
            return
        r = self.tile_rect(k)
        anchor = self.mapToGlobal(QPoint(int(r.center().x()), 0))
        pix = self.thumbs.get(bucket.rep_id)
        self._popup.show_moment(bucket_caption(bucket), pix, anchor, below=self.height())

    def leaveEvent(self, _event: object) -> None:  # noqa: N802 - Qt API
        self._hover = None
        self._popup.hide()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        bucket = self._bucket_at(event.position().x())
        if bucket is not None and event.button() == Qt.MouseButton.LeftButton:
            self.frame_selected.emit(bucket.rep_id)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        bucket = self._bucket_at(event.position().x())
        if bucket is not None:
            self._popup.hide()
            self.frame_opened.emit(bucket.rep_id)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        self.strip.wheelEvent(event)  # the wheel zooms the strip above, as over the strip
