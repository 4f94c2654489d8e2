"""`engram chat` as a user types it: commands, empty lines, history (#13). Real processes: a pipe,
and a pseudo-terminal for readline."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (h / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    chat = tmp_path / "c.jsonl"
    chat.write_text(
        json.dumps(
            {
                "id": "a",
                "ts": "2026-02-16T09:00:00",
                "speaker": "Ana",
                "text": "the Lisbon flight is TP1351",
            }
        )
        + "\n"
    )
    subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(h), "import", "chat", str(chat)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return h


def chat(home: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), "chat", "--llm", "none"],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def asked(home: Path) -> list[str]:
    """The questions the chat log kept (what was sent to the assistant)."""
    out = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), "export"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    data = json.loads(out)
    msgs = data.get("chat_messages") or []
    return [m["content"] for m in msgs if m.get("role") == "user"]


def test_commands_are_not_questions_and_empty_lines_do_not_exit(home: Path) -> None:
    res = chat(home, "/help\n\n   \n/sources\nwhat is the Lisbon flight?\n/sources\n/bogus\nquit\n"
                     "this line comes after quit\n")  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "/new" in out and "/sources" in out  # the help text
    assert "no answer yet" in out
    assert out.count("engram> ") == 1 and "TP1351" in out
    assert "[1] chat: Ana (chat)" in out  # /sources after the answer
    assert "unknown command /bogus" in out
    assert asked(home) == ["what is the Lisbon flight?"]


def test_new_starts_a_new_session(home: Path) -> None:
    res = chat(home, "Lisbon flight?\n/new\nLisbon flight again?\n/exit\n")
    assert res.returncode == 0 and "new conversation" in res.stdout
    assert res.stdout.count("engram> ") == 2
    assert asked(home) == ["Lisbon flight?", "Lisbon flight again?"]


def read_until(fd: int, needle: bytes, timeout: float = 240) -> bytes:
    out = b""
    deadline = time.time() + timeout
    while needle not in out:
        left = deadline - time.time()
        assert left > 0, out
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def test_terminal_history_is_kept_private_and_recalled(home: Path) -> None:
    """On a terminal: readline history in the home (0600); the up arrow brings a question back."""
    env = {**os.environ, "TERM": "xterm", "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "app.cli.main", "--home", str(home), "chat", "--llm", "none"]
    for attempt in range(2):
        pid, fd = pty.fork()
        if pid == 0:  # the child: the CLI on a pseudo-terminal
            os.chdir(ROOT)
            os.execvpe(argv[0], argv, env)
        read_until(fd, b"you> ")
        if attempt == 0:
            os.write(fd, b"where is the Lisbon flight\r")
        else:
            os.write(fd, b"\x1b[A\r")  # up arrow, enter: the question from the first run
        seen = read_until(fd, b"engram> ")
        seen += read_until(fd, b"you> ")
        assert b"TP1351" in seen
        os.write(fd, b"\x04")  # Ctrl-D
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        assert os.waitstatus_to_exitcode(status) == 0
    history = home / "chat_history"
    assert history.stat().st_mode & 0o777 == 0o600
    assert "where is the Lisbon flight" in history.read_text()
    assert asked(home) == ["where is the Lisbon flight"] * 2
