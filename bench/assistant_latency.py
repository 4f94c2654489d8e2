"""Time to the first token of an answer with the packaged assistant, cold and with the fixed prefix
cached, against the same question asked with no LLM (retrieval only) in the same run.

A small home with a few screens (the Vantage CRM contract among them) is built in a temp folder;
the model loads once (the app keeps it loaded), then each question is asked twice: right after
the system prompt was primed (what the app does at start) and again with the state of an earlier
answer cached.

Run: python bench/assistant_latency.py [--llm local|ID|PATH|URL] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory.agents import AgentConfig  # noqa: E402
from memory.agents.llm_factory import build_llm  # noqa: E402
from memory.service import MemoryService  # noqa: E402
from memory.store import NewObservation  # noqa: E402

T0 = 1_771_236_000.0
SCREENS = [
    (
        "Evince",
        "vantage_crm_msa.pdf — Document Viewer",
        "Vantage CRM Master Subscription Agreement 3.2 Fees are invoiced annually in advance "
        "4.1 This Agreement renews automatically on 7 October 2026 unless either party gives "
        "notice "
        "4.2 Either party may cancel with 60 days notice before renewal",
    ),
    ("Mail", "Inbox — Mail", "Maria: lunch on Friday at 12:30 at Cantina Lisboa"),
    ("Firefox", "Flights — TAP", "Booking confirmed: flight TP1234 Berlin to Lisbon, seat 14C"),
    ("Terminal", "Terminal — ~/projects/ledger", "$ pytest -q 3 failed, 41 passed in 2.31s"),
]
QUESTIONS = [
    "When does the Vantage CRM contract renew?",
    "What was my flight number to Lisbon?",
    "Where is lunch with Maria?",
]


def first_token(service: MemoryService, question: str) -> tuple[float, float, str]:
    """Seconds to the first non-blank piece and to the end, and the answer."""
    start = time.perf_counter()
    stream = service.ask_stream(question, now=datetime(2026, 2, 20, 9, tzinfo=UTC), keep=False)
    first = None
    for piece in stream:
        if first is None and piece.strip():
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    return first or total, total, stream.result.text if stream.result else ""


def main() -> None:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--llm", default="local")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = MemoryService(Path(tmp) / "home")
        try:
            ids = service.store.add_observations(
                [
                    NewObservation(
                        kind="screen", ts_start=T0 + 60 * i, app=a, window_title=t, text=x
                    )
                    for i, (a, t, x) in enumerate(SCREENS)
                ]
            )
            service.index_pending()
            print(f"home: {len(ids)} screens", flush=True)
            service.agents(llm=None, config=AgentConfig())
            base = [first_token(service, q)[1] for q in QUESTIONS]
            t = time.perf_counter()
            llm = build_llm(args.llm, timeout=600)
            load_s = time.perf_counter() - t
            agents = service.agents(llm=llm, config=AgentConfig())
            prime_s = agents.chat.prime()
            print(f"model {llm.model_id}: load {load_s:.1f} s, prime {prime_s:.1f} s", flush=True)
            rows = []
            for _ in range(args.repeat):
                for q in QUESTIONS:
                    ttft, total, text = first_token(service, q)
                    rows.append((ttft, total))
                    print(
                        f"  first token {ttft:5.1f} s, answer {total:5.1f} s: {text!r}", flush=True
                    )
            ttfts = [r[0] for r in rows]
            print(
                f"retrieval only (no LLM): median {statistics.median(base):.2f} s per question\n"
                f"first token: median {statistics.median(ttfts):.1f} s, max {max(ttfts):.1f} s; "
                f"answer: median {statistics.median(r[1] for r in rows):.1f} s "
                f"over {len(rows)} answers; threads follow the load; "
                f"load average {tuple(round(x, 1) for x in os.getloadavg())}"
            )
        finally:
            service.close()


if __name__ == "__main__":
    main()
