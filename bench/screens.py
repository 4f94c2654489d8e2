"""Screens benchmark: import a screens-dev manifest into a fresh home, ask its questions, score hit@k.

Usage:
    python bench/screens.py [--set screens-dev|screens-dev-v2|all] [--data ../shared/bench-data]
                            [--keep HOME] [--json]

Both steps go through the real CLI in subprocesses (`engram import frames MANIFEST`, then
`engram search --queries Q.jsonl --k 10 --json`), with the default models (RapidOCR, MiniLM,
Chroma). A question is a hit at k when one of its gold frames is among the ``frame_path`` sources
of the top-k hits.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = {"screens-dev": "2026-02-21T10:00:00", "screens-dev-v2": "2026-02-28T10:00:00"}
KS = (1, 5, 10)
# Runs the CLI with the capture commands registered even before the lead wires them in main.py.
CLI = (
    "import sys; import app.cli.main as m; from app.cli import cmd_capture as c\n"
    "if c not in m.COMMAND_MODULES: m.COMMAND_MODULES.append(c)\n"
    "sys.exit(m.main(sys.argv[1:]))"
)


def engram(home: Path, *argv: str) -> str:
    """Run one engram command; returns stdout (raises on failure)."""
    env_cmd = [sys.executable, "-c", CLI, "--home", str(home), *argv]
    done = subprocess.run(
        env_cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    if done.returncode != 0:
        raise SystemExit(
            f"engram {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done.stdout


def gold_ids(manifest: Path) -> dict[str, str]:
    """Manifest path -> frame id."""
    out = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            out[obj["path"]] = obj["id"]
    return out


def run_set(data: Path, name: str, keep: Path | None) -> dict[str, object]:
    """Import and ask one set; returns the scores."""
    folder = data / name
    questions = [
        json.loads(x) for x in (folder / "questions.jsonl").read_text().splitlines() if x.strip()
    ]
    with tempfile.TemporaryDirectory(prefix="engram-bench-") as tmp:
        home = keep or Path(tmp) / "home"
        t0 = time.perf_counter()
        imported = json.loads(
            engram(home, "import", "frames", str(folder / "manifest.jsonl"), "--json")
        )
        t_import = time.perf_counter() - t0
        qfile = Path(tmp) / "q.jsonl"
        qfile.write_text(
            "".join(
                json.dumps({"id": q["id"], "query": q["question"], "now": NOW[name]}) + "\n"
                for q in questions
            )
        )
        t0 = time.perf_counter()
        out = engram(home, "search", "--queries", str(qfile), "--k", "10")
        t_search = time.perf_counter() - t0
    by_path = gold_ids(folder / "manifest.jsonl")
    answers = {}
    for line in out.splitlines():
        obj = json.loads(line)
        ranked = []
        for hit in obj["hits"]:
            ranked.append({by_path.get(s.get("frame_path", ""), "?") for s in hit["sources"]})
        answers[obj["id"]] = ranked
    return score(name, questions, answers, imported, t_import, t_search)


def score(
    name: str,
    questions: list[dict],
    answers: dict[str, list[set[str]]],
    imported: dict,
    t_import: float,
    t_search: float,
) -> dict[str, object]:
    """hit@k per question type and overall, plus the misses at 5."""
    per_type: dict[str, list[dict[int, bool]]] = defaultdict(list)
    misses = []
    for q in questions:
        ranked = answers.get(q["id"], [])
        gold = set(q["frames"])
        hits = {k: any(gold & frames for frames in ranked[:k]) for k in KS}
        per_type[q["type"]].append(hits)
        per_type["overall"].append(hits)
        if not hits[5]:
            misses.append(q["id"])
    table = {
        t: {f"hit@{k}": round(sum(h[k] for h in rows) / len(rows), 3) for k in KS}
        | {"n": len(rows)}
        for t, rows in per_type.items()
    }
    return {
        "set": name,
        "scores": table,
        "misses@5": misses,
        "import": imported,
        "import_s": round(t_import, 1),
        "search_s": round(t_search, 1),
    }


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="all", choices=["all", *NOW])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench-data")
    parser.add_argument("--keep", type=Path, default=None, help="import into this home and keep it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sets = list(NOW) if args.set == "all" else [args.set]
    results = [run_set(args.data, name, args.keep / name if args.keep else None) for name in sets]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        print(
            f"\n== {r['set']}  (import {r['import_s']} s, {len(r['misses@5'])} misses@5, "
            f"search {r['search_s']} s)  {r['import']}"
        )
        for t, row in sorted(r["scores"].items(), key=lambda kv: kv[0] == "overall"):
            print(
                f"  {t:26} n={row['n']:3}  "
                + "  ".join(f"hit@{k} {row[f'hit@{k}']:.3f}" for k in KS)
            )
        print(f"  misses@5: {' '.join(r['misses@5']) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
