"""Main window flows: search -> frame, ask -> citation -> timeline, edit/delete memory, pause."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from PySide6.QtCore import Qt

from memory.timeline import day_bounds
from tests.app.seed import DAY


def test_importing_the_app_does_not_import_torch() -> None:
    code = "import app.main, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_search_then_enter_opens_the_frame(qtbot: Any, window: Any) -> None:
    qtbot.keyClicks(window.search_bar, "TP1361 gate")
    with qtbot.waitSignal(window.search_view.results_shown, timeout=5000):
        pass  # the debounced search fired once typing stopped
    assert window.search_view.hits, "no results"
    assert window.search_view.results.count() == len(window.search_view.hits)
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as shown:
        qtbot.keyClick(window.search_bar, Qt.Key.Key_Return)
    obs = shown.args[0]
    assert "TP1361" in obs.text
    assert window.viewer._pixmap is not None and not window.viewer._pixmap.isNull()
    assert (
        "background" in window.viewer.text.toHtml() and "TP1361" in window.viewer.text.toPlainText()
    )
    assert window.timeline.strip.current_ts == obs.ts_start
    assert window.timeline.strip.timeline.day == DAY.date()


def test_arrow_keys_step_frames(qtbot: Any, window: Any) -> None:
    first = window.ids["screens"][0]
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000):
        window.open_moment(first)
    window.viewer.setFocus()
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as shown:
        qtbot.keyClick(window, Qt.Key.Key_Right)
    assert shown.args[0].id == window.ids["screens"][1]


def test_ask_streams_and_citation_opens_the_moment(qtbot: Any, window: Any) -> None:
    window.chat.ask("Which flight did I book?")
    assert window.chat.stop_b.isEnabled()
    with qtbot.waitSignal(window.chat.answer_finished, timeout=10_000) as done:
        pass
    assert done.args == [False]
    assert "TP1361 [1]" in window.chat.transcript_text()
    assert window.chat.citation_count() == 1
    qtbot.waitUntil(lambda: window.chat.session_id is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.chat.sessions.count() == 2, timeout=5000)
    target = window.ids["screens"][0]
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as shown:
        window.chat._on_anchor_clicked(_url(f"cite:{len(window.chat.turns) - 1}:1"))
    assert shown.args[0].id == target
    assert window.timeline.strip.current_ts == shown.args[0].ts_start


def test_stop_ends_a_slow_answer(qtbot: Any, window: Any) -> None:
    window.chat.backend.delay_s = 0.2
    window.chat.ask("Slow one")
    qtbot.wait(300)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=5000) as done:
        window.chat.stop()
    assert done.args == [True]
    assert "(stopped)" in window.chat.transcript_text()
    assert "TP1361" not in window.chat.turns[-1].text
    qtbot.waitUntil(lambda: window.chat.backend.closed, timeout=5000)


def test_edit_and_delete_a_memory_keep_history(qtbot: Any, window: Any) -> None:
    view, mid = window.memory_view, window.ids["semantic"]
    with qtbot.waitSignal(view.memories_loaded, timeout=5000):
        window.open_memory(mid)
    assert view.current is not None and view.current.id == mid
    view.title_edit.setText("Q3 budget (final)")
    with qtbot.waitSignal(view.memories_loaded, timeout=5000):
        view.save_current()
    service = window.bridge.service
    assert service.get_memory(mid).title == "Q3 budget (final)"
    qtbot.waitUntil(lambda: view.history.count() == 2, timeout=5000)
    with qtbot.waitSignal(view.memories_loaded, timeout=5000) as loaded:
        view.confirm_delete(ask=False)
    assert loaded.args == [0]
    ops = [e["op"] for e in service.memory_history(mid)]
    assert ops == ["insert", "update", "delete"]


def test_show_sources_opens_the_moment(qtbot: Any, window: Any) -> None:
    view = window.memory_view
    with qtbot.waitSignal(view.memories_loaded, timeout=5000):
        window.open_memory(window.ids["episode"])
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as shown:
        view.sources_b.click()
    assert shown.args[0].id == window.ids["screens"][0]


def test_pause_and_resume_capture(qtbot: Any, window: Any) -> None:
    control = window.capture
    with qtbot.waitSignal(control.state_changed, timeout=5000) as changed:
        control.set_paused(True)
    assert changed.args == ["paused"]
    assert window.bridge.service.get_settings()["capture.enabled"] is False
    with qtbot.waitSignal(control.state_changed, timeout=5000) as changed:
        control.set_paused(False)
    assert changed.args == ["stale"]  # resumed, but no recorder has written a frame lately
    assert window.bridge.service.get_settings()["capture.enabled"] is True


def test_timeline_summary_and_zoom(qtbot: Any, window: Any) -> None:
    strip = window.timeline.strip
    strip.timeline.set_day(DAY.date())
    with qtbot.waitSignal(strip.summary_loaded, timeout=5000) as loaded:
        pass
    summary = loaded.args[0]
    assert summary.total == 27  # 24 screens + 3 chat messages
    assert {b.app for b in summary.bands} >= {"Firefox", "Slack", "Code", "Terminal"}
    assert summary.gaps and summary.gaps[0].start == day_bounds(DAY.date())[0]
    assert [e.memory_id for e in summary.episodes] == [window.ids["episode"]]
    start = DAY.replace(hour=9).timestamp()
    with qtbot.waitSignal(strip.summary_loaded, timeout=5000) as loaded:
        strip.timeline.zoom(600 / strip.timeline.span, start + 300)
    assert loaded.args[0].end - loaded.args[0].start == 600
    assert loaded.args[0].bucket_s < 5


def test_settings_persist(qtbot: Any, window: Any) -> None:
    view = window.settings_view
    editor, _kind = view.editors["capture.interval_s"]
    editor.setValue(7.5)
    view.editors["capture.excluded_apps"][0].setText("Signal, KeePassXC")
    with qtbot.waitSignal(view.settings_saved, timeout=5000):
        view.save()
    stored = window.bridge.service.get_settings()
    assert stored["capture.interval_s"] == 7.5
    assert stored["capture.excluded_apps"] == ["Signal", "KeePassXC"]


def _url(text: str) -> Any:
    from PySide6.QtCore import QUrl

    return QUrl(text)
