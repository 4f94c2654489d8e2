"""`engram search` and `engram ask` through a running server of the home (#14), else in-process."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.common import print_json


def add_local_option(p: argparse.ArgumentParser) -> None:
    """The ``--local`` switch: never use a running server."""
    p.add_argument(
        "--local",
        action="store_true",
        help="run in this process even when `engram serve` or the app runs (the fast path)",
    )


def _home(args: argparse.Namespace) -> Any:
    from memory.paths import default_home

    return args.home or default_home()


def search_via_server(args: argparse.Namespace) -> list[dict[str, object]] | None:
    """Hits from a running server of this home (its exposure settings apply), or None."""
    if args.local or args.queries or args.query is None or args.now is not None or args.k > 100:
        return None
    from app.api.client import call_server, hits_as_cli_json

    body = {
        "query": args.query,
        "since": args.since,
        "until": args.until,
        "kinds": list(args.types),
        "apps": list(args.apps),
        "k": args.k,
    }
    answer = call_server(_home(args), "/v1/search", body)
    return None if answer is None else hits_as_cli_json(answer)


def ask_via_server(args: argparse.Namespace) -> int | None:
    """Answer through a running server (its configured assistant); None to answer in-process.

    Only when no ``--llm``/``--now`` asks for something the server would not do.
    """
    if args.local or args.now is not None or args.llm not in (None, "config"):
        return None
    from app.api.client import call_server

    answer = call_server(
        _home(args), "/v1/ask", {"question": args.question, "keep": not args.no_keep}
    )
    if answer is None:
        return None
    cites = [
        {**c, "sources": [{**s, "ts": s["time"]} for s in c["sources"]]}
        for c in answer["citations"]
    ]
    if args.json:
        print_json(
            {
                "answer": answer["answer"],
                "citations": cites,
                "model": answer["model"],
                "retrieved": [],
            }
        )
        return 0
    sys.stdout.write(answer["answer"] + "\n")
    for c in cites:
        when = c["sources"][0]["ts"] if c["sources"] else ""
        where = ", ".join(f"obs {s['observation_id']}" for s in c["sources"][:3])
        print(f"  [{c['n']}] {c['title']}  {when}  {where}")
    return 0
