"""Wheel events never change an input the user has not focused (#13).

Scrolling the Settings page over the assistant's "Backend" combo box used to switch the backend.
The guard, installed once on the application, hands a wheel event over an unfocused combo box,
spin box or slider on to its parent (the scroll area scrolls instead); a focused input still
takes the wheel, as users expect after clicking into it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollBar, QWidget

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
        event.ignore()  # Qt then offers the event to the parent widgets
        return True


def install(app: QObject) -> WheelGuard:
    """Install the guard on ``app`` once; returns it."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
