"""Look: a Fusion palette that follows the system light/dark scheme, one stylesheet, app colours."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True, slots=True)
class Colors:
    """The few colours every view uses."""

    dark: bool
    window: str
    base: str
    alt: str
    text: str
    muted: str
    border: str
    accent: str
    gap: str
    highlight: str


LIGHT = Colors(
    False,
    "#f6f7f9",
    "#ffffff",
    "#eef0f4",
    "#1d2330",
    "#6b7385",
    "#d9dde5",
    "#3b6fe0",
    "#dfe2e8",
    "#ffe58a",
)
DARK = Colors(
    True,
    "#1b1e24",
    "#23272f",
    "#2b3039",
    "#e6e9ef",
    "#9aa3b5",
    "#383e4a",
    "#6d9bff",
    "#343944",
    "#8a6d00",
)

_current = LIGHT


def current() -> Colors:
    """The colours in use."""
    return _current


def system_is_dark() -> bool:
    """Whether the platform asks for a dark scheme (falls back to the palette's lightness)."""
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def app_color(app: str | None) -> QColor:
    """A stable, pleasant colour for an app name (same name, same colour, every run)."""
    hue = zlib.crc32((app or "?").lower().encode()) % 360
    sat, light = (150, 150) if not _current.dark else (120, 120)
    return QColor.fromHsl(hue, sat, light)


def apply(app: QApplication, dark: bool | None = None) -> Colors:
    """Style the whole application; returns the colours chosen."""
    global _current
    _current = DARK if (system_is_dark() if dark is None else dark) else LIGHT
    c = _current
    app.setStyle("Fusion")
    pal = QPalette()
    for role, value in (
        (QPalette.ColorRole.Window, c.window),
        (QPalette.ColorRole.Base, c.base),
        (QPalette.ColorRole.AlternateBase, c.alt),
        (QPalette.ColorRole.Text, c.text),
        (QPalette.ColorRole.WindowText, c.text),
        (QPalette.ColorRole.Button, c.alt),
        (QPalette.ColorRole.ButtonText, c.text),
        (QPalette.ColorRole.Highlight, c.accent),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, c.muted),
        (QPalette.ColorRole.ToolTipBase, c.base),
        (QPalette.ColorRole.ToolTipText, c.text),
    ):
        pal.setColor(role, QColor(value))
    app.setPalette(pal)
    font = QFont(app.font())
    font.setPointSizeF(10.0)
    app.setFont(font)
    app.setStyleSheet(stylesheet(c))
    return c


def stylesheet(c: Colors) -> str:
    """The application stylesheet for a set of colours."""
    return f"""
    QMainWindow, QDialog {{ background: {c.window}; }}
    QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QListWidget, QTreeWidget, QComboBox,
    QSpinBox, QDoubleSpinBox, QDateEdit {{
        background: {c.base}; border: 1px solid {c.border}; border-radius: 6px; padding: 4px 6px;
        selection-background-color: {c.accent}; }}
    QLineEdit#searchBar {{ font-size: 13pt; padding: 7px 12px; border-radius: 9px; }}
    QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus {{ border: 1px solid {c.accent}; }}
    QPushButton, QToolButton {{ background: {c.alt}; border: 1px solid {c.border}; border-radius: 6px;
        padding: 5px 10px; }}
    QPushButton:hover, QToolButton:hover {{ border-color: {c.accent}; }}
    QPushButton#primary {{ background: {c.accent}; color: white; border: none; }}
    QPushButton#danger {{ color: #d64545; }}
    QTabBar::tab {{ padding: 6px 14px; border: none; color: {c.muted}; }}
    QTabBar::tab:selected {{ color: {c.text}; border-bottom: 2px solid {c.accent}; }}
    QTabWidget::pane {{ border: none; }}
    QListWidget::item {{ padding: 4px; border-radius: 6px; }}
    QListWidget::item:selected, QTreeWidget::item:selected {{ background: {c.accent}; color: white; }}
    QLabel#muted {{ color: {c.muted}; }}
    QLabel#heading {{ font-size: 12pt; font-weight: 600; }}
    QFrame#card {{ background: {c.base}; border: 1px solid {c.border}; border-radius: 10px; }}
    QSplitter::handle {{ background: {c.window}; }}
    QStatusBar {{ color: {c.muted}; }}
    """
