"""X11 window provider on python-xlib: active window, visible windows, idle time, lock state.

Works with an EWMH window manager (``_NET_ACTIVE_WINDOW``, ``_NET_CLIENT_LIST_STACKING``)
and without one (input focus, or the window under the pointer when focus follows it,
and the root window's children). Idle time comes from the MIT-SCREEN-SAVER extension;
"locked" is best effort: the screen saver is on, DPMS has blanked the monitor, or a
known screen locker has a mapped window.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from capture.errors import CaptureUnavailable
from capture.records import WindowInfo
from capture.window import ActiveWindowProvider, VisibleWindow, make_info

try:
    from Xlib import X, Xatom, display, error
    from Xlib.ext import dpms, screensaver
except ImportError:  # pragma: no cover - exercised only where python-xlib is absent
    display = None

logger = logging.getLogger(__name__)

LOCKERS = frozenset(
    {
        "i3lock",
        "slock",
        "xsecurelock",
        "xscreensaver",
        "light-locker",
        "xlock",
        "gnome-screensaver",
        "mate-screensaver",
        "cinnamon-screensaver",
        "kscreenlocker_greet",
        "xfce4-screensaver",
        "swaylock",
        "betterlockscreen",
    }
)


class X11WindowProvider(ActiveWindowProvider):
    """Reads windows from an X server; one connection, guarded by a lock (thread-safe).

    Args:
        display_name: X display to open; defaults to ``$DISPLAY``.

    Raises:
        CaptureUnavailable: python-xlib is missing or the display cannot be opened.
    """

    name = "x11"

    def __init__(self, display_name: str | None = None) -> None:
        if display is None:
            raise CaptureUnavailable("window", "python-xlib is not installed")
        name = display_name or os.environ.get("DISPLAY")
        try:
            self._dpy = display.Display(name)
        except (error.DisplayError, error.XError, OSError, ValueError) as exc:
            raise CaptureUnavailable("window", f"cannot open X display {name!r}: {exc}") from exc
        self._root = self._dpy.screen().root
        self._lock = threading.Lock()
        self._atoms = {
            n: self._dpy.intern_atom(n)
            for n in (
                "_NET_ACTIVE_WINDOW",
                "_NET_CLIENT_LIST_STACKING",
                "_NET_WM_NAME",
                "_NET_WM_PID",
                "UTF8_STRING",
                "_NET_WM_STATE",
                "_NET_WM_STATE_HIDDEN",
            )
        }
        self._has_ss = self._dpy.has_extension("MIT-SCREEN-SAVER")
        self._has_dpms = self._dpy.has_extension("DPMS")

    def close(self) -> None:
        """Close the X connection."""
        with self._lock:
            self._dpy.close()

    # -- active window -------------------------------------------------------------------

    def active_window(self) -> WindowInfo:
        """Return the active top-level window (empty ``WindowInfo`` when none)."""
        with self._lock:
            try:
                window = self._active_client()
                return self._info(window) if window is not None else WindowInfo()
            except error.XError as exc:  # the window vanished between calls
                logger.debug("active window query failed: %s", exc)
                return WindowInfo()

    def _active_client(self) -> object | None:
        prop = self._root.get_full_property(self._atoms["_NET_ACTIVE_WINDOW"], X.AnyPropertyType)
        if prop is not None and len(prop.value) and prop.value[0]:
            return self._dpy.create_resource_object("window", int(prop.value[0]))
        focus = self._dpy.get_input_focus().focus
        if isinstance(focus, int) or focus == self._root:
            # PointerRoot focus (no window manager): keys go to the window under the pointer.
            focus = self._root.query_pointer().child
            if isinstance(focus, int) or not focus:
                return None
        return self._client_of(focus)

    def _client_of(self, window: object) -> object | None:
        """Walk up (then one level down) to the window that carries WM_CLASS."""
        current = window
        while current and current != self._root:
            if current.get_wm_class() is not None:
                return current
            parent = current.query_tree().parent
            if not parent or parent == self._root:
                break
            current = parent
        for child in current.query_tree().children if current else ():
            if child.get_wm_class() is not None:
                return child
        return None

    def _info(self, window: object) -> WindowInfo:
        wm_class = window.get_wm_class()
        title = self._title(window)
        pid = self._pid(window)
        app = wm_class[1] if wm_class and wm_class[1] else (wm_class[0] if wm_class else None)
        if app is None and pid is not None:
            app = _process_name(pid)
        return make_info(app, title, pid)

    def _title(self, window: object) -> str | None:
        prop = window.get_full_property(self._atoms["_NET_WM_NAME"], self._atoms["UTF8_STRING"])
        if prop is not None and prop.value:
            value = prop.value
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        name = window.get_wm_name()
        if isinstance(name, bytes):
            return name.decode("latin-1")
        return name or None

    def _pid(self, window: object) -> int | None:
        prop = window.get_full_property(self._atoms["_NET_WM_PID"], Xatom.CARDINAL)
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    # -- visible windows -----------------------------------------------------------------

    def visible_windows(self) -> list[VisibleWindow]:
        """Return mapped top-level windows with their root coordinates, bottom to top."""
        with self._lock:
            out = []
            for window in self._stacking():
                try:
                    visible = self._visible(window)
                except error.XError:
                    continue  # closed while we looked
                if visible is not None:
                    out.append(visible)
            return out

    def _stacking(self) -> list[object]:
        prop = self._root.get_full_property(
            self._atoms["_NET_CLIENT_LIST_STACKING"], X.AnyPropertyType
        )
        if prop is not None and len(prop.value):
            return [self._dpy.create_resource_object("window", int(w)) for w in prop.value]
        clients = []
        for child in self._root.query_tree().children:
            if child.get_attributes().map_state != X.IsViewable:
                continue
            client = self._client_of(child)
            if client is not None:
                clients.append(client)
        return clients

    def _visible(self, window: object) -> VisibleWindow | None:
        if window.get_attributes().map_state != X.IsViewable:
            return None
        geometry = window.get_geometry()
        origin = window.translate_coords(self._root, 0, 0)
        return VisibleWindow(
            window_id=int(window.id),
            info=self._info(window),
            x=-int(origin.x),
            y=-int(origin.y),
            width=int(geometry.width),
            height=int(geometry.height),
        )

    # -- idle and lock -------------------------------------------------------------------

    def idle_seconds(self) -> float | None:
        """Seconds since the last input, from MIT-SCREEN-SAVER (``None`` without it)."""
        if not self._has_ss:
            return None
        with self._lock:
            return self._root.screensaver_query_info().idle / 1000.0

    def screen_locked(self) -> bool | None:
        """Whether the screen saver runs, DPMS blanked the monitor or a locker is mapped."""
        with self._lock:
            if self._has_ss:
                if self._root.screensaver_query_info().state == screensaver.StateOn:
                    return True
            if self._has_dpms:
                info = self._dpy.dpms_info()
                if info.state and info.power_level != dpms.DPMSModeOn:
                    return True
        windows = self.visible_windows()
        return any((w.info.app or "").lower() in LOCKERS for w in windows)


def _process_name(pid: int) -> str | None:
    """Return ``/proc/<pid>/comm`` where it exists (Linux)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() or None
    except OSError:
        return None
