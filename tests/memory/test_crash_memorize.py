"""Real `kill -9` during memorising, at several points, then restarts: the result equals an
uninterrupted run (no duplicate memories) and every live memory has its vector (#12)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.memory.procs import finish, script

# The memorising process: the real service with Chroma on disk, a text embedder that takes a
# while per call so kills land inside a batch, and small batches so there are many commits.
SCRIPT = """
import sys
from pathlib import Path
from memory.agents.config import AgentConfig
from memory.service import MemoryService
from memory.store import NewObservation
from tests.memory.procs import SlowEmbedder

home, mode = Path(sys.argv[1]), sys.argv[2]
svc = MemoryService(home, embedder=SlowEmbedder(0.04 if mode != "seed" else 0.0))
if mode == "seed":
    rows = []
    for n in range(48):
        app = ("Editor", "Browser", "Terminal")[(n // 4) % 3]
        rows.append(NewObservation(kind="screen", ts_start=1771236000.0 + 30 * n, app=app,
                                   window_title=f"{app} task {n // 4}",
                                   text=f"working on item {n // 4} step {n} of the report"))
    ids = [i for i in svc.store.add_observations(rows) if i is not None]
    svc.store.set_status(ids, "indexed")
    svc.vectors.add_observations(svc.store.get_observations(ids).values())
else:
    svc.agents(None, AgentConfig(max_batch=4))
    print(len(svc.memorize_pending()))
svc.close()
"""


def run(home: Path, mode: str) -> subprocess.Popen[bytes]:
    return script(SCRIPT, str(home), mode)


def scalar(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0] or 0)
    except sqlite3.Error:
        return -1


def live_memories(home: Path) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(home / "engram.db") as conn:
        rows = conn.execute(
            "SELECT type, title, summary, source_ids FROM memories "
            "WHERE deleted_at IS NULL AND superseded_by IS NULL"
        ).fetchall()
    return sorted(tuple(r) for r in rows)


def vector_ids(home: Path) -> set[str]:
    from memory.index.vectors import ChromaIndex

    return ChromaIndex(home / "vectors").all_ids()


def seeded(home: Path) -> Path:
    finish(run(home, "seed"))
    return home / "engram.db"


def kill_when(proc: subprocess.Popen[bytes], ready, timeout: float = 120) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` holds (polled every few ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            break
        time.sleep(0.005)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def test_kills_while_memorising_leave_no_duplicates_and_no_memory_without_vector(
    tmp_path: Path,
) -> None:
    clean = tmp_path / "clean"
    seeded(clean)
    finish(run(clean, "memorize"))
    expected = live_memories(clean)
    assert len(expected) >= 6

    home = tmp_path / "home"
    db = seeded(home)
    count = "SELECT COUNT(*) FROM memories"
    rng = random.Random(12)
    # 1-3: right after a batch's transaction committed (its vectors still being written)
    for _ in range(3):
        before = scalar(db, count)
        kill_when(run(home, "memorize"), lambda b=before: scalar(db, count) > b)
    # 4-5: at random moments (routing, lookups, start-up settling of what the kills left)
    for _ in range(2):
        started = time.monotonic()
        delay = rng.uniform(0.4, 2.0)
        kill_when(run(home, "memorize"), lambda s=started, d=delay: time.monotonic() - s > d)
    finish(run(home, "memorize"))

    assert live_memories(home) == expected
    assert scalar(db, "SELECT COUNT(*) FROM observations WHERE status != 'memorized'") == 0
    with sqlite3.connect(db) as conn:
        live = {
            f"m:{r[0]}"
            for r in conn.execute(
                "SELECT id FROM memories WHERE deleted_at IS NULL AND superseded_by IS NULL"
            )
        }
        assert conn.execute("SELECT COUNT(*) FROM vector_outbox").fetchone()[0] == 0
    have = {v for v in vector_ids(home) if v.startswith("m:")}
    assert have == live
