"""Helpers shared by the CLI commands: the service, time options, JSON and progress output."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from memory.errors import BadQuery
from memory.timeutil import parse_ts


def get_service(args: argparse.Namespace) -> Any:
    """Open (once per process) the MemoryService of ``--home``; imported lazily for fast --help."""
    cached = getattr(args, "_service", None)
    if cached is None:
        from memory.paths import default_home
        from memory.service import MemoryService

        home = args.home or default_home()
        cached = MemoryService(home)
        args._service = cached
    return cached


def parse_time_arg(value: str | None) -> float | None:
    """An ISO 8601 option value as unix seconds.

    Raises:
        BadQuery: not a timestamp.
    """
    return None if value is None else parse_ts(value)


def parse_now(value: str | None) -> datetime | None:
    """The ``--now`` option as an aware datetime (naive means local)."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadQuery(f"--now is not an ISO 8601 timestamp: {value!r}") from exc
    return dt.astimezone()


def print_json(obj: Any) -> None:
    """Print one JSON document."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


class ProgressBar:
    """A one-line progress bar on stderr (silent when stderr is not a terminal, unless forced)."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        pct = int(100 * done / total)
        if pct == self._last:
            return
        self._last = pct
        bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
