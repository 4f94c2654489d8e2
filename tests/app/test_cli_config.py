"""`engram config show|get|set` on a real home (#10)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app.cli.main import main


def test_config_show_get_set_and_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "config", "show"]) == 0
    out = capsys.readouterr().out
    assert "capture.interval_s = 2.0" in out and "seconds between two screenshots" in out
    assert (
        main(["--home", home, "config", "set", "capture.excluded_apps", "Signal, KeePassXC"]) == 0
    )
    assert main(["--home", home, "config", "set", "audio.enabled", "true"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "config", "get", "capture.excluded_apps"]) == 0
    assert json.loads(capsys.readouterr().out) == ["Signal", "KeePassXC"]
    assert main(["--home", home, "config", "show", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["audio.enabled"] is True
    config = tmp_path / "home" / "config.toml"
    before = config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    assert main(["--home", home, "config", "set", "capture.interval_s", "soon"]) == 2
    assert "capture.interval_s" in capsys.readouterr().err
    assert main(["--home", home, "config", "set", "capture.intervall", "3"]) == 2
    assert "did you mean capture.interval_s" in capsys.readouterr().err
    assert config.read_text() == before  # nothing saved
