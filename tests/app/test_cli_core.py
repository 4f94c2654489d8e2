"""The `engram` CLI as a user runs it: real processes, real kills, bad input."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def engram(home, *args, timeout=180, check=False):
    res = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert res.returncode == 0, res.stderr
    return res


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    (h / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    return h


def chat_lines(n, start=0):
    return [
        json.dumps(
            {
                "id": f"m{i}",
                "ts": f"2026-02-16T09:{(i // 60) % 60:02d}:{i % 60:02d}",
                "speaker": "Ana" if i % 2 else "Bo",
                "text": f"message number {i} about topic{i % 7}",
            }
        )
        for i in range(start, start + n)
    ]


def test_import_search_json_shape(home, tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(chat_lines(20)) + "\n")
    out = engram(home, "import", "chat", str(f), "--json", check=True)
    assert json.loads(out.stdout)["imported"] == 20
    hits = json.loads(engram(home, "search", "topic3", "--json", "--k", "3", check=True).stdout)
    assert len(hits) == 3 and hits[0]["sources"][0]["message_id"].startswith("m")
    assert "topic3" in hits[0]["text"]


def test_batch_queries(home, tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(chat_lines(10)) + "\n")
    engram(home, "import", "chat", str(f), check=True)
    q = tmp_path / "q.jsonl"
    q.write_text(
        '{"id": "a", "query": "number 4"}\n{"id": "b", "query": "   "}\n'
        '{"id": "c", "query": "topic5 yesterday", "now": "2026-02-17T12:00:00"}\n'
    )
    out = engram(home, "search", "--queries", str(q), "--json", check=True)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c"]
    assert lines[0]["hits"] and "error" in lines[1] and lines[2]["hits"]


def test_bad_jsonl_names_the_line_and_imports_nothing(home, tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(chat_lines(3)) + "\n{broken\n")
    res = engram(home, "import", "chat", str(f))
    assert res.returncode == 2 and "line 4" in res.stderr and "nothing was imported" in res.stderr
    st = json.loads(engram(home, "status", "--json", check=True).stdout)
    assert st["observations"] == 0


def test_newer_database_refused_with_clear_message(home):
    engram(home, "status", check=True)
    conn = sqlite3.connect(home / "engram.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    res = engram(home, "status")
    assert res.returncode == 4 and "upgrade Engram" in res.stderr and "Traceback" not in res.stderr


@pytest.fixture
def read_only(tmp_path):
    """Make a folder read-only for real: chmod for users, a read-only bind mount for root."""
    mounted = []

    def make(folder):
        if os.geteuid() != 0:
            for p in [folder, *folder.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
            return folder
        view = tmp_path / "ro-view"
        view.mkdir()
        ok = (
            subprocess.run(
                ["mount", "--bind", str(folder), str(view)], capture_output=True
            ).returncode
            == 0
        )
        ok = (
            ok
            and subprocess.run(
                ["mount", "-o", "remount,bind,ro", str(view)], capture_output=True
            ).returncode
            == 0
        )
        if not ok:
            pytest.skip("cannot make a read-only bind mount here (no mount permission)")
        mounted.append(view)
        return view

    yield make
    for view in mounted:
        subprocess.run(["umount", str(view)], check=False)


def test_read_only_home_is_a_clear_error(home, tmp_path, read_only):
    engram(home, "status", check=True)
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(chat_lines(3)) + "\n")
    ro_home = read_only(home)
    res = engram(ro_home, "import", "chat", str(f))
    assert res.returncode == 4, res.stderr
    assert "read-only" in res.stderr and "Traceback" not in res.stderr


def test_full_disk_rolls_back_and_says_so(tmp_path):
    """A tiny database size limit stands in for a full disk: SQLite reports SQLITE_FULL."""
    from memory.errors import DiskFull
    from memory.store import MemoryStore, NewObservation

    store = MemoryStore(tmp_path / "m.db")
    store.add_observations([NewObservation("chat", 1.0, "kept")])
    pages = store.read().execute("PRAGMA page_count").fetchone()[0]
    store.write(lambda c: c.execute(f"PRAGMA max_page_count = {pages + 2}"))
    with pytest.raises(DiskFull, match="disk is full"):
        store.add_observations([NewObservation("chat", 2.0, "x" * 4000) for _ in range(50)])
    assert store.counts()["observations"] == 1
    store.close()


def test_two_processes_write_one_home(home, tmp_path):
    files = []
    for n in range(2):
        f = tmp_path / f"c{n}.jsonl"
        f.write_text("\n".join(chat_lines(300, start=n * 300)) + "\n")
        files.append(f)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "--home", str(home), "import", "chat", str(f)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    st = json.loads(engram(home, "status", "--json", check=True).stdout)
    assert st["observations"] == 600 and st["by_status"] == {"indexed": 600}


def test_killed_mid_import_next_run_is_consistent(home, tmp_path):
    f = tmp_path / "big.jsonl"
    f.write_text("\n".join(chat_lines(20000)) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), "import", "chat", str(f)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    db = home / "engram.db"
    deadline = time.time() + 120
    killed_at = None
    while time.time() < deadline:  # kill once rows are committed but indexing is not finished
        time.sleep(0.05)
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            indexed = conn.execute(
                "SELECT COUNT(*) FROM observations WHERE status = 'indexed'"
            ).fetchone()[0]
            total = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
            conn.close()
        except sqlite3.Error:
            continue
        if total and indexed < total:
            proc.send_signal(signal.SIGKILL)
            killed_at = (indexed, total)
            break
    proc.wait(timeout=30)
    assert killed_at is not None, "the import finished before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    again = json.loads(engram(home, "import", "chat", str(f), "--json", check=True).stdout)
    assert again["imported"] == 0 and again["duplicates"] == 20000
    st = json.loads(engram(home, "status", "--json", check=True).stdout)
    assert st["observations"] == 20000 and st["by_status"] == {"indexed": 20000}
    ids = (
        sqlite3.connect(db).execute("SELECT COUNT(DISTINCT ext_id) FROM observations").fetchone()[0]
    )
    assert ids == 20000
    hits = json.loads(engram(home, "search", "number 19999", "--json", check=True).stdout)
    assert any(s.get("message_id") == "m19999" for h in hits for s in h["sources"])
