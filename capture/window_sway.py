"""Active and visible windows on sway (and i3-compatible wlroots compositors) through its IPC.

The IPC is a unix socket (``$SWAYSOCK``) speaking the i3 protocol: a message is the magic
``i3-ipc``, a little-endian payload length and type, then JSON. ``GET_TREE`` returns every
output, workspace and window with its rectangle in desktop coordinates, which windows are
visible and which one has focus: enough for the active app and title and for blacking out
visible excluded windows, as on X11. Sway tells nothing about idleness or locking; those come
from :mod:`capture.session_state`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Iterator
from typing import cast

from capture.errors import CaptureUnavailable
from capture.records import WindowInfo
from capture.session_state import SessionState
from capture.window import ActiveWindowProvider, VisibleWindow, make_info

logger = logging.getLogger(__name__)

MAGIC = b"i3-ipc"
GET_OUTPUTS = 3
GET_TREE = 4
_HEADER = struct.Struct("<6sII")
Node = dict[str, object]


class SwayWindowProvider(ActiveWindowProvider):
    """Windows from sway's IPC socket; idle and lock from the session's D-Bus services.

    Args:
        socket_path: the IPC socket; defaults to ``$SWAYSOCK`` (or ``$I3SOCK``).

    Raises:
        CaptureUnavailable: no socket, or it does not answer.
    """

    name = "sway"

    def __init__(self, socket_path: str | None = None) -> None:
        path = socket_path or os.environ.get("SWAYSOCK") or os.environ.get("I3SOCK")
        if not path:
            raise CaptureUnavailable("window", "SWAYSOCK is not set (not a sway session)")
        self.path = path
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.state = SessionState()
        self.tree()  # fails now rather than at the first frame

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(2.0)
            try:
                sock.connect(self.path)
            except OSError as exc:
                sock.close()
                raise CaptureUnavailable(
                    "window", f"cannot reach sway's IPC socket {self.path}: {exc}"
                ) from exc
            self._sock = sock
        return self._sock

    def tree(self) -> Node:
        """Sway's whole layout tree (``swaymsg -t get_tree``)."""
        with self._lock:
            try:
                return cast(Node, _ask(self._connect(), GET_TREE))
            except (OSError, ValueError) as exc:
                self._drop()
                raise CaptureUnavailable("window", f"sway IPC failed: {exc}") from exc

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def active_window(self) -> WindowInfo:
        """The focused window (empty when none has focus or the IPC failed)."""
        try:
            tree = self.tree()
        except CaptureUnavailable as exc:
            logger.debug("%s", exc)
            return WindowInfo()
        for node in _windows(tree):
            if node.get("focused"):
                return _info(node)
        return WindowInfo()

    def visible_windows(self) -> list[VisibleWindow]:
        """Visible windows, tiled first then floating (floating ones are drawn above)."""
        try:
            tree = self.tree()
        except CaptureUnavailable:
            return []
        nodes = [n for n in _windows(tree) if n.get("visible")]
        nodes.sort(key=lambda n: n.get("type") == "floating_con")
        out = []
        for node in nodes:
            rect = cast(dict[str, int], node.get("rect") or {})
            out.append(
                VisibleWindow(
                    window_id=int(cast(int, node.get("id", 0))),
                    info=_info(node),
                    x=int(rect.get("x", 0)),
                    y=int(rect.get("y", 0)),
                    width=int(rect.get("width", 0)),
                    height=int(rect.get("height", 0)),
                )
            )
        return out

    def idle_seconds(self) -> float | None:
        """Idle time from the session's screen saver service, when it tells."""
        return self.state.idle_seconds()

    def screen_locked(self) -> bool | None:
        """Locked per the screen saver service or logind, when they tell."""
        return self.state.screen_locked()

    def close(self) -> None:
        """Close the IPC socket and the D-Bus connections."""
        with self._lock:
            self._drop()
        self.state.close()


def _ask(sock: socket.socket, kind: int) -> object:
    """One i3-IPC request on a connected socket; its decoded JSON answer."""
    sock.sendall(_HEADER.pack(MAGIC, 0, kind))
    magic, length, _kind = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    if magic != MAGIC:
        raise OSError("not an i3/sway IPC answer")
    return json.loads(_recv_exactly(sock, length))


def sway_outputs(socket_path: str | None = None) -> list[tuple[int, int, int, int]]:
    """The active outputs' (x, y, width, height) from sway's IPC; empty off sway."""
    path = socket_path or os.environ.get("SWAYSOCK")
    if not path:
        return []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(path)
            answer = _ask(sock, GET_OUTPUTS)
    except (OSError, ValueError) as exc:
        logger.debug("sway outputs: %s", exc)
        return []
    out = []
    for output in cast(list[Node], answer if isinstance(answer, list) else []):
        rect = cast(dict[str, int], output.get("rect") or {})
        if output.get("active", True) and rect:
            out.append((rect["x"], rect["y"], rect["width"], rect["height"]))
    return out


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("sway closed the IPC socket")
        data += chunk
    return bytes(data)


def _windows(node: Node) -> Iterator[Node]:
    """Every window (a node with a pid or an app id) under ``node``."""
    children = cast(list[Node], node.get("nodes") or []) + cast(
        list[Node], node.get("floating_nodes") or []
    )
    if not children and (node.get("pid") or node.get("app_id")):
        yield node
    for child in children:
        yield from _windows(child)


def _info(node: Node) -> WindowInfo:
    props = cast(dict[str, str], node.get("window_properties") or {})
    app = cast(str | None, node.get("app_id")) or props.get("class") or props.get("instance")
    pid = node.get("pid")
    return make_info(
        app, cast(str | None, node.get("name")), int(pid) if isinstance(pid, int) else None
    )
