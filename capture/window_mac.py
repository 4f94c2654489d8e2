"""macOS window provider on pyobjc (AppKit, Quartz); import-guarded, untested in CI.

Window titles of other apps need the Screen Recording permission (without it
``kCGWindowName`` is empty and only app names are known). Window bounds are in points;
they are scaled by the main screen's backing factor to match mss's pixels. The URL of
Safari and Chromium-family browsers is asked through AppleScript (needs the Automation
permission), once per title change.
"""

from __future__ import annotations

import logging
import subprocess
import sys

from capture.errors import CaptureUnavailable
from capture.records import WindowInfo
from capture.window import ActiveWindowProvider, VisibleWindow, make_info

logger = logging.getLogger(__name__)

_APPLESCRIPT_URL = {
    "safari": 'tell application "Safari" to get URL of front document',
    "google chrome": 'tell application "Google Chrome" to get URL of active tab of front window',
    "brave browser": 'tell application "Brave Browser" to get URL of active tab of front window',
    "microsoft edge": 'tell application "Microsoft Edge" to get URL of active tab of front window',
    "arc": 'tell application "Arc" to get URL of active tab of front window',
}


class MacWindowProvider(ActiveWindowProvider):
    """Reads the frontmost app and on-screen windows through Quartz.

    Raises:
        CaptureUnavailable: off macOS or without pyobjc (``pip install pyobjc-framework-Quartz``).
    """

    name = "macos"

    def __init__(self) -> None:
        if sys.platform != "darwin":
            raise CaptureUnavailable("window", "the macOS window provider runs only on macOS")
        try:
            import AppKit
            import Quartz
        except ImportError as exc:
            raise CaptureUnavailable(
                "window", "pyobjc is not installed (pyobjc-framework-Quartz, -Cocoa)"
            ) from exc
        self._appkit, self._quartz = AppKit, Quartz
        self._url_cache: tuple[tuple[int | None, str | None], str | None] = ((None, None), None)

    def _windows(self) -> list[dict]:
        q = self._quartz
        options = q.kCGWindowListOptionOnScreenOnly | q.kCGWindowListExcludeDesktopElements
        listed = q.CGWindowListCopyWindowInfo(options, q.kCGNullWindowID) or []
        return [w for w in listed if w.get("kCGWindowLayer", 1) == 0]

    def active_window(self) -> WindowInfo:
        """Return the frontmost app and its frontmost window's title."""
        app = self._appkit.NSWorkspace.sharedWorkspace().frontmostApplication()
        if app is None:
            return WindowInfo()
        pid, name = int(app.processIdentifier()), str(app.localizedName())
        title = next(
            (
                str(w.get("kCGWindowName") or "") or None
                for w in self._windows()
                if w.get("kCGWindowOwnerPID") == pid
            ),
            None,
        )
        info = make_info(name, title, pid)
        if info.url is None and name.lower() in _APPLESCRIPT_URL:
            info = WindowInfo(info.app, info.title, self._url(pid, title, name), pid, info.private)
        return info

    def _url(self, pid: int, title: str | None, app: str) -> str | None:
        key = (pid, title)
        if self._url_cache[0] == key:
            return self._url_cache[1]
        try:
            done = subprocess.run(
                ["osascript", "-e", _APPLESCRIPT_URL[app.lower()]],
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            )
            url = (done.stdout.strip() or None) if done.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            url = None
        self._url_cache = (key, url)
        return url

    def visible_windows(self) -> list[VisibleWindow]:
        """Return on-screen normal windows, bottom to top, in pixels."""
        scale = float(self._appkit.NSScreen.mainScreen().backingScaleFactor())
        out = []
        for w in self._windows():
            b = w.get("kCGWindowBounds", {})
            info = make_info(
                str(w.get("kCGWindowOwnerName") or "") or None,
                str(w.get("kCGWindowName") or "") or None,
                int(w.get("kCGWindowOwnerPID", 0)) or None,
            )
            out.append(
                VisibleWindow(
                    int(w.get("kCGWindowNumber", 0)),
                    info,
                    int(b.get("X", 0) * scale),
                    int(b.get("Y", 0) * scale),
                    int(b.get("Width", 0) * scale),
                    int(b.get("Height", 0) * scale),
                )
            )
        return out[::-1]  # Quartz lists front to back

    def idle_seconds(self) -> float | None:
        """Seconds since the last HID input event."""
        q = self._quartz
        return float(
            q.CGEventSourceSecondsSinceLastEventType(
                q.kCGEventSourceStateHIDSystemState, q.kCGAnyInputEventType
            )
        )

    def screen_locked(self) -> bool | None:
        """Whether the login window reports the screen as locked."""
        session = self._quartz.CGSessionCopyCurrentDictionary()
        if session is None:
            return None
        return bool(session.get("CGSSessionScreenIsLocked", False))
