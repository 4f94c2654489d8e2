"""Which window is active, which windows are visible where, and whether the user is away.

``ActiveWindowProvider`` is the one interface the recorders use; each platform has an
implementation behind it (X11 in ``window_x11``, Windows in ``window_win``, macOS in
``window_mac``, sway on Wayland in ``window_sway``), picked by :func:`default_window_provider`.

Browser URLs are best effort. No browser publishes its address bar to other apps on X11,
so the URL is read from the window title where the title carries one (a page titled with
its address, or extensions such as "URL in title"); macOS asks Safari and Chromium-family
browsers through AppleScript. Accessibility trees (AT-SPI, UI Automation) are not read.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass

from capture.errors import CaptureUnavailable
from capture.records import WindowInfo

logger = logging.getLogger(__name__)

BROWSERS = frozenset(
    {
        "firefox",
        "firefox-esr",
        "navigator",
        "librewolf",
        "waterfox",
        "tor browser",
        "google-chrome",
        "google chrome",
        "chromium",
        "chromium-browser",
        "brave-browser",
        "brave browser",
        "microsoft-edge",
        "microsoft edge",
        "msedge",
        "vivaldi",
        "vivaldi-stable",
        "opera",
        "safari",
        "epiphany",
        "org.gnome.epiphany",
        "qutebrowser",
        "falkon",
        "midori",
        "chrome",
        "brave",
        "arc",
    }
)
_PRIVATE_TITLE = re.compile(
    r"private browsing|\(incognito\)|\bincognito\b|\binprivate\b|\bprivate window\b", re.I
)
_URL = re.compile(r"\b(?:https?|file)://[^\s<>\"'|]+", re.I)
_HOST = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,24}(?::\d{1,5})?(?:/\S*)?$", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[-\u2013\u2014|:]\s+")


@dataclass(frozen=True, slots=True)
class VisibleWindow:
    """A mapped top-level window and its rectangle in virtual-screen coordinates."""

    window_id: int
    info: WindowInfo
    x: int
    y: int
    width: int
    height: int

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """(x, y, width, height) in virtual-screen pixels (mss's coordinate space)."""
        return (self.x, self.y, self.width, self.height)


class ActiveWindowProvider:
    """Reads the active window and the desktop's state; the base class knows nothing.

    Implementations must be safe to call from the capture thread; methods return ``None``
    where the platform cannot tell (never guess).
    """

    name = "none"

    def active_window(self) -> WindowInfo:
        """Return the active window (an empty ``WindowInfo`` when unknown)."""
        return WindowInfo()

    def visible_windows(self) -> list[VisibleWindow]:
        """Return mapped top-level windows, bottom to top in stacking order."""
        return []

    def idle_seconds(self) -> float | None:
        """Seconds since the last keyboard or mouse input, or ``None`` if unknown."""
        return None

    def screen_locked(self) -> bool | None:
        """Whether the screen is locked or blanked, or ``None`` if unknown."""
        return None

    def close(self) -> None:
        """Release any connection to the window system."""


class NullWindowProvider(ActiveWindowProvider):
    """Used where window information is unavailable; the recorder reports it in status()."""

    def __init__(self, reason: str = "no window information on this platform") -> None:
        self.reason = reason


def is_browser(app: str | None) -> bool:
    """Whether ``app`` (a WM class or process name) is a known web browser."""
    if not app:
        return False
    name = app.lower().removesuffix(".exe")
    return name in BROWSERS


def url_from_title(title: str | None) -> str | None:
    """Return a URL a browser window title carries, if any (best effort).

    Finds a full ``http(s)://`` or ``file://`` URL anywhere, or a bare host name
    (``example.com/path``) as one of the title's `` - ``-separated parts.
    """
    if not title:
        return None
    match = _URL.search(title)
    if match:
        return match.group(0).rstrip(".,;)")
    for part in _TITLE_SEPARATORS.split(title):
        part = part.strip()
        if _HOST.match(part) and not part.replace(".", "").isdigit():
            return "https://" + part
    return None


def is_private_title(title: str | None) -> bool:
    """Whether a title marks a private/incognito browser window."""
    return bool(title and _PRIVATE_TITLE.search(title))


def make_info(app: str | None, title: str | None, pid: int | None) -> WindowInfo:
    """Build a ``WindowInfo``, adding the URL and private flag for browsers."""
    browser = is_browser(app)
    url = url_from_title(title) if browser else None
    private = browser and is_private_title(title)
    return WindowInfo(app=app, title=title, url=url, pid=pid, private=private)


def _linux_session() -> str:
    """Return ``"wayland"``, ``"x11"`` or ``"none"`` from the environment."""
    if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        # XWayland sets DISPLAY too, but it only sees X clients: titles of native
        # Wayland windows and their geometry are invisible to it.
        return "wayland"
    return "x11" if os.environ.get("DISPLAY") else "none"


class UnknownWindowProvider(ActiveWindowProvider):
    """A Wayland desktop that tells no app the active window: every frame's app is "unknown".

    Excluded apps and title patterns cannot apply there; the frame's text still passes the
    store's redaction. Lock and idle come from the session's D-Bus services.
    """

    name = "unknown"

    def __init__(self, reason: str) -> None:
        from capture.session_state import SessionState

        self.reason = reason
        self.state = SessionState()

    def active_window(self) -> WindowInfo:
        """Always app "unknown" (no title, no URL)."""
        return WindowInfo(app="unknown")

    def idle_seconds(self) -> float | None:
        """From the session's screen saver service or logind, when they tell."""
        return self.state.idle_seconds()

    def screen_locked(self) -> bool | None:
        """From the session's screen saver service or logind, when they tell."""
        return self.state.screen_locked()

    def close(self) -> None:
        """Close the D-Bus connections."""
        self.state.close()


def session_kind() -> str:
    """``"wayland"``, ``"x11"`` or ``"none"`` on Linux (which recorder this session needs)."""
    return _linux_session()


def wayland_window_provider() -> ActiveWindowProvider:
    """The active-window source of this Wayland desktop: sway's IPC where it runs, else
    :class:`UnknownWindowProvider` (GNOME and KDE tell no app the active window without an
    extension or a KWin script, which Engram does not install)."""
    if os.environ.get("SWAYSOCK") or os.environ.get("I3SOCK"):
        from capture.window_sway import SwayWindowProvider

        try:
            return SwayWindowProvider()
        except CaptureUnavailable as exc:
            return UnknownWindowProvider(exc.reason)
    desktop = os.environ.get("XDG_CURRENT_DESKTOP") or "this desktop"
    return UnknownWindowProvider(
        f"{desktop} tells no app which window is active on Wayland (only sway's IPC does)"
    )


def default_window_provider() -> ActiveWindowProvider:
    """Return the window provider for this platform.

    Raises:
        CaptureUnavailable: with no X display, or when the platform's bindings are missing.
    """
    if sys.platform == "win32":
        from capture.window_win import WindowsWindowProvider

        return WindowsWindowProvider()
    if sys.platform == "darwin":
        from capture.window_mac import MacWindowProvider

        return MacWindowProvider()
    session = _linux_session()
    if session == "wayland":
        return wayland_window_provider()
    if session == "none":
        raise CaptureUnavailable("window", "no X display (DISPLAY is not set)")
    from capture.window_x11 import X11WindowProvider

    return X11WindowProvider()
