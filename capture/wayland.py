"""Screen frames on Wayland: the ScreenCast portal's PipeWire streams read through GStreamer.

Each stream the portal opened (one per monitor the user chose) is read by a
``gst-launch-1.0`` child: ``pipewiresrc`` on the portal's PipeWire file descriptor, rate-capped
to what the capture interval needs, converted to BGRx and written raw to a pipe. A reader
thread keeps only the newest frame; the recorder takes it at each tick, so the same dedup,
privacy rules and sink apply as on X11. The frame size comes from the caps gst-launch prints;
a change of size (a new resolution) restarts the child.

Why a child process and not PyGObject: the venv's Python is not Debian's, so python3-gi does
not apply, and building PyGObject from PyPI needs the GObject-introspection and cairo headers
and a compiler on every user's machine. ``gst-launch-1.0`` (gstreamer1.0-tools) and the
``pipewiresrc`` plugin (gstreamer1.0-pipewire) are the distribution's maintained packages;
a crash in them cannot take Engram down, and the cost is one pipe copy per kept frame.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from capture.errors import CaptureUnavailable, StreamEnded
from capture.portal import ScreenCastSession, Stream, TokenFile

logger = logging.getLogger(__name__)

GST_LAUNCH = "gst-launch-1.0"
FIRST_FRAME_S = 10.0
"""How long to wait for a first frame when the portal did not say the monitor's size."""
_CAPS = re.compile(r"GstFdSink:.*caps = video/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)")
_SOURCE_CAPS = re.compile(
    r"GstPipeWireSrc:.*src: caps = video/x-raw.*?width=\(int\)(\d+), height=\(int\)(\d+)"
)


def wayland_missing() -> str | None:
    """What this machine lacks to read portal streams (``None`` when nothing)."""
    if shutil.which(GST_LAUNCH) is None:
        return "gst-launch-1.0 is not installed (apt-get install gstreamer1.0-tools)"
    probe = subprocess.run(
        ["gst-inspect-1.0", "pipewiresrc"], capture_output=True, check=False, timeout=20
    )
    if probe.returncode != 0:
        return "GStreamer's pipewiresrc is not installed (apt-get install gstreamer1.0-pipewire)"
    return None


