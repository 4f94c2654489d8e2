"""Entry point of the PyInstaller bundle (installer/engram.spec).

``engram`` is the command line. ``engram-app`` (the windowed executable on Windows and macOS)
opens the desktop app when started without arguments, e.g. from a shortcut.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def main() -> int:
    multiprocessing.freeze_support()
    name = os.path.splitext(os.path.basename(sys.executable))[0].lower()
    argv = sys.argv[1:]
    if name == "engram-app" and not argv:
        argv = ["app"]
    from app.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
