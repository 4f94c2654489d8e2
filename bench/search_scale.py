"""Hybrid search at scale: a synthetic store grown to 10k, 100k and 1M observations (+10% memories).

Prints the ingest rate (SQLite + FTS5 rows, vectors), p50/p95 latency of hybrid search with and
without a time filter, the batch path's mean per query (``search_many``, as `engram search
--queries`) at each size, then the median of each stage (query embedding, BM25 over observations
and memories, nearest neighbours in each collection, the whole search). Vectors are random unit
vectors of the real dimension (384); the query is embedded by the real all-MiniLM-L6-v2 (the
product's NumPy embedder), so its cost is inside the figures.

Run: python bench/search_scale.py [--sizes 10000 100000 1000000] [--queries 200] [--home DIR]
    [--ordered]

``--home DIR`` keeps the grown home: a later run on it grows on from what it holds (sizes below
that are skipped, the size it holds is measured without growing; ingest rates then read nan).
Each batch of 20,000 observations spans the whole year, so ids are out of time order (a home
filled by many imports); ``--ordered`` gives times that follow ids, as capture writes them (one
home per size). Each timed pass starts without the term counts search keeps (``common_terms``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.service import MemoryService  # noqa: E402
from models.config import TextEmbeddingConfig  # noqa: E402
from models.text_embedding import load_text_embedder  # noqa: E402

DIM = 384
T0 = 1_700_000_000.0
SPAN = 365 * 86400.0
rng = np.random.default_rng(7)
VOCAB = [f"w{i}" for i in range(50_000)]
ZIPF = 1.0 / np.arange(1, len(VOCAB) + 1) ** 1.05
ZIPF /= ZIPF.sum()
APPS = ["Firefox", "Terminal", "Code", "Slack", "Mail", "Calc", "Zoom"]


def words(n: int, count: int) -> list[str]:
    """``count`` synthetic texts of ``n`` Zipf-distributed words."""
    idx = rng.choice(len(VOCAB), size=(count, n), p=ZIPF)
    return [" ".join(VOCAB[j] for j in row) for row in idx]


def unit(count: int) -> np.ndarray:
    """Random unit vectors."""
    v = rng.standard_normal((count, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def grow(
    service: MemoryService, start: int, stop: int, ordered: int = 0, batch: int = 20_000
) -> tuple[float, float]:
    """Add observations [start, stop) and 10% as many memories; returns (rows/s, vectors/s).

    Each batch spans the whole year (like many imports: ids out of time order), or with
    ``ordered`` (the home's final size) times follow ids over the year, as capture writes them.
    """
    sql_s = vec_s = 0.0
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        n = hi - lo
        if ordered:
            ts = T0 + SPAN * (np.arange(lo, hi) + np.sort(rng.uniform(0, 1, n))) / ordered
        else:
            ts = T0 + np.sort(rng.uniform(0, SPAN, n))
        texts = words(30, n)
        t = time.perf_counter()

        def _ins(conn, lo=lo, ts=ts, texts=texts, n=n):  # noqa: ANN001, ANN202
            conn.executemany(
                "INSERT INTO observations "
                "(id, kind, ts_start, app, window_title, text, status, created_at) "
                "VALUES (?, 'screen', ?, ?, ?, ?, 'indexed', ?)",
                [
                    (
                        lo + i + 1,
                        float(ts[i]),
                        APPS[i % 7],
                        f"{APPS[i % 7]} {texts[i][:20]}",
                        texts[i],
                        T0,
                    )
                    for i in range(len(texts))
                ],
            )
            m = max(1, n // 10)
            mtexts = words(12, m)
            for j in range(m):
                cur = conn.execute(
                    "INSERT INTO memories "
                    "(type, title, summary, details, ts, created_at, updated_at) "
                    "VALUES ('semantic', ?, ?, '', ?, ?, ?)",
                    (mtexts[j][:20], mtexts[j], float(ts[j]), T0, T0),
                )
                conn.execute(
                    "INSERT INTO semantic_memory (id, source) VALUES (?, 'bench')", (cur.lastrowid,)
                )

        service.store.write(_ins, "bench insert")
        sql_s += time.perf_counter() - t
        t = time.perf_counter()
        ids = [f"o:{lo + i + 1}:0" for i in range(n)]
        metas = [
            {"src": "o", "kind": "screen", "ts": float(ts[i]), "app": APPS[i % 7]} for i in range(n)
        ]
        service.index.add(ids, unit(n), metas)
        mem_rows = (
            service.store.read()
            .execute(
                "SELECT id, ts FROM memories WHERE id > ? ORDER BY id", (service.index_mem_hw,)
            )
            .fetchall()
        )
        if mem_rows:
            service.index.add(
                [f"m:{r[0]}" for r in mem_rows],
                unit(len(mem_rows)),
                [{"src": "m", "kind": "semantic", "ts": r[1], "app": ""} for r in mem_rows],
            )
            service.index_mem_hw = mem_rows[-1][0]
        vec_s += time.perf_counter() - t
        print(f"  {hi:>9,} observations", file=sys.stderr, flush=True)
    n = stop - start
    return n / sql_s, n * 1.1 / vec_s


CPU_MS: dict[bool, list[float]] = {False: [], True: []}
"""CPU ms (this process, all threads) of every timed search, without / with the time filter: on
a loaded machine wall time moves with the load, CPU time much less."""


def latency(service: MemoryService, queries: list[str], time_filter: bool) -> tuple[float, float]:
    """p50 and p95 wall ms of hybrid search over the given queries (CPU ms kept in CPU_MS)."""
    out = []
    fresh_counts()
    for i, q in enumerate(queries):
        kwargs = {}
        if time_filter:
            lo = T0 + (i % 50) * SPAN / 50
            kwargs = {"since": lo, "until": lo + 7 * 86400}
        t, c = time.perf_counter(), time.process_time()
        service.search(q, k=10, **kwargs)
        out.append(1000 * (time.perf_counter() - t))
        CPU_MS[time_filter].append(1000 * (time.process_time() - c))
    return float(np.percentile(out, 50)), float(np.percentile(out, 95))


def stages(service: MemoryService, queries: list[str]) -> dict[str, float]:
    """Median wall and CPU ms of each stage of a search, timed piece by piece outside the Searcher.

    embed: the query vector; fts_obs / fts_mem: BM25 over observations / memories (pool 50);
    ann_obs / ann_mem: the nearest 100 vectors of each Chroma collection; total: the whole
    ``service.search`` (time parsing, fusion, rows, snippets and near-duplicate folding included);
    the ``wk`` columns are the same with a 1-week filter (ann_wk: the overfetched neighbours the
    week is then picked from).
    """
    from memory.search import fts
    from memory.search.hybrid import OVERFETCH

    emb = service.home.embedder()
    conn = service.store.read()
    names = ("embed", "fts_obs", "fts_mem", "ann_obs", "ann_mem", "total")
    keys = (*names, "fts_obs_wk", "fts_mem_wk", "ann_obs_wk", "total_wk")
    out: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}

    def mark(key: str, t: float, c: float) -> None:
        out[key].append(time.perf_counter() - t)
        cpu[key].append(time.process_time() - c)

    fresh_counts()
    for i, q in enumerate(queries):
        lo = T0 + (i % 50) * SPAN / 50
        week = {"start": lo, "end": lo + 7 * 86400}
        t, c = time.perf_counter(), time.process_time()
        vec = emb.embed_texts([q])[0]
        mark("embed", t, c)
        match = fts.quote_fts(q) or '""'
        t, c = time.perf_counter(), time.process_time()
        fts.search_observations(conn, match, 50)
        mark("fts_obs", t, c)
        t, c = time.perf_counter(), time.process_time()
        fts.search_memories(conn, match, 50)
        mark("fts_mem", t, c)
        for src in ("o", "m"):
            t, c = time.perf_counter(), time.process_time()
            service.index.query(vec, 100, {"src": src})
            mark(f"ann_{'obs' if src == 'o' else 'mem'}", t, c)
        t, c = time.perf_counter(), time.process_time()
        service.search(q, k=10)
        mark("total", t, c)
        t, c = time.perf_counter(), time.process_time()
        fts.search_observations(conn, match, 50, **week)
        mark("fts_obs_wk", t, c)
        t, c = time.perf_counter(), time.process_time()
        fts.search_memories(conn, match, 50, **week)
        mark("fts_mem_wk", t, c)
        t, c = time.perf_counter(), time.process_time()
        service.index.query(vec, OVERFETCH, {"src": "o"})
        mark("ann_obs_wk", t, c)
        t, c = time.perf_counter(), time.process_time()
        service.search(q, k=10, since=week["start"], until=week["end"])
        mark("total_wk", t, c)
    return {k: 1000 * float(np.median(v)) for k, v in out.items()} | {
        f"cpu {k}": 1000 * float(np.median(v)) for k, v in cpu.items()
    }


def batch(service: MemoryService, queries: list[str]) -> float:
    """Mean ms per query of the batch path (``search_many``, as `engram search --queries`)."""
    fresh_counts()
    t = time.perf_counter()
    for _ in service.search_many(((str(i), q, None) for i, q in enumerate(queries)), k=10):
        pass
    return 1000 * (time.perf_counter() - t) / len(queries)


def fresh_counts() -> None:
    """Forget the term counts search keeps, so each pass pays for its first use of a term
    (a checkout from before #16 has none: the bench also runs there, for a before/after)."""
    try:
        from memory.search.common_terms import FREQUENCIES
    except ImportError:
        return
    FREQUENCIES.clear()


def main() -> None:
    """Grow the store and measure at each size."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--home", type=Path)
    ap.add_argument(
        "--ordered",
        action="store_true",
        help="times follow ids over the year of the largest size (one home per size)",
    )
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    home = args.home or Path(tmp.name) / "home"
    emb = load_text_embedder(TextEmbeddingConfig())  # the product's: NumPy MiniLM on the CPU
    service = MemoryService(home, embedder=emb, reconcile=False)
    service.store.set_meta("embedding_model", f"{emb.model_id}:{emb.dim}")
    # a kept home (--home) grows on from what it holds: sizes below that are skipped
    conn = service.store.read()
    done = int(conn.execute("SELECT count(*) FROM observations").fetchone()[0])
    service.index_mem_hw = int(  # type: ignore[attr-defined]
        conn.execute("SELECT coalesce(max(id), 0) FROM memories").fetchone()[0]
    )
    # queries: 2-4 words from the middle of the vocabulary, as people type them
    queries = [
        " ".join(VOCAB[j] for j in rng.integers(20, 5000, size=rng.integers(2, 5)))
        for _ in range(args.queries)
    ]
    latency(service, queries[:5], False)  # load the model before timing
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "| observations | rows/s | vectors/s | p50 ms | p95 ms "
        "| p50 ms (1-week filter) | p95 ms (filter) | batch ms/query | CPU p50/p95 ms "
        "| CPU p50/p95 ms (filter) | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    breakdown = []
    for size in args.sizes:
        if size < done:
            print(f"| {size:,} | (skipped: the home already holds {done:,}) |")
            continue
        ordered = max(args.sizes) if args.ordered else 0
        rows, vecs = grow(service, done, size, ordered) if size > done else (float("nan"),) * 2
        done = size
        p50, p95 = latency(service, queries, False)
        f50, f95 = latency(service, queries, True)
        per_query = batch(service, queries)
        cpu, fcpu = (
            f"{np.percentile(CPU_MS[f], 50):.1f} / {np.percentile(CPU_MS[f], 95):.1f}"
            for f in (False, True)
        )
        CPU_MS[False].clear()
        CPU_MS[True].clear()
        print(
            f"| {size:,} | {rows:,.0f} | {vecs:,.0f} | {p50:.1f} | {p95:.1f} | {f50:.1f} "
            f"| {f95:.1f} | {per_query:.1f} | {cpu} | {fcpu} | {os.getloadavg()[0]:.2f} |",
            flush=True,
        )
        breakdown.append((size, stages(service, queries[:50])))
    for kind in ("wall", "CPU"):
        print(
            f"\nmedian {kind} ms per stage (timed separately, so they need not add up; "
            "wk: 1-week filter)"
        )
        names = [
            n
            for n in (breakdown[0][1] if breakdown else [])
            if n.startswith("cpu ") == (kind == "CPU")
        ]
        print("| observations | " + " | ".join(n.removeprefix("cpu ") for n in names) + " |")
        print("|---|" + "---|" * len(names))
        for size, row in breakdown:
            print(f"| {size:,} | " + " | ".join(f"{row[n]:.1f}" for n in names) + " |")
    service.close()


if __name__ == "__main__":
    main()
