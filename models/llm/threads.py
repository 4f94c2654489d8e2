"""How many threads an in-process model should use now, from the cores and the load average.

Two llama.cpp threads on a 2-core machine collapse when OCR or capture compete (measured here:
SmolLM2 generation fell from 33 to 2.4 tokens/s at load 6-7 with two threads; one thread kept 33),
so the count follows the one-minute load average minus this process's own recent use: the cores
other work leaves idle, at least one.
"""

from __future__ import annotations

import os
import time


def physical_cores() -> int:
    """Physical cores (logical when psutil cannot tell), at least 1."""
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
    except ImportError:  # psutil is optional; logical cores are a fair guess
        n = None
    return max(1, n or os.cpu_count() or 1)


def threads_for_load(cores: int | None = None, load: float | None = None) -> int:
    """Threads to use: the cores not busy with other work (rounded), between 1 and ``cores``."""
    cores = physical_cores() if cores is None else max(1, cores)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # not available on this platform
            load = 0.0
    return max(1, min(cores, round(cores - load)))


class LoadTracker:
    """The load other work puts on the machine: the load average less the model's own recent use.

    A model that just generated with two threads raises the load average itself; without this
    correction the next answer would drop to one thread on a quiet machine. The runtime reports the
    CPU seconds its calls used with ``note``.
    """

    def __init__(self) -> None:
        self._since = time.monotonic()
        self._cpu = 0.0

    def note(self, cpu_seconds: float) -> None:
        """The model used this much CPU time in a call."""
        self._cpu += max(0.0, cpu_seconds)

    def others(self) -> float:
        """The one-minute load average minus the cores the model used since the last call."""
        try:
            load = os.getloadavg()[0]
        except OSError:
            return 0.0
        now = time.monotonic()
        span = max(now - self._since, 60.0)  # the load average looks back about a minute
        own = self._cpu / span
        self._since, self._cpu = now, 0.0
        return max(0.0, load - own)

    def threads(self, cores: int | None = None) -> int:
        """Threads to use for the next call."""
        return threads_for_load(cores, self.others())
