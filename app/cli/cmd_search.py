"""`engram search` and `engram import chat`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.common import (
    get_service,
    import_progress,
    parse_now,
    parse_time_option,
    print_json,
)
from app.cli.fast_path import add_local_option, search_via_server
from memory.errors import BadQuery
from memory.timeutil import iso


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    p = sub.add_parser("search", help="hybrid search over memories and the timeline")
    p.add_argument("query", nargs="?", help="what to look for; time phrases like 'yesterday' count")
    p.add_argument("--queries", type=Path, help="JSONL of {id, query, now?}: batch mode")
    p.add_argument("--k", type=int, default=10, help="how many hits (default 10)")
    p.add_argument(
        "--since", help="only moments from this time on (ISO, 'yesterday', '3 hours ago', ...)"
    )
    p.add_argument(
        "--until", help="only moments before this time ('yesterday': up to the end of yesterday)"
    )
    p.add_argument(
        "--type",
        action="append",
        default=[],
        dest="types",
        help="observation, screen, audio, chat, memory or a memory type (repeatable)",
    )
    p.add_argument(
        "--app", action="append", default=[], dest="apps", help="only this app (repeatable)"
    )
    p.add_argument("--now", help="the time 'yesterday' is relative to (default: now)")
    p.add_argument(
        "--image",
        type=Path,
        metavar="FILE",
        help="screens that look like this picture (needs the image model)",
    )
    p.add_argument(
        "--like",
        metavar="ID",
        help="moments that look like this one (o:N, or N), leaving out its own minute",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    add_local_option(p)
    p.set_defaults(func=cmd_search)

    imp = sub.add_parser("import", help="import chat messages or frames")
    isub = imp.add_subparsers(dest="what", required=True)
    chat = isub.add_parser(
        "chat", help="a JSONL file of {id, ts, speaker, text[, session, image_caption]}"
    )
    chat.add_argument("file", type=Path)
    chat.add_argument(
        "--skip-bad", action="store_true", help="import the good lines, report the bad"
    )
    chat.add_argument("--json", action="store_true")
    chat.set_defaults(func=cmd_import_chat)


def cmd_search(args: argparse.Namespace) -> int:
    """Run one search or a batch."""
    if args.k < 1 or args.k > 1000:
        raise BadQuery("--k must be between 1 and 1000")
    if args.image is not None or args.like is not None:
        return _looks_like(args)
    if args.queries is None and args.query is None:
        raise BadQuery("give a query, or --queries FILE, --image FILE or --like ID")
    now = parse_now(args.now)
    since = parse_time_option(args.since, "--since", now)
    until = parse_time_option(args.until, "--until", now, end=True)
    if since is not None:  # a running server gets the parsed times
        args.since = iso(since)
    if until is not None:
        args.until = iso(until)
    remote = search_via_server(args)
    if remote is not None:
        return _print_hits(args, remote)
    service = get_service(args)
    if args.queries:
        return _batch(args, service)
    hits = service.search(
        args.query,
        k=args.k,
        since=since,
        until=until,
        types=tuple(args.types),
        apps=tuple(args.apps),
        now=now,
    )
    return _print_hits(args, [h.to_json() for h in hits])


def _looks_like(args: argparse.Namespace) -> int:
    """`--image FILE` or `--like ID`: screens found by their picture (#17)."""
    if args.query is not None or args.queries is not None or (args.image and args.like):
        raise BadQuery("--image and --like take no query and not each other")
    service = get_service(args)
    if args.image is not None:
        if not args.image.is_file():
            raise BadQuery(f"no such image file: {args.image}")
        hits = service.search_image(args.image, k=args.k)
    else:
        ref = str(args.like)
        number = ref[2:] if ref.startswith("o:") else ref
        if not number.isdigit():
            raise BadQuery(f"--like takes a moment id such as o:12, not {ref!r}")
        hits = service.similar_moments(int(number), k=args.k)
    if args.json:
        print_json([h.to_json() for h in hits])
        return 0
    if not hits:
        print("no screen looks like that yet")
        return 0
    from app.cli.render import print_hits

    print_hits([h.to_json() for h in hits], "")
    return 0


def _print_hits(args: argparse.Namespace, hits: list[dict[str, object]]) -> int:
    if args.json:
        print_json(hits)
        return 0
    if not hits:
        print(f"no good match for {args.query!r}" if args.query else "nothing in that time range")
        return 0
    from app.cli.render import print_hits

    print_hits(hits, args.query or "")
    return 0


def _batch(args: argparse.Namespace, service: object) -> int:
    def queries():  # noqa: ANN202 - generator of parsed lines
        for number, raw in enumerate(args.queries.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                yield str(obj["id"]), str(obj["query"]), parse_now(obj.get("now") or args.now)
            except (ValueError, KeyError, TypeError) as exc:
                raise BadQuery(
                    f"{args.queries}, line {number}: needs JSON with id and query ({exc})"
                ) from exc

    for qid, result in service.search_many(queries(), k=args.k, types=tuple(args.types)):  # type: ignore[attr-defined]
        line = (
            {"id": qid, "hits": [h.to_json() for h in result]}
            if isinstance(result, list)
            else {"id": qid, "hits": [], "error": result}
        )
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def cmd_import_chat(args: argparse.Namespace) -> int:
    """Import a chat JSONL file."""
    service = get_service(args)
    with import_progress(service, args.file) as progress:
        report = service.import_chat(args.file, skip_bad=args.skip_bad, progress=progress)
    if args.json:
        print_json(
            {
                "imported": report.imported,
                "duplicates": report.duplicates,
                "skipped": [{"line": n, "reason": r} for n, r in report.skipped],
            }
        )
        return 0
    print(f"imported {report.imported} messages ({report.duplicates} already there)")
    for line, reason in report.skipped:
        print(f"  skipped line {line}: {reason}", file=sys.stderr)
    return 0
