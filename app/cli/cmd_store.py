"""`engram repair`, and the store section of `engram doctor` (#12)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from app.cli.common import ProgressBar, print_json


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    rp = sub.add_parser(
        "repair", help="fix what can be fixed in the store without losing rows (see doctor)"
    )
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_repair)


def _paths(args: argparse.Namespace) -> Any:
    from memory.paths import HomePaths, default_home

    return HomePaths(getattr(args, "home", None) or default_home())


def store_checks(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The doctor's store checks (read-only; they work when the store cannot be opened)."""
    from memory.health import check_home

    return [asdict(c) for c in check_home(_paths(args))]


def capture_checks(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The doctor's screen-capture checks: X11 or Wayland, active window, lock and idle."""
    from memory.capture_checks import capture_checks as checks

    return [asdict(c) for c in checks(_paths(args).root)]


def format_checks(checks: list[dict[str, Any]], title: str = "store") -> str:
    """Doctor checks as text lines under a title."""
    lines = [f"{title}:"]
    for c in checks:
        mark = "ok  " if c["ok"] else "FAIL"
        lines.append(f"  {mark} {c['name']}: {c['detail']}")
        if c["fix"]:
            lines.append(f"       fix: {c['fix']}")
    return "\n".join(lines)


def cmd_repair(args: argparse.Namespace) -> int:
    """Repair the database's indexes, rebuild a damaged vector index, settle crash journals and
    reconcile vectors by id; exit 4 (nothing changed) when only a backup can help."""
    from memory.health import repair_files
    from memory.service import MemoryService

    paths = _paths(args)
    done, rebuild = repair_files(paths)
    service = args._service = MemoryService(paths.root, reconcile=False)  # main() closes it
    done += service.repair(ProgressBar("rebuilding vectors"), rebuild=rebuild)
    if args.json:
        print_json({"done": done})
    else:
        print("\n".join(done) if done else "nothing to repair: the store is sound")
    return 0
