"""CLI cold start: wall time of each command in a fresh process, several runs, median.

Usage:
    python bench/startup.py [--runs 5] [--root TREE] [--json]

Every command runs against one throw-away home holding a few chat messages (imported first,
outside the timing). The baseline, measured in the same run, is the interpreter alone
(``python -c pass``) and ``import app.cli.main``. ``--root`` times another checkout (for a
before/after comparison: ``git worktree add /tmp/before <commit>``). The load average is printed
beside the figures: on a shared machine they move with it; the median CPU seconds (user + system)
of each command move much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS: list[tuple[str, list[str]]] = [
    ("status", ["status"]),
    ("memory list", ["memory", "list"]),
    ("models list", ["models", "list"]),
    ("vault list", ["vault", "list"]),
    ("import chat (missing file)", ["import", "chat", "/nonexistent/chat.jsonl"]),
    ("search (loads the embedder)", ["search", "budget"]),
]


def run_once(root: Path, argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds one command took in a new process, its exit code, and its CPU seconds."""
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HUB_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", *argv],
        cwd=root,
        env=env,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, done.returncode, cpu


def seed(root: Path, home: Path) -> None:
    """A home with a few chat messages (so search has something to find)."""
    chat = home.parent / "chat.jsonl"
    lines = [
        {"id": f"m{i}", "ts": f"2026-02-1{i}T10:00:00", "speaker": "Ana", "text": text}
        for i, text in enumerate(["the budget is due Friday", "lunch at noon", "flight to Lisbon"])
    ]
    chat.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    _, rc, _ = run_once(root, ["--home", str(home), "import", "chat", str(chat)])
    if rc != 0:
        raise SystemExit(f"seeding the home failed ({rc})")


def main() -> int:
    """Time every command; prints a table (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to time")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        seed(args.root, home)
        base = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
            ("import app.cli.main (baseline)", [sys.executable, "-c", "import app.cli.main"]),
        ]
        for label, cmd in base:
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                subprocess.run(
                    cmd, cwd=args.root, env={**os.environ, "PYTHONPATH": str(args.root)}, check=True
                )
                times.append(time.perf_counter() - started)
            rows.append({"command": label, "median_s": statistics.median(times), "runs": times})
        for label, argv in COMMANDS:
            results = [run_once(args.root, ["--home", str(home), *argv]) for _ in range(args.runs)]
            times = [t for t, _, _ in results]
            rows.append(
                {
                    "command": label,
                    "median_s": statistics.median(times),
                    "cpu_s": statistics.median(c for _, _, c in results),
                    "runs": times,
                    "exit": results[-1][1],
                }
            )
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"root": str(args.root), "load": load, "rows": rows}, indent=2))
        return 0
    print(f"tree: {args.root}   runs per command: {args.runs}")
    print(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for r in rows:
        runs = " ".join(f"{t:.2f}" for t in r["runs"])  # type: ignore[attr-defined]
        cpu = f"   CPU {r['cpu_s']:5.2f} s" if "cpu_s" in r else ""
        print(f"  {r['command']:<34} median {r['median_s']:6.2f} s{cpu}   ({runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
