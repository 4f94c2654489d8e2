"""`engram ask`, `engram chat`, `engram memorize` and `engram proposals` (memory agents, #5)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.cli.common import ProgressBar, get_service, parse_now, print_json


def _llm_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm",
        default=os.environ.get("ENGRAM_LLM", "none"),
        help="none (default; extractive), config (the LLM in config.toml), local (packaged "
        "model) or an OpenAI-compatible "
        "URL like http://127.0.0.1:8080/v1 (env ENGRAM_LLM)",
    )
    p.add_argument("--llm-model", default="default", help="model name the server expects")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    ask = sub.add_parser("ask", help="answer a question from memory, with citations")
    ask.add_argument("question")
    ask.add_argument("--now", help="the time 'yesterday' is relative to (ISO; default: now)")
    ask.add_argument(
        "--json", action="store_true", help="print answer, citations and retrieved items"
    )
    ask.add_argument(
        "--no-keep", action="store_true", help="do not store this turn in the chat log"
    )
    _llm_option(ask)
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="chat with your memory (interactive; stdin may be piped)")
    chat.add_argument("--now", help="the time 'yesterday' is relative to (ISO; default: now)")
    _llm_option(chat)
    chat.set_defaults(func=cmd_chat)

    mem = sub.add_parser("memorize", help="memorise the observations waiting now")
    mem.add_argument("--json", action="store_true")
    _llm_option(mem)
    mem.set_defaults(func=cmd_memorize)

    prop = sub.add_parser("proposals", help="list, accept or reject changes the agents held back")
    prop.add_argument("--accept", type=int, metavar="ID")
    prop.add_argument("--reject", type=int, metavar="ID")
    prop.add_argument("--json", action="store_true")
    prop.set_defaults(func=cmd_proposals)


def _agents(args: argparse.Namespace) -> Any:
    from memory.agents.llm_factory import build_llm

    service = get_service(args)
    spec = getattr(args, "llm", "none")
    llm = build_llm(spec, model=getattr(args, "llm_model", "default"), service=service)
    return service.agents(llm=llm)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question."""
    agents = _agents(args)
    stream = agents.ask_stream(args.question, now=parse_now(args.now), keep=not args.no_keep)
    if args.json:
        for _ in stream:
            pass
        print_json(stream.result.to_json())
        return 0
    for piece in stream:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    _print_citations(stream.result.citations)
    return 0


def _print_citations(cites: list[dict[str, Any]]) -> None:
    for c in cites:
        where = ", ".join(
            s.get("frame_path") or s.get("message_id") or f"obs {s['observation_id']}"
            for s in c["sources"][:3]
        )
        when = c["sources"][0]["ts"] if c["sources"] else ""
        print(f"  [{c['n']}] {c['title']}  {when}  {where}")


def cmd_chat(args: argparse.Namespace) -> int:
    """An interactive chat: slash commands (/help, /new, /sources, /quit), line editing and
    history on a terminal; questions one a line from a pipe."""
    from app.cli.chat_repl import HISTORY_FILE, ChatLoop, LineReader
    from memory.paths import default_home

    now = parse_now(args.now)
    agents = _agents(args)
    home = Path(args.home or default_home())
    reader = LineReader(home / HISTORY_FILE, interactive=sys.stdin.isatty())

    def ask(question: str, history: list[dict[str, str]], session: int | None) -> Any:
        return agents.ask_stream(question, now=now, history=history, session_id=session)

    return ChatLoop(ask, reader, _print_citations).run()


def cmd_memorize(args: argparse.Namespace) -> int:
    """Memorise what is waiting, with a progress bar."""
    agents = _agents(args)
    results = agents.memorize_pending(ProgressBar("memorising"))
    merged = agents.consolidate()
    counts: dict[str, int] = {}
    for r in results:
        for k, v in r.counts.items():
            counts[k] = counts.get(k, 0) + v
    summary = {
        "batches": len(results),
        "observations": sum(len(r.obs_ids) for r in results),
        "operations": counts,
        "llm_calls": sum(r.llm_calls for r in results),
        "merged_duplicates": merged,
        "proposals": [r.proposal_id for r in results if r.proposal_id is not None],
        "status": agents.status(),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"memorised {summary['observations']} observations in {summary['batches']} batches: "
            f"{json.dumps(counts)}; {summary['llm_calls']} LLM calls"
        )
    return 0


def cmd_proposals(args: argparse.Namespace) -> int:
    """List pending proposals, or accept/reject one."""
    agents = get_service(args).agents()
    if args.accept is not None or args.reject is not None:
        pid = args.accept if args.accept is not None else args.reject
        agents.resolve(pid, accept=args.accept is not None)
        print(f"proposal {pid} {'applied' if args.accept is not None else 'rejected'}")
        return 0
    items = agents.proposals()
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("no pending proposals")
    for p in items:
        print(f"{p['id']}: {p['reason']} ({len(p['ops'])} operation(s))")
    return 0
