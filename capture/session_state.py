"""Is the screen locked, how long has the user been idle: asked of the desktop over D-Bus.

Wayland gives no app the input timestamps X11's screen-saver extension does, so on Wayland
these come from services: ``org.freedesktop.ScreenSaver`` on the session bus (KDE, Xfce,
LXQt and others: ``GetActive``, ``GetSessionIdleTime``), GNOME's ``org.gnome.ScreenSaver`` and
Mutter's idle monitor, then logind's session (``LockedHint``, ``IdleHint``) on the system
bus. Each is asked at the capture tick (one cheap call); a service that is not there is not
asked again. Every answer is ``None`` when no service tells.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

logger = logging.getLogger(__name__)

TIMEOUT_S = 1.0
FDO_SAVER = DBusAddress(
    "/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver", "org.freedesktop.ScreenSaver"
)
GNOME_SAVER = DBusAddress(
    "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "org.gnome.ScreenSaver"
)
MUTTER_IDLE = DBusAddress(
    "/org/gnome/Mutter/IdleMonitor/Core",
    "org.gnome.Mutter.IdleMonitor",
    "org.gnome.Mutter.IdleMonitor",
)
LOGIND_SESSION = DBusAddress(
    "/org/freedesktop/login1/session/auto",
    "org.freedesktop.login1",
    "org.freedesktop.DBus.Properties",
)


class SessionState:
    """Lock and idle state from whichever desktop services answer (thread-safe enough: one
    caller, the capture thread)."""

    def __init__(
        self,
        session_bus: Callable[[], DBusConnection] | None = None,
        system_bus: Callable[[], DBusConnection] | None = None,
    ) -> None:
        self._open = {
            "session": session_bus or (lambda: open_dbus_connection(bus="SESSION")),
            "system": system_bus or (lambda: open_dbus_connection(bus="SYSTEM")),
        }
        self._conns: dict[str, DBusConnection | None] = {}
        self._dead: set[str] = set()
        self.sources: dict[str, str] = {}
        """Which service answered for ``locked`` and ``idle`` (for doctor)."""

    def _call(
        self,
        key: str,
        bus: str,
        address: DBusAddress,
        method: str,
        sig: str = "",
        body: tuple[object, ...] = (),
    ) -> object | None:
        """One method call's first value, or ``None`` (and never again) if it fails."""
        if key in self._dead:
            return None
        conn = self._conns.get(bus)
        if bus not in self._conns:
            try:
                conn = self._open[bus]()
            except (OSError, KeyError, ValueError) as exc:
                logger.debug("no %s bus: %s", bus, exc)
                conn = None
            self._conns[bus] = conn
        if conn is None:
            self._dead.add(key)
            return None
        try:
            reply = conn.send_and_get_reply(
                new_method_call(address, method, sig, body), timeout=TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            logger.debug("%s: %s", key, exc)
            self._dead.add(key)
            return None
        if reply.header.message_type == MessageType.error or not reply.body:
            self._dead.add(key)
            return None
        value: object = reply.body[0]
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            value = value[1]  # a variant (Properties.Get)
        return value

    def screen_locked(self) -> bool | None:
        """Whether the screen is locked or the screen saver runs; ``None`` if nobody tells."""
        for key, bus, addr, method, sig, body in (
            ("fdo-saver", "session", FDO_SAVER, "GetActive", "", ()),
            ("gnome-saver", "session", GNOME_SAVER, "GetActive", "", ()),
            ("logind-lock", "system", LOGIND_SESSION, "Get", "ss",
             ("org.freedesktop.login1.Session", "LockedHint")),
        ):  # fmt: skip
            value = self._call(key, bus, addr, method, sig, body)
            if value is not None:
                self.sources["locked"] = key
                return bool(value)
        return None

    def idle_seconds(self) -> float | None:
        """Seconds since the last input; ``None`` if no service tells."""
        value = self._call("fdo-idle", "session", FDO_SAVER, "GetSessionIdleTime")
        if value is not None:
            self.sources["idle"] = "fdo-idle"
            return float(value)  # type: ignore[arg-type]
        value = self._call("mutter-idle", "session", MUTTER_IDLE, "GetIdletime")
        if value is not None:
            self.sources["idle"] = "mutter-idle"
            return float(value) / 1000.0  # type: ignore[arg-type]
        hint = self._call(
            "logind-idle", "system", LOGIND_SESSION, "Get", "ss",
            ("org.freedesktop.login1.Session", "IdleSinceHintMonotonic"),
        )  # fmt: skip
        if isinstance(hint, int) and hint > 0:
            self.sources["idle"] = "logind-idle"
            return max(0.0, time.monotonic() - hint / 1e6)
        return None

    def close(self) -> None:
        """Close the bus connections."""
        for conn in self._conns.values():
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
        self._conns.clear()
