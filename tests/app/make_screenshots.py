"""Render the docs screenshots from the real window on a home with data (run by hand, not a test).

    xvfb-run -a -s "-screen 0 1920x1080x24" python tests/app/make_screenshots.py HOME OUTDIR \
        QUERY QUESTION [DAY]

The screen is grabbed (not the widget), so popups such as the timeline's hover preview show too.
Shots: timeline (filmstrip and hover preview), search (results), frame_viewer (the full-size
viewer), chat, memory (the browser with counts and descriptions), settings.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRect, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.main import application, build_window, wait_until_idle


def _settle(window: Any, timeout_s: float = 90) -> None:
    wait_until_idle(window.bridge, timeout_s=timeout_s, settle_s=0.8)
    QApplication.processEvents()


def _grab(widget: QWidget, out: Path, name: str, rect: QRect | None = None) -> None:
    """Save what the screen shows over ``widget`` (or ``rect``), popups included."""
    QApplication.processEvents()
    area = rect or widget.frameGeometry()
    screen = QGuiApplication.primaryScreen()
    pix = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
    pix.save(str(out / f"{name}.png"))
    print("saved", out / f"{name}.png", pix.width(), "x", pix.height())


def _hover(widget: QWidget, x: float, y: float) -> None:
    pos = QPointF(x, y)
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        pos,
        widget.mapToGlobal(pos),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def shoot_timeline(window: Any, out: Path, day: date | None = None) -> None:
    film = window.timeline.filmstrip
    _settle(window)
    if day is not None:  # a busier day than the latest one
        window.timeline.go_to_day(day)
        _settle(window)
        window.timeline.strip.fit_to_data()
        _settle(window)
    filled = [i for i, b in enumerate(film.slots) if b is not None] or [0]
    k = min(filled, key=lambda i: abs(i - film.tile_count() // 2))  # a frame near the middle
    _hover(film, film.tile_rect(k).center().x(), film.tile_rect(k).center().y())
    _settle(window)
    _hover(film, film.tile_rect(k).center().x(), film.tile_rect(k).center().y())  # thumbnail loaded
    QApplication.processEvents()
    _grab(window, out, "timeline")
    film.leaveEvent(None)


def shoot_search(window: Any, out: Path, query: str) -> None:
    window.search_bar.setText(query)
    window._on_search_text_edited(query)
    window._open_first_result = True
    window.search_view.search(query)
    deadline = time.monotonic() + 300
    while window.search_view.status.text().startswith("Searching") and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    _settle(window)
    _grab(window, out, "search")


def shoot_frame_viewer(window: Any, out: Path) -> None:
    obs = window.viewer.obs
    if obs is None:
        return
    window.open_full_size(obs.id)
    dialog = window.frame_dialog
    dialog.move(window.x() + 80, window.y() + 60)
    _settle(window)
    dialog.view.zoom_to(0.9)
    QApplication.processEvents()
    _grab(dialog, out, "frame_viewer")
    dialog.close()


def shoot_chat(window: Any, out: Path, question: str) -> None:
    window.search_bar.clear()
    window.search_view.hide()
    window.show_view("chat")
    window.chat.ask(question)
    _settle(window, timeout_s=300)
    _grab(window, out, "chat")


def shoot_memory(window: Any, out: Path) -> None:
    window.show_view("memory")
    view = window.memory_view
    _settle(window)
    if view.tree.topLevelItemCount():
        view.tree.setCurrentItem(view.tree.topLevelItem(0))
    _settle(window)
    _grab(window, out, "memory")


def main(home: Path, out: Path, query: str, question: str, day: date | None = None) -> None:
    from memory.service import MemoryService

    application()
    window = build_window(MemoryService(home))
    window.resize(1600, 1000)
    window.move(0, 0)
    window.show()
    out.mkdir(parents=True, exist_ok=True)
    shoot_timeline(window, out, day)
    shoot_search(window, out, query)
    shoot_frame_viewer(window, out)
    shoot_chat(window, out, question)
    shoot_memory(window, out)
    window.show_view("settings")
    _settle(window)
    _grab(window, out, "settings")
    window.close()
    window.bridge.close()


if __name__ == "__main__":
    day = date.fromisoformat(sys.argv[5]) if len(sys.argv) > 5 else None
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], day)
