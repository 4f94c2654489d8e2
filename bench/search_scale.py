"""Hybrid search at scale: a synthetic store grown to 10k, 100k and 1M observations (+10% memories).

Prints the ingest rate (SQLite + FTS5 rows, vectors) and p50/p95 latency of hybrid search with and
without a time filter at each size. Vectors are random unit vectors of the real dimension (384); the
query is embedded by the real all-MiniLM-L6-v2, so its cost is inside the figures.

Run: python bench/search_scale.py [--sizes 10000 100000 1000000] [--queries 200] [--home DIR]
"""

from __future__ import annotations

import argparse
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


def grow(service: MemoryService, start: int, stop: int, batch: int = 20_000) -> tuple[float, float]:
    """Add observations [start, stop) and 10% as many memories; returns (rows/s, vectors/s)."""
    sql_s = vec_s = 0.0
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        n = hi - lo
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


def latency(service: MemoryService, queries: list[str], time_filter: bool) -> tuple[float, float]:
    """p50 and p95 ms of hybrid search over the given queries."""
    out = []
    for i, q in enumerate(queries):
        kwargs = {}
        if time_filter:
            lo = T0 + (i % 50) * SPAN / 50
            kwargs = {"since": lo, "until": lo + 7 * 86400}
        t = time.perf_counter()
        service.search(q, k=10, **kwargs)
        out.append(1000 * (time.perf_counter() - t))
    return float(np.percentile(out, 50)), float(np.percentile(out, 95))


def main() -> None:
    """Grow the store and measure at each size."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--home", type=Path)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    home = args.home or Path(tmp.name) / "home"
    emb = load_text_embedder(TextEmbeddingConfig())  # the product's: NumPy MiniLM on the CPU
    service = MemoryService(home, embedder=emb, reconcile=False)
    service.store.set_meta("embedding_model", f"{emb.model_id}:{emb.dim}")
    service.index_mem_hw = 0  # type: ignore[attr-defined]
    # queries: 2-4 words from the middle of the vocabulary, as people type them
    queries = [
        " ".join(VOCAB[j] for j in rng.integers(20, 5000, size=rng.integers(2, 5)))
        for _ in range(args.queries)
    ]
    latency(service, queries[:5], False)  # load the model before timing
    print(
        "| observations | rows/s | vectors/s | p50 ms | p95 ms "
        "| p50 ms (1-week filter) | p95 ms (filter) |"
    )
    print("|---|---|---|---|---|---|---|")
    done = 0
    for size in args.sizes:
        rows, vecs = grow(service, done, size)
        done = size
        p50, p95 = latency(service, queries, False)
        f50, f95 = latency(service, queries, True)
        print(
            f"| {size:,} | {rows:,.0f} | {vecs:,.0f} | {p50:.1f} | {p95:.1f} "
            f"| {f50:.1f} | {f95:.1f} |",
            flush=True,
        )
    service.close()


if __name__ == "__main__":
    main()
