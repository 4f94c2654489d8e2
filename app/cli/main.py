"""The `engram` command line."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from app.cli import (
    cmd_agents,
    cmd_api,
    cmd_app,
    cmd_capture,
    cmd_config,
    cmd_lock,
    cmd_memory,
    cmd_models,
    cmd_search,
    cmd_store,
)
from app.cli.common import get_service
from app.errors import user_message
from app.logging_setup import configure_logging

COMMAND_MODULES = [
    cmd_search,
    cmd_memory,
    cmd_store,
    cmd_capture,
    cmd_agents,
    cmd_app,
    cmd_config,
    cmd_api,
    cmd_lock,
]


def engram_version() -> str:
    """The installed version of Engram."""
    try:
        return version("engram")
    except PackageNotFoundError:
        return "0.1.0+source"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="engram", description="A local, private memory of your computer."
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="data folder (default: $ENGRAM_HOME or the platform user data dir)",
    )
    parser.add_argument("--version", action="version", version=f"engram {engram_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    cmd_models.register(sub, get_service)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from memory.paths import default_home

    configure_logging(args.home or default_home(), args.verbose)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("engram: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - turned into one clear line below
        try:
            message, code = user_message(exc)
        except Exception:
            raise
        print(f"engram: error: {message}", file=sys.stderr)
        return code
    finally:
        service = getattr(args, "_service", None)
        if service is not None:
            service.close()


if __name__ == "__main__":
    sys.exit(main())
