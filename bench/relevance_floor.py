"""Relevance floor: how many hits each floor setting keeps, and whether it costs any hit@k.

Usage:
    python bench/relevance_floor.py [--keep DIR] [--sets screens-dev,screens-dev-v2,...] [--json]

Each set is loaded into its own home once (screens through `import_frames`: OCR, dedup,
embeddings; LoCoMo dev one home per conversation through `import_chat`); ``--keep DIR`` keeps the
homes so a second run only searches. Every question is searched once with the floor off (k=50,
the `--now` of the set); each candidate floor is then applied to those rankings as the searcher
applies it (to hits outside a query's time phrase; every hit inside it is kept), and the top 10
scored: hit@1/5/10 (LoCoMo: also evidence recall@10), mean hits returned, how often none is left.
Negatives, for the "no good match" side: the screens questions asked of a LoCoMo home and LoCoMo
questions asked of the screens homes should find nothing; their mean hit count is the noise a floor
removes. The load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOCOMO = Path("/work/shared/bench-data/locomo-dev/locomo-dev.json")
from bench.locomo_data import load  # noqa: E402
from memory.search.hybrid import Floor  # noqa: E402
from memory.service import MemoryService  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/bench-data")
SCREEN_SETS = ("screens-dev", "screens-dev-v2", "screens-dev-html")
NOW = {"screens-dev": "2026-02-21T10:00:00", "screens-dev-v2": "2026-02-28T10:00:00"}
KS = (1, 5, 10)
RELATIVE = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
MIN_SIM = (-1.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
NEGATIVES = 40


@dataclass
class Row:
    """One hit of an unfloored search: gold or not, and what the floor looks at."""

    gold: frozenset[str]
    score: float
    lexical: bool
    similarity: float
    inside: bool


Ranking = list[Row]


def rows(hits: list, gold_of) -> Ranking:  # noqa: ANN001 - a Hit list and a callable
    """The rows of a ranking; ``gold_of(hit)`` gives the ids a hit carries."""
    return [
        Row(
            frozenset(gold_of(h)),
            h.score,
            bool(h.extra.get("lexical", True)),
            float(h.extra.get("similarity", 1.0)),
            h.in_time_range,
        )
        for h in hits
    ]


def floored(ranking: Ranking, rel: float, sim: float) -> Ranking:
    """The ranking as the searcher's floor would leave it: with a time phrase (some hits fall
    outside its range), every hit inside it and then the floored hits outside; without one (every
    hit counts as inside), all of it floored."""
    timed = any(not r.inside for r in ranking)
    out: Ranking = [r for r in ranking if r.inside] if timed else []
    rest = [r for r in ranking if not r.inside] if timed else ranking
    part = [r for r in rest if r.lexical or r.similarity >= sim]
    if part:
        out += [r for r in part if r.score >= rel * part[0].score]
    return out


def search_all(service: MemoryService, questions: list[tuple[str, str, str | None]], gold_of):  # noqa: ANN001, ANN201
    """Unfloored rankings (k=50) of (id, question, now) triples."""
    from datetime import datetime

    service.searcher.floor = Floor(0.0, -1.0)
    out = {}
    for qid, text, now in questions:
        when = datetime.fromisoformat(now).astimezone() if now else None
        out[qid] = rows(service.search(text, k=50, now=when), gold_of)
    return out


def screen_set(
    name: str, keep: Path
) -> tuple[MemoryService, list[tuple[str, str, str | None]], dict]:
    """A home with one screens set imported (once), its questions and their gold frames."""
    folder = DATA / name
    home = keep / name
    fresh = not (home / "engram.db").exists()
    service = MemoryService(home)
    if fresh:
        t0 = time.perf_counter()
        service.import_frames(folder / "manifest.jsonl")
        print(f"  imported {name} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    qs = [json.loads(x) for x in (folder / "questions.jsonl").read_text().splitlines() if x.strip()]
    questions = [(q["id"], q["question"], q.get("now") or NOW.get(name)) for q in qs]
    gold = {q["id"]: set(q["frames"]) for q in qs}
    return service, questions, gold


def score(rankings: dict[str, Ranking], gold: dict[str, set[str]], rel: float, sim: float) -> dict:
    """hit@k, recall@10, mean hits and empty share of one floor over one set."""
    hit = {k: 0 for k in KS}
    recall = 0.0
    kept = empty = 0
    for qid, ranking in rankings.items():
        top = floored(ranking, rel, sim)[:10]
        kept += len(top)
        empty += not top
        for k in KS:
            hit[k] += any(gold[qid] & r.gold for r in top[:k])
        found = set().union(*(r.gold for r in top)) if top else set()
        recall += len(gold[qid] & found) / len(gold[qid])
    n = len(rankings)
    return {f"hit@{k}": round(hit[k] / n, 3) for k in KS} | {
        "recall@10": round(recall / n, 3),
        "mean_hits": round(kept / n, 2),
        "empty": round(empty / n, 3),
        "n": n,
    }


def collect(
    sets: list[str], keep: Path, convs: int | None = None
) -> tuple[dict, dict, dict[str, Ranking], list]:
    """Unfloored rankings and gold ids per set, the negatives' rankings, and the open homes."""
    rankings: dict[str, dict[str, Ranking]] = {}
    golds: dict[str, dict[str, set[str]]] = {}
    screen_qs: list[tuple[str, str, str | None]] = []
    locomo_qs: list[tuple[str, str, str | None]] = []
    homes: list[MemoryService] = []
    for name in [s for s in sets if s in SCREEN_SETS]:
        service, questions, gold = screen_set(name, keep)
        manifest = (DATA / name / "manifest.jsonl").read_text().splitlines()
        by_path = {json.loads(x)["path"]: json.loads(x)["id"] for x in manifest if x.strip()}

        def frames(h, by_path=by_path):  # noqa: ANN001, ANN202
            return {by_path.get(s.frame_path or "", "?") for s in h.sources}

        rankings[name] = search_all(service, questions, frames)
        golds[name] = gold
        screen_qs += [(f"{name}:{i}", q, n) for i, q, n in questions]
        homes.append(service)
    screens = len(homes)
    if "locomo" in sets:
        rankings["locomo"], golds["locomo"] = {}, {}
        for service, questions, evidence in locomo_homes(keep, convs):
            found = search_all(service, questions, lambda h: {s.message_id for s in h.sources})
            rankings["locomo"].update(found)
            golds["locomo"].update({k: evidence[k] for k in found})
            locomo_qs += questions
            homes.append(service)
    negatives: dict[str, Ranking] = {}
    if locomo_qs and screen_qs:
        for qid, r in search_all(homes[-1], screen_qs[:NEGATIVES], lambda h: set()).items():
            negatives[f"screens-to-locomo:{qid}"] = r
        for service in homes[:screens]:
            asked = locomo_qs[::25][:NEGATIVES]
            for qid, r in search_all(service, asked, lambda h: set()).items():
                negatives[f"locomo-to-screens:{qid}"] = r
    return rankings, golds, negatives, homes


