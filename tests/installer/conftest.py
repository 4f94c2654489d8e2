"""Fixtures of the installer tests: a temporary home in which every user folder lies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "installer: runs the real installer into a temporary home (minutes; "
        "needs ENGRAM_TEST_INSTALLER=1)",
    )


@pytest.fixture
def fake_home(tmp_path: Path) -> Path:
    """An empty folder used as HOME."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def home_env(fake_home: Path) -> dict[str, str]:
    """An environment for the installer scripts in which every user folder lies in fake_home.

    ENGRAM_HOME is dropped, so the scripts (and the installed app) use Engram's default data
    folder, ``$XDG_DATA_HOME/engram``: the one the app prefix has to stay apart from.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("ENGRAM_HOME", "XDG_BIN_HOME")}
    env.update(
        HOME=str(fake_home),
        XDG_DATA_HOME=str(fake_home / ".local" / "share"),
        XDG_CONFIG_HOME=str(fake_home / ".config"),
        XDG_CACHE_HOME=str(fake_home / ".cache"),
    )
    return env
