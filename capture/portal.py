"""The ScreenCast desktop portal (``org.freedesktop.portal.ScreenCast``) over D-Bus, with jeepney.

Wayland lets no app read the screen by itself: it asks xdg-desktop-portal, which asks the
user once (GNOME, KDE and wlroots compositors each bring a backend) and hands back PipeWire
streams, one per monitor the user chose, and a file descriptor to reach them. With
``persist_mode`` 2 the portal also returns a *restore token*: given to the next session, it
brings the same monitors back without asking again. The token is kept in the home with
mode 0600 (:class:`TokenFile`); the portal replaces it at every start, so the new one is
saved each time.

The session lives as long as the D-Bus connection that made it: :class:`ScreenCastSession`
keeps it open until :meth:`ScreenCastSession.close`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jeepney import DBusAddress, HeaderFields, MatchRule, Message, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.io.common import FilterHandle

from capture.errors import CaptureUnavailable, StreamEnded

logger = logging.getLogger(__name__)

PORTAL = DBusAddress(
    "/org/freedesktop/portal/desktop",
    bus_name="org.freedesktop.portal.Desktop",
    interface="org.freedesktop.portal.ScreenCast",
)
SOURCE_MONITOR = 1
CURSOR_HIDDEN = 1
PERSIST_UNTIL_REVOKED = 2
RESPONSES = {
    1: "was declined (the desktop's dialog was cancelled)",
    2: "was refused: the portal ended the request (the desktop refused or could not share)",
}
#: How long the user has to answer the portal's dialog.
ANSWER_TIMEOUT_S = 300.0
CALL_TIMEOUT_S = 20.0


class PortalRefused(CaptureUnavailable):
    """The portal (or the user through it) refused to share the screen."""

    def __init__(self, reason: str) -> None:
        super().__init__("screen", reason)


@dataclass(frozen=True, slots=True)
class Stream:
    """One PipeWire stream the portal opened: a monitor, where it sits and how big it is."""

    node_id: int
    position: tuple[int, int] | None
    size: tuple[int, int] | None


class TokenFile:
    """The portal's restore token, private to the user (0600 in a 0700 folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str | None:
        """The saved token, or ``None``."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return text or None

    def write(self, token: str) -> None:
        """Replace the token atomically, never readable by others."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        """Forget the token (the next start asks the user again)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _variant(value: object) -> object:
    """The Python value of a jeepney ``(signature, value)`` variant."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return value[1]
    return value


def _pair(value: object) -> tuple[int, int] | None:
    value = _variant(value)
    if isinstance(value, tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    return None


class ScreenCastSession:
    """One portal screen-cast session: ask (or restore), then hand out the PipeWire fd.

    Args:
        token_file: where the restore token lives; ``None`` keeps nothing (asks every time).
        connect: opens the D-Bus session bus (tests may point it elsewhere).

    Raises:
        CaptureUnavailable: no session bus, or no ScreenCast portal on it.
        PortalRefused: the user or the portal declined.
    """

    def __init__(
        self,
        token_file: TokenFile | None,
        connect: Callable[[], DBusConnection] | None = None,
    ) -> None:
        self.token_file = token_file
        self.restored = False
        """Whether a saved restore token was offered (the portal then asks no question)."""
        self.new_token: str | None = None
        """The token the portal returned at start (saved in ``token_file``)."""
        self.streams: list[Stream] = []
        self._closed = threading.Event()
        self._end_reason: str | None = None
        self._filters: list[FilterHandle] = []
        try:
            self._conn = (connect or _session_bus)()
        except (OSError, KeyError, ValueError) as exc:
            raise CaptureUnavailable(
                "screen", f"cannot reach the D-Bus session bus for the screen-cast portal: {exc}"
            ) from exc
        self._sender = (self._conn.unique_name or "").lstrip(":").replace(".", "_")
        self._session: str | None = None
        try:
            self.version = self._portal_version()
            self._start()
        except BaseException:
            self.close()
            raise

    # -- the portal's requests ------------------------------------------------------------

    def _portal_version(self) -> int:
        return _version(self._conn)

    def _request(
        self, method: str, signature: str, args: tuple[object, ...], timeout: float
    ) -> dict[str, object]:
        """Call a portal method that answers with a Request's ``Response`` signal."""
        token = "engram_" + secrets.token_hex(8)
        path = f"/org/freedesktop/portal/desktop/request/{self._sender}/{token}"
        rule = MatchRule(
            type="signal",
            interface="org.freedesktop.portal.Request",
            member="Response",
            path=path,
        )
        self._conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
        try:
            with self._conn.filter(rule) as answers:
                options = dict(args[-1])  # type: ignore[call-overload]
                options["handle_token"] = ("s", token)
                msg = new_method_call(PORTAL, method, signature, (*args[:-1], options))
                reply = self._conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT_S)
                if reply.header.message_type == MessageType.error:
                    raise PortalRefused(f"the portal refused {method}: {_error_text(reply)}")
                try:
                    signal = self._conn.recv_until_filtered(answers, timeout=timeout)
                except TimeoutError as exc:
                    raise PortalRefused(
                        f"no answer to the screen-sharing request in {timeout:.0f} s"
                    ) from exc
        finally:
            with contextlib.suppress(Exception):
                self._conn.send_and_get_reply(message_bus.RemoveMatch(rule), timeout=CALL_TIMEOUT_S)
        code, results = signal.body
        if code != 0:
            what = RESPONSES.get(int(code), f"failed (portal response {code})")
            raise PortalRefused(f"screen sharing {what}, at {method}")
        return {k: _variant(v) for k, v in results.items()}

    def _start(self) -> None:
        session_token = "engram_" + secrets.token_hex(8)
        created = self._request(
            "CreateSession",
            "a{sv}",
            ({"session_handle_token": ("s", session_token)},),
            CALL_TIMEOUT_S,
        )
        self._session = str(created["session_handle"])
        self._watch_closed()
        options: dict[str, tuple[str, object]] = {
            "types": ("u", SOURCE_MONITOR),
            "multiple": ("b", True),
        }
        if self._supports("AvailableCursorModes", CURSOR_HIDDEN):
            options["cursor_mode"] = ("u", CURSOR_HIDDEN)
        saved = self.token_file.read() if self.token_file is not None else None
        if self.version >= 4:
            options["persist_mode"] = ("u", PERSIST_UNTIL_REVOKED)
            if saved:
                options["restore_token"] = ("s", saved)
        self._request("SelectSources", "oa{sv}", (self._session, options), CALL_TIMEOUT_S)
        started = self._request("Start", "osa{sv}", (self._session, "", {}), ANSWER_TIMEOUT_S)
        token = started.get("restore_token")
        if isinstance(token, str) and token:
            self.new_token = token
            if self.token_file is not None:
                self.token_file.write(token)
        self.restored = saved is not None and "restore_token" in options
        streams = started.get("streams") or []
        for node_id, props in streams:  # type: ignore[attr-defined]
            self.streams.append(
                Stream(int(node_id), _pair(props.get("position")), _pair(props.get("size")))
            )
        if not self.streams:
            raise PortalRefused("the portal shared no monitor")
        logger.info(
            "screen-cast portal v%d: %d stream(s) %s",
            self.version,
            len(self.streams),
            "restored from the saved token" if self.restored else "granted",
        )

    def _supports(self, prop: str, bit: int) -> bool:
        msg = new_method_call(
            DBusAddress(PORTAL.object_path, PORTAL.bus_name, "org.freedesktop.DBus.Properties"),
            "Get",
            "ss",
            (PORTAL.interface, prop),
        )
        reply = self._conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT_S)
        if reply.header.message_type == MessageType.error:
            return False
        return bool(int(_variant(reply.body[0])) & bit)  # type: ignore[call-overload]

    def _watch_closed(self) -> None:
        """Listen for the end of the session: its ``Closed`` signal, or the portal leaving
        the bus (both are kept by a filter and read by :meth:`closed`)."""
        closed = MatchRule(
            type="signal",
            interface="org.freedesktop.portal.Session",
            member="Closed",
            path=self._session,
        )
        gone = MatchRule(
            type="signal",
            sender="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
            member="NameOwnerChanged",
            path="/org/freedesktop/DBus",
        )
        gone.add_arg_condition(0, PORTAL.bus_name)
        self._ends: deque[Message] = deque(maxlen=8)
        for rule in (closed, gone):
            self._conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT_S)
            self._filters.append(self._conn.filter(rule, queue=self._ends))

    # -- use ------------------------------------------------------------------------------

    def open_pipewire_remote(self) -> int:
        """A new file descriptor connected to PipeWire, limited to this session's streams.

        The caller owns (and closes) it.
        """
        msg = new_method_call(PORTAL, "OpenPipeWireRemote", "oa{sv}", (self._session, {}))
        reply = self._conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT_S)
        if reply.header.message_type == MessageType.error:
            raise StreamEnded(f"the portal gave no PipeWire connection: {_error_text(reply)}")
        return int(reply.body[0].to_raw_fd())

    def closed(self) -> str | None:
        """Why the session ended (the user stopped sharing, the portal went away), or
        ``None`` while it lasts. Reads what the bus sent since the last call, never waits."""
        if self._end_reason is not None:
            return self._end_reason
        with contextlib.suppress(TimeoutError):
            while True:
                self._conn.recv_messages(timeout=0)
        for msg in self._ends:
            if msg.header.fields.get(HeaderFields.member) == "Closed":
                self._end_reason = "the portal closed the screen-cast session (sharing stopped)"
            elif len(msg.body) == 3 and not msg.body[2]:
                self._end_reason = "the screen-cast portal left the session bus"
        return self._end_reason

    def close(self) -> None:
        """End the portal session and the D-Bus connection."""
        if self._session is not None and not self._closed.is_set():
            msg = new_method_call(
                DBusAddress(self._session, PORTAL.bus_name, "org.freedesktop.portal.Session"),
                "Close",
            )
            with contextlib.suppress(Exception):
                self._conn.send_and_get_reply(msg, timeout=2)
        self._closed.set()
        for handle in self._filters:
            handle.close()
        with contextlib.suppress(Exception):
            self._conn.close()


