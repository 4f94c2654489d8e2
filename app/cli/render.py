"""Terminal output shared by the commands: rich consoles, search hits with their passage marked."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from memory.search.snippets import Snippet, build_snippet
from memory.timeutil import to_local

SNIPPET_WIDTH = 200
MARK = "bold yellow"


def console(stderr: bool = False) -> Any:
    """A rich Console on stdout or stderr (plain text when it is not a terminal)."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=True)


def marked(snippet: Snippet) -> str:
    """Rich markup of a snippet with its spans in bold (the text itself escaped)."""
    from rich.markup import escape

    out, pos = [], 0
    for start, end in snippet.spans:
        out.append(escape(snippet.text[pos:start]))
        out.append(f"[{MARK}]{escape(snippet.text[start:end])}[/]")
        pos = end
    out.append(escape(snippet.text[pos:]))
    return "".join(out)


def when(ts: float | str) -> str:
    """A local time as a person reads it: 'Mon 16 Feb 2026 09:57' (unix seconds or ISO)."""
    from datetime import datetime

    dt = to_local(ts) if isinstance(ts, int | float) else datetime.fromisoformat(ts).astimezone()
    return dt.strftime("%a %d %b %Y %H:%M")


def print_hits(hits: Sequence[dict[str, Any]], query: str) -> None:
    """Numbered hits (their JSON shape): kind, title, app and time, then the passage around
    the best match with the query's words in bold."""
    from rich.markup import escape

    out = console()
    for n, h in enumerate(hits, 1):
        kind = str(h.get("obs_kind") or h["kind"])
        if kind == "screen" and h.get("origin") == "import":
            kind += ", imported"
        title = str(h.get("title") or "")
        app = h.get("app")
        where = f"  ·  {escape(str(app))}" if app and str(app) not in title else ""
        why = ""
        if "matched" in h:  # found by its picture too (#17): say so, and how alike
            why = f"  ·  [dim]{h['id']}, matched by {' and '.join(h['matched'])}"
            why += f" (looks {float(h['visual']):.2f})[/]"
        out.print(
            f"{n:2}. [dim]\\[{kind}][/] [bold]{escape(title)}[/]{where}  ·  {when(h['ts'])}{why}"
        )
        out.print(f"    {marked(build_snippet(str(h.get('text') or ''), query, SNIPPET_WIDTH))}")