def locomo_homes(keep: Path, convs: int | None = None):  # noqa: ANN201 - yields (service, questions, evidence)
    """One home per LoCoMo dev conversation (the first ``convs``; imported once), with its questions
    and evidence."""
    from models.text_embedding import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    for conv in load(LOCOMO)[:convs]:
        home = keep / "locomo" / conv.sample_id
        fresh = not (home / "engram.db").exists()
        service = MemoryService(home, embedder=emb)
        if fresh:
            chat = keep / "locomo" / f"{conv.sample_id}.jsonl"
            chat.write_text("\n".join(json.dumps(x) for x in conv.lines), encoding="utf-8")
            service.import_chat(chat)
        questions = [
            (f"{conv.sample_id}:{n}", q.question, None)
            for n, q in enumerate(conv.questions)
            if q.category != 5 and q.evidence
        ]
        evidence = {f"{conv.sample_id}:{n}": set(q.evidence) for n, q in enumerate(conv.questions)}
        yield service, questions, evidence


def grid_scores(rankings: dict, golds: dict, negatives: dict[str, Ranking]) -> list[dict]:
    """Every floor of the grid, scored on every set (and the negatives' mean hit count)."""
    grid = []
    for rel in RELATIVE:
        for sim in MIN_SIM:
            row: dict = {"relative": rel, "min_similarity": sim}
            row["sets"] = {name: score(r, golds[name], rel, sim) for name, r in rankings.items()}
            if negatives:
                kept = sum(len(floored(r, rel, sim)[:10]) for r in negatives.values())
                row["negatives_mean_hits"] = round(kept / len(negatives), 2)
            grid.append(row)
    return grid


def choose(grid: list[dict]) -> dict:
    """The strictest floor (fewest hits returned) that lowers no hit@k on any set."""
    base = grid[0]["sets"]
    safe = [
        g
        for g in grid
        if all(g["sets"][n][f"hit@{k}"] >= base[n][f"hit@{k}"] for n in base for k in KS)
    ]
    return min(
        safe, key=lambda g: (sum(s["mean_hits"] for s in g["sets"].values()), -g["relative"])
    )


def report(grid: list[dict], best: dict, load_avg: tuple[float, float, float]) -> None:
    """The grid as a table, the chosen floor marked."""
    print(f"load average: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    names = list(grid[0]["sets"])
    print("relative min_sim | " + " | ".join(f"{n}: hit@1/5/10 mean-hits empty" for n in names))
    for g in grid:
        cells = [
            f"{s['hit@1']:.3f}/{s['hit@5']:.3f}/{s['hit@10']:.3f} {s['mean_hits']:5.2f} "
            f"{s['empty']:.2f}"
            for s in (g["sets"][n] for n in names)
        ]
        mark = "  <- chosen" if g is best else ""
        neg = g.get("negatives_mean_hits", "-")
        print(f"{g['relative']:8.2f} {g['min_similarity']:7.2f} | " + " | ".join(cells)
              + f" | negatives {neg}{mark}")  # fmt: skip
    print(f"\nchosen: relative {best['relative']}, min_similarity {best['min_similarity']}")
    if "locomo" in names:
        off, on = grid[0]["sets"]["locomo"], best["sets"]["locomo"]
        print(f"LoCoMo recall@10: off {off['recall@10']}, chosen {on['recall@10']}")


def main() -> int:
    """Build (or reuse) the homes, search once, score every floor."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, default=None, help="keep the homes here (and reuse them)")
    ap.add_argument("--sets", default=",".join((*SCREEN_SETS, "locomo")))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--convs", type=int, default=None, help="only the first N LoCoMo conversations")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="engram-floor-")
    keep = args.keep or Path(tmp.name)
    keep.mkdir(parents=True, exist_ok=True)
    rankings, golds, negatives, homes = collect(args.sets.split(","), keep, args.convs)
    grid = grid_scores(rankings, golds, negatives)
    best = choose(grid)
    for service in homes:
        service.close()
    tmp.cleanup()
    load_avg = os.getloadavg()
    if args.json:
        print(json.dumps({"load": load_avg, "grid": grid, "chosen": best}, indent=2))
    else:
        report(grid, best, load_avg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
