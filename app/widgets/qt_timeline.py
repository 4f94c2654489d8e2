"""QtTimeline: a custom-painted day strip over the Qt-free ``memory.timeline.Timeline``.

It draws compact summaries (app bands, gaps, episode blocks, density), never one widget per frame;
summaries and thumbnails load off the GUI thread. Wheel zooms around the cursor (shift+wheel pans),
dragging pans, a click selects a moment.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app import theme
from app.bridge import CoreBridge
from app.ops import StoreOp
from app.widgets.hover_card import PREVIEW, HoverCard
from app.widgets.thumbs import ThumbnailCache
from memory.changes import Changes
from memory.timeline import Bucket, Summary, Timeline

TICKS_H, EPI_Y, EPI_H, BAND_Y, BAND_H = 20, 24, 24, 54, 34
MARGIN = 12
MIN_FIT_S = 3600.0  # fitting the view to the data shows at least an hour


class QtTimeline(QWidget):
    """The day strip.

    Signals:
        moment_selected(float): the user clicked a time.
        episode_selected(int): the user clicked an episode block (a memory id).
        summary_loaded(object): a new summary arrived and is drawn.
    """

    moment_selected = Signal(float)
    episode_selected = Signal(int)
    summary_loaded = Signal(object)

    def __init__(
        self, bridge: CoreBridge, timeline: Timeline | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.timeline = timeline or Timeline()
        self.summary: Summary | None = None
        self.current_ts: float | None = None
        self._hover_x: int | None = None
        self._drag: tuple[int, float] | None = None
        self._generation = 0
        self._fit_pending = False
        self.hovered_id: int | None = None
        self.thumbs = ThumbnailCache(bridge, PREVIEW, capacity=160, parent=self)
        self.thumbs.thumbnail_loaded.connect(self._on_thumbnail_loaded)
        self._popup = HoverCard(self)
        self._reload_timer = QTimer(self, singleShot=True, interval=40)
        self._reload_timer.timeout.connect(self._on_reload_due)
        self.timeline.range_changed.connect(self._on_range_changed)
        bridge.changes_applied.connect(self._on_changes_applied)
        self.setMouseTracking(True)
        self.setMinimumHeight(BAND_Y + BAND_H + 16)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.refresh()  # the first summary: the strip is never blank while moments exist

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(900, BAND_Y + BAND_H + 18)

    # -- data ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the summary of the visible range soon (coalesced)."""
        self._reload_timer.start()

    def settled(self) -> bool:
        """True when the drawn summary is the visible range's: no reload or fit is still due."""
        return (
            self.summary is not None and not self._fit_pending and not self._reload_timer.isActive()
        )

    def _on_reload_due(self) -> None:
        self._generation += 1
        gen, tl = self._generation, self.timeline
        start, end, bucket = tl.view_start, tl.view_end, tl.bucket_for(self._strip_width())
        StoreOp(self._bridge, lambda s: s.timeline_summary(start, end, bucket)).success(
            lambda summary: self._on_summary_ready(gen, summary)
        ).run()

    def _on_summary_ready(self, gen: int, summary: Summary) -> None:
        if gen != self._generation:
            return  # a newer range was asked for meanwhile
        self.summary = summary
        if self._fit_pending:
            self._fit_pending = False
            if self.fit_to_data():
                return  # the fitted range loads its own summary
        self.update()
        self.summary_loaded.emit(summary)

    def _on_range_changed(self, _start: float, _end: float) -> None:
        self.update()
        self.refresh()

    def _on_changes_applied(self, changes: Changes) -> None:
        if changes.memories or changes.observations:
            self.refresh()

    def _on_thumbnail_loaded(self, _obs_id: int) -> None:
        if self._hover_x is not None:
            self._show_popup(self._hover_x)

    def focus_on(self, ts: float) -> None:
        """Show the day of ``ts`` fitted to its captured moments, with ``ts`` marked (start-up)."""
        local = datetime.fromtimestamp(ts).astimezone().date()
        self.current_ts = ts
        self._fit_pending = True
        # a summary asked for before now is of the old range: it must not take the fit
        self._generation += 1
        self.timeline.set_day(local)
        self.refresh()

    def fit_to_data(self) -> bool:
        """Zoom to the captured part of the day (at least an hour); False when there is none."""
        extent = self.summary.extent() if self.summary is not None else None
        if extent is None:
            return False
        first, last = extent
        if self.current_ts is not None and self.timeline.day_start <= self.current_ts:
            first, last = min(first, self.current_ts), max(last, self.current_ts)
        pad = max((last - first) * 0.05, 60.0)
        span = max(MIN_FIT_S, last - first + 2 * pad)
        mid = (first + last) / 2
        self.timeline.zoom(span / self.timeline.span, None)
        self.timeline.pan(mid - span / 2 - self.timeline.view_start)
        return True

    def zoom_anchor(self) -> float | None:
        """Where "+"/"−" zoom: the selected moment when visible, else the middle of the data."""
        tl = self.timeline
        if self.current_ts is not None and tl.view_start <= self.current_ts < tl.view_end:
            return self.current_ts
        if self.summary is not None:
            return self.summary.middle(tl.view_start, tl.view_end)
        return None

    def zoom_by(self, factor: float) -> None:
        """Zoom in (<1) or out around ``zoom_anchor()``."""
        self.timeline.zoom(factor, self.zoom_anchor())

    def set_current(self, ts: float | None) -> None:
        """Mark the moment shown in the frame viewer (scrolls it into view)."""
        self.current_ts = ts
        tl = self.timeline
        if ts is not None and not tl.view_start <= ts < tl.view_end:
            tl.center_on(ts)
        self.update()

    # -- geometry --------------------------------------------------------------------------------

    def _strip_width(self) -> int:
        return max(1, self.width() - 2 * MARGIN)

    def x_of(self, ts: float) -> float:
        """Pixel x of a timestamp."""
        return MARGIN + self.timeline.to_frac(ts) * self._strip_width()

    def ts_at(self, x: float) -> float:
        """Timestamp under pixel x."""
        return self.timeline.from_frac((x - MARGIN) / self._strip_width())

    # -- painting --------------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = theme.current()
        p.fillRect(self.rect(), QColor(c.base))
        self._paint_gaps(p, c)
        self._paint_ticks(p, c)
        if self.summary is not None:
            self._paint_bands(p)
            self._paint_episodes(p, c)
        self._paint_cursors(p, c)
        p.end()

    def _paint_ticks(self, p: QPainter, c: theme.Colors) -> None:
        tl, step = self.timeline, self.timeline.tick_step()
        first = tl.day_start + ((tl.view_start - tl.day_start) // step + 1) * step
        p.setPen(QColor(c.muted))
        ts = first - step
        while ts <= tl.view_end:
            x = self.x_of(ts)
            if MARGIN <= x <= self.width() - MARGIN - 24:
                p.setPen(QPen(QColor(c.border), 1))
                p.drawLine(int(x), TICKS_H - 4, int(x), BAND_Y + BAND_H)
                p.setPen(QColor(c.muted))
                fmt = "%H:%M" if step < 3600 or tl.span < 6 * 3600 else "%H"
                p.drawText(int(x) + 3, TICKS_H - 6, datetime.fromtimestamp(ts).strftime(fmt))
            ts += step

    def _paint_gaps(self, p: QPainter, c: theme.Colors) -> None:
        gaps = self.summary.gaps if self.summary else ()
        brush = QColor(c.gap)
        for gap in gaps:
            x0, x1 = self.x_of(gap.start), self.x_of(gap.end)
            rect = QRectF(x0, BAND_Y + BAND_H / 2 - 3, x1 - x0, 6)  # a thin rail: nothing captured
            p.fillRect(rect, brush)
        if not gaps and self.summary is not None and not self.summary.buckets:
            p.fillRect(QRectF(MARGIN, BAND_Y + BAND_H / 2 - 3, self._strip_width(), 6), brush)

    def _paint_bands(self, p: QPainter) -> None:
        assert self.summary is not None
        p.setPen(Qt.PenStyle.NoPen)
        for band in self.summary.bands:
            x0, x1 = self.x_of(band.start), self.x_of(band.end)
            p.setBrush(theme.app_color(band.app))
            p.drawRoundedRect(QRectF(x0, BAND_Y, max(1.5, x1 - x0), BAND_H), 3, 3)
            if x1 - x0 > 60:
                p.setPen(QColor("white"))
                p.drawText(
                    QRectF(x0 + 5, BAND_Y, x1 - x0 - 8, BAND_H),
                    Qt.AlignmentFlag.AlignVCenter,
                    band.app,
                )
                p.setPen(Qt.PenStyle.NoPen)

    def _paint_episodes(self, p: QPainter, c: theme.Colors) -> None:
        assert self.summary is not None
        for epi in self.summary.episodes:
            x0 = self.x_of(epi.start)
            x1 = max(self.x_of(epi.end), x0 + 6)
            rect = QRectF(x0, EPI_Y, x1 - x0, EPI_H)
            p.setPen(QPen(QColor(c.accent), 1))
            p.setBrush(
                QColor(c.accent).lighter(170) if not c.dark else QColor(c.accent).darker(220)
            )
            p.drawRoundedRect(rect, 5, 5)
            if rect.width() > 40:
                p.setPen(QColor(c.text))
                p.drawText(
                    rect.adjusted(6, 0, -4, 0),
                    Qt.AlignmentFlag.AlignVCenter,
                    p.fontMetrics().elidedText(
                        epi.title, Qt.TextElideMode.ElideRight, int(rect.width() - 10)
                    ),
                )

    def _paint_cursors(self, p: QPainter, c: theme.Colors) -> None:
        if self.current_ts is not None:
            x = self.x_of(self.current_ts)
            p.setPen(QPen(QColor(c.accent), 2))
            p.drawLine(int(x), TICKS_H - 2, int(x), BAND_Y + BAND_H + 6)
        if self._hover_x is not None:
            p.setPen(QPen(QColor(c.muted), 1, Qt.PenStyle.DashLine))
            p.drawLine(self._hover_x, TICKS_H, self._hover_x, BAND_Y + BAND_H)

    # -- interaction -----------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.timeline.pan(-delta / 120 * self.timeline.span * 0.1)
        else:
            self.timeline.zoom(0.8 if delta > 0 else 1.25, self.ts_at(event.position().x()))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._drag = (int(event.position().x()), self.timeline.view_start)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        x = int(event.position().x())
        if self._drag is not None and abs(x - self._drag[0]) > 3:
            secs = (self._drag[0] - x) / self._strip_width() * self.timeline.span
            self.timeline.pan(self._drag[1] + secs - self.timeline.view_start)
            self._popup.hide()
            return
        self._hover_x = x
        self._show_popup(x)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        start, self._drag = self._drag, None
        x = event.position().x()
        if start is not None and abs(x - start[0]) > 3:
            return
        epi = self._episode_at(x, event.position().y())
        if epi is not None:
            self.episode_selected.emit(epi)
        self.moment_selected.emit(self.ts_at(x))

    def leaveEvent(self, _event: object) -> None:  # noqa: N802 - Qt API
        self._hover_x = None
        self._popup.hide()
        self.update()

    def _episode_at(self, x: float, y: float) -> int | None:
        if self.summary is None or not EPI_Y <= y <= EPI_Y + EPI_H:
            return None
        for epi in self.summary.episodes:
            if self.x_of(epi.start) <= x <= max(self.x_of(epi.end), self.x_of(epi.start) + 6):
                return epi.memory_id
        return None

    def _show_popup(self, x: int) -> None:
        bucket = self.summary.bucket_at(self.ts_at(x)) if self.summary else None
        if bucket is None:
            self._popup.hide()
            return
        self.hovered_id = bucket.rep_id
        pix = self.thumbs.get(bucket.rep_id)
        anchor = self.mapToGlobal(QPoint(x, 0))
        self._popup.show_moment(bucket_caption(bucket), pix, anchor, below=self.height())


def bucket_caption(bucket: Bucket) -> str:
    """ "09:41:12 · Firefox · 12 moments" for a hover preview."""
    when = datetime.fromtimestamp(bucket.start).strftime("%H:%M:%S")
    n = f"{bucket.count} moment{'s' if bucket.count != 1 else ''}"
    return f"{when} · {bucket.app} · {n}"
