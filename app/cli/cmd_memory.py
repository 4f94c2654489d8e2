"""`engram memory ...`, `engram forget`, `engram export`, `engram reindex`, `engram status`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.cli.common import ProgressBar, get_service, parse_now, parse_time_option, print_json
from memory.errors import BadQuery
from memory.export import export_home
from memory.paths import open_private
from memory.store import MEMORY_TYPES, Memory
from memory.timeutil import iso


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    mem = sub.add_parser("memory", help="list, show, add, edit and delete memories")
    msub = mem.add_subparsers(dest="action", required=True)
    ls = msub.add_parser("list", help="memories, newest first")
    ls.add_argument("--type", choices=MEMORY_TYPES)
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--all", action="store_true", help="include deleted and superseded ones")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    show = msub.add_parser("show", help="one memory with its history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    add = msub.add_parser("add", help="add a memory: --type T --field name=value ...")
    add.add_argument("--type", required=True, choices=MEMORY_TYPES)
    _field_args(add)
    add.set_defaults(func=cmd_add)
    edit = msub.add_parser("edit", help="change fields of a memory (history is kept)")
    edit.add_argument("id", type=int)
    _field_args(edit)
    edit.set_defaults(func=cmd_edit)
    delete = msub.add_parser("delete", help="delete a memory (kept in history)")
    delete.add_argument("id", type=int)
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(func=cmd_delete)

    fg = sub.add_parser(
        "forget",
        help="remove everything captured in a time range, for good (shows it and asks first)",
    )
    fg.add_argument(
        "--since", required=True, help="from this time (ISO, 'yesterday', '2 hours ago', ...)"
    )
    fg.add_argument(
        "--until", default="now", help="up to this time (default: now; 'yesterday': its end)"
    )
    fg.add_argument("--now", help="the time 'yesterday' is relative to (default: now)")
    fg.add_argument("--yes", "-y", action="store_true", help="do not ask")
    fg.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    fg.add_argument("--json", action="store_true")
    fg.set_defaults(func=cmd_forget)
    ex = sub.add_parser("export", help="JSON of everything (vault secrets excluded)")
    ex.add_argument("--out", type=Path, help="file to write (default: standard output)")
    ex.set_defaults(func=cmd_export)
    ri = sub.add_parser("reindex", help="rebuild the vector index from the database")
    ri.add_argument(
        "--images",
        action="store_true",
        help="only give screens without one an image vector (and retry failed ones)",
    )
    ri.add_argument("--json", action="store_true")
    ri.set_defaults(func=cmd_reindex)
    st = sub.add_parser("status", help="what this home holds")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)


def _field_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--field",
        "-f",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a field; VALUE may be JSON (lists for steps)",
    )
    p.add_argument("--source", action="append", type=int, default=[], help="an observation id")
    p.add_argument("--tree", help="category path, e.g. work/projects")
    p.add_argument("--json", action="store_true")


def _fields(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise BadQuery(f"--field needs NAME=VALUE, got {pair!r}")
        name, value = pair.split("=", 1)
        try:
            parsed = json.loads(value)
            out[name] = (
                parsed
                if isinstance(parsed, list | int | float) and not isinstance(parsed, bool)
                else value
            )
        except json.JSONDecodeError:
            out[name] = value
    return out


def memory_json(m: Memory) -> dict[str, Any]:
    """A memory as the CLI prints it (never a vault secret)."""
    fields = {k: v for k, v in m.fields.items() if k != "secret_ct"}
    return {
        "id": m.id,
        "type": m.type,
        "title": m.title,
        "summary": m.summary,
        "details": m.details,
        "ts": iso(m.ts),
        "tree_path": list(m.tree_path),
        "source_ids": list(m.source_ids),
        "version": m.version,
        "created_at": iso(m.created_at),
        "updated_at": iso(m.updated_at),
        "deleted_at": iso(m.deleted_at),
        "superseded_by": m.superseded_by,
        "fields": fields,
    }


def cmd_list(args: argparse.Namespace) -> int:
    """List memories."""
    items = get_service(args).list_memories(args.type, limit=args.limit, include_inactive=args.all)
    if args.json:
        print_json([memory_json(m) for m in items])
        return 0
    if not items:
        _print_empty(args)
    for m in items:
        state = "" if m.live else " (deleted)" if m.deleted_at else " (superseded)"
        print(f"{m.id:6} {m.type:10} {_day(m.ts)}  {(m.title or m.summary)[:60]}{state}")
    return 0


def _print_empty(args: argparse.Namespace) -> None:
    """Say so, with what the type holds and how its memories get there."""
    from memory.memory_types import TYPE_INFO

    if args.type:
        info = TYPE_INFO[args.type]
        print(f"no {args.type} memories yet. {info.description}\n{info.empty_hint}")
        return
    print("no memories yet. Engram distils six kinds from what it captures:")
    for summary in get_service(args).memory_types():
        print(f"  {summary.info.type:10} {summary.info.description}")


def _day(ts: float | None) -> str:
    from app.cli.render import when

    return when(ts) if ts else "-"


def cmd_show(args: argparse.Namespace) -> int:
    """Show a memory and its history."""
    service = get_service(args)
    m = service.get_memory(args.id)
    data = memory_json(m) | {
        "history": [
            {
                k: (json.loads(v) if k in ("before", "after") and v and v.startswith("{") else v)
                for k, v in e.items()
            }
            | {"ts": iso(e["ts"])}
            for e in service.memory_history(args.id)
        ]
    }
    if args.json:
        print_json(data)
    else:
        _print_memory(m, service.memory_history(args.id))
    return 0


def _print_fields(fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name in ("secret_ct", "summary", "details") or value in (None, "", []):
            continue
        if isinstance(value, list):
            print(f"  {name}:")
            for n, item in enumerate(value, 1):
                print(f"    {n}. {item}")
        else:
            print(f"  {name}: {value}")


def _print_memory(m: Memory, history: list[dict[str, Any]]) -> None:
    """A memory as a person reads it: title, text, fields, dates, provenance, history."""
    state = (
        "" if m.live else " (deleted)" if m.deleted_at else f" (superseded by {m.superseded_by})"
    )
    print(f"{m.type} memory {m.id}: {m.title or m.summary[:70]}{state}")
    for name, value in (("summary", m.summary), ("details", m.details)):
        if value and value != m.title and not (name == "details" and m.fields.get("steps")):
            print(f"  {name}: {value}")
    _print_fields(m.fields)
    print(f"  when: {_day(m.ts)}")
    print(f"  created {_day(m.created_at)}, updated {_day(m.updated_at)}, version {m.version}")
    if m.tree_path:
        print(f"  category: {'/'.join(m.tree_path)}")
    if m.source_ids:
        ids = ", ".join(str(s) for s in m.source_ids)
        print(f"  from observations: {ids}")
    if history:
        print("history:")
        for e in history:
            print(f"  {_day(e['ts'])}  {e['op']} by {e['agent']}")


def cmd_add(args: argparse.Namespace) -> int:
    """Add a memory."""
    tree = [p for p in (args.tree or "").split("/") if p]
    mid = get_service(args).add_memory(
        args.type, _fields(args.field), source_ids=args.source, tree_path=tree
    )
    print_json({"id": mid}) if args.json else print(f"added memory {mid}")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    """Edit a memory."""
    tree = [p for p in args.tree.split("/") if p] if args.tree else None
    get_service(args).edit_memory(args.id, _fields(args.field), tree_path=tree)
    m = get_service(args).get_memory(args.id)
    print_json(memory_json(m)) if args.json else print(f"memory {m.id} is now version {m.version}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete a memory."""
    get_service(args).delete_memory(args.id)
    print_json({"deleted": args.id}) if args.json else print(f"deleted memory {args.id}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    """Forget a time range: show what goes, ask (unless --yes), then remove it."""
    now = parse_now(args.now)
    since = parse_time_option(args.since, "--since", now)
    until = parse_time_option(args.until, "--until", now, end=True)
    assert since is not None and until is not None
    if since >= until:
        raise BadQuery(f"--since ({iso(since)}) must be before --until ({iso(until)})")
    service = get_service(args)
    preview = service.forget_preview(since, until)
    summary = _forget_summary(preview)
    if args.dry_run or not preview.observations:
        if args.json:
            print_json(_preview_json(preview) | {"forgotten": False})
        else:
            print(summary + ("" if preview.observations else "\nnothing to forget"))
        return 0
    if not args.yes:
        print(summary, file=sys.stderr)
        if not _confirm("forget all of it, for good? [y/N] "):
            print("nothing was forgotten", file=sys.stderr)
            return 1
    r = service.forget(since, until)
    out = _preview_json(preview) | {
        "forgotten": True,
        "observations": r.observations,
        "frames": r.frames,
        "memories_deleted": r.memories_deleted,
        "memories_trimmed": r.memories_trimmed,
        "answers_removed": r.answers_removed,
        "contexts_rewritten": r.contexts_rewritten,
    }
    if args.json:
        print_json(out)
    else:
        print(
            f"forgot {r.observations} observations, {r.frames} frame files, "
            f"{r.memories_deleted} memories (and removed them as sources of "
            f"{r.memories_trimmed} others); "
            f"removed {r.answers_removed} assistant answers that quoted them"
        )
    return 0


def _confirm(prompt: str) -> bool:
    """Ask on stderr, read one line from stdin (a pipe works too); end of input means no."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.strip().lower() in ("y", "yes")


def _forget_summary(p: Any) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in p.by_kind.items()) or "no observations"
    lines = [f"range: {iso(p.since)} to {iso(p.until)}", f"observations: {kinds}"]
    if p.first_ts is not None:
        lines.append(f"first and last moment: {iso(p.first_ts)} .. {iso(p.last_ts)}")
    lines.append(
        f"memories derived from them: {p.memories} (deleted, or kept without these sources)"
    )
    return "\n".join(lines)


