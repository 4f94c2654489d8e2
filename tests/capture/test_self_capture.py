"""Engram never records its own windows: by the window's process, class or title (#13).

A real X window of this test's own process (its _NET_WM_PID is our pid, its class says nothing
about Engram) is focused on Xvfb, read back through the X11 provider, and judged by the rules the
recorder builds from the default settings.
"""

from __future__ import annotations

import os

import pytest

from capture.privacy import PrivacyRules
from capture.records import WindowInfo
from memory.pipeline.recorder import capture_config
from memory.settings import Settings


@pytest.fixture
def rules() -> PrivacyRules:
    return PrivacyRules(capture_config(Settings()))


def test_a_window_of_our_own_process_is_never_recorded(display: str, rules: PrivacyRules) -> None:
    pytest.importorskip("Xlib", reason="python-xlib makes the window")
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    from capture.window_x11 import X11WindowProvider

    dpy = xdisplay.Display(display)
    win = dpy.screen().root.create_window(10, 10, 300, 200, 0, dpy.screen().root_depth)
    win.set_wm_class("notes", "Notes")
    win.set_wm_name("Notes")
    win.change_property(dpy.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [os.getpid()])
    win.map()
    dpy.sync()
    win.set_input_focus(X.RevertToParent, X.CurrentTime)
    dpy.sync()
    provider = X11WindowProvider()
    try:
        info = provider.active_window()
    finally:
        provider.close()
        win.destroy()
        dpy.close()
    assert (info.title, info.pid) == ("Notes", os.getpid())
    assert rules.excluded(info) == "excluded process"
    assert rules.decide(info, [], (0, 0, 1280, 800)).drop


def test_engram_titles_and_class_are_excluded_and_others_kept(rules: PrivacyRules) -> None:
    other = os.getpid() + 1
    assert rules.excluded(WindowInfo(app="python3", title="Search — Engram", pid=other))
    assert rules.excluded(WindowInfo(app="python3", title="Engram", pid=other))
    assert rules.excluded(WindowInfo(app="engram", title="Timeline", pid=other))
    assert (
        rules.excluded(WindowInfo(app="gedit", title="notes on Engram design", pid=other)) is None
    )


def test_the_setting_turns_it_off() -> None:
    base = Settings()
    off = base.model_copy(
        update={"capture": base.capture.model_copy(update={"exclude_engram_windows": False})}
    )
    rules = PrivacyRules(capture_config(off))
    assert rules.excluded(WindowInfo(app="python3", title="Engram", pid=os.getpid())) is None
