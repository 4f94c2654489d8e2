"""`engram ask`, `engram chat`, `engram memorize` and `engram proposals` (memory agents, #5)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.cli.common import ProgressBar, get_service, parse_now, print_json
from app.cli.fast_path import add_local_option, ask_via_server


def _llm_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm",
        default=os.environ.get("ENGRAM_LLM") or None,
        help="for this command only: none (extractive), local (the packaged model that suits "
        "this machine), a catalogue id (downloaded on first use), a GGUF path or an "
        "OpenAI-compatible URL like http://127.0.0.1:11434/v1. Default: the assistant set up "
        "in Settings (env ENGRAM_LLM)",
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
    add_local_option(ask)
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="chat with your memory (interactive; stdin may be piped)")
    chat.add_argument("--now", help="the time 'yesterday' is relative to (ISO; default: now)")
    _llm_option(chat)
    chat.set_defaults(func=cmd_chat)

    mem = sub.add_parser("memorize", help="memorise the observations waiting now")
    mem.add_argument("--json", action="store_true")
    _llm_option(mem)
    mem.set_defaults(func=cmd_memorize)

    asst = sub.add_parser("assistant", help="list the assistants on offer, or choose one")
    asub = asst.add_subparsers(dest="assistant_command", required=True)
    alist = asub.add_parser(
        "list", help="detected local servers and their models, models on disk, downloads"
    )
    alist.add_argument("--no-detect", action="store_true", help="do not probe local servers")
    alist.add_argument("--json", action="store_true")
    alist.set_defaults(func=cmd_assistant_list)
    ause = asub.add_parser("use", help="make one the assistant (downloads it first if needed)")
    ause.add_argument(
        "choice",
        help="a number from `engram assistant list`, none, local, a catalogue id, or a server "
        "URL (with --model)",
    )
    ause.add_argument("--model", default="default", help="the model name a server expects")
    ause.set_defaults(func=cmd_assistant_use)

    prop = sub.add_parser("proposals", help="list, accept or reject changes the agents held back")
    prop.add_argument("--accept", type=int, metavar="ID")
    prop.add_argument("--reject", type=int, metavar="ID")
    prop.add_argument("--json", action="store_true")
    prop.set_defaults(func=cmd_proposals)


def _agents(args: argparse.Namespace) -> Any:
    """The service's agents with the LLM of ``--llm`` (default: the configured assistant).

    An assistant that cannot be loaded is reported on stderr and the command goes on in
    extractive mode; an explicit ``--llm`` that fails is an error.
    """
    from memory.agents.llm_factory import build_llm
    from memory.modelhub import ModelError

    service = get_service(args)
    spec = getattr(args, "llm", None)
    try:
        llm = build_llm(
            spec,
            model=getattr(args, "llm_model", "default"),
            home=service.home,
            progress=ProgressBar("downloading the model"),
        )
    except ModelError as exc:
        if spec not in (None, "config"):
            raise
        print(f"engram: the assistant is unavailable ({exc}); extractive mode", file=sys.stderr)
        llm = None
    return service.agents(llm=llm)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question (through a running server when there is one, #14)."""
    done = ask_via_server(args)
    if done is not None:
        return done
    agents = _agents(args)
    stream = agents.ask_stream(args.question, now=parse_now(args.now), keep=not args.no_keep)
    if args.json:
        for _ in stream:
            pass
        print_json(stream.result.to_json())
        return 0
    try:
        for piece in stream:
            sys.stdout.write(piece)
            sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stdout.write(" (stopped)\n")
        return 130
    sys.stdout.write("\n")
    _print_citations(stream.result.citations)
    return 0 if stream.error is None else 3


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


def cmd_assistant_list(args: argparse.Namespace) -> int:
    """Print the assistants on offer, numbered, the current one marked."""
    service = get_service(args)
    choices = service.assistant_choices(detect=not args.no_detect)
    current = service.settings.current.assistant
    if args.json:
        print_json(
            {
                "current": {"backend": current.backend, "server_url": current.server_url},
                "choices": [c.to_json() for c in choices],
            }
        )
        return 0
    print(f"current: {_describe_current(service)}")
    for n, c in enumerate(choices, 1):
        size = f"  ({c.size_bytes / 1e9:.1f} GB)" if c.size_bytes else ""
        print(f"{n:2}. [{c.kind}] {c.label}{size}")
    return 0


def _describe_current(service: Any) -> str:
    settings = service.settings.current
    a = settings.assistant
    if a.backend == "server":
        return f"server {a.server_url} (model {a.model})"
    if a.backend == "local":
        return f"local model {settings.models.llm.model_id}"
    return "none (extractive answers)"


def cmd_assistant_use(args: argparse.Namespace) -> int:
    """Choose the assistant by number, keyword, catalogue id or URL; it is saved in the settings."""
    from memory.agents.assistant import AssistantChoice
    from models.registry import CATALOGUE

    service = get_service(args)
    pick = args.choice.strip()
    if pick.isdigit():
        choices = service.assistant_choices()
        if not 1 <= int(pick) <= len(choices):
            print(
                f"engram: pick 1 to {len(choices)} (see `engram assistant list`)", file=sys.stderr
            )
            return 2
        choice = choices[int(pick) - 1]
    elif pick == "none":
        choice = AssistantChoice("none", "none")
    elif pick == "local":
        choice = AssistantChoice("local", "local", model_id="auto")
    elif pick.startswith(("http://", "https://")):
        choice = AssistantChoice("server", pick, server_url=pick.rstrip("/"), model=args.model)
    elif pick in CATALOGUE and CATALOGUE[pick].role == "llm":
        kind = "download" if CATALOGUE[pick].url else "local"
        choice = AssistantChoice(kind, pick, model_id=pick)
    else:
        print(f"engram: unknown assistant {pick!r}; see `engram assistant list`", file=sys.stderr)
        return 2
    service.use_assistant(choice, progress=ProgressBar("downloading the model"))
    print(f"assistant: {_describe_current(service)}")
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
