"""Time options share one parser; `engram forget` shows what it removes and asks (#13)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-02-17T12:00:00"


def engram(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with four chat messages: two on 16 Feb (yesterday), two on 17 Feb (today)."""
    h = tmp_path / "home"
    h.mkdir()
    (h / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    f = tmp_path / "c.jsonl"
    rows = [
        ("a", "2026-02-16T09:00:00", "the Lisbon flight is TP1351"),
        ("b", "2026-02-16T18:00:00", "dinner booked"),
        ("c", "2026-02-17T09:00:00", "the budget review"),
        ("d", "2026-02-17T10:00:00", "Lisbon hotel booked"),
    ]
    f.write_text(
        "\n".join(json.dumps({"id": i, "ts": ts, "speaker": "Ana", "text": t}) for i, ts, t in rows)
        + "\n"
    )
    assert engram(h, "import", "chat", str(f)).returncode == 0
    return h


def test_search_since_and_until_take_phrases(home: Path) -> None:
    res = engram(home, "search", "Lisbon", "--since", "yesterday", "--until", "yesterday",
                 "--now", NOW, "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    ids = [h["sources"][0]["message_id"] for h in json.loads(res.stdout)]
    assert ids[0] == "a" and set(ids) <= {"a", "b"}  # only 16 Feb
    bad = engram(home, "search", "Lisbon", "--since", "the day after never")
    assert bad.returncode == 2 and "--since: not a time" in bad.stderr


def test_forget_dry_run_shows_and_keeps(home: Path) -> None:
    res = engram(home, "forget", "--since", "yesterday", "--until", "yesterday", "--now", NOW,
                 "--dry-run")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "2 chat" in res.stdout and "2026-02-16T00:00:00" in res.stdout
    assert "2026-02-17T00:00:00" in res.stdout
    status = json.loads(engram(home, "status", "--json").stdout)
    assert status["observations"] == 4


def test_forget_asks_and_no_keeps_everything(home: Path) -> None:
    res = engram(home, "forget", "--since", "yesterday", "--now", NOW, stdin="n\n")
    assert res.returncode == 1 and "nothing was forgotten" in res.stderr
    assert "4 chat" in res.stderr and "forget all of it" in res.stderr
    closed = engram(home, "forget", "--since", "yesterday", "--now", NOW)  # stdin at its end
    assert closed.returncode == 1
    assert json.loads(engram(home, "status", "--json").stdout)["observations"] == 4


def test_forget_yes_removes_the_range_only(home: Path) -> None:
    res = engram(home, "forget", "--since", "2026-02-16", "--until", "2026-02-16", "--yes",
                 "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["forgotten"] and out["observations"] == 2 and out["by_kind"] == {"chat": 2}
    assert json.loads(engram(home, "status", "--json").stdout)["observations"] == 2
    typed = engram(home, "forget", "--since", "today", "--now", NOW, stdin="y\n")
    assert typed.returncode == 0 and "forgot 2 observations" in typed.stdout
