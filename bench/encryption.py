"""Encryption at rest, cost (#12): import rate and search latency, encrypted vs plain, same run.

Usage:
    python bench/encryption.py [--lines N] [--queries N] [--frames N] [--rounds R] [--json]

Two fresh homes in a temporary folder, one plain and one with ``privacy.encrypt_at_rest`` on
(SQLCipher database, sealed files, tagged vector metadata), each filled the same way in the same
process, alternating plain / encrypted for ``--rounds`` rounds (the best round of each counts, so a
burst of load from other processes hurts neither side more):

* chat import: the LoCoMo dev conversations (../shared/bench-data, read in place) through
  ``MemoryService.import_chat`` with the model-free hashing embedder, so the figure is the store's
  cost (SQLite or SQLCipher, FTS, Chroma) and not the text model's, which is the same on both sides
  and would only hide the difference;
* search: ``--queries`` searches (words of the imported lines) through ``MemoryService.search``,
  p50 and p95 latency in ms;
* frames: ``--frames`` screenshots of screens-dev stored (downscale, WebP, thumbnail) and read back
  through ``FrameStore``, plain vs sealed, frames per second.

``uptime``'s load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.locomo_data import load  # noqa: E402

# ../shared/bench-data beside the main checkout; a worktree under /work/wt finds it one level up
DATA = next(
    (
        p
        for p in (ROOT.parent / "shared" / "bench-data", ROOT.parents[1] / "shared" / "bench-data")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "bench-data",
)
LOCOMO = DATA / "locomo-dev" / "locomo-dev.json"
SCREENS = DATA / "screens-dev"
PASSPHRASE = "Bench-Walrus-Lantern-9"


def _chat_file(folder: Path, limit: int) -> tuple[Path, list[str]]:
    lines = [
        {**line, "id": f"{conv.sample_id}:{line['id']}"}
        for conv in load(LOCOMO)
        for line in conv.lines
    ][:limit]
    path = folder / "chat.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    words = sorted({w.strip(".,!?\"'").lower() for line in lines for w in line["text"].split()})
    return path, [w for w in words if len(w) > 4]


def _home(folder: Path, encrypted: bool) -> Path:
    folder.mkdir(mode=0o700)
    enc = "true" if encrypted else "false"
    (folder / "config.toml").write_text(
        f'[models.text_embedding]\nmodel_id = "hashing-64"\n\n[privacy]\nencrypt_at_rest = {enc}\n'
    )
    return folder


def _import_and_search(
    home: Path, chat: Path, queries: list[str], n_lines: int
) -> tuple[float, list[float]]:
    from memory.service import MemoryService
    from models.text_embedding import HashingEmbedder

    with MemoryService(home, embedder=HashingEmbedder()) as service:
        service.warm_up()
        t0 = time.perf_counter()
        service.import_chat(chat)
        rate = n_lines / (time.perf_counter() - t0)
        service.search("warm up the index")
        times = []
        for q in queries:
            t = time.perf_counter()
            service.search(q)
            times.append((time.perf_counter() - t) * 1000)
    return rate, times


def _frames_rate(folder: Path, key: bytes | None, shots: list[Path]) -> float:
    from PIL import Image

    from memory.media.frames import FrameStore

    store = FrameStore(folder, key=key)
    images = [Image.open(p).convert("RGB") for p in shots]
    t0 = time.perf_counter()
    for i, img in enumerate(images):
        saved = store.save(img, 1_770_000_000 + i)
        store.open(saved.frame)
        store.open(saved.thumb)
    return len(images) / (time.perf_counter() - t0)


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("ENGRAM_KEYRING", "file")
    os.environ["ENGRAM_VAULT_PASSPHRASE"] = PASSPHRASE
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    rng = random.Random(7)
    results: dict[str, dict[str, list[float]]] = {
        side: {"rate": [], "p50": [], "p95": [], "frames": []} for side in ("plain", "encrypted")
    }
    shots = sorted((SCREENS / "frames").rglob("*.png"))[: args.frames]
    with tempfile.TemporaryDirectory(prefix="engram-bench-enc-") as tmp:
        base = Path(tmp)
        chat, words = _chat_file(base, args.lines)
        n_lines = sum(1 for _ in chat.open(encoding="utf-8"))
        queries = [rng.choice(words) for _ in range(args.queries)]
        for r in range(args.rounds):
            for side in ("plain", "encrypted"):
                home = _home(base / f"{side}-{r}", side == "encrypted")
                rate, times = _import_and_search(home, chat, queries, n_lines)
                results[side]["rate"].append(rate)
                results[side]["p50"].append(_p(times, 50))
                results[side]["p95"].append(_p(times, 95))
                key = os.urandom(32) if side == "encrypted" else None
                if shots:
                    results[side]["frames"].append(_frames_rate(base / f"f-{side}-{r}", key, shots))
    load_avg = os.getloadavg()
    best = {
        side: {
            "import_lines_per_s": max(v["rate"]),
            "search_p50_ms": min(v["p50"]),
            "search_p95_ms": min(v["p95"]),
            "frames_per_s": max(v["frames"]) if v["frames"] else None,
        }
        for side, v in results.items()
    }
    out = {
        "lines": n_lines,
        "queries": args.queries,
        "frames": len(shots),
        "rounds": args.rounds,
        "best": best,
        "all_rounds": results,
        "load_average": [round(x, 2) for x in load_avg],
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(
        f"{n_lines} chat lines, {args.queries} searches, {len(shots)} frames, best of {args.rounds}"
    )
    print(
        f"{'':12}{'import lines/s':>16}{'search p50 ms':>15}{'search p95 ms':>15}{'frames/s':>10}"
    )
    for side, b in best.items():
        frames = f"{b['frames_per_s']:.1f}" if b["frames_per_s"] else "-"
        print(
            f"{side:12}{b['import_lines_per_s']:16.1f}{b['search_p50_ms']:15.2f}"
            f"{b['search_p95_ms']:15.2f}{frames:>10}"
        )
    p, e = best["plain"], best["encrypted"]
    print(
        f"encrypted/plain: import {e['import_lines_per_s'] / p['import_lines_per_s']:.2f}x, "
        f"search p95 {e['search_p95_ms'] / p['search_p95_ms']:.2f}x"
    )
    print("load average (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in load_avg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
