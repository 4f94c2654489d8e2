"""The capture commands end to end: `engram import frames`, `run --headless`, `engram vault`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from app.cli import cmd_capture
from app.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
RUN_CLI = (
    "import sys; import app.cli.main as m; from app.cli import cmd_capture as c\n"
    "if c not in m.COMMAND_MODULES: m.COMMAND_MODULES.append(c)\n"
    "sys.exit(m.main(sys.argv[1:]))"
)


@pytest.fixture
def engram(monkeypatch: pytest.MonkeyPatch) -> object:
    if cmd_capture not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, cmd_capture])
    return cli.main


def render(path: Path, lines: list[str]) -> None:
    img = Image.new("RGB", (800, 200), "white")
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((20, 20 + 50 * i), text, fill="black", font=ImageFont.truetype(FONT, 26))
    img.save(path)


def test_import_frames_then_search_and_bad_line_exit_code(tmp_path: Path, engram, capsys) -> None:  # noqa: ANN001
    folder = tmp_path / "set"
    (folder / "frames").mkdir(parents=True)
    render(folder / "frames" / "a.png", ["Invoice 7731 from Nordwind GmbH", "total due 412.50 EUR"])
    (folder / "frames" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    good = {
        "id": "a",
        "path": "frames/a.png",
        "ts": "2026-02-17T10:00:00",
        "app": "Mail",
        "title": "Inbox",
    }
    bad = {
        "id": "b",
        "path": "frames/broken.png",
        "ts": "2026-02-17T10:05:00",
        "app": "Mail",
        "title": "x",
    }
    manifest = folder / "manifest.jsonl"
    manifest.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    home = tmp_path / "home"

    assert engram(["--home", str(home), "import", "frames", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "broken.png" in err and "--skip-bad" in err

    assert (
        engram(["--home", str(home), "import", "frames", str(manifest), "--skip-bad", "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 1 and report["skipped"][0]["line"] == 2
    assert engram(["--home", str(home), "search", "Nordwind invoice", "--json", "--k", "3"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["sources"][0]["frame_path"] == "frames/a.png"
    assert engram(["--home", str(home), "vault", "list"]) == 0
    assert "the vault is empty" in capsys.readouterr().out


def test_run_without_a_display_warns_and_runs_until_duration(
    tmp_path: Path,
    engram,
    capsys,  # noqa: ANN001
    monkeypatch,
) -> None:  # noqa: ANN001
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    started = time.monotonic()
    assert (
        engram(
            ["--home", str(tmp_path / "home"), "run", "--headless", "--duration", "2", "--no-audio"]
        )
        == 0
    )
    assert time.monotonic() - started >= 2.0
    err = capsys.readouterr().err
    assert "screen capture unavailable: no X display" in err
    assert "no screen capture (no X display" in err.strip().splitlines()[-1]


def test_run_with_require_screen_and_no_display_exits_4(
    tmp_path: Path,
    engram,
    capsys,  # noqa: ANN001
    monkeypatch,
) -> None:  # noqa: ANN001
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    argv = [
        "--home",
        str(tmp_path / "home"),
        "run",
        "--headless",
        "--duration",
        "1",
        "--require-screen",
    ]
    assert engram(argv) == 4
    assert "no X display" in capsys.readouterr().err


def test_run_records_the_fake_microphone_and_search_finds_the_words(
    tmp_path: Path,
    engram,  # noqa: ANN001
    capsys,
) -> None:  # noqa: ANN001
    from tests.memory.test_audio_pipeline import (
        SENTENCE,
        _sounddevice,
        install_wavmic,
        spoken,
        words,
    )

    _sounddevice()
    install_wavmic(spoken(SENTENCE, tmp_path), tmp_path / "xdg")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), PYTHONPATH=str(ROOT))
    home = tmp_path / "home"
    home.mkdir()
    # The headless run obeys the home's config file (audio is off and not kept by default).
    (home / "config.toml").write_text(
        '[audio]\nenabled = true\ndevice = "wavmic"\nkeep_raw_audio = true\n'
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_CLI,
            "--home",
            str(home),
            "run",
            "--headless",
            "--duration",
            "6",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    status = run.stderr.strip().splitlines()[-1]
    assert "pending 0" in status and "errors 0" in status and "from wavmic" in status, status
    assert (
        engram(["--home", str(home), "search", "quarterly budget meeting", "--json", "--k", "3"])
        == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert hits and hits[0]["id"].startswith("o:")
    with sqlite3.connect(home / "engram.db") as conn:
        (kind,) = conn.execute(
            "SELECT kind FROM observations WHERE id = ?", (hits[0]["sources"][0]["observation_id"],)
        ).fetchone()
    assert kind == "audio"
    assert len(words(SENTENCE) & words(hits[0]["text"])) >= 0.7 * len(words(SENTENCE)), hits[0][
        "text"
    ]
    audio_file = hits[0]["sources"][0]["frame_path"]
    assert audio_file.startswith("frames/") and (home / audio_file).is_file()


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("the Xvfb binary is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        name = ":" + pipe.readline().strip()
    monkeypatch.setenv("DISPLAY", name)
    yield name
    proc.terminate()
    proc.wait(5)


CHANGING_WINDOW = """
import tkinter, itertools
root = tkinter.Tk(className="ledger")
root.title("ledger build")
root.geometry("780x560+0+0")
label = tkinter.Label(root, font=("DejaVu Sans", 28), bg="white", justify="left")
label.pack(fill="both", expand=True)
counter = itertools.count(1)
def tick():
    n = next(counter)
    label.config(text=f"pelican deploy step {n}\\nartifact checksum ok\\nelapsed {n * 7} seconds")
    root.after(700, tick)
tick()
root.mainloop()
"""


def observations(home: Path) -> int:
    with sqlite3.connect(home / "engram.db", timeout=10) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0])


def start_cli(home: Path, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "--home", str(home), *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_headless_captures_a_changing_screen_and_makes_it_searchable(
    tmp_path: Path, xvfb: str, engram, capsys
) -> None:  # noqa: ANN001
    window = subprocess.Popen([sys.executable, "-c", CHANGING_WINDOW])
    try:
        time.sleep(1.5)
        home = tmp_path / "home"
        run = start_cli(home, "run", "--headless", "--duration", "5", "--no-audio")
        out, err = run.communicate(timeout=240)
        assert run.returncode == 0, err[-3000:]
        status = err.strip().splitlines()[-1]
        assert "pending 0" in status and "errors 0" in status
        kept = int(status.split("frames kept ")[1].split(",")[0])
        assert kept >= 2

        before = observations(home)
        run = start_cli(home, "run", "--headless", "--no-audio")
        deadline = time.monotonic() + 120
        while observations(home) <= before and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.2)  # capturing (so the SIGTERM handler is in place)
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=240)
        assert run.returncode == 0 and "pending 0" in err.strip().splitlines()[-1], err[-3000:]
    finally:
        window.kill()
    assert (
        engram(["--home", str(home), "search", "pelican deploy", "--json", "--type", "screen"]) == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert hits and "pelican" in hits[0]["text"].lower()
    frame = hits[0]["sources"][0]["frame_path"]
    assert frame.startswith("frames/") and (home / frame).is_file()
