"""Import progress: a line per phase with counts, rate and time; an interrupted import says what is
left and how to finish it (#13)."""

from __future__ import annotations

import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from app.cli.progress import PhaseProgress

ROOT = Path(__file__).resolve().parents[2]


def test_each_phase_gets_its_own_line_with_counts_rate_and_times() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    with PhaseProgress(console, enabled=True) as progress:
        progress.phase("reading")
        progress.phase("embedding and indexing")
        for done in range(0, 101, 20):
            progress(done, 100)
            time.sleep(0.05)
    text = out.getvalue()
    assert progress.phases == ["reading", "embedding and indexing"]
    final = text[text.rindex("reading") :]
    assert "embedding and indexing" in final and "100/100" in final
    assert "/s" in final and "elapsed" in final and "left" in final


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    with PhaseProgress(Console(file=out, force_terminal=False)) as progress:
        progress.phase("reading")
        progress(1, 2)
    assert out.getvalue() == ""


def test_interrupted_import_says_what_is_pending_and_a_rerun_finishes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    f = tmp_path / "big.jsonl"
    f.write_text(
        "\n".join(
            json.dumps(
                {"id": f"m{i}", "ts": "2026-02-16T09:00:00", "speaker": "A", "text": f"t {i}"}
            )
            for i in range(20000)
        )
        + "\n"
    )
    argv = [sys.executable, "-m", "app.cli.main", "--home", str(home), "import", "chat", str(f)]
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    db = home / "engram.db"
    deadline = time.time() + 240
    while time.time() < deadline:  # interrupt once rows are stored but not all indexed
        time.sleep(0.05)
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            total, indexed = conn.execute(
                "SELECT COUNT(*), SUM(status = 'indexed') FROM observations"
            ).fetchone()
            conn.close()
        except sqlite3.Error:
            continue
        if total and (indexed or 0) < total:
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "wait to be indexed" in err and "engram run" in err and "again finishes them" in err
    again = subprocess.run(argv + ["--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    status = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), "status", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(status.stdout)["by_status"] == {"indexed": 20000}
