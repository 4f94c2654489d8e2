"""A setting saved in the app's Settings view reaches the running recorder at once (#10)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.bridge import CoreBridge
from app.views.settings_view import SettingsView
from app.widgets.capture_control import CaptureControl
from tests.memory.test_capture_service import _service, _wait, xvfb  # noqa: F401 (fixture)


def test_excluding_an_app_in_settings_stops_the_running_recorder_keeping_it(
    qtbot: Any,
    tmp_path: Path,
    xvfb: str,  # noqa: F811
) -> None:
    svc = _service(tmp_path / "home")  # the "ledger" Tk window is the active window on Xvfb
    bridge = CoreBridge(svc)
    try:
        capture = CaptureControl(bridge)
        view = SettingsView(bridge, capture)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: bool(view._loaded), timeout=10_000)
        assert svc.start_capture()["state"] == "capturing"
        assert _wait(lambda: svc.capture_status()["frames_kept"] >= 2), svc.capture_status()

        apps = view.editors["capture.excluded_apps"][0]
        apps.setText(apps.text() + ", ledger")
        with qtbot.waitSignal(view.settings_saved, timeout=10_000):
            view.save()
        time.sleep(1.0)  # a tick in flight when the rule changed may still deliver its frame
        kept = svc.capture_status()["frames_kept"]
        private = svc.capture_status()["frames_private"]
        time.sleep(2.5)  # five intervals of a window that changes every 300 ms
        status = svc.capture_status()
        assert status["state"] == "capturing", status
        assert status["frames_kept"] == kept and status["frames_private"] > private, status
        assert "ledger" in svc.settings.current.capture.excluded_apps  # saved to config.toml too

        view.editors["capture.enabled"][0].setChecked(False)  # the screen switch, live as well
        with qtbot.waitSignal(view.settings_saved, timeout=10_000):
            view.save()
        assert svc.capture_status()["state"] == "paused"
    finally:
        bridge.close()
