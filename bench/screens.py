"""Screens benchmark: import a screens manifest into a fresh home, ask its questions, score hit@k.

Usage:
    python bench/screens.py [--set NAME ...|all] [--data ../shared/bench-data]
                            [--keep HOME [--reuse]] [--ocr-cache DIR] [--misses] [--json]

NAME is any folder of the data directory with a ``manifest.jsonl`` and ``questions.jsonl``
(screens-dev, screens-dev-v2, screens-dev-html). Both steps go through the real CLI in
subprocesses (`engram import frames MANIFEST`, then `engram search --queries Q.jsonl --k 10`),
with the default models (RapidOCR, MiniLM, Chroma). A question is a hit at k when one of its gold
frames is among the ``frame_path`` sources of the top-k hits.

Beside Engram the same run scores two baselines over the very OCR text Engram stored (so they
differ only in retrieval): OCR + SQLite FTS5 BM25 (screenpipe-style) and OCR + MiniLM cosine of one
vector per frame, the mean of its line embeddings (OpenRecall-style).

``--ocr-cache DIR`` (keep it outside the repository, e.g. /tmp/engram-ocr-cache) stores each
frame's OCR lines under the hash of the image the indexer reads, so tuning runs skip OCR (the
slow part); report final figures from a run without it.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# When the questions carry no "now" of their own (the first two sets).
NOW = {"screens-dev": "2026-02-21T10:00:00", "screens-dev-v2": "2026-02-28T10:00:00"}
KS = (1, 5, 10)
# ../shared/bench-data beside the main checkout; a worktree under /work/wt finds it one level up
DATA = next(
    (
        p
        for p in (ROOT.parent / "shared" / "bench-data", ROOT.parents[1] / "shared" / "bench-data")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "bench-data",
)
# Runs the CLI with the capture commands registered even before the lead wires them in main.py;
# with ENGRAM_BENCH_OCR_CACHE set, OCR results are read from / written to that folder.
CLI = (
    "import os, sys; import app.cli.main as m; from app.cli import cmd_capture as c\n"
    "if c not in m.COMMAND_MODULES: m.COMMAND_MODULES.append(c)\n"
    "if os.environ.get('ENGRAM_BENCH_OCR_CACHE'):\n"
    "    from bench.ocr_cache import install; install(os.environ['ENGRAM_BENCH_OCR_CACHE'])\n"
    "sys.exit(m.main(sys.argv[1:]))"
)


def engram(home: Path, *argv: str, ocr_cache: Path | None = None) -> str:
    """Run one engram command; returns stdout (raises on failure)."""
    env_cmd = [sys.executable, "-c", CLI, "--home", str(home), *argv]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    if ocr_cache is not None:
        env["ENGRAM_BENCH_OCR_CACHE"] = str(ocr_cache)
    done = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
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


def run_set(
    data: Path,
    name: str,
    keep: Path | None,
    ocr_cache: Path | None,
    baselines: bool = True,
    reuse: bool = False,
) -> dict[str, object]:
    """Import and ask one set; returns the scores of Engram and of the baselines."""
    folder = data / name
    questions = [
        json.loads(x) for x in (folder / "questions.jsonl").read_text().splitlines() if x.strip()
    ]
    by_path = gold_ids(folder / "manifest.jsonl")
    with tempfile.TemporaryDirectory(prefix="engram-bench-") as tmp:
        home = keep or Path(tmp) / "home"
        t0 = time.perf_counter()
        if reuse and (home / "engram.db").is_file():  # a home --keep made before: search only
            imported = {"reused": str(home)}
        else:
            imported = json.loads(
                engram(
                    home,
                    "import",
                    "frames",
                    str(folder / "manifest.jsonl"),
                    "--json",
                    ocr_cache=ocr_cache,
                )
            )
        t_import = time.perf_counter() - t0
        qfile = Path(tmp) / "q.jsonl"
        qfile.write_text(
            "".join(
                json.dumps(
                    {"id": q["id"], "query": q["question"], "now": q.get("now") or NOW[name]}
                )
                + "\n"
                for q in questions
            )
        )
        t0 = time.perf_counter()
        out = engram(home, "search", "--queries", str(qfile), "--k", "10")
        t_search = time.perf_counter() - t0
        frames_text = stored_text(home, by_path)
    answers = {}
    for line in out.splitlines():
        obj = json.loads(line)
        ranked = []
        for hit in obj["hits"]:
            ranked.append({by_path.get(s.get("frame_path", ""), "?") for s in hit["sources"]})
        answers[obj["id"]] = ranked
    result = score(name, questions, answers, imported, (t_import, t_search))
    result["baselines"] = (
        {
            "ocr+bm25": score(name, questions, bm25_baseline(frames_text, questions), {}),
            "ocr+dense": score(name, questions, dense_baseline(frames_text, questions), {}),
        }
        if baselines
        else {}
    )
    return result


def stored_text(home: Path, by_path: dict[str, str]) -> dict[str, str]:
    """Frame id -> the OCR text Engram stored for it (after redaction), read from the home."""
    db = sqlite3.connect(home / "engram.db")
    try:
        rows = db.execute(
            "SELECT frame_path, text FROM observations WHERE frame_path IS NOT NULL"
        ).fetchall()
    finally:
        db.close()
    return {by_path[p]: t or "" for p, t in rows if p in by_path}


def bm25_baseline(texts: dict[str, str], questions: list[dict]) -> dict[str, list[set[str]]]:
    """screenpipe-style: FTS5 BM25 over each frame's OCR text (OR of the question's tokens)."""
    from memory.search.fts import quote_fts

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(fid UNINDEXED, body)")
    db.executemany("INSERT INTO t (fid, body) VALUES (?, ?)", list(texts.items()))
    out = {}
    for q in questions:
        match = quote_fts(q["question"])
        rows = (
            db.execute("SELECT fid FROM t WHERE t MATCH ? ORDER BY rank LIMIT 10", (match,))
            if match
            else []
        )
        out[q["id"]] = [{r[0]} for r in rows]
    return out


def dense_baseline(texts: dict[str, str], questions: list[dict]) -> dict[str, list[set[str]]]:
    """OpenRecall-style: cosine of MiniLM over one vector per frame (mean of its lines)."""
    import numpy as np

    from models.config import TextEmbeddingConfig
    from models.text_embedding import load_text_embedder

    emb = load_text_embedder(TextEmbeddingConfig())
    ids = list(texts)
    rows = []
    for fid in ids:
        lines = [x for x in texts[fid].splitlines() if x.strip()] or [""]
        vec = emb.embed_texts(lines).mean(axis=0)
        rows.append(vec / (np.linalg.norm(vec) or 1.0))
    mat = np.stack(rows)
    qv = emb.embed_texts([q["question"] for q in questions])
    out = {}
    for q, v in zip(questions, qv, strict=True):
        order = np.argsort(-(mat @ v))[:10]
        out[q["id"]] = [{ids[i]} for i in order]
    return out


def score(
    name: str,
    questions: list[dict],
    answers: dict[str, list[set[str]]],
    imported: dict,
    seconds: tuple[float, float] = (0.0, 0.0),
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
        if not hits[1]:
            misses.append(q["id"] + ("" if hits[5] else "*"))
    table = {
        t: {f"hit@{k}": round(sum(h[k] for h in rows) / len(rows), 3) for k in KS}
        | {"n": len(rows)}
        for t, rows in per_type.items()
    }
    return {
        "set": name,
        "scores": table,
        "misses@1": misses,  # a star: missed at 5 too
        "answers": {q["id"]: [sorted(f) for f in answers.get(q["id"], [])] for q in questions},
        "import": imported,
        "import_s": round(seconds[0], 1),
        "search_s": round(seconds[1], 1),
    }


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="+", default=["all"], help="set names, or all")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--keep", type=Path, default=None, help="import into this home and keep it")
    parser.add_argument("--ocr-cache", type=Path, default=None, help="OCR cache folder (tuning)")
    parser.add_argument("--misses", action="store_true", help="print each miss at 1")
    parser.add_argument("--no-baselines", action="store_true", help="score Engram only (tuning)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: search a home imported before"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    available = sorted(
        p.name
        for p in args.data.iterdir()
        if (p / "manifest.jsonl").is_file() and (p / "questions.jsonl").is_file()
    )
    sets = available if args.set == ["all"] else args.set
    unknown = [s for s in sets if s not in available]
    if unknown:
        parser.error(f"no such set {unknown} in {args.data} (there: {', '.join(available)})")
    results = [
        run_set(
            args.data,
            name,
            args.keep / name if args.keep else None,
            args.ocr_cache,
            not args.no_baselines,
            args.reuse,
        )
        for name in sets
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for r in results:
        print(
            f"\n== {r['set']}  (import {r['import_s']} s, search {r['search_s']} s)  {r['import']}"
        )
        rows = sorted(r["scores"].items(), key=lambda kv: kv[0] == "overall")
        base = r["baselines"]
        print(
            f"  {'type':14} {'n':>3}  {'engram @1/@5/@10':18}" + "".join(f"  {b:18}" for b in base)
        )
        for t, row in rows:
            cells = [row] + [base[b]["scores"][t] for b in base]
            print(
                f"  {t:14} {row['n']:3}  "
                + "  ".join(" ".join(f"{c[f'hit@{k}']:.2f}" for k in KS).ljust(18) for c in cells)
            )
        print(f"  misses@1 (* also @5): {' '.join(r['misses@1']) or '-'}")
        if args.misses:
            print_misses(args.data / r["set"], r)
    return 0


def print_misses(folder: Path, r: dict) -> None:
    """Each question missed at 1: the gold frames and what came first instead."""
    manifest = {
        json.loads(x)["id"]: json.loads(x)
        for x in (folder / "manifest.jsonl").read_text().splitlines()
        if x.strip()
    }
    questions = {
        json.loads(x)["id"]: json.loads(x)
        for x in (folder / "questions.jsonl").read_text().splitlines()
        if x.strip()
    }
    for qid in r["misses@1"]:
        q = questions[qid.rstrip("*")]
        ranked = r["answers"][q["id"]]
        print(f"  - {q['id']} [{q['type']}] {q['question']}  -> {q['answer']}")
        for fid in q["frames"]:
            m = manifest[fid]
            pos = next((i + 1 for i, f in enumerate(ranked) if fid in f), None)
            print(f"      gold {fid} at {pos}: {m['ts']} {m['app']} | {m['title'][:70]}")
        for i, fs in enumerate(ranked[:3]):
            for fid in fs:
                m = manifest.get(fid, {"ts": "?", "app": "?", "title": "?"})
                print(f"      #{i + 1} {fid}: {m['ts']} {m['app']} | {m['title'][:70]}")


if __name__ == "__main__":
    sys.exit(main())
