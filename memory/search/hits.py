"""What a search returns: hits with their sources on the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from memory.errors import BadQuery
from memory.timeutil import iso

RefKind = Literal["o", "m"]


@dataclass(frozen=True, slots=True)
class HitRef:
    """What a hit or an index key points at: an observation (``o:12``) or a memory (``m:7``)."""

    kind: RefKind
    id: int

    @classmethod
    def parse(cls, text: str) -> HitRef:
        """``"o:12"`` or ``"m:7"`` (a vector key's ``:chunk`` suffix is ignored).

        Raises:
            BadQuery: not a hit reference.
        """
        kind, _, rest = text.partition(":")
        number = rest.split(":", 1)[0]
        if kind not in ("o", "m") or not number.isdigit():
            raise BadQuery(f"not a hit reference: {text!r} (expected o:N or m:N)")
        return cls("o" if kind == "o" else "m", int(number))

    @classmethod
    def memory(cls, mid: int) -> HitRef:
        """The reference of a memory."""
        return cls("m", mid)

    @classmethod
    def observation(cls, oid: int) -> HitRef:
        """The reference of an observation."""
        return cls("o", oid)

    @property
    def is_memory(self) -> bool:
        """Whether it points at a memory."""
        return self.kind == "m"

    @property
    def is_observation(self) -> bool:
        """Whether it points at an observation."""
        return self.kind == "o"

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


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

    @property
    def matched(self) -> tuple[str, ...]:
        """Why it came up: "words" (on screen or in the text), "picture" (what the screen looked
        like, #17), else "meaning" (the text's sense); empty when not recorded."""
        if "lexical" not in self.extra and "visual" not in self.extra:
            return ()
        why: tuple[str, ...] = ("words",) if self.extra.get("lexical") else ()
        if "visual" in self.extra:
            why += ("picture",)
        return why or ("meaning",)

    @property
    def ref(self) -> HitRef:
        """The typed reference of ``id``."""
        return HitRef.parse(self.id)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the CLI prints (README documents it)."""
        return (
            {
                "id": self.id,
                "kind": self.kind,
                "score": round(self.score, 6),
                "ts": iso(self.ts),
                "title": self.title,
                "text": self.text,
                "spans": [list(s) for s in self.spans],
                "sources": [s.to_json() for s in self.sources],
            }
            | (  # what an observation is (screen, audio, chat), its app and where it came from
                {"obs_kind": self.obs_kind, "app": self.app, "origin": self.origin}
                if self.obs_kind is not None
                else {}
            )
            | (  # found by its picture too (#17): why, and how much it looked like the query
                {"matched": list(self.matched), "visual": round(float(self.extra["visual"]), 4)}
                if "visual" in self.extra
                else {}
            )
            | (  # near-duplicate screens folded into this hit (memory.search.moments)
                {"span": [iso(t) for t in self.extra["span"]]} if "span" in self.extra else {}
            )
        )
