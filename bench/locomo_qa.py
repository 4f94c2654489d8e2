"""LoCoMo question answering through Engram's agents: memorise one conversation, ask its questions.

Imports one conversation of the dev split as chat (turn ts = its session's date, speaker, dia_id as
message id), memorises it, answers a sample of its questions with ``ask`` and scores token F1
against
the gold answers per category (adversarial: correct when the answer says the information is not
there), plus evidence recall of the citations' sources and of everything retrieved.

Run: python bench/locomo_qa.py [--conv conv-26] [--limit 30] [--llm none|local|ID|URL]
     [--memorize-llm] [--hashing] [--out FILE]
Prints per category: token F1 (LoCoMo's normalisation, citations removed), answer containment,
evidence recall of the retrieved items and of the citations, seconds per answer and time to the
first token. The default is a stratified sample of 30 questions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.locomo_data import CATEGORIES, DEFAULT, Conversation, Question, load  # noqa: E402
from memory.agents import AgentConfig  # noqa: E402
from memory.agents.llm_factory import build_llm  # noqa: E402
from memory.service import MemoryService  # noqa: E402

NOT_THERE = re.compile(
    r"don'?t (have|know)|not (in|mentioned|available|found|stated)|no (information|mention|record)"
    r"|cannot (find|answer)|unknown|isn'?t (there|mentioned)",
    re.I,
)


def normalise(text: str) -> list[str]:
    """SQuAD-style answer tokens: lower case, no punctuation or articles."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return [t for t in text.split() if t not in ("a", "an", "the", "and")]


