"""What the terminal shows: readable memories and status, empty states, marked passages (#13)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EPOCH = re.compile(r"\b1[6-9]\d{8}(\.\d+)?\b")


def engram(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return res


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (h / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    return h


def test_empty_types_say_so_and_how_memories_get_there(home: Path) -> None:
    out = engram(home, "memory", "list", "--type", "semantic").stdout
    assert out.startswith("no semantic memories yet.") and "engram memory add" in out
    overview = engram(home, "memory", "list").stdout
    assert "no memories yet" in overview
    assert all(t in overview for t in ("core", "episodic", "procedural", "resource", "vault"))


def test_memory_show_is_readable_unless_json(home: Path) -> None:
    engram(home, "memory", "add", "--type", "semantic", "-f", "name=Lisbon",
           "-f", "summary=capital of Portugal", "--tree", "travel/places")  # fmt: skip
    engram(home, "memory", "edit", "1", "-f", "details=flight TP1351")
    out = engram(home, "memory", "show", "1").stdout
    assert out.startswith("semantic memory 1: Lisbon")
    assert "details: flight TP1351" in out and "category: travel/places" in out
    assert "version 2" in out and "update by user" in out
    assert "{" not in out and not EPOCH.search(out)
    data = json.loads(engram(home, "memory", "show", "1", "--json").stdout)
    assert data["version"] == 2 and len(data["history"]) == 2


def test_status_is_text_unless_json_and_exports_are_private(home: Path, tmp_path: Path) -> None:
    chat = tmp_path / "c.jsonl"
    chat.write_text(
        json.dumps({"id": "a", "ts": "2026-02-16T09:00:00", "speaker": "Ana", "text": "hi"}) + "\n"
    )
    engram(home, "import", "chat", str(chat))
    out = engram(home, "status").stdout
    assert "observations: 1 (1 chat; 1 indexed)" in out and "memories: 0" in out
    assert not out.lstrip().startswith("{")
    assert json.loads(engram(home, "status", "--json").stdout)["observations"] == 1
    target = tmp_path / "export.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    engram(home, "export", "--out", str(target))
    assert target.stat().st_mode & 0o777 == 0o600
    assert json.loads(target.read_text())["format"] == "engram-export"


def test_search_prints_the_matched_passage_not_the_top_bar(home: Path, tmp_path: Path) -> None:
    text = "Activities Tue 10:42 Terminal " + "building wheels for the project " * 12
    text += "pip show numpy Version: 2.12.3 Location: /usr/lib"
    chat = tmp_path / "c.jsonl"
    chat.write_text(
        json.dumps({"id": "a", "ts": "2026-02-16T09:00:00", "speaker": "Ana", "text": text}) + "\n"
    )
    engram(home, "import", "chat", str(chat))
    out = engram(home, "search", "numpy 2.12.3").stdout
    lines = out.splitlines()
    assert lines[0].startswith(" 1. [chat] Ana (chat)") and "Mon 16 Feb 2026 09:00" in lines[0]
    assert "Version: 2.12.3" in lines[1] and "Activities" not in lines[1]
    hit = json.loads(engram(home, "search", "numpy 2.12.3", "--json").stdout)[0]
    assert "2.12.3" in [hit["text"][a:b] for a, b in hit["spans"]]
