"""Window information: title/URL helpers, the X11 provider on Xvfb, platform errors."""

from __future__ import annotations

import time

import pytest

from capture.errors import CaptureUnavailable
from capture.window import default_window_provider, is_private_title, make_info, url_from_title


@pytest.mark.parametrize(
    ("title", "url"),
    [
        ("https://example.org/a?b=1 - Mozilla Firefox", "https://example.org/a?b=1"),
        ("Docs (http://localhost:8000/docs) — Chromium", "http://localhost:8000/docs"),
        ("github.com/engram/engram - Google Chrome", "https://github.com/engram/engram"),
        ("news.ycombinator.com — Mozilla Firefox", "https://news.ycombinator.com"),
        ("Budget 2024 - Google Sheets - Google Chrome", None),
        ("Version 1.2.3 - Mozilla Firefox", None),
        ("10.0.0.1 - Mozilla Firefox", None),
        (None, None),
    ],
)
def test_url_from_title(title: str | None, url: str | None) -> None:
    assert url_from_title(title) == url


def test_make_info_reads_urls_and_private_flag_only_for_browsers() -> None:
    info = make_info("firefox", "example.com — Mozilla Firefox Private Browsing", 42)
    assert (info.url, info.private, info.pid) == ("https://example.com", True, 42)
    shell = make_info("XTerm", "curl https://example.com/secret", 7)
    assert shell.url is None and not shell.private
    assert is_private_title("New Tab - Google Chrome (Incognito)")
    assert not is_private_title("Privacy policy - Mozilla Firefox")


def test_wayland_without_sway_records_app_unknown_and_says_why(monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "GNOME")
    monkeypatch.delenv("SWAYSOCK", raising=False)
    monkeypatch.delenv("I3SOCK", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    provider = default_window_provider()
    try:
        assert provider.name == "unknown" and "GNOME" in provider.reason
        assert provider.active_window().app == "unknown"
    finally:
        provider.close()


def test_sway_socket_that_does_not_answer_falls_back_to_unknown(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("SWAYSOCK", str(tmp_path / "no-such.sock"))
    provider = default_window_provider()
    assert provider.name == "unknown" and "sway" in provider.reason


def test_no_display_is_a_clear_capture_unavailable(monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(CaptureUnavailable, match="DISPLAY is not set"):
        default_window_provider()


@pytest.fixture
def x11(display: str):
    pytest.importorskip("Xlib", reason="python-xlib reads X11 windows")
    from capture.window_x11 import X11WindowProvider

    provider = X11WindowProvider()
    yield provider
    provider.close()


def _xlib(display: str):
    from Xlib import display as xdisplay

    return xdisplay.Display(display)


def test_x11_reads_the_focused_window(display: str, x_window, x11) -> None:
    from Xlib import X

    wid = x_window("Firefox", "github.com/engram - Mozilla Firefox", "320x240+40+60", "#123456")
    dpy = _xlib(display)
    dpy.create_resource_object("window", wid).set_input_focus(X.RevertToParent, X.CurrentTime)
    dpy.sync()
    info = x11.active_window()
    dpy.close()
    assert info.app.lower() == "firefox"
    assert info.title == "github.com/engram - Mozilla Firefox"
    assert info.url == "https://github.com/engram" and not info.private


def test_x11_follows_the_pointer_without_focus(display: str, x_window, x11) -> None:
    from Xlib import X

    x_window("Alpha", "alpha window", "200x200+0+0", "#ff0000")
    x_window("Beta", "beta window", "200x200+400+0", "#00ff00")
    dpy = _xlib(display)
    dpy.set_input_focus(X.PointerRoot, X.RevertToPointerRoot, X.CurrentTime)
    dpy.screen().root.warp_pointer(450, 50)
    dpy.sync()
    assert x11.active_window().title == "beta window"
    dpy.screen().root.warp_pointer(50, 50)
    dpy.sync()
    assert x11.active_window().title == "alpha window"
    dpy.close()


def test_x11_ewmh_active_window_and_stacking(display: str, x_window, x11) -> None:
    from Xlib import X, Xatom

    first = x_window("Gamma", "gamma", "100x100+10+10", "#ff0000")
    second = x_window("Delta", "delta", "150x120+300+200", "#0000ff")
    dpy = _xlib(display)
    root = dpy.screen().root
    active = dpy.intern_atom("_NET_ACTIVE_WINDOW")
    stacking = dpy.intern_atom("_NET_CLIENT_LIST_STACKING")
    root.change_property(active, Xatom.WINDOW, 32, [first])
    root.change_property(stacking, Xatom.WINDOW, 32, [second, first])
    dpy.sync()
    try:
        assert x11.active_window().title == "gamma"
        windows = x11.visible_windows()
        assert [w.info.title for w in windows] == ["delta", "gamma"]
        assert windows[0].rect == (300, 200, 150, 120)
        assert windows[1].rect == (10, 10, 100, 100)
    finally:
        root.delete_property(active)
        root.delete_property(stacking)
        dpy.sync()
        dpy.close()
        del X


def test_x11_visible_windows_without_a_window_manager(display: str, x_window, x11) -> None:
    x_window("Epsilon", "epsilon", "120x80+700+500", "#ffffff")
    windows = {w.info.title: w for w in x11.visible_windows()}
    assert windows["epsilon"].rect == (700, 500, 120, 80)
    assert windows["epsilon"].info.app.lower() == "epsilon"


def test_x11_idle_time_grows_and_resets_on_input(display: str, x11) -> None:
    from Xlib import X
    from Xlib.ext import xtest  # noqa: F401

    dpy = _xlib(display)
    dpy.xtest_fake_input(X.MotionNotify, x=10, y=10)
    dpy.sync()
    time.sleep(0.05)
    first = x11.idle_seconds()
    time.sleep(0.6)
    later = x11.idle_seconds()
    assert first is not None and later is not None and later >= first + 0.5
    dpy.xtest_fake_input(X.MotionNotify, x=20, y=20)
    dpy.sync()
    time.sleep(0.05)
    assert x11.idle_seconds() < later
    dpy.close()


def test_x11_screen_locked_follows_the_screen_saver(display: str, x11) -> None:
    from Xlib import X

    dpy = _xlib(display)
    assert x11.screen_locked() is False
    dpy.force_screen_saver(X.ScreenSaverActive)
    dpy.sync()
    try:
        assert x11.screen_locked() is True
    finally:
        dpy.force_screen_saver(X.ScreenSaverReset)
        dpy.sync()
        dpy.close()
    assert x11.screen_locked() is False


def test_x11_unreachable_display(monkeypatch) -> None:
    pytest.importorskip("Xlib", reason="python-xlib reads X11 windows")
    from capture.window_x11 import X11WindowProvider

    with pytest.raises(CaptureUnavailable, match="cannot open X display"):
        X11WindowProvider(":4243")


@pytest.mark.parametrize(
    ("module", "cls", "platform"),
    [
        ("capture.window_win", "WindowsWindowProvider", "Windows"),
        ("capture.window_mac", "MacWindowProvider", "macOS"),
    ],
)
def test_other_platform_providers_import_here_and_refuse_clearly(
    module: str, cls: str, platform: str
) -> None:
    import importlib

    provider_cls = getattr(importlib.import_module(module), cls)
    with pytest.raises(CaptureUnavailable, match=f"runs only on {platform}"):
        provider_cls()
