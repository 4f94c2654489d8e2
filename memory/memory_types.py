"""What each of the six memory types holds, in words a user reads (CLI and the memory browser).

Qt-free: the app's memory browser shows the label, the description and, for an empty type, how its
memories get there; ``type_overview`` adds the live counts (#13).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from memory.store.records import MEMORY_TYPES


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """One memory type as the user sees it."""

    type: str
    label: str
    description: str
    empty_hint: str


@dataclass(frozen=True, slots=True)
class TypeSummary:
    """A memory type with how many live memories it holds."""

    info: TypeInfo
    count: int


_LLM = "with an assistant model configured (Settings or `engram models`)"

TYPE_INFO: dict[str, TypeInfo] = {
    t.type: t
    for t in (
        TypeInfo(
            "core",
            "Core",
            "Who you are and how you like answers: short blocks the assistant always reads.",
            f"The assistant writes them from your chats {_LLM}; or add one with "
            "`engram memory add --type core -f label=human -f value=...`.",
        ),
        TypeInfo(
            "episodic",
            "Episodes",
            "What happened when: time-stamped events and activities drawn from your timeline.",
            "Made from captured screens, audio and chats as they are memorised "
            "(`engram run`, or `engram memorize` after an import).",
        ),
        TypeInfo(
            "semantic",
            "Facts",
            "Things you know: people, places, projects and concepts, independent of when.",
            f"Distilled from what you saw and said {_LLM}; or `engram memory add --type semantic`.",
        ),
        TypeInfo(
            "procedural",
            "How-to",
            "How you do things: workflows, guides and scripts as steps.",
            f"Learnt from repeated steps on screen and in chats {_LLM}.",
        ),
        TypeInfo(
            "resource",
            "Resources",
            "Documents, links, files and code you worked with.",
            "Collected from URLs and files seen on screen as observations are memorised.",
        ),
        TypeInfo(
            "vault",
            "Vault",
            "Secrets seen on screen or heard (keys, tokens, card numbers), kept encrypted.",
            "Added when a secret is detected; the text keeps a placeholder, the value stays here.",
        ),
    )
}
assert tuple(TYPE_INFO) == MEMORY_TYPES


def type_overview(conn: sqlite3.Connection) -> list[TypeSummary]:
    """Every memory type with its count of live memories, in the browser's order."""
    counts = dict(
        conn.execute(
            "SELECT type, COUNT(*) FROM memories WHERE deleted_at IS NULL "
            "AND superseded_by IS NULL GROUP BY type"
        ).fetchall()
    )
    return [TypeSummary(TYPE_INFO[t], int(counts.get(t, 0))) for t in MEMORY_TYPES]
