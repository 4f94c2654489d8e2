"""Windows window provider on ctypes (user32/kernel32), no pywin32 needed.

Untested in CI (Linux runners); it imports everywhere and refuses to construct off Windows.
Coordinates: mss makes the process DPI-aware, so ``GetWindowRect`` and mss agree on
physical pixels. Browser URLs come from titles only (UI Automation is not read).
"""

from __future__ import annotations

import ctypes
import logging
import sys
from ctypes import wintypes
from pathlib import PureWindowsPath

from capture.errors import CaptureUnavailable
from capture.records import WindowInfo
from capture.window import ActiveWindowProvider, VisibleWindow, make_info

logger = logging.getLogger(__name__)

_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_DESKTOP_SWITCHDESKTOP = 0x0100


class _LastInputInfo(ctypes.Structure):
    _fields_ = [("cbSize", wintypes.UINT), ("dwTime", wintypes.DWORD)]


class WindowsWindowProvider(ActiveWindowProvider):
    """Reads the foreground window, visible windows, idle time and lock state on Windows.

    Raises:
        CaptureUnavailable: when constructed on another platform.
    """

    name = "windows"

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise CaptureUnavailable("window", "the Windows window provider runs only on Windows")
        self._user32 = ctypes.WinDLL("user32", use_last_error=True)
        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)

    def active_window(self) -> WindowInfo:
        """Return the foreground window."""
        hwnd = self._user32.GetForegroundWindow()
        return self._info(hwnd) if hwnd else WindowInfo()

    def _info(self, hwnd: int) -> WindowInfo:
        length = self._user32.GetWindowTextLengthW(hwnd)
        buffer = ctypes.create_unicode_buffer(length + 1)
        self._user32.GetWindowTextW(hwnd, buffer, length + 1)
        pid = wintypes.DWORD()
        self._user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        return make_info(self._process_name(pid.value), buffer.value or None, pid.value or None)

    def _process_name(self, pid: int) -> str | None:
        handle = self._kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return None
        try:
            size = wintypes.DWORD(1024)
            buffer = ctypes.create_unicode_buffer(size.value)
            if not self._kernel32.QueryFullProcessImageNameW(handle, 0, buffer, ctypes.byref(size)):
                return None
            return PureWindowsPath(buffer.value).stem
        finally:
            self._kernel32.CloseHandle(handle)

    def visible_windows(self) -> list[VisibleWindow]:
        """Return visible, non-minimised top-level windows, bottom to top."""
        found: list[VisibleWindow] = []
        proc = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)

        def visit(hwnd: int, _lparam: int) -> bool:
            if self._user32.IsWindowVisible(hwnd) and not self._user32.IsIconic(hwnd):
                rect = wintypes.RECT()
                if self._user32.GetWindowRect(hwnd, ctypes.byref(rect)):
                    width, height = rect.right - rect.left, rect.bottom - rect.top
                    if width > 0 and height > 0:
                        info = self._info(hwnd)
                        found.append(VisibleWindow(hwnd, info, rect.left, rect.top, width, height))
            return True

        self._user32.EnumWindows(proc(visit), 0)
        return found[::-1]  # EnumWindows walks the Z order from the top

    def idle_seconds(self) -> float | None:
        """Seconds since the last input (``GetLastInputInfo``)."""
        info = _LastInputInfo(cbSize=ctypes.sizeof(_LastInputInfo))
        if not self._user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        return ((self._kernel32.GetTickCount() - info.dwTime) & 0xFFFFFFFF) / 1000.0

    def screen_locked(self) -> bool | None:
        """Whether the input desktop is not ours (locked or on the secure desktop)."""
        desktop = self._user32.OpenInputDesktop(0, False, _DESKTOP_SWITCHDESKTOP)
        if not desktop:
            return True
        try:
            return not self._user32.SwitchDesktop(desktop)
        finally:
            self._user32.CloseDesktop(desktop)
