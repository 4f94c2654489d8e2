"""The timeline as a daily user meets it (#13): it opens on the latest moment, "+" zooms around the
selection, the filmstrip follows the zoom, hover previews, the full-size viewer, one date on screen,
and status counts that follow capture."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication

from memory.store import NewObservation
from memory.timeline import Bucket, Summary, filmstrip_slots
from tests.app.seed import DAY


def _latest_ts(window: Any) -> float:
    return window.bridge.service.nearest_observation(DAY.replace(hour=23).timestamp()).ts_start


def _open(qtbot: Any, window: Any, obs_id: int) -> Any:
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as shown:
        window.open_moment(obs_id)
    qtbot.waitUntil(lambda: not window.bridge.busy(), timeout=5000)
    return shown.args[0]


def test_opens_on_the_latest_moment_with_the_strip_drawn(qtbot: Any, window: Any) -> None:
    strip = window.timeline.strip
    # No "Today" press: the strip shows the latest day's data and the viewer its latest moment.
    assert strip.summary is not None and strip.summary.total > 0
    assert strip.timeline.day == DAY.date()
    assert window.viewer.obs is not None and window.viewer.obs.ts_start == _latest_ts(window)
    assert strip.current_ts == window.viewer.obs.ts_start
    # Fitted to the captured part of the day (09:00-13:02), not the whole 24 hours.
    assert strip.timeline.span < 6 * 3600
    assert strip.timeline.view_start <= DAY.replace(hour=9).timestamp()
    assert strip.timeline.view_end >= strip.current_ts
    assert window.timeline.filmstrip.slots and any(window.timeline.filmstrip.slots)


def test_a_summary_asked_for_before_the_start_up_jump_does_not_take_its_fit(
    qtbot: Any, window: Any
) -> None:
    """Under load the first summary (of today, empty) can arrive after start-up has jumped to the
    latest day: it must not use up the fit (the CI run of stop 21 opened on the whole day)."""
    strip = window.timeline.strip
    strip.timeline.set_day((DAY + timedelta(days=30)).date())  # an empty day
    qtbot.waitUntil(lambda: strip.settled() and not window.bridge.busy(), timeout=5000)
    strip._on_reload_due()  # a summary of the empty day is on its way ...
    strip.focus_on(_latest_ts(window))  # ... when the start-up jump comes
    qtbot.waitUntil(lambda: strip.settled() and not window.bridge.busy(), timeout=5000)
    assert strip.timeline.day == DAY.date()
    assert strip.timeline.span < 6 * 3600, "fitted to the captured part of the day"


def test_plus_zooms_around_the_selected_moment(qtbot: Any, window: Any) -> None:
    strip = window.timeline.strip
    strip.timeline.set_day(DAY.date())  # the whole day: noon is the middle
    obs = _open(qtbot, window, window.ids["screens"][5])  # 09:05
    frac = strip.timeline.to_frac(obs.ts_start)
    window.timeline.zoom_in_b.click()
    tl = strip.timeline
    assert tl.span == 12 * 3600
    assert tl.view_start <= obs.ts_start < tl.view_end
    assert abs(tl.to_frac(obs.ts_start) - frac) < 1e-6  # the selection stays where it was


def test_plus_without_a_visible_selection_zooms_around_the_data(qtbot: Any, window: Any) -> None:
    strip = window.timeline.strip
    strip.current_ts = None
    with qtbot.waitSignal(strip.summary_loaded, timeout=5000):
        strip.timeline.set_day(DAY.date())
    for _ in range(3):
        window.timeline.zoom_in_b.click()
    tl = strip.timeline
    assert tl.span == 3 * 3600
    # The screens run 09:00-09:24 and the chat 13:00-13:02: the middle of the data is 09:xx,
    # so the zoomed view covers the morning's moments, not 10:30-13:30 around noon.
    assert tl.view_start <= DAY.replace(hour=9, minute=10).timestamp() < tl.view_end


def test_filmstrip_slots_pick_the_moment_nearest_each_slot() -> None:
    buckets = tuple(Bucket(float(t), float(t + 10), "A", 1, t, None) for t in (0, 10, 55, 90))
    summary = Summary(0.0, 100.0, 10.0, buckets)
    slots = filmstrip_slots(summary, 0.0, 100.0, 4)
    assert [b.rep_id if b else None for b in slots] == [
        10,
        None,
        55,
        90,
    ]  # 25-50 holds no moment: a gap
    assert filmstrip_slots(summary, 20.0, 50.0, 3) == [None, None, None]


def test_filmstrip_follows_the_zoom_and_opens_what_is_clicked(qtbot: Any, window: Any) -> None:
    strip, film = window.timeline.strip, window.timeline.filmstrip
    start = DAY.replace(hour=9).timestamp()
    with qtbot.waitSignal(strip.summary_loaded, timeout=5000):
        strip.timeline.zoom(600 / strip.timeline.span, start + 300)
        strip.timeline.pan(start - strip.timeline.view_start)
    assert film.tile_count() >= 4
    shown = [b for b in film.slots if b is not None]
    assert len(shown) == film.tile_count()  # one frame a minute: every slot has one
    assert all(start <= b.start < start + 600 for b in shown)
    assert len({b.rep_id for b in shown}) >= film.tile_count() - 1
    qtbot.waitUntil(lambda: film.thumbs.get(shown[2].rep_id) is not None, timeout=5000)
    rect = film.tile_rect(2)
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as opened:
        qtbot.mouseClick(film, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert opened.args[0].id == shown[2].rep_id


def test_hovering_a_tile_previews_it(qtbot: Any, window: Any) -> None:
    strip, film = window.timeline.strip, window.timeline.filmstrip
    start = DAY.replace(hour=9).timestamp()
    with qtbot.waitSignal(strip.summary_loaded, timeout=5000):
        strip.timeline.zoom(600 / strip.timeline.span, start + 300)
    bucket = film.slots[1]
    assert bucket is not None
    qtbot.waitUntil(lambda: film.thumbs.get(bucket.rep_id) is not None, timeout=5000)
    pos = QPointF(film.tile_rect(1).center())
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        pos,
        film.mapToGlobal(pos),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(film, move)
    card = film._popup
    assert card.isVisible()
    assert card.image.pixmap().width() >= 320  # a readable preview, not a 96 px icon
    assert bucket.app in card.caption.text()


def test_clicking_the_preview_opens_the_full_size_viewer(qtbot: Any, window: Any) -> None:
    obs = _open(qtbot, window, window.ids["screens"][0])
    image = window.viewer.image
    with qtbot.waitSignal(window.viewer.full_size_requested, timeout=5000):
        qtbot.mouseClick(image, Qt.MouseButton.LeftButton, pos=image.rect().center())
    dialog = window.frame_dialog
    qtbot.waitUntil(lambda: dialog.obs is not None and dialog.obs.id == obs.id, timeout=5000)
    assert dialog.isVisible()
    assert dialog.view.item.pixmap().size().toTuple() == (480, 270)  # the stored frame, unscaled
    fitted = dialog.view.scale_factor
    dialog.zoom_in()
    assert dialog.view.scale_factor > fitted
    dialog.view.horizontalScrollBar().setValue(40)  # panning moves the picture
    dialog.copy_text()
    assert QGuiApplication.clipboard().text() == obs.text
    dialog.close()


def test_moving_to_another_day_never_leaves_the_old_moment_beside_it(
    qtbot: Any, window: Any
) -> None:
    _open(qtbot, window, window.ids["screens"][0])
    panel = window.timeline
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000, raising=False):
        panel.go_to_day(DAY.date() + timedelta(days=1))  # nothing captured on 18 Feb
    qtbot.waitUntil(lambda: window.viewer.obs is None, timeout=5000)
    assert "Nothing captured on Wednesday 18 February 2026" in window.viewer.meta.text()
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=5000) as shown:
        panel.go_to_day(DAY.date())
    assert shown.args[0].ts_start == _latest_ts(window)  # that day's latest moment
    assert panel.strip.timeline.day == DAY.date()


def test_status_counts_follow_capture_without_a_change_signal(qtbot: Any, window: Any) -> None:
    service = window.bridge.service
    qtbot.waitUntil(lambda: "27 moments" in window.statusBar().currentMessage(), timeout=5000)
    window._status_timer.setInterval(100)
    ts = DAY.replace(hour=15).timestamp()
    service.store.add_observations(  # as the recorder does: no Changes reaches the GUI
        [NewObservation(kind="screen", ts_start=ts + i, text=f"new {i}") for i in range(5)]
    )
    qtbot.waitUntil(lambda: "32 moments" in window.statusBar().currentMessage(), timeout=5000)


def test_wheel_over_the_filmstrip_zooms_the_strip(qtbot: Any, window: Any) -> None:
    strip, film = window.timeline.strip, window.timeline.filmstrip
    before = strip.timeline.span
    from PySide6.QtGui import QWheelEvent

    pos = QPointF(film.width() / 2, film.height() / 2)
    event = QWheelEvent(
        pos,
        film.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(film, event)
    assert strip.timeline.span < before
