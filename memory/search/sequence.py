"""Questions about order on the timeline: "what was on my screen right after I read '...'"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.store import MemoryStore
from memory.store.records import Observation

_SEQ = re.compile(
    r"\b(?:(?:right|just|immediately|straight)\s+)?(?P<dir>after|before)\s+(?:i|we)\s+"
    r"(?:had\s+)?(?:read|saw|seen|looked\s+at|viewed|opened|watched|was\s+reading|was\s+looking\s+at"
    r"|was\s+on|visited|checked)\b",
    re.IGNORECASE,
)
SCREEN_KINDS = ("screen",)


@dataclass(frozen=True, slots=True)
class SequenceQuery:
    """The anchor to find, and which way to step from it."""

    anchor: str
    step: int


def parse_sequence(text: str) -> SequenceQuery | None:
    """Recognise "right after/before I read X"; the anchor is X (quotes dropped)."""
    m = _SEQ.search(text)
    if not m:
        return None
    anchor = text[m.end() :].strip(" ?.!\t\n")
    quoted = re.search(r"['\"‘“](.+?)['\"’”]", anchor)
    if quoted:
        anchor = quoted.group(1)
    if not anchor:
        return None
    return SequenceQuery(anchor, 1 if m.group("dir").lower() == "after" else -1)


def next_screen(store: MemoryStore, anchor: Observation, step: int) -> Observation | None:
    """The nearest screen moment after (or before) ``anchor`` that shows another window.

    Frames of the same window right next to the anchor are the same moment continuing, not "what
    came next", so they are stepped over.
    """
    op, order = (">", "ASC") if step > 0 else ("<", "DESC")
    edge = (anchor.ts_end or anchor.ts_start) if step > 0 else anchor.ts_start
    row = (
        store.read()
        .execute(
            f"SELECT * FROM observations WHERE ts_start {op} ? AND kind = 'screen' "
            "AND NOT (coalesce(app, '') = ? AND coalesce(window_title, '') = ?) "
            f"ORDER BY ts_start {order}, id {order} LIMIT 1",
            (edge, anchor.app or "", anchor.window_title or ""),
        )
        .fetchone()
    )
    return Observation.from_row(row) if row else None
