"""What each of the six memory types holds and how memories get there (the browser's words)."""

from __future__ import annotations

TYPES = ("core", "episodic", "semantic", "procedural", "resource", "vault")

DESCRIPTIONS = {
    "core": "Who you are and what you care about: facts you state in chat, always given to the "
    "assistant.",
    "episodic": "What happened when: one entry per stretch of activity (app, window, time).",
    "semantic": "Things you know: people, projects, places and facts, distilled from what you "
    "saw and said.",
    "procedural": "How to do things: workflows, guides and commands you used, step by step.",
    "resource": "Documents, links and files you worked with, with where they live.",
    "vault": "Secrets seen on screen (keys, passwords, numbers), kept encrypted; locked by "
    "default.",
}

EMPTY = {
    "core": "No core memory yet. Tell the assistant about yourself in chat "
    "(\u201cI work at …\u201d, \u201cmy daughter is called …\u201d) and Engram keeps it here.",
    "episodic": "No episodes yet. Engram writes them from captured screens while it records "
    "(or after `engram memorize` on imported ones).",
    "semantic": "No semantic memories yet. They need an assistant model "
    "(Settings \u2192 Assistant); Engram then distils facts from what you capture and chat about.",
    "procedural": "No procedures yet. With an assistant model set (Settings \u2192 Assistant), "
    "Engram notes the steps of things you do repeatedly.",
    "resource": "No resources yet. Files, web pages and documents you open while Engram records "
    "are listed here.",
    "vault": "The vault is empty. When a password, API key or card number shows on screen, Engram "
    "moves it here, encrypted, and keeps only a placeholder in the text.",
}


def tab_label(mtype: str, count: int | None) -> str:
    """ "Episodic (12)"; just the name until the counts are known."""
    name = mtype.capitalize()
    return name if count is None else f"{name} ({count:,})"


def first_with_memories(counts: dict[str, int]) -> str | None:
    """The first type (in tab order) that holds any memory, or None when all are empty."""
    return next((t for t in TYPES if counts.get(t, 0) > 0), None)
