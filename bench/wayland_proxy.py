"""A Wayland socket proxy that lets xdg-desktop-portal-wlr 0.7 screen-cast without a GPU.

Usage: python bench/wayland_proxy.py UPSTREAM_SOCKET PROXY_SOCKET

xdg-desktop-portal-wlr 0.7 refuses to start a screen cast unless the compositor announces a
DMA-BUF format for screencopy frames (its guard ``screencast_version >= 3 && no DMABUF
format``; upstream issue emersion/xdg-desktop-portal-wlr#289), although it then streams
shared-memory buffers perfectly well when no DMA-BUF device can be used. A compositor on the
pixman software renderer -- every machine without ``/dev/dri``: containers, CI -- announces
none, so the portal fails there. This proxy sits between the portal backend and sway,
forwards every byte and file descriptor unchanged, and after each screencopy frame's
``buffer`` event (the shared-memory format) adds the ``linux_dmabuf`` event sway would send
with a GPU, with the same format and size. The backend then passes its guard, finds no
DMA-BUF device to allocate with, and negotiates shared memory with PipeWire. Desktops with a
GPU need none of this; only the test session uses it.
"""

from __future__ import annotations

import array
import contextlib
import os
import socket
import struct
import sys
import threading

MAX_FDS = 28
SCREENCOPY = b"zwlr_screencopy_manager_v1\0"
SHM_FOURCC = {0: 0x34325241, 1: 0x34325258}  # wl_shm ARGB8888/XRGB8888 as DRM fourcc


class _Objects:
    """What one connection's two directions share: the object ids that matter here."""

    def __init__(self) -> None:
        self.registries: set[int] = set()
        self.screencopy_names: set[int] = set()
        self.managers: set[int] = set()
        self.frames: set[int] = set()
        self.lock = threading.Lock()


def _recv(sock: socket.socket) -> tuple[bytes, list[int]]:
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return data, list(fds)


def _string(buf: bytearray, at: int) -> tuple[bytes, int]:
    """A wire string at ``at``: its bytes (with the NUL) and the offset after its padding."""
    length = struct.unpack_from("<I", buf, at)[0]
    return bytes(buf[at + 4 : at + 4 + length]), at + 4 + (length + 3) // 4 * 4


class _Pump:
    """One direction of one connection: whole messages forwarded with the fds that came."""

    def __init__(self, src: socket.socket, dst: socket.socket, objs: _Objects, up: bool):
        self.src, self.dst, self.objs, self.up = src, dst, objs, up
        self.buffer = bytearray()
        self.fds: list[int] = []

    def run(self) -> None:
        try:
            while True:
                data, fds = _recv(self.src)
                if not data and not fds:
                    break
                self.buffer += data
                self.fds += fds
                self._forward()
        except OSError:
            pass
        finally:
            for sock in (self.src, self.dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _forward(self) -> None:
        out = bytearray()
        end = 0
        while len(self.buffer) - end >= 8:
            obj, word = struct.unpack_from("<II", self.buffer, end)
            size, opcode = word >> 16, word & 0xFFFF
            if size < 8 or len(self.buffer) - end < size:
                break
            out += self.buffer[end : end + size]
            with self.objs.lock:
                extra = self._inspect(obj, opcode, end)
            out += extra
            end += size
        if not out and not self.fds:
            return
        del self.buffer[:end]
        fds, self.fds = self.fds, []
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.dst.sendmsg([bytes(out)], anc)
        for fd in fds:
            os.close(fd)

    def _inspect(self, obj: int, opcode: int, at: int) -> bytes:
        if self.up:
            self._request(obj, opcode, at)
            return b""
        return self._event(obj, opcode, at)

    def _request(self, obj: int, opcode: int, at: int) -> None:
        buf, objs = self.buffer, self.objs
        if obj == 1 and opcode == 1:  # wl_display.get_registry(new_id)
            objs.registries.add(struct.unpack_from("<I", buf, at + 8)[0])
        elif obj in objs.registries and opcode == 0:  # bind(name, iface, version, id)
            name = struct.unpack_from("<I", buf, at + 8)[0]
            _iface, after = _string(buf, at + 12)
            if name in objs.screencopy_names:
                objs.managers.add(struct.unpack_from("<I", buf, after + 4)[0])
        elif obj in objs.managers and opcode in (0, 1):  # capture_output(_region)
            objs.frames.add(struct.unpack_from("<I", buf, at + 8)[0])
        elif obj in objs.frames and opcode == 1:  # frame.destroy
            objs.frames.discard(obj)

    def _event(self, obj: int, opcode: int, at: int) -> bytes:
        buf, objs = self.buffer, self.objs
        if obj == 1 and opcode == 1:  # wl_display.delete_id: the id may be reused
            objs.frames.discard(struct.unpack_from("<I", buf, at + 8)[0])
        elif obj in objs.registries and opcode == 0:  # global(name, interface, version)
            iface, _after = _string(buf, at + 12)
            if iface == SCREENCOPY:
                objs.screencopy_names.add(struct.unpack_from("<I", buf, at + 8)[0])
        elif obj in objs.frames and opcode == 0:  # buffer(format, width, height, stride)
            shm, width, height = struct.unpack_from("<III", buf, at + 8)
            fourcc = SHM_FOURCC.get(shm, shm)
            return struct.pack("<IIIII", obj, (20 << 16) | 5, fourcc, width, height)
        elif obj in objs.frames and opcode == 5:  # a real linux_dmabuf: nothing to add
            objs.frames.discard(obj)
        return b""


def _serve(client: socket.socket, upstream_path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    upstream.connect(upstream_path)
    objs = _Objects()
    for pump in (_Pump(client, upstream, objs, True), _Pump(upstream, client, objs, False)):
        threading.Thread(target=pump.run, daemon=True).start()


def main() -> int:
    """Listen on PROXY_SOCKET and serve each client against UPSTREAM_SOCKET."""
    upstream_path, proxy_path = sys.argv[1], sys.argv[2]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(proxy_path)
    server.listen(8)
    while True:
        client, _addr = server.accept()
        _serve(client, upstream_path)


if __name__ == "__main__":
    sys.exit(main())
