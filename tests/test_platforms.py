"""Every module imports on Windows and macOS too (#10: a module-level ``fcntl`` kept Windows out).

Each platform runs in a subprocess with ``sys.platform`` patched before anything of ours loads, and
the modules that platform lacks made unimportable: POSIX-only stdlib on Windows, python-xlib (a
Linux-only dependency) on both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MISSING = {
    "win32": ["fcntl", "termios", "pwd", "grp", "resource", "Xlib"],
    "darwin": ["Xlib"],
}

IMPORT_ALL = """
import importlib, pkgutil, sys
# Standard-library modules whose import reads private platform modules (_scproxy, the sysconfig
# data of the running interpreter) that exist on the real platform: loaded before the patch.
import sysconfig, urllib.request  # noqa: E401
sysconfig.get_config_vars()
sys.platform = {platform!r}
for name in {missing!r}:
    sys.modules[name] = None  # importing it raises ImportError, as on that platform
failed = []
for package in ("memory", "models", "capture", "app"):
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            failed.append(f"{{info.name}}: {{type(exc).__name__}}: {{exc}}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""

# Modules written for one platform only, imported by their callers on that platform alone.
PLATFORM_MODULES = {
    "win32": {"capture.window_x11", "capture.window_mac"},
    "darwin": {"capture.window_x11", "capture.window_win"},
}


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_every_module_imports_on(platform: str) -> None:
    code = IMPORT_ALL.format(platform=platform, missing=MISSING[platform])
    env = {"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env
    )
    failed = [
        line
        for line in res.stdout.splitlines()
        if line and line.split(":")[0] not in PLATFORM_MODULES[platform]
    ]
    assert failed == [] and res.returncode in (0, 1), "\n".join(failed) + res.stderr[-2000:]
