"""Helpers shared by the CLI commands: the service, time options, JSON and progress output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from memory.errors import BadQuery
from memory.timeutil import to_epoch


def get_service(args: argparse.Namespace) -> Any:
    """Open (once per process) the MemoryService of ``--home``; imported lazily for fast --help."""
    cached = getattr(args, "_service", None)
    if cached is None:
        from memory.paths import default_home
        from memory.service import MemoryService

        home = args.home or default_home()
        cached = _open_service(home, MemoryService)
        args._service = cached
    return cached


def _open_service(home: Any, make: Any) -> Any:
    """The service; an encrypted home with no passphrase at hand asks for it on a terminal."""
    from memory.atrest import keys
    from memory.errors import EngramLocked

    try:
        return make(home)
    except EngramLocked:
        if keys.is_locked(home) or not keys.is_encrypted(home) or not sys.stdin.isatty():
            raise
    from app.cli.cmd_lock import ask_passphrase

    secret = ask_passphrase()
    if secret:
        keys.unlock(home, secret)
    return make(home)


def parse_now(value: str | None) -> datetime | None:
    """The ``--now`` option as an aware datetime (None: the real now).

    Takes what every time option takes (``parse_time_option``), relative to the real now.

    Raises:
        BadQuery: not a time.
    """
    if value is None:
        return None
    return _parse(value, "--now", datetime.now().astimezone(), end=False)


def parse_time_option(
    value: str | None, option: str, now: datetime | None = None, *, end: bool = False
) -> float | None:
    """A time option (``--since``, ``--until``, ...) as unix seconds, None when not given.

    One parser for every time argument (memory/search/timeparse.py): ISO 8601, 'now',
    'yesterday', 'last week', '3 hours ago'. A phrase naming a span gives its first moment, or
    with ``end`` (for ``--until``) its end.

    Raises:
        BadQuery: not a time, naming the option.
    """
    if value is None:
        return None
    return to_epoch(_parse(value, option, now or datetime.now().astimezone(), end=end))


def _parse(value: str, option: str, now: datetime, *, end: bool) -> datetime:
    from memory.search.timeparse import parse_time_arg

    try:
        return parse_time_arg(value, now, end=end)
    except ValueError as exc:
        raise BadQuery(f"{option}: {exc}") from exc


def print_json(obj: Any) -> None:
    """Print one JSON document."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def import_progress(service: Any, source: object) -> Iterator[Any]:
    """An import's progress display (a line per phase on a terminal, silent otherwise); on
    Ctrl-C, say what is left and how to finish it.

    Rows are committed before indexing, so an interrupted import loses nothing: what was stored
    waits as ``pending`` until `engram run` or the same import again indexes it.
    """
    from app.cli.progress import PhaseProgress

    try:
        with PhaseProgress() as progress:
            yield progress
    except KeyboardInterrupt:
        pending = service.store.counts()["by_status"].get("pending", 0)
        if pending:
            print(
                f"\nengram: interrupted; {pending} imported observations wait to be indexed. "
                f"`engram run` or running the import of {source} again finishes them "
                "(nothing is imported twice).",
                file=sys.stderr,
            )
        else:
            print("\nengram: interrupted before anything was stored", file=sys.stderr)
        raise SystemExit(130) from None


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
