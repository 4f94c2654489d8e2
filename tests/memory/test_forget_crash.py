"""A real `kill -9` between a forget's commit and the unlinking of its frames: the next start
sweeps them from the pending-deletions journal (#12)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.memory.procs import finish, script

T0 = 1_771_236_000.0

# seed: four screen frames of one window (one episode), indexed and memorised.
# forget: forget the first two; the episode keeps two sources, so it is re-embedded after the
# commit by an embedder that takes its time there: the kill lands before the files are unlinked.
# open: just open and close the home (start-up settles what is owed).
SCRIPT = """
import sys
from pathlib import Path
from PIL import Image
from memory.pipeline.core import PipelineOptions
from memory.pipeline.inbox import FrameMeta
from memory.service import MemoryService
from tests.memory.procs import SlowEmbedder
from tests.memory.test_pipeline import ColourOcr

home, mode = Path(sys.argv[1]), sys.argv[2]
svc = MemoryService(home, embedder=SlowEmbedder(1.5 if mode == "forget" else 0.0))
if mode == "seed":
    svc.pipeline(PipelineOptions(ocr=ColourOcr(), backoff_s=0.0))
    for n in range(4):
        img = Image.new("RGB", (64, 48), (40 * (n + 1), 0, 0))
        svc.pipeline().inbox.add(img, FrameMeta("screen", T0 + 10 * n, app="Editor", title="notes"))
    svc.index_frames()
    svc.memorize_pending()
elif mode == "forget":
    svc.forget(T0 - 1, T0 + 15)
svc.close()
""".replace("T0", repr(T0))


def run(home: Path, mode: str) -> subprocess.Popen[bytes]:
    return script(SCRIPT, str(home), mode)


def owed(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM pending_deletions").fetchone()[0])
    except sqlite3.Error:
        return 0


def webps(home: Path) -> set[Path]:
    return set((home / "frames").rglob("*.webp"))


def test_kill_between_forget_commit_and_unlink_then_restart_removes_the_frames(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    finish(run(home, "seed"))
    db = home / "engram.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, thumb_path FROM observations ORDER BY ts_start").fetchall()
        episodes = conn.execute("SELECT COUNT(*) FROM memories WHERE type = 'episodic'").fetchone()
    assert len(rows) == 4 and episodes[0] >= 1
    before = webps(home)
    assert len(before) == 8  # four frames and their thumbnails

    proc = run(home, "forget")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not owed(db):
        time.sleep(0.005)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert owed(db) == 4  # committed: two frames and their thumbnails owed to the disk
    assert webps(home) == before  # ... and still there when the process died

    finish(run(home, "open"))
    left = webps(home)
    assert len(left) == 4 and left < before
    assert owed(db) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 2
        kept = {r[0] for r in conn.execute("SELECT thumb_path FROM observations")}
    assert all(any(p.name.split(".")[0] in k for k in kept) for p in left)  # the kept ones
