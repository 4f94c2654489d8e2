"""Recording on Wayland for real (#18): headless sway, PipeWire, wireplumber, the ScreenCast
portal (xdg-desktop-portal + xdg-desktop-portal-wlr) on a private D-Bus session, and a foot
terminal whose text changes. Nothing here is mocked: frames come through the portal's PipeWire
stream, the window title from sway's IPC socket.

The sessions come from ``bench/sway_session.py``; on a machine without ``/dev/dri`` it puts a
small Wayland proxy between the portal backend and sway (see ``bench/wayland_proxy.py`` and
upstream issue emersion/xdg-desktop-portal-wlr#289). ``scripts/test.sh`` installs the packages;
elsewhere these tests skip and say which packages are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.sway_session import HeadlessSway, missing_packages
from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from capture.records import ScreenFrame
from capture.screen import RecorderStatus, ScreenRecorder

ROOT = Path(__file__).resolve().parents[2]
TITLE = "deploy log"
SCRIPT = (
    'i=0; while true; do i=$((i+1)); echo "step $i deployed artifact v$i to staging"; sleep 1; done'
)

_missing = missing_packages()
pytestmark = pytest.mark.skipif(
    bool(_missing),
    reason=f"the headless Wayland session needs these Debian packages: {', '.join(_missing)}",
)


def open_terminal(session: HeadlessSway) -> None:
    """A foot terminal titled TITLE printing one line a second; returns when sway shows it."""
    session.spawn(
        "foot", ["foot", "-T", TITLE, "-f", "DejaVu Sans Mono:size=18", "sh", "-c", SCRIPT]
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if f'"name": "{TITLE}"' in session.swaymsg("-t", "get_tree"):
            time.sleep(0.5)
            return
        time.sleep(0.1)
    raise TimeoutError(f"foot did not appear: {session.log('foot')[-1000:]}")


@pytest.fixture(scope="module")
def sway() -> Iterator[HeadlessSway]:
    with HeadlessSway() as session:
        open_terminal(session)
        yield session


@pytest.fixture
def wayland_env(sway: HeadlessSway, monkeypatch: pytest.MonkeyPatch) -> HeadlessSway:
    """This process's environment pointed at the module's session (no X display)."""
    monkeypatch.delenv("DISPLAY", raising=False)
    for key, value in sway.env.items():
        monkeypatch.setenv(key, value)
    return sway


class Collect:
    """A sink that keeps frames and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.frames: list[ScreenFrame] = []
        self._cond = threading.Condition()

    def __call__(self, frame: object) -> None:
        assert isinstance(frame, ScreenFrame)
        with self._cond:
            self.frames.append(frame)
            self._cond.notify_all()

    def wait(self, check: Callable[[list[ScreenFrame]], bool], timeout: float = 30) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: check(self.frames), timeout)


def config(tmp_path: Path, **extra: object) -> CaptureConfig:
    values: dict[str, object] = {
        "interval_s": 0.5,
        "idle_pause_minutes": 0,
        "portal_token_path": tmp_path / "home" / "screencast-token",
    }
    return CaptureConfig.model_validate(values | extra)


def record(recorder: ScreenRecorder, seconds: float) -> RecorderStatus:
    """Run a recorder for ``seconds``; its status just before it stopped."""
    recorder.start()
    try:
        time.sleep(seconds)
        return recorder.status()
    finally:
        recorder.stop()


def test_records_through_the_portal_with_the_title_from_sway(
    wayland_env: HeadlessSway, tmp_path: Path
) -> None:
    sink = Collect()
    recorder = ScreenRecorder(config(tmp_path), sink)
    assert recorder.backend == "wayland"
    status = record(recorder, 10)
    assert status.backend == "wayland" and status.window_provider == "sway"
    assert status.last_error is None, status.last_error
    # a line a second, a frame every half second: the ticks in between see the same screen
    assert status.frames_kept >= 4, status
    assert status.frames_skipped >= 4, status
    frame = sink.frames[0]
    assert (frame.width, frame.height, frame.monitor) == (1280, 720, 1)
    assert len(frame.rgb) == 1280 * 720 * 3 and len(set(frame.rgb[:30000])) > 1  # real pixels
    assert frame.window.app == "foot" and frame.window.title == TITLE
    assert frame.window.pid is not None
    token = tmp_path / "home" / "screencast-token"
    assert token.read_text().strip()
    assert stat.S_IMODE(token.stat().st_mode) == 0o600


