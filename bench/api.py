"""Warm MCP/HTTP search vs a fresh `engram search` process, and `engram mcp`'s time to initialize.

On a synthetic home of 100k observations (+10% memories; built as bench/search_scale.py does,
random vectors, the real all-MiniLM-L6-v2 for queries) this measures, in one run:
- time from starting `engram mcp` to its answer to `initialize` (SDK stdio client);
- p50/p95 of `search_memory` through that warm stdio server (round trip seen by the client);
- p50/p95 of `POST /v1/search` through a warm `engram serve` (httpx, keep-alive);
- p50/p95 of `engram search` as a fresh process, in-process (`--local`): the baseline;
- p50/p95 of `engram search` as a fresh process that takes the fast path to the running server.
Targets (issue #14): warm search p95 <= 100 ms; initialize <= 1 s.

Run: python bench/api.py [--size 100000] [--queries 100] [--fresh 5] [--home DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.search_scale import VOCAB, grow, rng  # noqa: E402


def build_home(home: Path, size: int) -> None:
    """A home of ``size`` synthetic observations, ready for a server to open without repairs."""
    from memory.service import MemoryService
    from models.text_embedding import SentenceTransformerEmbedder

    if (home / "engram.db").exists():
        print(f"reusing {home}", file=sys.stderr)
        return
    emb = SentenceTransformerEmbedder()
    service = MemoryService(home, embedder=emb, reconcile=False)
    service.store.set_meta("embedding_model", f"{emb.model_id}:{emb.dim}")
    service.index_mem_hw = 0  # type: ignore[attr-defined]
    grow(service, 0, size)
    service.store.set_meta("vector_count", str(service.index.count()))
    service.close()


def env() -> dict[str, str]:
    """Subprocess environment: this tree first, offline."""
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT), out.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return out


def engram(home: Path, *args: str) -> list[str]:
    """The command line of one `engram` invocation."""
    return [sys.executable, "-m", "app.cli.main", "--home", str(home), *args]


def pct(values: list[float]) -> tuple[float, float]:
    """p50 and p95 of milliseconds."""
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


async def mcp_run(home: Path, queries: list[str], starts: int) -> tuple[list[float], list[float]]:
    """Initialize times (ms) of ``starts`` fresh servers; search_memory times on the last."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=engram(home, "mcp")[1:], env=env())
    inits: list[float] = []
    searches: list[float] = []
    for n in range(starts):
        t = time.perf_counter()
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                inits.append(1000 * (time.perf_counter() - t))
                if n < starts - 1:
                    continue
                await session.list_tools()  # starts warming up
                await session.call_tool("search_memory", {"query": queries[0]})
                for q in queries:
                    t = time.perf_counter()
                    result = await session.call_tool("search_memory", {"query": q})
                    searches.append(1000 * (time.perf_counter() - t))
                    assert not result.isError, result.content
    return inits, searches


def http_run(home: Path, queries: list[str], fresh: int) -> tuple[list[float], list[float]]:
    """HTTP search times on a warm `engram serve`, and fresh `engram search` fast-path times."""
    proc = subprocess.Popen(
        engram(home, "serve", "--port", "0"), env=env(), stderr=subprocess.DEVNULL
    )
    try:
        info = home / "api-server.json"
        deadline = time.monotonic() + 300
        while not info.exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("engram serve did not start")
            time.sleep(0.2)
        port = json.loads(info.read_text())["port"]
        token = (home / "api-token").read_text().strip()
        url = f"http://127.0.0.1:{port}/v1/search"
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
            while True:  # the first answer waits for the model and the index to load
                try:
                    client.post(url, json={"query": queries[0]}).raise_for_status()
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            times = []
            for q in queries:
                t = time.perf_counter()
                client.post(url, json={"query": q}).raise_for_status()
                times.append(1000 * (time.perf_counter() - t))
        return times, fresh_cli(home, queries[:fresh], local=False)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def fresh_cli(home: Path, queries: list[str], *, local: bool) -> list[float]:
    """Wall times (ms) of `engram search` processes, one per query."""
    times = []
    for q in queries:
        t = time.perf_counter()
        extra = ["--local"] if local else []
        subprocess.run(
            engram(home, "search", q, "--json", *extra),
            env=env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(1000 * (time.perf_counter() - t))
    return times


def main() -> None:
    """Build (or reuse) the home, measure, print a table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--fresh", type=int, default=5, help="fresh processes per CLI figure")
    ap.add_argument("--starts", type=int, default=5, help="`engram mcp` starts timed")
    ap.add_argument("--home", type=Path)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    home = args.home or Path(tmp.name) / "home"
    t = time.perf_counter()
    build_home(home, args.size)
    print(f"home ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    queries = [
        " ".join(VOCAB[j] for j in rng.integers(20, 5000, size=rng.integers(2, 5)))
        for _ in range(args.queries)
    ]
    baseline = fresh_cli(home, queries[: args.fresh], local=True)
    inits, mcp_times = asyncio.run(mcp_run(home, queries, args.starts))
    http_times, fast_cli = http_run(home, queries, args.fresh)
    print(f"\n{args.size:,} observations; load average {os.getloadavg()}\n")
    print("| path | n | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for name, values in (
        ("fresh `engram search --local` process (baseline)", baseline),
        ("`engram mcp` start to initialize answer", inits),
        ("search_memory, warm stdio MCP server", mcp_times),
        ("POST /v1/search, warm `engram serve`", http_times),
        ("fresh `engram search` process, fast path to the server", fast_cli),
    ):
        p50, p95 = pct(values)
        print(f"| {name} | {len(values)} | {p50:.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
