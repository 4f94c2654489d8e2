"""A private Xvfb server for the benchmarks and the capture tests."""

from __future__ import annotations

import os
import subprocess


def start_xvfb(screen: str = "1920x1080x24") -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a free display (``-noreset``: it outlives its clients); returns
    (process, DISPLAY).

    Raises:
        RuntimeError: Xvfb did not report a display number.
    """
    read_fd, write_fd = os.pipe()
    argv = ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen]
    proc = subprocess.Popen(
        [*argv, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not report a display number")
    return proc, f":{number}"
