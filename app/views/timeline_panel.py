"""The timeline: a header (date, day navigation, calendar jump, zoom), the day strip and the
filmstrip of thumbnails under it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from app.bridge import CoreBridge
from app.widgets.filmstrip import QtFilmstrip
from app.widgets.qt_timeline import QtTimeline
from memory.timeline import Summary


class TimelinePanel(QWidget):
    """Header, ``QtTimeline`` (``strip``) and ``QtFilmstrip`` (``filmstrip``).

    Signals:
        day_chosen(date): the user moved to another day (arrows, Today, calendar).
    """

    day_chosen = Signal(object)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = QtTimeline(bridge, parent=self)
        self.filmstrip = QtFilmstrip(self.strip, parent=self)
        self.title = QLabel(objectName="heading")
        self.info = QLabel(objectName="muted")
        # The info line may be cut, never widen the window (the chat view needs the room).
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(self._header())
        lay.addWidget(self.strip)
        lay.addWidget(self.filmstrip)
        self.strip.timeline.range_changed.connect(self._on_range_changed)
        self.strip.summary_loaded.connect(self._on_summary_loaded)
        self._on_range_changed(0, 0)

    def _button(
        self, text: str, tip: str, icon: QStyle.StandardPixmap | None = None
    ) -> QToolButton:
        btn = QToolButton(self)
        btn.setText(text)
        btn.setToolTip(tip)
        btn.setAutoRaise(False)
        if icon is not None:
            btn.setIcon(self.style().standardIcon(icon))
        return btn

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        prev_b = self._button("", "Previous day", QStyle.StandardPixmap.SP_ArrowLeft)
        next_b = self._button("", "Next day", QStyle.StandardPixmap.SP_ArrowRight)
        today_b = self._button("Today", "Jump to today (Ctrl+T)")
        self.cal_b = self._button("Date…", "Jump to a date")
        self.cal_b.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.cal_b.setMenu(self._calendar_menu())
        self.zoom_in_b = zin = self._button("+", "Zoom in around the selected moment (wheel)")
        zout = self._button("−", "Zoom out (wheel)")
        fit = self._button("Fit", "Zoom to the captured part of the day")
        whole = self._button("Day", "Show the whole day")
        prev_b.clicked.connect(lambda: self.go_to_day(self.strip.timeline.day - timedelta(days=1)))
        next_b.clicked.connect(lambda: self.go_to_day(self.strip.timeline.day + timedelta(days=1)))
        today_b.clicked.connect(self.go_to_today)
        zin.clicked.connect(lambda: self.strip.zoom_by(0.5))
        zout.clicked.connect(lambda: self.strip.zoom_by(2.0))
        fit.clicked.connect(self.strip.fit_to_data)
        whole.clicked.connect(lambda: self.strip.timeline.set_day(self.strip.timeline.day))
        for w in (prev_b, self.title, next_b, today_b, self.cal_b):
            row.addWidget(w)
        row.addSpacing(12)
        row.addWidget(self.info, 1)
        for w in (zout, zin, fit, whole):
            row.addWidget(w)
        return row

    def _calendar_menu(self) -> QMenu:
        menu = QMenu(self)
        self.calendar = QCalendarWidget(menu)
        self.calendar.setGridVisible(False)
        act = QWidgetAction(menu)
        act.setDefaultWidget(self.calendar)
        menu.addAction(act)
        self.calendar.clicked.connect(lambda d: (self.go_to_day(d.toPython()), menu.close()))
        return menu

    def go_to_day(self, day: date) -> None:
        """Show all of ``day``; the window then selects a moment of that day (one date, #13)."""
        self.strip.timeline.set_day(day)
        self.day_chosen.emit(day)

    def go_to_today(self) -> None:
        """Show today."""
        self.go_to_day(date.today())

    def _on_range_changed(self, _start: float, _end: float) -> None:
        tl = self.strip.timeline
        self.title.setText(tl.day.strftime("%A %d %B %Y"))
        self.calendar.setSelectedDate(QDate(tl.day.year, tl.day.month, tl.day.day))
        a, b = (datetime.fromtimestamp(t).strftime("%H:%M") for t in (tl.view_start, tl.view_end))
        self._range_text = f"{a}–{b}" if tl.span < 86_000 else "whole day"
        self.info.setText(self._range_text)

    def _on_summary_loaded(self, summary: Summary) -> None:
        apps = len({b.app for b in summary.bands})
        self.info.setText(
            f"{self._range_text} · {summary.total:,} moments · {apps} apps · "
            f"{len(summary.episodes)} episodes"
        )
        self.info.setToolTip(self.info.text())
        self.info.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