def test_a_restart_reuses_the_restore_token(wayland_env: HeadlessSway, tmp_path: Path) -> None:
    from capture.wayland import PortalFrameSource

    token = tmp_path / "screencast-token"
    first = PortalFrameSource(token, 1.0)
    first.close()
    assert not first.restored and token.is_file()
    saved = token.read_text()
    before = wayland_env.log("xdpw").count("restoring session from data")
    second = PortalFrameSource(token, 1.0)
    try:
        assert second.restored
        frame = second.readers[0].latest(wait_s=10)
        assert frame is not None and frame.shape == (720, 1280, 4)
    finally:
        second.close()
    assert wayland_env.log("xdpw").count("restoring session from data") == before + 1
    assert token.read_text() == saved  # the portal handed the same grant back, still 0600
    assert stat.S_IMODE(token.stat().st_mode) == 0o600


def test_excluded_app_on_wayland_is_never_recorded(
    wayland_env: HeadlessSway, tmp_path: Path
) -> None:
    sink = Collect()
    status = record(ScreenRecorder(config(tmp_path, excluded_apps=["foot"]), sink), 3)
    assert sink.frames == [] and status.frames_private >= 3, status


def _own_session(monkeypatch: pytest.MonkeyPatch, session: HeadlessSway) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    for key, value in session.env.items():
        monkeypatch.setenv(key, value)


def test_portal_refusal_is_a_clear_message_and_nothing_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with HeadlessSway(chooser="refuse") as session:
        _own_session(monkeypatch, session)
        recorder = ScreenRecorder(config(tmp_path), lambda f: None)
        with pytest.raises(
            CaptureUnavailable, match="screen sharing (was declined|was refused)"
        ) as info:
            recorder.start()
        assert info.value.source == "screen" and not recorder.is_alive()
        assert not (tmp_path / "home" / "screencast-token").exists()


@contextlib.contextmanager
def recording_own_session(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[HeadlessSway, ScreenRecorder, Collect]]:
    """A session of its own (the test breaks it), the terminal, a started recorder."""
    with HeadlessSway() as session:
        _own_session(monkeypatch, session)
        open_terminal(session)
        sink = Collect()
        recorder = ScreenRecorder(config(tmp_path), sink)
        recorder.start()
        try:
            assert sink.wait(lambda f: len(f) >= 1)
            yield session, recorder, sink
        finally:
            recorder.stop()


def test_a_session_that_ends_is_a_clear_error_and_no_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with recording_own_session(monkeypatch, tmp_path) as (session, recorder, _sink):
        session.kill("xdp")  # the portal goes: the session and its stream end with it
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and recorder.status().last_error is None:
            time.sleep(0.2)
        status = recorder.status()
        assert status.last_error is not None, status
        assert "screen-cast portal left the session bus" in status.last_error
        assert recorder.is_alive()  # no crash: it asks the portal again in 10 s
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and recorder.is_alive():
            time.sleep(0.2)
        status = recorder.status()  # asked again, the portal is not there: a clean stop
        assert not recorder.is_alive() and status.state == "stopped", status
        assert "portal" in (status.reason or ""), status


def test_a_new_resolution_restarts_the_reader_at_the_new_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with recording_own_session(monkeypatch, tmp_path) as (session, recorder, sink):
        assert sink.frames[0].width == 1280
        session.swaymsg("output", "HEADLESS-1", "mode", "1024x768")
        new = lambda f: any((fr.width, fr.height) == (1024, 768) for fr in f)  # noqa: E731
        assert sink.wait(new, timeout=40), [(fr.width, fr.height) for fr in sink.frames]
        assert recorder.is_alive()
        wide = [fr for fr in sink.frames if fr.width == 1024]
        assert all(len(fr.rgb) == 1024 * 768 * 3 for fr in wide)


