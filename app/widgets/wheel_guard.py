"""Wheel events never change an input the user has not focused (#13).

Scrolling the Settings page over the assistant's "Backend" combo box used to switch the backend.
The guard, installed once on the application, hands a wheel event over an unfocused combo box,
spin box or slider to the scroll area around it (the page scrolls instead); a focused input still
takes the wheel, as users expect after clicking into it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

GUARDED = (QComboBox, QAbstractSpinBox, QAbstractSlider)


class WheelGuard(QObject):
    """An application event filter that passes unfocused inputs' wheel events to their parents."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, GUARDED):
            return False
        if isinstance(watched, QScrollBar) or watched.hasFocus():
            return False
        if isinstance(watched, QWidget) and watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel must not focus it either
        area = scroll_area_of(watched) if isinstance(watched, QWidget) else None
        if area is None or not isinstance(event, QWheelEvent):
            event.ignore()
            return True
        # Handed to the enclosing scroll area explicitly: Qt propagates only spontaneous wheel
        # events to parents, and accepting here keeps a spontaneous one from scrolling twice.
        viewport = area.viewport()
        pos = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
        forwarded = QWheelEvent(
            pos,
            event.globalPosition(),
            event.pixelDelta(),
            event.angleDelta(),
            event.buttons(),
            event.modifiers(),
            event.phase(),
            event.inverted(),
        )
        QApplication.sendEvent(viewport, forwarded)
        event.accept()
        return True


def scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area around ``widget`` (None when there is none)."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def install(app: QObject) -> WheelGuard:
    """Install the guard on ``app`` once; returns it."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