def token_f1(pred: str, gold: str) -> float:
    """Token-overlap F1 of a prediction against a gold answer."""
    p, g = normalise(pred), normalise(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def _no_citations(text: str) -> str:
    return re.sub(r"\[\d{1,3}\]", " ", text)


def contained(pred: str, gold: str) -> bool:
    """Whether the normalised gold answer appears in the normalised prediction."""
    g = " ".join(normalise(str(gold)))
    return bool(g) and g in " ".join(normalise(_no_citations(pred)))


def sample(questions: list[Question], limit: int, seed: int = 7) -> list[Question]:
    """A stratified sample across categories (all questions when ``limit`` covers them)."""
    if limit >= len(questions):
        return list(questions)
    rng = random.Random(seed)
    by_cat: dict[int, list[Question]] = defaultdict(list)
    for q in questions:
        by_cat[q.category].append(q)
    for qs in by_cat.values():
        rng.shuffle(qs)
    out: list[Question] = []
    while len(out) < limit:
        for cat in sorted(by_cat):
            if by_cat[cat] and len(out) < limit:
                out.append(by_cat[cat].pop())
    return out


def import_conversation(service: MemoryService, conv: Conversation, tmp: Path) -> int:
    """Import the conversation as chat JSONL written to a temp folder; returns turns imported."""
    path = tmp / f"{conv.sample_id}.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in conv.lines) + "\n", encoding="utf-8")
    return service.import_chat(path).imported


def score_one(q: Question, answer: object) -> dict[str, object]:
    """F1 (or adversarial correctness) and evidence recall of one answer."""
    text = answer.text  # type: ignore[attr-defined]
    cited = {s.get("message_id") for c in answer.citations for s in c["sources"]}  # type: ignore[attr-defined]
    seen = {s.message_id for h in answer.retrieved for s in h.sources}  # type: ignore[attr-defined]
    row: dict[str, object] = {
        "question": q.question,
        "gold": q.answer,
        "answer": text,
        "category": CATEGORIES[q.category],
        "cited_sources": len(cited),
    }
    if q.category == 5:
        row["score"] = 1.0 if NOT_THERE.search(text) else 0.0
        row["contained"] = row["score"]
    else:
        row["score"] = token_f1(_no_citations(text), q.answer)
        row["contained"] = 1.0 if contained(text, q.answer) else 0.0
    if q.evidence and q.category != 5:
        row["citation_recall"] = sum(e in cited for e in q.evidence) / len(q.evidence)
        row["retrieval_recall"] = sum(e in seen for e in q.evidence) / len(q.evidence)
    return row


def report(rows: list[dict[str, object]]) -> dict[str, object]:
    """Per-category means and overall figures."""
    out: dict[str, object] = {}
    for cat in list(CATEGORIES.values()) + ["all"]:
        sel = [r for r in rows if cat == "all" or r["category"] == cat]
        if not sel:
            continue
        ev = [r for r in sel if "citation_recall" in r]
        timed = [r for r in sel if r.get("first_token_s") is not None]
        out[cat] = {
            "n": len(sel),
            "score": round(sum(float(r["score"]) for r in sel) / len(sel), 3),
            "contained": round(sum(float(r["contained"]) for r in sel) / len(sel), 3),
            "seconds": round(sum(float(r["seconds"]) for r in sel) / len(sel), 2),
            "first_token_s": round(sum(float(r["first_token_s"]) for r in timed) / len(timed), 2)
            if timed
            else None,
            "cited_sources": round(sum(int(r["cited_sources"]) for r in sel) / len(sel), 1),
            "citation_recall": round(sum(float(r["citation_recall"]) for r in ev) / len(ev), 3)
            if ev
            else None,
            "retrieval_recall": round(sum(float(r["retrieval_recall"]) for r in ev) / len(ev), 3)
            if ev
            else None,
        }
    return out


def run(args: argparse.Namespace) -> dict[str, object]:
    """Import, memorise, ask, score."""
    conv = next(c for c in load(args.data) if c.sample_id == args.conv)
    questions = sample(conv.questions, args.limit)
    embedder = None
    if args.hashing:
        from models.text_embedding import HashingEmbedder

        embedder = HashingEmbedder()
    llm = build_llm(args.llm, model=args.llm_model, timeout=300)
    model = getattr(llm, "model_id", "none (extractive answers)")
    if llm is not None:
        model = f"{model} via {args.llm}"
    print(
        f"model: {model}; conversation {conv.sample_id}: {len(conv.lines)} turns, "
        f"{len(questions)} of {len(conv.questions)} questions (stratified sample, seed 7)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        service = MemoryService(Path(tmp) / "home", embedder=embedder)
        try:
            n = import_conversation(service, conv, Path(tmp))
            t0 = time.time()
            service.agents(llm=llm if args.memorize_llm else None, config=AgentConfig())
            batches = service.memorize_pending()
            mem_s = time.time() - t0
            print(
                f"imported {n} turns; memorised in {len(batches)} batches, {mem_s:.1f} s "
                f"({'with' if args.memorize_llm else 'without'} the LLM); memories: "
                f"{service.status()['memories']}",
                flush=True,
            )
            cfg = AgentConfig(
                answer_max_tokens=args.max_tokens,
                context_tokens=args.context,
                prompt_tokens=args.prompt_tokens,
            )
            agents = service.agents(llm=llm, config=cfg)
            now = datetime.fromisoformat(conv.lines[-1]["ts"]) + timedelta(days=1)
            rows = []
            for i, q in enumerate(questions, 1):
                t1 = time.time()
                stream = agents.ask_stream(q.question, now=now.astimezone(), keep=False)
                first = None
                for piece in stream:
                    if first is None and piece.strip():
                        first = time.time() - t1
                answer = stream.result
                rows.append(
                    {
                        **score_one(q, answer),
                        "seconds": round(time.time() - t1, 2),
                        "first_token_s": round(first, 2) if first is not None else None,
                    }
                )
                print(
                    f"[{i}/{len(questions)}] {rows[-1]['category']}: "
                    f"score {float(rows[-1]['score']):.2f} "
                    f"({rows[-1]['seconds']} s, first token {rows[-1]['first_token_s']} s) "
                    f"{answer.text[:80]!r} | gold {q.answer!r}",
                    flush=True,
                )
        finally:
            service.close()
    return {
        "model": model,
        "conversation": conv.sample_id,
        "questions": len(rows),
        "memorize_with_llm": args.memorize_llm,
        "results": report(rows),
        "rows": rows,
    }


def main() -> None:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT)
    p.add_argument("--conv", default="conv-26")
    p.add_argument(
        "--limit", type=int, default=30, help="questions to ask (stratified sample; default 30)"
    )
    p.add_argument(
        "--llm",
        default="none",
        help="none (extractive), local (the packaged default), a catalogue id, a GGUF path or an "
        "OpenAI-compatible URL",
    )
    p.add_argument("--llm-model", default="default")
    p.add_argument(
        "--memorize-llm", action="store_true", help="also memorise with the LLM (slow on CPU)"
    )
    p.add_argument("--max-tokens", type=int, default=48, help="answer length budget")
    p.add_argument(
        "--context", type=int, default=4096, help="context window in tokens (default 4096)"
    )
    p.add_argument(
        "--prompt-tokens",
        type=int,
        default=AgentConfig().prompt_tokens,
        help="chat prompt budget after the cached prefix (latency; default as the app's)",
    )
    p.add_argument(
        "--hashing", action="store_true", help="hashing embedder instead of MiniLM (faster, worse)"
    )
    p.add_argument("--out", type=Path, help="write the full JSON report here")
    args = p.parse_args()
    result = run(args)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
    print(f"load average: {os.getloadavg()}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
