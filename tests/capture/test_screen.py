"""ScreenRecorder against a real Xvfb server with real windows (mss, python-xlib)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import mss
import numpy as np
import pytest

import capture.screen as screen_mod
from capture.config import CaptureConfig, DedupConfig
from capture.errors import CaptureUnavailable
from capture.records import ScreenFrame
from capture.screen import ScreenRecorder, probe_display
from capture.window import NullWindowProvider

pytest.importorskip("Xlib", reason="python-xlib reads X11 windows")
from Xlib import X  # noqa: E402
from Xlib import display as xdisplay
from Xlib.ext import xtest  # noqa: E402,F401

FAST = dict(interval_s=0.1, idle_pause_minutes=0, pause_on_lock=False)


class Collector:
    def __init__(self) -> None:
        self.frames: list[ScreenFrame] = []
        self.lock = threading.Lock()

    def __call__(self, frame: ScreenFrame) -> None:
        with self.lock:
            self.frames.append(frame)

    def wait(self, pred: Callable[[list[ScreenFrame]], bool], timeout: float = 8.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if pred(list(self.frames)):
                    return True
            time.sleep(0.05)
        return False


def wait_until(pred: Callable[[], bool], timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def pixels(frame: ScreenFrame) -> np.ndarray:
    return np.frombuffer(frame.rgb, np.uint8).reshape(frame.height, frame.width, 3)


def focus(display: str, window_id: int) -> None:
    dpy = xdisplay.Display(display)
    window = dpy.create_resource_object("window", window_id)
    window.set_input_focus(X.RevertToParent, X.CurrentTime)
    dpy.sync()
    dpy.close()


@pytest.fixture
def recorder_factory(display: str):
    made: list[ScreenRecorder] = []

    def make(sink: Callable[[ScreenFrame], None], **overrides: object) -> ScreenRecorder:
        config = CaptureConfig(**{**FAST, **overrides})
        recorder = ScreenRecorder(config, sink)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        recorder.stop()
        assert not recorder.is_alive()


def test_records_real_pixels_and_window(display: str, x_window, recorder_factory) -> None:
    wid = x_window("Notes", "shopping list", "300x200+100+150", "#ff0000")
    focus(display, wid)
    sink = Collector()
    recorder = recorder_factory(sink)
    recorder.start()
    assert sink.wait(lambda f: len(f) >= 1)
    frame = sink.frames[0]
    assert (frame.width, frame.height, frame.monitor) == (1280, 800, 1)
    assert len(frame.rgb) == 1280 * 800 * 3 and 0 <= frame.phash < 2**64
    px = pixels(frame)
    assert tuple(px[250, 250]) == (255, 0, 0)  # inside the window, RGB order
    assert tuple(px[250, 450]) != (255, 0, 0)  # outside it
    assert frame.window.app is not None and frame.window.app.lower() == "notes"
    assert frame.window.title == "shopping list"
    assert frame.ts.tzinfo is not None and frame.changed_boxes == ((0, 0, 1280, 800),)


def test_static_screen_is_skipped_and_a_new_window_is_kept(
    display: str, x_window, recorder_factory
) -> None:
    x_window("Notes", "static", "200x200+50+50", "#00ff00")
    sink = Collector()
    recorder = recorder_factory(sink, dedup=DedupConfig(max_skip_s=0))
    recorder.start()
    assert sink.wait(lambda f: len(f) >= 1)
    assert wait_until(lambda: recorder.status().frames_skipped >= 5)
    assert len(sink.frames) == 1
    x_window("Other", "new window", "200x100+700+500", "#0000ff")
    assert sink.wait(lambda f: len(f) >= 2)
    boxes = sink.frames[1].changed_boxes
    assert boxes and all(x >= 700 - 16 and y >= 500 - 16 for x, y, _, _ in boxes)
    assert any(x <= 704 and y <= 504 and x + w >= 896 and y + h >= 596 for x, y, w, h in boxes)


def test_active_excluded_app_is_never_recorded(display: str, x_window, recorder_factory) -> None:
    wid = x_window("KeePassXC", "vault.kdbx", "400x300+0+0", "#ffff00")
    focus(display, wid)
    sink = Collector()
    recorder = recorder_factory(sink)
    recorder.start()
    assert wait_until(lambda: recorder.status().frames_private >= 3)
    assert sink.frames == [] and recorder.status().frames_kept == 0


def test_visible_excluded_window_is_blacked_out(display: str, x_window, recorder_factory) -> None:
    x_window("Bitwarden", "my vault", "300x200+500+300", "#ffffff")
    other = x_window("Editor", "notes.txt", "200x200+100+100", "#ff00ff")
    focus(display, other)
    sink = Collector()
    recorder = recorder_factory(sink)
    recorder.start()
    assert sink.wait(lambda f: len(f) >= 1)
    frame = sink.frames[0]
    assert frame.masked == ((500, 300, 300, 200),)
    px = pixels(frame)
    assert (px[300:500, 500:800] == 0).all()  # the vault is black
    assert tuple(px[150, 150]) == (255, 0, 255)  # the editor is kept


def test_pause_and_resume(display: str, x_window, recorder_factory) -> None:
    sink = Collector()
    recorder = recorder_factory(sink, dedup=DedupConfig(max_skip_s=0.05))
    recorder.pause()
    recorder.start()
    time.sleep(0.4)
    status = recorder.status()
    assert (status.state, status.reason, status.frames_kept) == ("paused", "user", 0)
    recorder.resume()
    assert sink.wait(lambda f: len(f) >= 2)
    assert recorder.status().state == "capturing"


def test_pauses_when_idle_and_resumes_on_input(display: str, recorder_factory) -> None:
    sink = Collector()
    recorder = recorder_factory(sink, idle_pause_minutes=0.01)  # 0.6 s
    recorder.start()
    assert wait_until(lambda: recorder.status().reason == "idle")
    dpy = xdisplay.Display(display)
    try:
        kept = recorder.status().frames_kept
        dpy.xtest_fake_input(X.MotionNotify, x=640, y=400)
        dpy.sync()
        assert wait_until(lambda: recorder.status().state == "capturing", timeout=3)
    finally:
        dpy.close()
    assert recorder.status().frames_kept >= kept


def test_pauses_while_the_screen_saver_is_on(display: str, recorder_factory) -> None:
    dpy = xdisplay.Display(display)
    sink = Collector()
    recorder = recorder_factory(sink, pause_on_lock=True)
    recorder.start()
    assert wait_until(lambda: recorder.status().state == "capturing")
    try:
        dpy.force_screen_saver(X.ScreenSaverActive)
        dpy.sync()
        assert wait_until(lambda: recorder.status().reason == "screen locked")
    finally:
        dpy.force_screen_saver(X.ScreenSaverReset)
        dpy.sync()
        dpy.close()
    assert wait_until(lambda: recorder.status().state == "capturing")


def test_full_queue_drops_the_newest_and_counts(display: str, recorder_factory) -> None:
    release = threading.Event()
    got: list[ScreenFrame] = []

    def slow_sink(frame: ScreenFrame) -> None:
        got.append(frame)
        release.wait(10)

    recorder = recorder_factory(slow_sink, queue_size=1, dedup=DedupConfig(max_skip_s=0.01))
    recorder.start()
    assert wait_until(lambda: recorder.status().frames_dropped >= 2)
    release.set()
    recorder.stop()
    status = recorder.status()
    assert status.state == "stopped"
    assert len(got) == status.frames_kept  # everything accepted was delivered


def test_sink_errors_are_counted_and_capture_goes_on(display: str, recorder_factory) -> None:
    def broken(frame: ScreenFrame) -> None:
        raise RuntimeError("disk on fire")

    recorder = recorder_factory(broken, dedup=DedupConfig(max_skip_s=0.01))
    recorder.start()
    assert wait_until(lambda: recorder.status().sink_errors >= 3)
    assert recorder.is_alive()


class SplitMonitors:
    """Real mss grabs, but the monitor list can be split in two halves mid-run.

    python-xlib 0.33 cannot send RandR 1.5 SetMonitor requests, and CI has no xrandr, so
    the plugged-in second monitor is simulated at the monitor-list level only.
    """

    split = False

    def __init__(self) -> None:
        self._sct = mss.MSS()

    @property
    def monitors(self) -> list[dict[str, int]]:
        real = self._sct.monitors
        if not SplitMonitors.split:
            return real
        whole = real[1]
        half = whole["width"] // 2
        left = {**whole, "width": half}
        right = {**whole, "left": whole["left"] + half, "width": whole["width"] - half}
        return [real[0], left, right]

    def grab(self, monitor: dict[str, int]):
        return self._sct.grab(monitor)

    def close(self) -> None:
        self._sct.close()

    def __enter__(self) -> SplitMonitors:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_monitor_added_and_removed_mid_run(display: str, monkeypatch) -> None:
    monkeypatch.setattr(screen_mod, "MONITOR_REFRESH_S", 0.2)
    monkeypatch.setattr(SplitMonitors, "split", False)
    sink = Collector()
    config = CaptureConfig(**FAST)
    recorder = ScreenRecorder(config, sink, mss_factory=SplitMonitors)
    recorder.start()
    try:
        assert sink.wait(lambda f: any(fr.monitor == 1 and fr.width == 1280 for fr in f))
        SplitMonitors.split = True
        assert sink.wait(lambda f: any(fr.monitor == 2 and fr.width == 640 for fr in f))
        assert sink.wait(lambda f: any(fr.monitor == 1 and fr.width == 640 for fr in f))
        assert recorder.status().monitors == 2
        count = len(sink.frames)
        SplitMonitors.split = False
        assert wait_until(lambda: recorder.status().monitors == 1)
        assert sink.wait(lambda f: any(fr.width == 1280 for fr in f[count:]))
        assert recorder.status().last_error is None
    finally:
        recorder.stop()


def test_no_display_is_a_clear_capture_unavailable(monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    recorder = ScreenRecorder(CaptureConfig(), lambda f: None, NullWindowProvider())
    with pytest.raises(CaptureUnavailable, match="no X display") as info:
        recorder.start()
    assert info.value.source == "screen" and not recorder.is_alive()


def test_unreachable_display_is_a_clear_capture_unavailable(monkeypatch) -> None:
    monkeypatch.setenv("DISPLAY", ":4242")
    with pytest.raises(CaptureUnavailable, match="cannot open display ':4242'"):
        probe_display()


def test_wayland_without_a_session_bus_is_a_clear_capture_unavailable(monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    recorder = ScreenRecorder(CaptureConfig(), lambda f: None)
    assert recorder.backend == "wayland"
    with pytest.raises(CaptureUnavailable, match="D-Bus session bus.*not set") as info:
        recorder.start()
    assert info.value.source == "screen" and not recorder.is_alive()


def test_missing_window_info_refuses_to_record_without_privacy(display: str, monkeypatch) -> None:
    monkeypatch.setenv("DISPLAY", ":4243")  # no such X server: the X11 provider cannot open it
    recorder = ScreenRecorder(CaptureConfig(backend="x11"), lambda f: None, mss_factory=_NoGrab)
    with pytest.raises(CaptureUnavailable, match="excluded apps and private windows"):
        recorder.start()


class _NoGrab:
    """An mss stand-in that reports one monitor (the probe) and is never grabbed."""

    monitors = [{}, {"left": 0, "top": 0, "width": 8, "height": 8}]

    def __enter__(self) -> _NoGrab:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_bgra_to_rgb_matches_a_channel_swap() -> None:
    from capture.screen import bgra_to_rgb

    bgra = np.random.default_rng(2).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    assert bgra_to_rgb(bgra) == np.ascontiguousarray(bgra[..., 2::-1]).tobytes()
    assert bgra_to_rgb(bgra[:, 1:]) == np.ascontiguousarray(bgra[:, 1:, 2::-1]).tobytes()
