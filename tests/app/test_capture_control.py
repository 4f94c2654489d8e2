"""CaptureControl, the tray and the settings view reach the service's recorder hooks (off GUI)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.bridge import CoreBridge
from app.widgets.capture_control import CaptureControl
from memory.settings import Settings, flatten


class FakeService:
    """Records capture hook calls and the thread each ran on; keeps settings in a dict."""

    def __init__(self, state: str = "capturing") -> None:
        self.settings: dict[str, Any] = flatten(Settings())
        self.state = state
        self.start_state = "capturing"  # what start_capture finds (e.g. "unavailable": no display)
        self.calls: list[tuple[str, str]] = []
        self.saved: list[dict[str, Any]] = []

    def _hook(self, name: str, state: str | None = None) -> dict[str, Any]:
        self.calls.append((name, threading.current_thread().name))
        if state is not None:
            self.state = state
        return self.capture_status(record=False)

    def get_settings(self) -> dict[str, Any]:
        return dict(self.settings)

    def set_settings(self, values: dict[str, Any]) -> None:
        self.saved.append(dict(values))
        self.settings.update(values)

    def start_capture(self) -> dict[str, Any]:
        return self._hook("start_capture", self.start_state)

    def pause_capture(self) -> dict[str, Any]:
        return self._hook("pause_capture", "paused")

    def resume_capture(self) -> dict[str, Any]:
        return self._hook("resume_capture", "capturing" if self.state != "stopped" else None)

    def restart_capture(self) -> dict[str, Any]:
        return self._hook("restart_capture")

    def capture_status(self, record: bool = True) -> dict[str, Any]:
        reason = {"paused": "user", "unavailable": "no X display"}.get(self.state)
        return {"state": self.state, "reason": reason}

    def nearest_observation(self, ts: float, kinds: tuple[str, ...] = ()) -> None:
        return None

    def close(self) -> None:
        pass


@pytest.fixture
def control(qtbot: Any) -> Any:
    service = FakeService()
    bridge = CoreBridge(service)
    capture = CaptureControl(bridge)
    qtbot.waitUntil(lambda: capture.state == "capturing", timeout=5000)
    yield capture, service
    bridge.close()


def _names(service: FakeService) -> list[str]:
    return [name for name, _thread in service.calls]


def test_pause_and_resume_reach_the_service_hooks_off_the_gui_thread(
    qtbot: Any, control: Any
) -> None:
    capture, service = control
    with qtbot.waitSignal(capture.state_changed, timeout=5000) as paused:
        capture.toggle()
    assert paused.args == ["paused"] and capture.reason == "user"
    assert _names(service) == ["pause_capture"] and service.settings["capture.enabled"] is False
    with qtbot.waitSignal(capture.state_changed, timeout=5000) as resumed:
        capture.toggle()
    assert resumed.args == ["capturing"] and service.settings["capture.enabled"] is True
    assert _names(service) == ["pause_capture", "resume_capture"]
    assert all(thread != threading.main_thread().name for _name, thread in service.calls)


def test_start_honours_the_setting_and_shows_unavailable(qtbot: Any, control: Any) -> None:
    capture, service = control
    service.settings["capture.enabled"] = False
    capture.start()
    qtbot.waitUntil(lambda: capture.state == "paused", timeout=5000)
    assert "start_capture" not in _names(service)
    service.settings["capture.enabled"] = True
    service.start_state = "unavailable"
    capture.start()
    qtbot.waitUntil(lambda: capture.state == "unavailable", timeout=5000)
    assert _names(service) == ["start_capture"]
    assert capture.reason == "no X display" and "no X display" in capture.tooltip


def test_tray_pause_action_calls_the_hook(qtbot: Any, control: Any) -> None:
    from PySide6.QtWidgets import QWidget

    from app.widgets.tray import Tray

    capture, service = control
    window = QWidget()
    qtbot.addWidget(window)
    tray = Tray(window.windowIcon(), window, capture)
    tray.pause_action.trigger()
    qtbot.waitUntil(lambda: capture.state == "paused", timeout=5000)
    assert _names(service) == ["pause_capture"]
    assert tray.pause_action.text() == "Resume capture" and "user" in tray.status_action.text()


def test_the_settings_view_saves_only_what_changed(qtbot: Any, control: Any) -> None:
    from app.views.settings_view import SettingsView

    capture, service = control
    view = SettingsView(capture._bridge, capture)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: bool(view._loaded), timeout=5000)
    with qtbot.waitSignal(view.settings_saved, timeout=5000):
        view.save()
    assert service.saved == [{}]
    view.editors["capture.interval_s"][0].setValue(5.0)
    with qtbot.waitSignal(view.settings_saved, timeout=5000):
        view.save()
    assert service.saved[-1] == {"capture.interval_s": 5.0}
    # the core applies it to a running recorder itself (tests/app/test_settings_live.py)
    assert "restart_capture" not in _names(service)


def test_resume_starts_a_recorder_the_app_launched_with_capture_off(
    qtbot: Any, control: Any
) -> None:
    capture, service = control
    service.settings["capture.enabled"] = False
    service.state = "stopped"
    capture.start()
    qtbot.waitUntil(lambda: capture.state == "paused", timeout=5000)
    capture.set_paused(False)
    qtbot.waitUntil(lambda: capture.state == "capturing", timeout=5000)
    assert _names(service) == ["resume_capture", "start_capture"]


@pytest.mark.parametrize("sway", [False, True])
def test_settings_say_which_rules_cannot_apply_on_wayland(
    qtbot: Any, control: Any, monkeypatch: pytest.MonkeyPatch, sway: bool
) -> None:
    from PySide6.QtWidgets import QLabel

    from app.views.settings_view import SettingsView

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("I3SOCK", raising=False)
    if sway:
        monkeypatch.setenv("SWAYSOCK", "/run/user/1000/sway-ipc.sock")
    else:
        monkeypatch.delenv("SWAYSOCK", raising=False)
    capture, _service = control
    view = SettingsView(capture._bridge, capture)
    qtbot.addWidget(view)
    notes = [w.text() for w in view.findChildren(QLabel) if "cannot apply" in w.text()]
    assert bool(notes) is not sway
    assert all('"unknown"' in n for n in notes)
