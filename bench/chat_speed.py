"""`engram import chat` lines/s and `engram search --queries` ms per query on a LoCoMo conversation.

Usage:
    python bench/chat_speed.py [--conv conv-43] [--root TREE ...] [--data LOCOMO_JSON]

For each checkout given by ``--root`` (default: this one; give two for a before/after in the same
run, e.g. ``git worktree add /tmp/before <commit>``), in fresh processes through the real CLI:
1. import the conversation's turns into a new home (``engram import chat``): lines/s; and its first
   ``--head`` turns into another: what is left after taking off the lines at the full import's
   per-line rate is the fixed cost of a run (process start, imports, model loads). The per-line
   rate is (all - head) lines over the difference of the two times;
2. run its questions as one batch (``engram search --queries``) and a batch of one question; the
   difference divided by the extra questions is the cost per query without the start-up.
Wall and CPU seconds (user + system of the child) are both printed, with the load average: on a
shared machine wall time moves with the load, CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.locomo_data import load  # noqa: E402
from bench.startup import run_once  # noqa: E402

DATA = Path("/work/shared/bench-data/locomo-dev/locomo-dev.json")


def run(root: Path, argv: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one CLI command in a new process; raises on failure."""
    wall, rc, cpu = run_once(root, argv)
    if rc != 0:
        raise SystemExit(f"{argv[2:4]} failed in {root} (exit {rc})")
    return wall, cpu


def measure(
    root: Path, lines: list[dict], questions: list[str], tmp: Path, head_lines: int
) -> dict[str, float]:
    """Import and batch-search figures for one checkout."""
    home = tmp / f"home-{abs(hash(str(root)))}"
    chat = tmp / "chat.jsonl"
    chat.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    many = tmp / "queries.jsonl"
    one = tmp / "one.jsonl"
    rows = [json.dumps({"id": str(i), "query": q}) for i, q in enumerate(questions)]
    many.write_text("\n".join(rows) + "\n", encoding="utf-8")
    one.write_text(rows[0] + "\n", encoding="utf-8")
    h = ["--home", str(home)]
    imp_wall, imp_cpu = run(root, [*h, "import", "chat", str(chat)])
    head = tmp / "head.jsonl"
    head.write_text("\n".join(json.dumps(x) for x in lines[:head_lines]) + "\n", encoding="utf-8")
    h2 = ["--home", str(tmp / f"head-{abs(hash(str(root)))}")]
    head_wall, head_cpu = run(root, [*h2, "import", "chat", str(head)])
    rest = len(lines) - head_lines
    line_wall = max(imp_wall - head_wall, 1e-9) / rest
    line_cpu = max(imp_cpu - head_cpu, 1e-9) / rest
    one_wall, one_cpu = run(root, [*h, "search", "--queries", str(one), "--k", "10"])
    many_wall, many_cpu = run(root, [*h, "search", "--queries", str(many), "--k", "10"])
    extra = max(1, len(questions) - 1)
    return {
        "import_wall_s": imp_wall,
        "import_cpu_s": imp_cpu,
        "lines_per_s": len(lines) / imp_wall,
        "lines_per_cpu_s": len(lines) / imp_cpu,
        "fixed_wall_s": head_wall - head_lines * line_wall,
        "fixed_cpu_s": head_cpu - head_lines * line_cpu,
        "marginal_lines_per_s": 1 / line_wall,
        "marginal_lines_per_cpu_s": 1 / line_cpu,
        "batch_one_wall_s": one_wall,
        "batch_wall_s": many_wall,
        "ms_per_query_wall": 1000 * (many_wall - one_wall) / extra,
        "ms_per_query_cpu": 1000 * (many_cpu - one_cpu) / extra,
    }


def main() -> int:
    """Measure each checkout; print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conv", default="conv-43", help="LoCoMo sample id (conv-43: 680 turns)")
    ap.add_argument("--root", type=Path, action="append", help="checkouts to time")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--head", type=int, default=40, help="turns of the short import (fixed cost)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    conv = next(c for c in load(args.data) if c.sample_id == args.conv)
    questions = [q.question for q in conv.questions if q.category != 5]
    roots = args.root or [ROOT]
    out = []
    for root in roots:
        with tempfile.TemporaryDirectory() as tmp:
            load_before = os.getloadavg()[0]
            figures = measure(root.resolve(), conv.lines, questions, Path(tmp), args.head)
            out.append({"root": str(root), "load": [load_before, *os.getloadavg()], **figures})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{args.conv}: {len(conv.lines)} turns, {len(questions)} questions")
    for r in out:
        print(
            f"{r['root']}  (load before {r['load'][0]:.1f}, after {r['load'][1]:.1f} "
            f"{r['load'][2]:.1f} {r['load'][3]:.1f})\n"
            f"  import chat: {r['import_wall_s']:.1f} s wall, {r['import_cpu_s']:.1f} s CPU = "
            f"{r['lines_per_s']:.1f} lines/s ({r['lines_per_cpu_s']:.1f} per CPU s)\n"
            f"    of which fixed (start, imports, models): {r['fixed_wall_s']:.1f} s wall, "
            f"{r['fixed_cpu_s']:.1f} s CPU; each further line: {r['marginal_lines_per_s']:.1f} "
            f"lines/s ({r['marginal_lines_per_cpu_s']:.1f} per CPU s)\n"
            f"  search --queries: {r['ms_per_query_wall']:.1f} ms/query wall, "
            f"{r['ms_per_query_cpu']:.1f} ms/query CPU (batch of 1: {r['batch_one_wall_s']:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
