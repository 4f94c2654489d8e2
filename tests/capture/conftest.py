"""Fixtures of the capture tests: a private Xvfb server and real X windows on it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.xvfb import start_xvfb

_TK_WINDOW = """
import sys, tkinter
cls, title, geometry, colour = sys.argv[1:5]
root = tkinter.Tk(className=cls)
root.title(title)
root.geometry(geometry)
root.configure(bg=colour, cursor="none")
root.mainloop()
"""


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """Start one Xvfb (1280x800x24) for the session and return its DISPLAY name."""
    if shutil.which("Xvfb") is None:
        pytest.skip("the Xvfb binary is not installed (apt-get install xvfb)")
    proc, name = start_xvfb("1280x800x24")
    yield name
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def display(xvfb_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point DISPLAY at the session's Xvfb (and hide any Wayland session)."""
    monkeypatch.setenv("DISPLAY", xvfb_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    return xvfb_display


def _wait_for_window(display_name: str, title: str, timeout: float = 10.0) -> int:
    from Xlib import display as xdisplay

    dpy = xdisplay.Display(display_name)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for child in dpy.screen().root.query_tree().children:
                for window in [child, *child.query_tree().children]:
                    if window.get_wm_name() == title and (
                        window.get_attributes().map_state == 2  # IsViewable
                    ):
                        dpy.sync()
                        return int(window.id)
            time.sleep(0.05)
    finally:
        dpy.close()
    raise TimeoutError(f"window {title!r} did not appear")


WindowFactory = Callable[[str, str, str, str], int]


@pytest.fixture
def x_window(display: str, tmp_path: Path) -> Iterator[WindowFactory]:
    """Open real Tk windows: ``x_window(wm_class, title, "WxH+X+Y", colour) -> window id``."""
    pytest.importorskip("tkinter", reason="tkinter is needed to open a real X window")
    script = tmp_path / "tk_window.py"
    script.write_text(_TK_WINDOW)
    procs: list[subprocess.Popen[bytes]] = []

    def open_window(wm_class: str, title: str, geometry: str, colour: str) -> int:
        proc = subprocess.Popen([sys.executable, str(script), wm_class, title, geometry, colour])
        procs.append(proc)
        window_id = _wait_for_window(display, title)
        time.sleep(0.2)  # let Tk paint the background
        return window_id

    yield open_window
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(5)
