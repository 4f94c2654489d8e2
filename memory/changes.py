"""What a write changed, so views refresh only what they show."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Changes:
    """Flags returned by every mutation (Anki's OpChanges idea)."""

    observations: bool = False
    memories: bool = False
    chat: bool = False
    settings: bool = False
