"""Look: a Fusion palette (light, dark, or following the system), one stylesheet, app colours.

Engram styles itself, so it never loads Qt's GTK3 platform theme: that plugin initialises GTK, whose
GL probing maps Mesa's libLLVM into the process, and the LLVM bundled in triton (imported by torch
when a model loads) then crashes with SIGSEGV in its static initialisers (#13).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import MutableMapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

logger = logging.getLogger(__name__)
THEMES = ("system", "light", "dark")
# Desktops on which Qt picks its GTK3 platform theme when QT_QPA_PLATFORMTHEME is unset.
GTK_DESKTOPS = {
    "gnome",
    "unity",
    "x-cinnamon",
    "cinnamon",
    "mate",
    "xfce",
    "lxde",
    "budgie",
    "pantheon",
}


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


def avoid_gtk_platform_theme(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Before the QApplication exists: use Qt's GNOME theme where Qt would load its GTK3 one.

    Returns the theme name set, or None when nothing was changed. The GNOME theme still reads the
    desktop's light/dark preference (over D-Bus), without loading GTK into the process.
    """
    env = os.environ if environ is None else environ
    asked = env.get("QT_QPA_PLATFORMTHEME", "").strip().lower()
    desktops = {d.strip().lower() for d in env.get("XDG_CURRENT_DESKTOP", "").split(":")}
    if asked == "gtk3" or (not asked and desktops & GTK_DESKTOPS):
        env["QT_QPA_PLATFORMTHEME"] = "gnome"
        logger.info(
            "using Qt's gnome platform theme instead of gtk3 (GTK's LLVM clashes with torch's)"
        )
        return "gnome"
    return None


def system_is_dark(environ: MutableMapping[str, str] | None = None) -> bool:
    """Whether the platform asks for a dark scheme.

    Qt's colour-scheme hint first, then a ``GTK_THEME`` ending in ``:dark``, then the palette.
    """
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    env = os.environ if environ is None else environ
    if env.get("GTK_THEME", "").lower().endswith(":dark"):
        return True
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def is_dark(choice: str) -> bool:
    """Whether a theme choice (system, light or dark) means dark colours now."""
    if choice == "dark":
        return True
    if choice == "light":
        return False
    return system_is_dark()


def app_color(app: str | None) -> QColor:
    """A stable, pleasant colour for an app name (same name, same colour, every run)."""
    hue = zlib.crc32((app or "?").lower().encode()) % 360
    sat, light = (150, 150) if not _current.dark else (120, 120)
    return QColor.fromHsl(hue, sat, light)


def apply(app: QApplication, dark: bool | None = None) -> Colors:
    """Style the whole application (``dark=None``: follow the system); returns the colours."""
    global _current
    _current = DARK if (is_dark("system") if dark is None else dark) else LIGHT
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
    QPushButton, QToolButton {{ background: {c.alt}; border: 1px solid {c.border};
        border-radius: 6px;
        padding: 5px 10px; }}
    QPushButton:hover, QToolButton:hover {{ border-color: {c.accent}; }}
    QPushButton#primary {{ background: {c.accent}; color: white; border: none; }}
    QPushButton#danger {{ color: #d64545; }}
    QTabBar::tab {{ padding: 6px 14px; border: none; color: {c.muted}; }}
    QTabBar::tab:selected {{ color: {c.text}; border-bottom: 2px solid {c.accent}; }}
    QTabWidget::pane {{ border: none; }}
    QListWidget::item {{ padding: 4px; border-radius: 6px; }}
    QListWidget::item:selected, QTreeWidget::item:selected {{
        background: {c.accent}; color: white; }}
    QLabel#muted {{ color: {c.muted}; }}
    QLabel#heading {{ font-size: 12pt; font-weight: 600; }}
    QLabel#emptyState {{ color: {c.muted}; font-size: 11pt; background: {c.base};
        border: 1px dashed {c.border}; border-radius: 10px; }}
    QFrame#card {{ background: {c.base}; border: 1px solid {c.border}; border-radius: 10px; }}
    QSplitter::handle {{ background: {c.window}; }}
    QStatusBar {{ color: {c.muted}; }}
    """
