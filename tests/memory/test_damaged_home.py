"""Damaged stores, through the real CLI (#12): an emptied database is refused with everything
kept; junk pages give one clear line; a damaged vector index is moved aside and rebuilt;
`engram doctor` finds each problem and `engram repair` fixes what it can without losing rows."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from tests.memory.procs import engram, hashing_home


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def one_clear_line(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("engram: error: "), proc.stderr
    return lines[0]


def home_with_data(tmp_path: Path) -> Path:
    home = hashing_home(tmp_path)
    chat = tmp_path / "chat.jsonl"
    chat.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"m{n}",
                    "ts": f"2026-02-16T09:{n:02d}:00",
                    "speaker": "Ana",
                    "text": f"message {n} about the lisbon trip and the budget item {n}",
                }
            )
            for n in range(40)
        )
        + "\n"
    )
    ok(engram(home, "import", "chat", str(chat)))
    ok(engram(home, "memorize"))
    return home


def status(home: Path) -> dict[str, object]:
    return json.loads(ok(engram(home, "status", "--json")))


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def junk(path: Path, at: int, size: int = 8192) -> None:
    with open(path, "r+b") as fh:
        fh.seek(at)
        fh.write(os.urandom(size))


def test_an_emptied_database_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    home = home_with_data(tmp_path)
    before = status(home)
    assert before["vectors"] >= 40
    (home / "engram.db").write_bytes(b"")
    vectors = digest(home / "vectors")

    for args in (("status",), ("search", "lisbon"), ("export",)):
        line = one_clear_line(engram(home, *args), 4)
        assert "is empty (0 bytes)" in line and "backup" in line
    assert (home / "engram.db").stat().st_size == 0
    assert digest(home / "vectors") == vectors
    doctor = engram(home, "doctor", "--no-load")
    assert doctor.returncode == 3 and "FAIL database" in doctor.stdout
    assert engram(home, "repair").returncode == 4
    assert (home / "engram.db").stat().st_size == 0 and digest(home / "vectors") == vectors


def test_junk_pages_in_the_database_give_a_clear_error_and_repair_refuses_to_lose_rows(
    tmp_path: Path,
) -> None:
    home = home_with_data(tmp_path)
    db = home / "engram.db"
    size = db.stat().st_size
    junk(db, 4096 * 3, size - 4096 * 3)  # every page after the first few (tables and indexes)
    for args in (("search", "lisbon"), ("status",)):
        line = one_clear_line(engram(home, *args), 4)
        assert "damaged" in line and "engram repair" in line
    doctor = engram(home, "doctor", "--no-load")
    assert doctor.returncode == 3 and "FAIL database" in doctor.stdout
    before = db.read_bytes()
    line = one_clear_line(engram(home, "repair"), 4)
    assert "backup" in line
    assert db.read_bytes() == before  # rows would be lost: nothing rewritten

    db.write_bytes(os.urandom(size))  # not even a header
    line = one_clear_line(engram(home, "status"), 4)
    assert "damaged" in line


def test_a_damaged_vector_index_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    home = home_with_data(tmp_path)
    want = status(home)["vectors"]
    chroma = home / "vectors" / "chroma.sqlite3"
    junk(chroma, 0, 4096)  # the header: Chroma cannot open it at all

    ok(engram(home, "export", "--out", str(tmp_path / "export.json")))  # needs no vectors
    assert json.loads((tmp_path / "export.json").read_text())
    assert "lisbon" in ok(engram(home, "search", "lisbon trip")).lower()  # opens: rebuilt
    aside = [p.name for p in home.iterdir() if p.name.startswith("vectors.damaged-")]
    assert len(aside) == 1  # kept for inspection, not deleted
    assert status(home)["vectors"] == want

    chroma = home / "vectors" / "chroma.sqlite3"
    junk(chroma, chroma.stat().st_size // 2)  # pages in the middle: opens, fails on use
    doctor = engram(home, "doctor", "--no-load")
    assert doctor.returncode == 3 and "FAIL vector index" in doctor.stdout
    out = ok(engram(home, "repair"))
    assert "rebuilt the vector index" in out
    assert status(home)["vectors"] == want
    assert engram(home, "doctor", "--no-load").returncode == 0

    junk(
        home / "vectors" / "chroma.sqlite3",
        (home / "vectors" / "chroma.sqlite3").stat().st_size // 2,
    )
    assert "rebuilt the vector index" in ok(engram(home, "reindex"))
    assert status(home)["vectors"] == want