def portal_version(connect: Callable[[], DBusConnection] | None = None) -> int:
    """The ScreenCast portal's version on the session bus (asks the user nothing).

    Raises:
        CaptureUnavailable: no session bus, or no ScreenCast portal on it.
    """
    try:
        conn = (connect or _session_bus)()
    except (OSError, KeyError, ValueError) as exc:
        raise CaptureUnavailable(
            "screen", f"cannot reach the D-Bus session bus for the screen-cast portal: {exc}"
        ) from exc
    try:
        return _version(conn)
    finally:
        conn.close()


def _version(conn: DBusConnection) -> int:
    msg = new_method_call(
        DBusAddress(PORTAL.object_path, PORTAL.bus_name, "org.freedesktop.DBus.Properties"),
        "Get",
        "ss",
        (PORTAL.interface, "version"),
    )
    try:
        reply = conn.send_and_get_reply(msg, timeout=CALL_TIMEOUT_S)
    except TimeoutError as exc:
        raise CaptureUnavailable("screen", "the screen-cast portal does not answer") from exc
    if reply.header.message_type == MessageType.error:
        raise CaptureUnavailable(
            "screen",
            "no screen-cast portal on this desktop (xdg-desktop-portal with a backend for "
            f"the compositor: -gnome, -kde or -wlr): {_error_text(reply)}",
        )
    version: object = _variant(reply.body[0])
    return int(version) if isinstance(version, int) else 0


def _session_bus() -> DBusConnection:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise ValueError("DBUS_SESSION_BUS_ADDRESS is not set (no desktop session here)")
    return open_dbus_connection(bus="SESSION", enable_fds=True)


def _error_text(reply: Message) -> str:
    name = reply.header.fields.get(HeaderFields.error_name, "error")
    detail = reply.body[0] if reply.body else ""
    return f"{name}: {detail}" if detail else str(name)
