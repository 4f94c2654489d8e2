"""A real `kill -9` while indexing an import, then a restart: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
N = 12

# The importing process: the real pipeline, with an OCR engine that takes a while per frame so
# the kill lands mid-indexing (the OCR model is not what this test is about).
SCRIPT = """
import sys, time
from pathlib import Path
from models.ocr import OcrLine
from memory.pipeline.core import PipelineOptions
from memory.service import MemoryService
from memory.index.vectors import NumpyIndex
from models.text_embedding import HashingEmbedder

class SlowOcr:
    def read(self, img):
        time.sleep(0.25)
        red = img.convert("RGB").getpixel((0, 0))[0]
        return [OcrLine(f"frame{round(red / 16)}", (0, 0, 5, 5), 1.0)]

svc = MemoryService(Path(sys.argv[1]), embedder=HashingEmbedder(), index=NumpyIndex())
svc.pipeline(PipelineOptions(ocr=SlowOcr()))
print(svc.import_frames(Path(sys.argv[2])))
svc.close()
"""


def counts(db: Path) -> dict[str, int]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return dict(
                conn.execute("SELECT status, COUNT(*) FROM observations GROUP BY status").fetchall()
            )
    except sqlite3.Error:
        return {}


def start_import(home: Path, manifest: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(home), str(manifest)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_kill_during_indexing_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    lines = []
    for n in range(N):
        Image.new("RGB", (96, 64), ((n + 1) * 16, 255 - n * 16, (n * 40) % 256)).save(
            folder / f"{n}.png"
        )
        lines.append(
            json.dumps(
                {
                    "id": f"k{n}",
                    "path": f"{n}.png",
                    "ts": f"2026-02-16T09:{n:02d}:00",
                    "app": "Viewer",
                    "title": f"picture {n}",
                }
            )
        )
    manifest = folder / "m.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    home = tmp_path / "home"

    proc = start_import(home, manifest)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        c = counts(home / "engram.db")
        if c.get("indexed", 0) >= 2 and c.get("pending", 0) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    before = counts(home / "engram.db")
    assert before.get("pending", 0) >= 2 and before.get("indexed", 0) >= 2  # really mid-way

    proc = start_import(home, manifest)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    with sqlite3.connect(home / "engram.db") as conn:
        rows = conn.execute(
            "SELECT ext_id, status, text FROM observations ORDER BY ts_start"
        ).fetchall()
    assert [r[0] for r in rows] == [f"k{n}" for n in range(N)]
    assert {r[1] for r in rows} == {"indexed"}
    assert [r[2] for r in rows] == [f"frame{n + 1}" for n in range(N)]
    webps = [p for p in (home / "frames").rglob("*.webp") if not p.name.endswith(".thumb.webp")]
    assert len(webps) == N  # one stored frame per observation, none left over from the killed run