def engram_cli(
    session: HeadlessSway, home: Path, *args: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``engram --home HOME ARGS`` in a child process inside the session."""
    env = dict(session.env, PYTHONPATH=str(ROOT))
    for key in ("XDG_CACHE_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if key in os.environ:
            env[key] = os.environ[key]
    argv = [sys.executable, "-m", "app.cli.main", "--home", str(home), *args]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.models
def test_engram_run_headless_records_the_wayland_screen_and_finds_it(
    wayland_env: HeadlessSway, tmp_path: Path
) -> None:
    home = tmp_path / "home"

    def engram(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return engram_cli(wayland_env, home, *args, timeout=timeout)

    run = engram(
        "run", "--headless", "--require-screen", "--duration", "8", "--interval", "2", timeout=900
    )
    assert run.returncode == 0, run.stderr[-3000:]
    status = run.stderr.strip().splitlines()[-1]
    assert "errors 0" in status and "pending 0" in status, run.stderr[-2000:]
    assert stat.S_IMODE((home / "screencast-token").stat().st_mode) == 0o600
    found = engram("search", "deployed artifact staging", "--json", "--type", "screen")
    assert found.returncode == 0, found.stderr[-2000:]
    hits = json.loads(found.stdout)
    assert hits and hits[0]["app"] == "foot" and TITLE in hits[0]["title"], hits[:1]
    assert "deployed" in hits[0]["text"].lower()
    doctor = engram("doctor", "--no-load")
    assert "Wayland, through the ScreenCast portal" in doctor.stdout, doctor.stdout[-2000:]
    assert "from sway's IPC" in doctor.stdout and "saved: recording starts" in doctor.stdout


@pytest.mark.models
def test_engram_run_require_screen_exits_4_when_the_portal_refuses(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with HeadlessSway(chooser="refuse") as session:
        run = engram_cli(
            session, home, "run", "--headless", "--require-screen", "--duration", "5", timeout=600
        )
    assert run.returncode == 4, run.stderr[-3000:]
    assert "screen capture unavailable: screen sharing" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert not (home / "screencast-token").exists()


class ScreenSaverService:
    """A real ``org.freedesktop.ScreenSaver`` on the session's bus (as KDE or Xfce run it),
    answering ``GetActive`` and ``GetSessionIdleTime`` from its attributes."""

    def __init__(self) -> None:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        self.active, self.idle_s = False, 0
        self.conn = open_dbus_connection(bus="SESSION")
        self.conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.ScreenSaver"))
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_method_return

        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            if msg.header.message_type != MessageType.method_call:
                continue
            if member == "GetActive":
                self.conn.send(new_method_return(msg, "b", (self.active,)))
            elif member == "GetSessionIdleTime":
                self.conn.send(new_method_return(msg, "u", (self.idle_s,)))

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.conn.close()


def _wait_state(recorder: ScreenRecorder, state: str, reason: str | None) -> RecorderStatus:
    deadline = time.monotonic() + 10
    status = recorder.status()
    while time.monotonic() < deadline and (status.state, status.reason) != (state, reason):
        time.sleep(0.1)
        status = recorder.status()
    return status


def test_pauses_while_the_screen_saver_service_says_locked_or_idle(
    wayland_env: HeadlessSway, tmp_path: Path
) -> None:
    saver = ScreenSaverService()
    recorder = ScreenRecorder(config(tmp_path, idle_pause_minutes=1), Collect())
    try:
        recorder.start()
        assert _wait_state(recorder, "capturing", None).state == "capturing"
        saver.active = True
        assert _wait_state(recorder, "paused", "screen locked").reason == "screen locked"
        saver.active, saver.idle_s = False, 120
        assert _wait_state(recorder, "paused", "idle").reason == "idle"
        saver.idle_s = 0
        assert _wait_state(recorder, "capturing", None).state == "capturing"
        assert recorder._provider.state.sources == {"locked": "fdo-saver", "idle": "fdo-idle"}
    finally:
        recorder.stop()
        saver.close()