def _preview_json(p: Any) -> dict[str, Any]:
    return {
        "since": iso(p.since),
        "until": iso(p.until),
        "by_kind": p.by_kind,
        "first": iso(p.first_ts),
        "last": iso(p.last_ts),
        "memories_affected": p.memories,
    }


def cmd_export(args: argparse.Namespace) -> int:
    """Export everything as JSON."""
    service = get_service(args)
    if args.out:
        with open_private(args.out) as fh:
            export_home(service.store, fh)
        print(f"exported to {args.out}", file=sys.stderr)
    else:
        export_home(service.store, sys.stdout)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the vector index (or, with --images, backfill image vectors)."""
    if args.images:
        done = get_service(args).reindex_images(ProgressBar("embedding screens"))
        if args.json:
            print_json({"images": done})
        else:
            print(f"embedded {done} screens with the image model")
        return 0
    n = get_service(args).reindex(ProgressBar("reindexing"))
    print_json({"vectors": n}) if args.json else print(f"rebuilt the vector index: {n} vectors")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print what the home holds."""
    st = get_service(args).status()
    if args.json:
        print_json(st)
        return 0
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(st["by_kind"].items()))
    states = ", ".join(f"{n} {s}" for s, n in sorted(st["by_status"].items()))
    mems = ", ".join(f"{n} {t}" for t, n in st["memories"].items() if n)
    print(f"home: {st['home']}")
    print(f"observations: {st['observations']}" + (f" ({kinds}; {states})" if kinds else ""))
    print(f"memories: {sum(st['memories'].values())}" + (f" ({mems})" if mems else ""))
    print(f"vectors: {st['vectors']}")
    pending = st["by_status"].get("pending", 0)
    if pending:
        print(f"{pending} observations wait to be indexed: `engram run` indexes them")
    return 0
