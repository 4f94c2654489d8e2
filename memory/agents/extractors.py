"""Deterministic extractors: memories that need no LLM.

Episodes from activity segments (runs of one app/window title or one chat session), resources from
URLs and file names seen, and the raw material for core facts (explicit chat statements; see
``core.py``). Vault entries come only from the redactor's findings (``memory.vault.store``), never
from placeholders read back out of text: typing ``[REDACTED:api_key:1]`` forged one (#12).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from memory.store.records import Observation
from memory.timeutil import iso

logger = logging.getLogger(__name__)

SEGMENT_GAP = 300.0
DETAILS_CHARS = 3_500
_URL = re.compile(r"\bhttps?://[^\s<>\"'\])]+", re.IGNORECASE)
_DOC_EXT = (
    "pdf|docx?|xlsx?|pptx?|odt|ods|md|txt|csv|json|ya?ml|toml|py|js|ts|rs|go|java|c|cpp|h|sh|ipynb"
)
_PATH = re.compile(r"(?:~|[A-Za-z]:\\|/)[\w.\-/\\ ]*?[\w\-]+\.(?:" + _DOC_EXT + r")\b")
_FILE = re.compile(r"\b[\w][\w\- ]{0,80}\.(?:" + _DOC_EXT + r")\b")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of observations of one activity (one app and title, or one chat session)."""

    key: str
    app: str
    title: str
    start: float
    end: float
    obs_ids: tuple[int, ...]
    texts: tuple[str, ...]
    is_chat: bool


def _key(o: Observation) -> str:
    if o.kind == "chat":
        return f"chat:{o.session or ''}"
    return f"{o.kind}:{o.app or ''}:{o.window_title or ''}"


def segments(observations: Iterable[Observation], gap: float = SEGMENT_GAP) -> list[Segment]:
    """Split observations (any order) into activity segments, oldest first."""
    out: list[Segment] = []
    cur: list[Observation] = []
    for o in sorted(observations, key=lambda x: (x.ts_start, x.id)):
        if cur and (_key(o) != _key(cur[-1]) or o.ts_start - _end(cur[-1]) > gap):
            out.append(_segment(cur))
            cur = []
        cur.append(o)
    if cur:
        out.append(_segment(cur))
    return out


def _end(o: Observation) -> float:
    return o.ts_end if o.ts_end is not None else o.ts_start


def _segment(run: list[Observation]) -> Segment:
    first = run[0]
    is_chat = first.kind == "chat"
    texts = []
    for o in run:
        line = f"{o.speaker}: {o.text}" if is_chat and o.speaker else o.text
        if line and line not in texts:
            texts.append(line)
    title = first.window_title or first.app or first.kind
    if is_chat:
        title = f"chat {first.session}" if first.session else "chat"
    return Segment(
        _key(first),
        first.app or first.kind,
        title,
        first.ts_start,
        _end(run[-1]),
        tuple(o.id for o in run),
        tuple(texts),
        is_chat,
    )


def where_title(app: str, title: str) -> str:
    """The app and window title without repeating the app ("Terminal — ~/projects/ledger",
    not "Terminal — Terminal — ~/projects/ledger")."""
    title = (title or "").strip()
    if app:
        name = re.escape(app.strip())
        title = re.sub(rf"^{name}\s+[—–|-]\s+|\s+[—–|-]\s+{name}$", "", title, flags=re.I)
        if title.lower() == app.strip().lower():
            title = ""
    return " — ".join(x for x in (app, title) if x)[:300] or "activity"


def episode_fields(seg: Segment) -> dict[str, object]:
    """Fields of the episodic memory summarising one segment (from titles and text only)."""
    minutes = max(1, round((seg.end - seg.start) / 60))
    if seg.is_chat:
        speakers = sorted({t.split(":", 1)[0] for t in seg.texts if ":" in t})[:4]
        summary = (
            f"Conversation ({', '.join(speakers) or 'chat'}), {len(seg.obs_ids)} messages "
            f"from {iso(seg.start)}: {_first_words(seg.texts, 30)}"
        )
        event_type = "conversation"
    else:
        summary = f"Used {seg.app}: {seg.title} for about {minutes} min from {iso(seg.start)}"
        event_type = "activity"
    return {
        "title": seg.title if seg.is_chat else where_title(seg.app, seg.title),
        "summary": summary[:600],
        "details": _details(seg.texts),
        "occurred_at": seg.start,
        "ended_at": seg.end,
        "actor": "user",
        "event_type": event_type,
    }


def _first_words(texts: tuple[str, ...], n: int) -> str:
    words = " ".join(texts).split()
    return " ".join(words[:n]) + (" ..." if len(words) > n else "")


def _details(texts: Iterable[str]) -> str:
    out, size = [], 0
    for t in texts:
        t = " ".join(t.split())[:600]
        if size + len(t) > DETAILS_CHARS:
            break
        out.append(t)
        size += len(t) + 1
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class SeenResource:
    """A URL or file seen in a batch, with the observations that showed it."""

    uri: str
    resource_type: str
    title: str
    obs_ids: tuple[int, ...]
    first_ts: float


def resources(observations: Iterable[Observation]) -> list[SeenResource]:
    """URLs (url column and text) and file names (titles) seen, first sighting first."""
    found: dict[str, dict[str, object]] = {}
    for o in sorted(observations, key=lambda x: (x.ts_start, x.id)):
        for uri, rtype, title in _in_observation(o):
            entry = found.setdefault(
                uri, {"type": rtype, "title": title, "ids": [], "ts": o.ts_start}
            )
            if o.id not in entry["ids"]:  # type: ignore[operator]
                entry["ids"].append(o.id)  # type: ignore[union-attr]
    return [
        SeenResource(u, str(e["type"]), str(e["title"]), tuple(e["ids"]), float(e["ts"]))  # type: ignore[arg-type]
        for u, e in found.items()
    ]


def _in_observation(o: Observation) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    urls = [o.url] if o.url else []
    urls += _URL.findall(o.text or "")[:10]
    for url in urls:
        url = url.rstrip(".,;:")
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            title = o.window_title if url == o.url and o.window_title else parts.netloc + parts.path
            out.append((url, "url", title[:200]))
    title = o.window_title or ""
    for match in _PATH.findall(title) or _FILE.findall(title):
        name = match.strip()
        out.append((f"file:{name}", "file", name[:200]))
    return out


def resource_fields(res: SeenResource, app: str | None = None) -> dict[str, object]:
    """Fields of the resource memory for one URL or file."""
    where = f" in {app}" if app else ""
    return {
        "title": res.title or res.uri,
        "resource_type": res.resource_type,
        "uri": res.uri,
        "summary": f"{res.resource_type} seen{where} at {iso(res.first_ts)}: {res.title}"[:600],
        "ts": res.first_ts,
    }
