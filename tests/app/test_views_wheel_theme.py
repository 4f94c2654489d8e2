"""Each view renders as named, the wheel leaves unfocused inputs alone, and the theme (#13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from app import theme
from app.main import snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_each_view_renders_as_named(qtbot: Any, window: Any, tmp_path: Path) -> None:
    images = {}
    for view in ("memory", "settings", "chat", "timeline"):
        out = snapshot(window, tmp_path / f"{view}.png", view)
        assert window.current_view() == view, view
        images[view] = QImage(str(out))
    names = list(images)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert images[a] != images[b], f"{a} and {b} render the same"


def test_snapshot_view_survives_the_start_up_moment(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    # The latest moment arriving after the view was chosen must not bring the timeline back.
    window.show_view("memory")
    window.open_latest()
    qtbot.waitUntil(lambda: not window.bridge.busy(), timeout=5000)
    assert window.current_view() == "memory"
    window.show_view("chat")
    assert window.chat.input.hasFocus() or window.current_view() == "chat"
    assert window.chat.width() > window.tabs.width()


def _wheel(widget: QWidget, dy: int = -120) -> None:
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, dy),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_scrolls_settings_without_changing_an_unfocused_combo(
    qtbot: Any, window: Any
) -> None:
    window.show_view("settings")
    window.resize(1200, 600)  # short enough that the settings page scrolls
    view = window.settings_view
    qtbot.waitUntil(lambda: not window.bridge.busy(), timeout=5000)
    combo = view.editors["assistant.backend"][0]
    spin = view.editors["capture.interval_s"][0]
    window.search_bar.setFocus()
    before = (combo.currentText(), spin.value())
    bar = view.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)
    for _ in range(3):
        _wheel(combo)
        _wheel(spin)
    assert (combo.currentText(), spin.value()) == before
    assert bar.value() > 0  # the page scrolled instead
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    _wheel(combo)
    assert combo.currentText() != before[0]  # a focused input still takes the wheel


def test_the_gtk3_platform_theme_is_not_loaded() -> None:
    # Qt's GTK3 theme initialises GTK, whose GL probe maps Mesa's libLLVM into the process; the
    # LLVM inside triton (imported by torch when a model loads) then crashed with SIGSEGV.
    code = (
        "import importlib.util, sys\n"
        "from app.main import application\n"
        "app = application()\n"
        "maps = open('/proc/self/maps').read()\n"
        "assert 'libqgtk3' not in maps and 'libLLVM' not in maps, 'GTK theme loaded'\n"
        "if importlib.util.find_spec('triton') is not None:\n"
        "    import triton  # crashed here before\n"
        "print('ok', theme_dark := __import__('app.theme').theme.current().dark)\n"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QT_QPA_PLATFORMTHEME": "gtk3",
        "GTK_THEME": "Adwaita:dark",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok True" in done.stdout  # the dark GTK theme is still honoured, by our palette


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"QT_QPA_PLATFORMTHEME": "gtk3"}, "gnome"),
        ({"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, "gnome"),
        ({"XDG_CURRENT_DESKTOP": "KDE"}, None),
        ({"QT_QPA_PLATFORMTHEME": "kde", "XDG_CURRENT_DESKTOP": "GNOME"}, None),
    ],
)
def test_platform_theme_choice(env: dict[str, str], expected: str | None) -> None:
    environ = dict(env)
    assert theme.avoid_gtk_platform_theme(environ) == expected
    if expected:
        assert environ["QT_QPA_PLATFORMTHEME"] == expected


def test_theme_setting_applies_light_and_dark(qtbot: Any, window: Any) -> None:
    view = window.settings_view
    qtbot.waitUntil(lambda: bool(view._loaded), timeout=5000)
    combo = view.editors["ui.theme"][0]
    assert [combo.itemText(i) for i in range(combo.count())] == ["system", "light", "dark"]
    try:
        for choice, dark in (("dark", True), ("light", False)):
            combo.setCurrentText(choice)
            with qtbot.waitSignal(view.theme_applied, timeout=5000):
                view.save()
            assert theme.current().dark is dark
            window_colour = QApplication.instance().palette().color(QPalette.ColorRole.Window)
            assert (window_colour.lightness() < 100) is dark
            assert window.bridge.service.get_settings()["ui.theme"] == choice
    finally:
        theme.apply(QApplication.instance(), False)
