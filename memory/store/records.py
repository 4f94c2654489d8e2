"""Records the store returns and accepts, and the fields of the six memory types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MEMORY_TYPES = ("core", "episodic", "semantic", "procedural", "resource", "vault")
OBSERVATION_KINDS = ("screen", "audio", "chat")
ORIGINS = ("capture", "import")
"""Where an observation came from: live capture (screens, audio, Engram's chat) or an import."""


@dataclass(frozen=True, slots=True)
class NewObservation:
    """An observation about to be written (status starts at ``pending`` unless given)."""

    kind: str
    ts_start: float
    text: str = ""
    ts_end: float | None = None
    ext_id: str | None = None
    app: str | None = None
    window_title: str | None = None
    url: str | None = None
    monitor: int | None = None
    speaker: str | None = None
    session: str | None = None
    context: str = ""
    frame_path: str | None = None
    thumb_path: str | None = None
    phash: int | None = None
    status: str = "pending"
    origin: str = "capture"


@dataclass(frozen=True, slots=True)
class Observation:
    """One moment on the timeline."""

    id: int
    kind: str
    ts_start: float
    ts_end: float | None
    ext_id: str | None
    app: str | None
    window_title: str | None
    url: str | None
    monitor: int | None
    speaker: str | None
    session: str | None
    text: str
    frame_path: str | None
    thumb_path: str | None
    phash: int | None
    status: str
    attempts: int
    error: str | None
    origin: str = "capture"

    @classmethod
    def from_row(cls, row: Any) -> Observation:
        """Build from an ``observations`` row."""
        return cls(**{name: row[name] for name in cls.__slots__})


@dataclass(frozen=True, slots=True)
class Memory:
    """One memory item of any of the six types.

    ``fields`` holds the type's own fields under DESIGN.md's names (``label``, ``actor``,
    ``entry_type``, ``steps``, ``uri``, ...); the shared columns are attributes.
    """

    id: int
    type: str
    title: str
    summary: str
    details: str
    ts: float
    tree_path: tuple[str, ...]
    source_ids: tuple[int, ...]
    created_at: float
    updated_at: float
    version: int
    superseded_by: int | None
    deleted_at: float | None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """True unless deleted or superseded."""
        return self.deleted_at is None and self.superseded_by is None
