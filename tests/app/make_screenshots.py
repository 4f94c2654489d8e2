"""Render the docs screenshots from a home with data (run by hand, not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" python tests/app/make_screenshots.py HOME OUTDIR
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

from app.main import application, build_window, wait_until_idle


def _grab(window, out: Path, name: str) -> None:
    wait_until_idle(window.bridge, timeout_s=90, settle_s=0.6)
    window.repaint()
    window.grab().save(str(out / f"{name}.png"))
    print("saved", out / f"{name}.png")


def main(home: Path, out: Path, day: date, query: str, question: str) -> None:
    from memory.service import MemoryService

    application()
    window = build_window(MemoryService(home))
    window.resize(1560, 960)
    window.show()
    wait_until_idle(window.bridge)
    tl = window.timeline.strip.timeline
    tl.set_day(day)
    start = datetime.combine(day, datetime.min.time()).timestamp()
    tl.zoom(10.5 * 3600 / tl.span, start + 8.5 * 3600)
    tl.pan(start + 8.5 * 3600 - tl.view_start)
    window._on_moment_selected(start + 11.3 * 3600)
    _grab(window, out, "timeline")
    window.search_bar.setText(query)
    window._on_search_text_edited(query)
    window._open_first_result = True
    window.search_view.search(query)
    wait_until_idle(window.bridge, timeout_s=90)
    _grab(window, out, "search")
    window.search_view.hide()
    _grab(window, out, "frame_viewer")
    window.chat.ask(question)
    wait_until_idle(window.bridge, timeout_s=60)
    if window.chat.turns[-1].citations:
        window._on_citation_activated(window.chat.turns[-1].citations[0])
    _grab(window, out, "chat")
    window.show_view("memory")
    window.memory_view.tree_mode.setChecked(True)
    window.memory_view.type_bar.setCurrentIndex(1)
    wait_until_idle(window.bridge)
    if window.memory_view.tree.topLevelItemCount():
        item = window.memory_view.tree.topLevelItem(0)
        window.memory_view.tree.setCurrentItem(item.child(0) if item.childCount() else item)
    _grab(window, out, "memory")
    window.show_view("settings")
    _grab(window, out, "settings")
    window.close()
    window.bridge.close()


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        date.fromisoformat(sys.argv[3]),
        sys.argv[4],
        sys.argv[5],
    )
