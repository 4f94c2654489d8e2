"""What a search returns: hits with their sources on the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memory.timeutil import iso


@dataclass(frozen=True, slots=True)
class Source:
    """An observation a hit came from."""

    observation_id: int
    ts: float
    message_id: str | None = None
    frame_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the CLI prints."""
        out: dict[str, Any] = {"observation_id": self.observation_id, "ts": iso(self.ts)}
        if self.message_id is not None:
            out["message_id"] = self.message_id
        if self.frame_path is not None:
            out["frame_path"] = self.frame_path
        return out


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: an observation (``kind="observation"``) or a memory of some type."""

    id: str
    kind: str
    score: float
    ts: float
    title: str
    text: str
    sources: tuple[Source, ...] = ()
    app: str | None = None
    obs_kind: str | None = None
    origin: str | None = None
    in_time_range: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    spans: tuple[tuple[int, int], ...] = ()
    """Character offsets of the query's words in ``text`` (the passage around the best match)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the CLI prints (README documents it)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "score": round(self.score, 6),
            "ts": iso(self.ts),
            "title": self.title,
            "text": self.text,
            "spans": [list(s) for s in self.spans],
            "sources": [s.to_json() for s in self.sources],
        }