class StreamReader:
    """One portal stream read by a ``gst-launch-1.0`` child; :meth:`latest` is the newest frame.

    Args:
        session: the portal session (gives a fresh PipeWire fd per start).
        stream: which stream.
        max_rate: frames per second the child passes on (at least 1).
    """

    def __init__(self, session: ScreenCastSession, stream: Stream, max_rate: int) -> None:
        self.session, self.stream, self.max_rate = session, stream, max(1, max_rate)
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self._size_changed = threading.Event()
        self._proc: subprocess.Popen[str] | None = None
        self._ended: str | None = None
        self._gen = 0
        """Which child the reader threads belong to: a restarted one's old threads only stop."""
        self.frames_read = 0
        self._new_size: tuple[int, int] | None = None
        self._start(stream.size)

    def _start(self, size: tuple[int, int] | None) -> None:
        """Start a child; with ``size`` its output is scaled to exactly that size, so a frame
        is always ``width * height * 4`` bytes even while the source changes resolution (the
        change is seen in the source's caps and the child restarted at the new size)."""
        fd = self.session.open_pipewire_remote()
        read_end, write_end = os.pipe()
        scale = ["videoscale", "add-borders=false", "!"] if size else []
        fixed = f",width={size[0]},height={size[1]}" if size else ""
        line_buffered = ["stdbuf", "-oL"] if shutil.which("stdbuf") else []
        argv = [
            *line_buffered,
            GST_LAUNCH,
            "-v",
            "pipewiresrc",
            f"fd={fd}",
            f"path={self.stream.node_id}",
            "always-copy=true",
            "!",
            "videorate",
            "!",
            f"video/x-raw,framerate={self.max_rate}/1",
            "!",
            "videoconvert",
            "!",
            *scale,
            f"video/x-raw,format=BGRx{fixed}",
            "!",
            "fdsink",
            f"fd={write_end}",
            "sync=false",
        ]
        try:
            self._proc = subprocess.Popen(
                argv,
                pass_fds=(fd, write_end),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        finally:
            os.close(fd)
            os.close(write_end)
        with self._lock:
            self._gen += 1
            self._size, self._ended, self._new_size = size, None, None
        self._size_changed.clear()
        self._log: list[str] = []
        gen = self._gen
        threading.Thread(target=self._read_caps, args=(self._proc, gen), daemon=True).start()
        threading.Thread(target=self._read_frames, args=(read_end, gen), daemon=True).start()

    def _read_caps(self, proc: subprocess.Popen[str], gen: int) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            self._parse_caps(proc.stdout, gen)
        proc.wait()

    def _parse_caps(self, lines: Iterable[str], gen: int) -> None:
        for line in lines:
            source = _SOURCE_CAPS.search(line)
            sink = _CAPS.search(line)
            if source or sink:
                match = source or sink
                assert match is not None
                size = (int(match.group(1)), int(match.group(2)))
                with self._lock:
                    if gen != self._gen:
                        return
                    if self._size is None and sink:
                        self._size = size  # no size was fixed: the first negotiated one
                    elif source and self._size is not None and size != self._size:
                        self._new_size = size
                        self._size_changed.set()
            elif "ERROR" in line or "EOS" in line or "error" in line:
                self._log.append(line.strip())

    def _read_frames(self, fd: int, gen: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while True:
                size = self._wait_size()
                if size is None or gen != self._gen:
                    break
                width, height = size
                data = _read_exactly(pipe, width * height * 4)
                if data is None:
                    break
                frame = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 4)
                with self._lock:
                    if gen != self._gen:
                        return
                    self._frame = frame
                    self.frames_read += 1
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(2)
        detail = "; ".join(self._log[-3:]) or f"gst-launch exited with {proc and proc.returncode}"
        with self._lock:
            if gen == self._gen:
                self._ended = detail

    def _wait_size(self) -> tuple[int, int] | None:
        deadline = time.monotonic() + FIRST_FRAME_S
        while time.monotonic() < deadline:
            with self._lock:
                if self._size is not None:
                    return self._size
            if self._proc is not None and self._proc.poll() is not None:
                return None
            time.sleep(0.02)
        return None

    def latest(self, wait_s: float = 0.0) -> np.ndarray | None:
        """The newest frame, ``(H, W, 4)`` BGRx, or ``None`` while none came yet.

        A compositor may send nothing until something on screen changes (wlroots copies on
        damage), so a new stream over a still screen has no frame: not an error.

        Args:
            wait_s: how long to wait for a first frame.

        Raises:
            StreamEnded: the stream stopped (the child exited).
        """
        if self._size_changed.is_set() and self._new_size is not None:
            self.restart(self._new_size)  # a new resolution: start over at the new size
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                frame, ended = self._frame, self._ended
            if ended is not None:
                raise StreamEnded(f"the screen-cast stream {self.stream.node_id} ended: {ended}")
            if frame is not None or time.monotonic() >= deadline:
                return frame
            time.sleep(0.02)

    def restart(self, size: tuple[int, int] | None = None) -> None:
        """Stop the child and start a new one on the same stream (at ``size``)."""
        self.close()
        with self._lock:
            self._frame = None
        self._start(size)
        logger.info("screen-cast stream %d restarted at %s", self.stream.node_id, size)

    def close(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL)."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(3)


def _read_exactly(pipe: object, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = pipe.read(n - got)  # type: ignore[attr-defined]
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class PortalFrameSource:
    """Monitors and frames through the ScreenCast portal (one reader per shared monitor).

    Args:
        token_path: the restore token's file in the home (``None`` keeps none).
        interval_s: the capture interval (sets how many frames per second are passed on).

    Raises:
        CaptureUnavailable: no portal, GStreamer pieces missing, or the user declined.
    """

    name = "wayland"

    def __init__(self, token_path: Path | None, interval_s: float) -> None:
        missing = wayland_missing()
        if missing is not None:
            raise CaptureUnavailable("screen", missing)
        self.session = ScreenCastSession(TokenFile(token_path) if token_path else None)
        rate = max(1, math.ceil(1.0 / interval_s))
        self.readers: list[StreamReader] = []
        try:
            for stream in self.session.streams:
                self.readers.append(StreamReader(self.session, stream, rate))
        except BaseException:
            self.close()
            raise

    @property
    def restored(self) -> bool:
        """Whether the session was brought back with the saved restore token."""
        return self.session.restored

    def monitors(self) -> list[tuple[int, dict[str, int]]]:
        """The shared monitors, 1-based, with their place on the desktop where known.

        On sway a monitor whose resolution changed gets its reader restarted at the new size
        (xdg-desktop-portal-wlr renegotiates the stream, and pipewiresrc then stops
        delivering; a fresh reader gets the new frames).
        """
        self._follow_resolution()
        out = []
        for index, reader in enumerate(self.readers, 1):
            stream = reader.stream
            x, y = stream.position or (0, 0)
            width, height = stream.size or (0, 0)
            if not width:
                frame = reader.latest(FIRST_FRAME_S)
                if frame is None:
                    continue  # no size known yet: the monitor is read once it sends a frame
                height, width = frame.shape[:2]
            out.append((index, {"left": x, "top": y, "width": width, "height": height}))
        return out

    def _follow_resolution(self) -> None:
        from capture.window_sway import sway_outputs

        outputs = {(x, y): (w, h) for x, y, w, h in sway_outputs()}
        for reader in self.readers:
            stream = reader.stream
            if stream.position is None or stream.size is None:
                continue
            size = outputs.get(stream.position)
            if size is not None and size != stream.size:
                logger.info("monitor at %s is now %dx%d", stream.position, *size)
                reader.stream = dataclasses.replace(stream, size=size)
                reader.restart(size)

    def grab(self, index: int, _monitor: dict[str, int]) -> np.ndarray | None:
        """The newest frame of monitor ``index`` (BGRx); ``None`` while none came yet.

        Raises:
            StreamEnded: the portal closed the session or the stream stopped.
        """
        ended = self.session.closed()
        if ended is not None:
            raise StreamEnded(ended)
        return self.readers[index - 1].latest()

    def close(self) -> None:
        """Stop every reader and end the portal session."""
        for reader in self.readers:
            reader.close()
        self.session.close()
