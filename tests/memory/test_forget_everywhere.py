"""`engram forget` reaches every copy while another process holds the home open (#12).

A unique string is imported in a chat, quoted by a neighbouring turn's search context, cited by an
assistant answer and embedded into Chroma; after the forget no byte of it is left anywhere under
the home (database, WAL, Chroma's files), and neither is its vector in Chroma's write queue.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np

from models.text_embedding import HashingEmbedder
from tests.memory.procs import engram as run_engram
from tests.memory.procs import hashing_home, script

SECRET = "zqa8f3c91d7be4460"  # a word no tokenizer splits and no other text shares
TAIL = SECRET[4:].encode()  # FTS5 stores terms prefix-compressed: look for the tail too

# Another Engram process on the same home, reading now and then (as the app or `engram run`).
HOLDER = """
import sys, time
from pathlib import Path
from memory.service import MemoryService
svc = MemoryService(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    svc.search("river hotel", k=3)
    time.sleep(0.2)
"""


def engram(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = run_engram(home, *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def planted_home(tmp_path: Path) -> Path:
    home = hashing_home(tmp_path)
    rows = [
        ("m1", "2026-02-16T09:00:00", "Ana", "Did you book the hotel by the river?"),
        ("m2", "2026-02-16T09:01:00", "Bo", f"Yes, the booking code is {SECRET} for Lisbon"),
        ("m3", "2026-02-16T09:02:00", "Ana", "Great, the hotel by the river it is"),
        ("m4", "2026-02-18T11:00:00", "Bo", "My cat knocked over the plant"),
    ]
    chat = tmp_path / "chat.jsonl"
    chat.write_text(
        "\n".join(
            json.dumps({"id": i, "ts": ts, "speaker": s, "text": t, "session": "s1"})
            for i, ts, s, t in rows
        )
        + "\n"
    )
    engram(home, "import", "chat", str(chat))
    engram(home, "memorize")
    answer = engram(home, "ask", "what is the booking code for Lisbon", "--json")
    assert SECRET in answer.stdout  # the extractive answer quotes it and is kept
    return home


def files_holding(home: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(home)}: {n[:12]!r}" for n in needles if n in data]
    return found


def test_forget_leaves_no_byte_of_the_moment_under_the_home_while_another_process_runs(
    tmp_path: Path,
) -> None:
    home = planted_home(tmp_path)
    vector = HashingEmbedder(64).embed_texts([f"Bo: Yes, the booking code is {SECRET} for Lisbon"])
    assert files_holding(home, [SECRET.encode(), TAIL])  # the test can see what it looks for

    holder = script(HOLDER, str(home))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        out = engram(
            home,
            "forget",
            "--since",
            "2026-02-16T09:00:30",
            "--until",
            "2026-02-16T09:01:30",
            "--yes",
        )
        assert out.stdout.startswith("forgot ") and "removed 1 assistant answers" in out.stdout
        time.sleep(0.5)  # the holder keeps reading meanwhile
        assert holder.poll() is None, holder.communicate()[1][-2000:].decode()
        leftovers = files_holding(home, [SECRET.encode(), TAIL, vector[0].tobytes()])
        assert leftovers == []
        with sqlite3.connect(home / "engram.db") as conn:
            contents = [r[0] for r in conn.execute("SELECT content FROM chat_messages")]
            assert not any(SECRET in c for c in contents)
            assert any("forget" in c for c in contents)  # the answer was rewritten, not lost
            texts = [r[0] for r in conn.execute("SELECT text FROM observations")]
            assert "My cat knocked over the plant" in texts  # nothing else went
    finally:
        holder.send_signal(signal.SIGTERM)
        holder.wait(10)
    assert engram(home, "search", "river hotel").returncode == 0


def test_chroma_scrub_blanks_only_forgotten_entries(tmp_path: Path) -> None:
    from memory.index.vectors import ChromaIndex

    index = ChromaIndex(tmp_path / "v")
    vecs = np.random.default_rng(3).random((4, 8)).astype(np.float32)
    index.add(["o:1:0", "o:2:0", "m:3", "m:4"], vecs, [{"src": "o"}] * 2 + [{"src": "m"}] * 2)
    index.delete(["o:1:0", "m:3"])
    assert index.scrub_log(["o:1:0", "m:3"]) == 2
    raw = (tmp_path / "v" / "chroma.sqlite3").read_bytes()
    assert vecs[0].tobytes() not in raw and vecs[2].tobytes() not in raw
    assert vecs[1].tobytes() in raw and vecs[3].tobytes() in raw
    assert index.all_ids() == {"o:2:0", "m:4"}
    got = index.query(vecs[1], 1)
    assert got[0][0] == "o:2:0"
