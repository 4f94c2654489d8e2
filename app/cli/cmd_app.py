"""`engram app`: the desktop app, or ``--snapshot PNG`` to render its window on a home's data."""

from __future__ import annotations

import argparse
from pathlib import Path

VIEWS = ("timeline", "chat", "memory", "settings")  # app.views.main_window.VIEWS; kept Qt-free here


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``app`` command."""
    p = subparsers.add_parser(
        "app", help="open the desktop app", description="Open Engram's window (and tray icon)."
    )
    p.add_argument(
        "--snapshot",
        type=Path,
        metavar="PNG",
        default=None,
        help="render the main window on this home's data, save a PNG and exit "
        "(works with QT_QPA_PLATFORM=offscreen)",
    )
    p.add_argument("--view", choices=VIEWS, default="timeline", help="the view to show first")
    p.add_argument("--minimized", action="store_true", help="start in the tray")
    p.set_defaults(func=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    """Run the app; returns its exit code."""
    from app.main import run_app
    from memory.paths import default_home

    home = args.home or default_home()
    return run_app(home, snapshot_path=args.snapshot, view=args.view, minimized=args.minimized)
