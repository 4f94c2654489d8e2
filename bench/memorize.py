"""Memorisation throughput and footprint on screens-dev, per LLM backend.

Imports the frames once (OCR, redaction, embeddings: the indexer's work, not timed here), then for
each backend memorises a copy of that home and reports observations/minute, LLM calls per batch,
memories by type, and bytes of memory text against bytes of raw frames.

Run: python bench/memorize.py [--llm none] [--llm local] [--llm http://127.0.0.1:8080/v1]
     [--data ../shared/bench-data/screens-dev] [--batch 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.agents import AgentConfig  # noqa: E402
from memory.agents.llm_factory import build_llm  # noqa: E402
from memory.service import MemoryService  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "screens-dev"


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def memory_bytes(service: MemoryService) -> int:
    """UTF-8 bytes of the live memories' text (title, summary, details)."""
    total = 0
    for batch in service.store.iter_memories():
        total += sum(len(f"{m.title}{m.summary}{m.details}".encode()) for m in batch)
    return total


def prepare(data: Path, home: Path) -> dict[str, object]:
    """Import and index the frames into ``home``; returns timings."""
    t0 = time.time()
    with MemoryService(home) as service:
        service.import_frames(data / "manifest.jsonl")
        counts = service.status()["by_status"]
    return {"import_index_s": round(time.time() - t0, 1), "by_status": counts}


def run_backend(spec: str, template: Path, work: Path, data: Path, batch: int) -> dict[str, object]:
    """Memorise a copy of the template home with one backend."""
    home = work / f"home-{abs(hash(spec))}"
    shutil.copytree(template, home)
    llm = build_llm(spec, timeout=300)
    with MemoryService(home) as service:
        agents = service.agents(llm=llm, config=AgentConfig(batch_frames=batch, max_batch=batch))
        waiting = agents.memorizer.waiting()
        t0 = time.time()
        # passes as the worker makes them over time: a batch whose answers were rejected twice
        # is tried again in a later pass (agents.rejected_retries), until nothing waits
        results, passes = [], 0
        while agents.memorizer.waiting() and passes <= agents.config.rejected_retries + 1:
            results += agents.memorize_pending()
            passes += 1
        secs = time.time() - t0
        calls = [r.llm_calls for r in results]
        rejected = (
            service.store.read()
            .execute("SELECT COUNT(*) FROM agent_log WHERE outcome = 'rejected'")
            .fetchone()[0]
        )
        return {
            "llm": spec,
            "model": getattr(llm, "model_id", None),
            "observations": waiting,
            "batches": len(results),
            "passes": passes,
            "still_waiting": agents.memorizer.waiting(),
            "seconds": round(secs, 1),
            "observations_per_minute": round(60 * waiting / secs, 1) if secs else None,
            "llm_calls_per_batch": round(sum(calls) / len(calls), 2) if calls else 0,
            "rejected_answers": rejected,
            "memories": service.status()["memories"],
            "memory_bytes": memory_bytes(service),
            "stored_frame_bytes": folder_bytes(home / "frames"),
            "raw_frame_bytes": folder_bytes(data / "frames"),
            "examples": {
                t: [
                    f"{m.title}: {m.summary[:100]}" if m.title else m.summary[:100]
                    for m in service.list_memories(t, limit=6)
                ]
                for t in ("episodic", "semantic", "procedural", "resource", "core")
            },
            "load_average": [round(x, 1) for x in os.getloadavg()],
        }


def main() -> None:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT)
    p.add_argument(
        "--llm",
        action="append",
        help="none, local (the packaged default), a catalogue id or a URL (repeatable; "
        "default none)",
    )
    p.add_argument("--batch", type=int, default=20)
    p.add_argument(
        "--template", type=Path, help="keep the imported home here and reuse it next time"
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = args.template or Path(tmp) / "template"
        if template.exists():  # reuse an imported home (OCR of the frames is the slow part)
            prep: dict[str, object] = {"reused": str(template)}
        else:
            prep = prepare(args.data, template)
        print(f"imported and indexed {args.data.name}: {json.dumps(prep)}", flush=True)
        for spec in args.llm or ["none"]:
            row = run_backend(spec, template, Path(tmp), args.data, args.batch)
            row["memory_to_raw_ratio"] = round(
                row["memory_bytes"] / max(1, row["raw_frame_bytes"]), 5
            )  # type: ignore[operator]
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
