"""LoCoMo retrieval through MemoryService: evidence recall@k and hit@k, beside plain baselines.

Run: python bench/locomo.py [--data PATH] [--conv conv-26] [--memorize local|URL|none]
    [--no-baselines]

``--memorize`` lets the memory agents write memories first (with that LLM, or without one for
``none``), so memories are searched beside the turns; a memory hit counts its source turns.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.locomo_data import CATEGORIES, DEFAULT, Conversation, load  # noqa: E402
from memory.search.fts import quote_fts  # noqa: E402
from memory.service import MemoryService  # noqa: E402
from models.config import TextEmbeddingConfig  # noqa: E402
from models.protocols import TextEmbedder  # noqa: E402
from models.text_embedding import load_text_embedder  # noqa: E402

KS = (1, 5, 10, 20)


def item_text(line: dict) -> str:
    """The baseline's item: "(session date) speaker: text [shares an image: caption]"."""
    text = f"({line['ts'][:10]}) {line['speaker']}: {line['text']}"
    if line.get("image_caption"):
        text += f" [shares an image: {line['image_caption']}]"
    return text


def engram_ranking(service: MemoryService, question: str) -> list[str]:
    """Message ids from the sources of the top hits, in hit order (one entry per hit)."""
    hits = service.search(question, k=max(KS))
    out = []
    for h in hits:
        ids = [s.message_id for s in h.sources if s.message_id]
        out.append(ids)
    return out  # type: ignore[return-value]


def bm25_baseline(lines: list[dict]) -> callable:  # type: ignore[valid-type]
    """Plain FTS5 BM25 over the items (OR of quoted tokens, FTS5 default constants)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    db.executemany(
        "INSERT INTO t (rowid, body) VALUES (?, ?)",
        [(i, item_text(line)) for i, line in enumerate(lines)],
    )

    def rank(q: str) -> list[list[str]]:
        match = quote_fts(q, drop_stopwords=False)
        if not match:
            return []
        rows = db.execute(
            "SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT ?", (match, max(KS))
        )
        return [[lines[r[0]]["id"]] for r in rows]

    return rank


def dense_baseline(lines: list[dict], emb: TextEmbedder) -> callable:  # type: ignore[valid-type]
    """Plain cosine similarity of all-MiniLM-L6-v2 over the items."""
    mat = emb.embed_texts([item_text(line) for line in lines])

    def rank(q: str) -> list[list[str]]:
        sims = mat @ emb.embed_texts([q])[0]
        return [[lines[i]["id"]] for i in np.argsort(-sims)[: max(KS)]]

    return rank


def score(ranked: list[list[str]], evidence: tuple[str, ...]) -> dict[int, tuple[float, float]]:
    """{k: (recall, hit)} for one question."""
    out = {}
    for k in KS:
        found = {i for ids in ranked[:k] for i in ids}
        got = sum(1 for e in evidence if e in found)
        out[k] = (got / len(evidence), 1.0 if got else 0.0)
    return out


def memorize(service: MemoryService, spec: str) -> None:
    """Let the memory agents write memories with the LLM ``spec`` (``none``: without one)."""
    from memory.agents import AgentConfig
    from memory.agents.llm_factory import build_llm

    llm = None if spec == "none" else build_llm(spec, timeout=600)
    t0 = time.time()
    service.agents(llm=llm, config=AgentConfig())
    service.memorize_pending()
    rejected = (
        service.store.read()
        .execute("SELECT COUNT(*) FROM agent_log WHERE outcome = 'rejected'")
        .fetchone()[0]
    )
    print(
        f"  memorised with {spec} in {time.time() - t0:.0f} s: {service.status()['memories']}, "
        f"{rejected} rejected answers",
        flush=True,
    )


def run_conv(
    conv: Conversation,
    emb: TextEmbedder,
    tmp: Path,
    methods: dict[str, dict],
    memorize_with: str | None = None,
) -> int:
    """Import one conversation and score every question with evidence; returns question count."""
    chat = tmp / f"{conv.sample_id}.jsonl"
    chat.write_text("\n".join(json.dumps(line) for line in conv.lines), encoding="utf-8")
    service = MemoryService(tmp / conv.sample_id, embedder=emb)
    service.import_chat(chat)
    if memorize_with:
        memorize(service, memorize_with)
    rankers = {
        "bm25": lambda: bm25_baseline(conv.lines),
        "dense": lambda: dense_baseline(conv.lines, emb),
        "engram": lambda: lambda q: engram_ranking(service, q),
    }
    rankers = {name: make() for name, make in rankers.items() if name in methods}
    n = 0
    for q in conv.questions:
        if q.category == 5 or not q.evidence:
            continue
        n += 1
        for name, rank in rankers.items():
            t0 = time.perf_counter()
            ranked = rank(q.question)
            methods[name]["ms"].append(1000 * (time.perf_counter() - t0))
            for k, (rec, hit) in score(ranked, q.evidence).items():
                for cat in (CATEGORIES[q.category], "overall"):
                    methods[name][("recall", cat, k)].append(rec)
                    methods[name][("hit", cat, k)].append(hit)
    service.close()
    return n


def report(methods: dict[str, dict]) -> None:
    """Print the tables."""
    cats = [CATEGORIES[c] for c in (1, 2, 3, 4)] + ["overall"]
    for metric in ("recall", "hit"):
        print(f"\nevidence {metric}@k (%)")
        print("| method | category | n | " + " | ".join(f"@{k}" for k in KS) + " |")
        print("|---|---|---|" + "---|" * len(KS))
        for name, m in methods.items():
            for cat in cats:
                vals = [m[(metric, cat, k)] for k in KS]
                if not vals[0]:
                    continue
                print(
                    f"| {name} | {cat} | {len(vals[0])} | "
                    + " | ".join(f"{100 * np.mean(v):.1f}" for v in vals)
                    + " |"
                )
    print(
        "\nmedian query ms: "
        + ", ".join(f"{n} {np.median(m['ms']):.1f}" for n, m in methods.items())
    )


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=DEFAULT)
    ap.add_argument("--conv", action="append", help="only these sample ids")
    ap.add_argument(
        "--memorize",
        metavar="LLM",
        help="memorise first with this LLM (local, a URL, or none for the agents without one)",
    )
    ap.add_argument("--no-baselines", action="store_true", help="score Engram only (tuning)")
    args = ap.parse_args()
    convs = [c for c in load(args.data) if not args.conv or c.sample_id in args.conv]
    emb = load_text_embedder(TextEmbeddingConfig())  # the product's: NumPy MiniLM on the CPU
    names = ("engram",) if args.no_baselines else ("bm25", "dense", "engram")
    methods: dict[str, dict] = {n: defaultdict(list) for n in names}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        total = sum(run_conv(c, emb, Path(tmp), methods, args.memorize) for c in convs)
    print(
        f"LoCoMo dev: {len(convs)} conversations, {total} questions with evidence "
        f"(adversarial left out); unrepairable evidence ids: {sum(c.unrepairable for c in convs)}; "
        f"{time.time() - t0:.0f} s; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    report(methods)


if __name__ == "__main__":
    main()
