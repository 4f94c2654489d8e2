"""Commands that need no model never import one (#13): each runs in a fresh process and reports
which heavy modules it loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "onnxruntime")
PROBE = (
    "import sys, json\n"
    "from app.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
    "sys.stderr.write('\\nHEAVY=' + json.dumps(heavy) + '\\n')\n"
    "sys.exit(code)\n"
)


def probe(home: Path, *argv: str) -> tuple[int, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--home", str(home), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, done.stderr
    return done.returncode, json.loads(line[-1][6:]), done.stdout + done.stderr


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with indexed chat messages and a memory (the real default embedder wrote them)."""
    home = tmp_path_factory.mktemp("startup") / "home"
    chat = home.parent / "chat.jsonl"
    chat.write_text(
        json.dumps({"id": "a", "ts": "2026-02-16T09:00:00", "speaker": "Ana", "text": "budget"})
        + "\n",
        encoding="utf-8",
    )
    for argv in (
        ["import", "chat", str(chat)],
        ["memory", "add", "--type", "semantic", "-f", "name=Lisbon", "-f", "summary=a city"],
    ):
        subprocess.run(
            [sys.executable, "-m", "app.cli.main", "--home", str(home), *argv],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return home


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["status", "--json"],
        ["memory", "list"],
        ["memory", "show", "1"],
        ["models", "list"],
        ["vault", "list"],
        ["forget", "--since", "2020-01-01", "--until", "2020-01-02", "--dry-run"],
    ],
)
def test_commands_without_models_import_none(seeded: Path, argv: list[str]) -> None:
    code, heavy, out = probe(seeded, *argv)
    assert code == 0, out
    assert heavy == [], f"{argv} imported {heavy}"


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "chat", "/nonexistent/chat.jsonl"],
        ["search", "budget", "--k", "0"],
        ["search", "budget", "--since", "the day after never"],
        ["memory", "show", "999"],
    ],
)
def test_errors_come_before_anything_heavy(seeded: Path, argv: list[str]) -> None:
    code, heavy, out = probe(seeded, *argv)
    assert code != 0 and "error" in out, out
    assert heavy == [], f"{argv} imported {heavy}"


def test_search_still_loads_what_it_needs(seeded: Path) -> None:
    """The lazy index opens (and reconciles) on first use: search finds the imported message."""
    code, heavy, out = probe(seeded, "search", "budget", "--json")
    assert code == 0, out
    assert "chromadb" in heavy
    hits = json.loads(out[: out.rindex("HEAVY=")])
    assert hits and "budget" in hits[0]["text"]
