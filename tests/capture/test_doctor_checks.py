"""`engram doctor`'s screen-capture checks on X11 and without a display (#18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.capture_checks import capture_checks


def test_x11_session_reports_mss_and_the_active_window(display: str, tmp_path: Path) -> None:
    pytest.importorskip("Xlib", reason="python-xlib reads X11 windows")
    checks = {c.name: c for c in capture_checks(tmp_path)}
    assert checks["screen"].ok and checks["screen"].detail == "X11 (mss)"
    assert checks["active window"].ok and "from X11" in checks["active window"].detail
    assert "screen-cast permission" not in checks  # a Wayland matter only
    assert checks["pause on lock and idle"].detail.startswith("lock: known")


def test_no_display_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(key, raising=False)
    (check,) = capture_checks(tmp_path)
    assert check.name == "screen" and not check.ok and "DISPLAY is not set" in check.detail
    assert check.fix


def test_wayland_without_a_portal_names_the_packages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    (check,) = capture_checks(tmp_path)
    assert check.name == "screen" and not check.ok
    assert "xdg-desktop-portal" in check.fix and "gstreamer1.0-pipewire" in check.fix
