"""Readable search results and an explained memory browser (#13)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QStyleOptionViewItem

from app.views.memory_types import DESCRIPTIONS, EMPTY, TYPES
from app.widgets.passage import passage, query_terms
from app.widgets.result_delegate import ROW_H, THUMB, marked_html

TEXT = (
    "Activities Tue 10:42 Firefox File Edit View History Bookmarks numpy release notes "
    + "lorem ipsum " * 30
    + "numpy 2.12.3 was released with a new random API "
    + "dolor sit amet " * 30
)


def test_passage_is_the_text_around_the_match_with_its_terms() -> None:
    text, spans = passage(TEXT, query_terms("the numpy version 2.12.3"), width=120)
    assert "2.12.3" in text and text.startswith("…") and text.endswith("…")
    assert "Activities" not in text  # not the desktop's top bar at the start of every frame
    marked = {text[a:b].lower() for a, b in spans}
    assert marked >= {"numpy", "2.12.3"}
    assert len(text) <= 122


def test_passage_without_a_match_is_the_start_and_marks_nothing() -> None:
    text, spans = passage("short text", ("absent",))
    assert (text, spans) == ("short text", [])
    assert query_terms("What is the flight to Lisbon?") == ("flight", "lisbon")


def test_marked_html_escapes_and_marks() -> None:
    html = marked_html("a <b> TP1361", [(6, 12)], "#ff0")
    assert "&lt;b&gt;" in html and '#ff0; font-weight:600">TP1361</span>' in html


def _search(qtbot: Any, window: Any, text: str) -> Any:
    view = window.search_view
    window.search_bar.setText(text)
    window._on_search_text_edited(text)
    with qtbot.waitSignal(view.results_shown, timeout=5000):
        pass
    return view


def test_results_show_a_readable_thumbnail_title_app_time_and_marked_passage(
    qtbot: Any, window: Any
) -> None:
    view = _search(qtbot, window, "Lisbon gate")
    assert view.hits and view.width() >= 420  # not a ~270 px column
    hit = next(h for h in view.hits if h.sources and h.sources[0].frame_path)
    row = view.hits.index(hit)
    qtbot.waitUntil(lambda: view.thumb_for(hit) is not None, timeout=5000)
    assert view.thumb_for(hit).width() >= THUMB.width()
    delegate = view.results.itemDelegate()
    option = QStyleOptionViewItem()
    option.rect = view.results.visualItemRect(view.results.item(row))
    index = view.results.model().index(row, 0, QModelIndex())
    assert delegate.sizeHint(option, index).height() == ROW_H >= 100
    image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
    image.fill(0)
    from PySide6.QtGui import QPainter

    option.rect.moveTo(0, 0)
    painter = QPainter(image)
    delegate.paint(painter, option, index)
    painter.end()
    # The thumbnail area shows the frame: its dark window title bar (60, 64, 80) across the top.
    bar = [image.pixelColor(x, 14) for x in range(20, THUMB.width(), 10)]
    assert sum(c.lightness() < 110 for c in bar) > len(bar) // 2
    below = image.pixelColor(THUMB.width() - 20, 80)
    assert below.lightness() > 200  # the frame's light page under its title bar
    text, spans = passage(hit.text, view.terms)
    assert any(text[a:b].lower() == "lisbon" for a, b in spans)
    assert view.terms == ("lisbon", "gate")


def test_memory_browser_opens_on_a_type_with_memories_and_counts_every_tab(
    qtbot: Any, window: Any
) -> None:
    view = window.memory_view
    qtbot.waitUntil(lambda: bool(view.counts), timeout=5000)
    qtbot.waitUntil(lambda: not window.bridge.busy(), timeout=5000)
    labels = [view.type_bar.tabText(i) for i in range(view.type_bar.count())]
    assert labels == [
        "Core (0)",
        "Episodic (1)",
        "Semantic (1)",
        "Procedural (0)",
        "Resource (0)",
        "Vault (0)",
    ]
    assert view.mtype == "episodic"  # not the empty Core tab
    assert view.description.text() == DESCRIPTIONS["episodic"]
    assert view.list_stack.currentWidget() is view.tree
    item = view.tree.topLevelItem(0)
    assert "Tue 17 Feb 2026, 09:00" in item.text(0)  # a readable date with the weekday


def test_an_empty_type_says_how_memories_get_there(qtbot: Any, window: Any) -> None:
    view = window.memory_view
    with qtbot.waitSignal(view.memories_loaded, timeout=5000):
        view.type_bar.setCurrentIndex(TYPES.index("procedural"))
    assert view.list_stack.currentWidget() is view.empty
    assert view.empty.text() == EMPTY["procedural"]
    assert "Settings → Assistant" in view.empty.text()
    assert view.description.text() == DESCRIPTIONS["procedural"]
    assert all(DESCRIPTIONS[t] and EMPTY[t] for t in TYPES)


def test_memory_counts_follow_new_memories(qtbot: Any, window: Any) -> None:
    view = window.memory_view
    qtbot.waitUntil(lambda: view.counts.get("semantic") == 1, timeout=5000)
    window._status_timer.setInterval(100)
    window.bridge.service.add_memory("semantic", {"name": "Gate", "summary": "gate 12"})
    qtbot.waitUntil(lambda: view.type_bar.tabText(2) == "Semantic (2)", timeout=5000)
