"""What the MCP tools and the HTTP API return: one set of JSON shapes (pydantic, for outputSchema).

Pydantic here rather than dataclasses: the MCP SDK derives each tool's ``outputSchema`` from these
models and the HTTP API validates its JSON bodies with the same ones, so both faces agree (#14).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


def moment_link(obs_id: int) -> str:
    """The ``engram://moment/<id>`` link of an observation."""
    return f"engram://moment/{obs_id}"


class SearchRequest(BaseModel):
    """A search: the arguments of ``search_memory`` and the body of ``POST /v1/search``."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="what to look for; phrases like 'yesterday' count")
    since: str | None = Field(None, description="only at or after this ISO 8601 time")
    until: str | None = Field(None, description="only before this ISO 8601 time")
    kinds: list[str] = Field(
        [], description="screen, audio, chat, import, observation, memory or a memory type"
    )
    apps: list[str] = Field([], description="only moments of these apps")
    k: int = Field(10, ge=1, le=100, description="how many hits")


class SourceOut(BaseModel):
    """An observation a result came from."""

    observation_id: int
    link: str
    time: str
    app: str | None = None


class HitOut(BaseModel):
    """One search hit."""

    id: str = Field(description="o:<n> for a moment, m:<n> for a memory")
    kind: str = Field(description="'observation' or a memory type")
    observation_kind: str | None = Field(None, description="screen, audio, chat or import")
    score: float
    time: str
    app: str | None = None
    title: str
    snippet: str
    link: str | None = Field(None, description="engram://moment/<id> of the moment to open")
    sources: list[SourceOut] = []


class SearchOut(BaseModel):
    """Search results, best first."""

    query: str
    hits: list[HitOut]


class CitationOut(BaseModel):
    """A [n] citation of an answer."""

    n: int
    title: str
    kind: str
    sources: list[SourceOut] = []


class AnswerOut(BaseModel):
    """A cited answer."""

    question: str
    answer: str
    model: str
    citations: list[CitationOut]


class NeighbourOut(BaseModel):
    """A moment just before or after another."""

    id: int
    link: str
    time: str
    app: str | None = None
    title: str | None = None


class MomentOut(BaseModel):
    """One moment of the timeline with its text."""

    id: int
    link: str
    kind: str
    time: str
    end_time: str | None = None
    app: str | None = None
    title: str | None = None
    url: str | None = None
    speaker: str | None = None
    text: str = Field(description="OCR text, transcript or chat message (secrets are placeholders)")
    before: list[NeighbourOut] = []
    after: list[NeighbourOut] = []


class AppTimeOut(BaseModel):
    """Time spent in one app."""

    app: str
    seconds: float


class ActivityOut(BaseModel):
    """A run of time in one app."""

    app: str
    start: str
    end: str
    seconds: float
    moments: int


class EpisodeOut(BaseModel):
    """An episode (episodic memory) with the apps used during it."""

    memory_id: int
    title: str
    start: str
    end: str
    seconds: float
    apps: list[str]


class TimelineOut(BaseModel):
    """What happened in a time range."""

    start: str
    end: str
    moments: int
    apps: list[AppTimeOut]
    activity: list[ActivityOut]
    episodes: list[EpisodeOut]


class MemoryOut(BaseModel):
    """One memory item with its sources."""

    id: int
    type: str
    title: str
    summary: str
    details: str
    time: str
    tree_path: list[str]
    fields: dict[str, str | int | float | bool | list[str] | None] = {}
    sources: list[SourceOut] = []


class MemoryListOut(BaseModel):
    """A page of memories, newest first."""

    type: str | None
    memories: list[MemoryOut]


class ContextOut(BaseModel):
    """The present moment: time, time zone, recording state."""

    now: str
    time_zone: str
    recording: str = Field(description="capturing, paused, off or unknown")
    last_moment: str | None = None
    detail: str


class CoreOut(BaseModel):
    """The core memory blocks."""

    blocks: list[MemoryOut]


class AddedOut(BaseModel):
    """A memory written by a client."""

    id: int
    type: str


class ForgotOut(BaseModel):
    """What a forget removed."""

    since: str
    until: str
    observations: int
    memories: int
    files: int


class ErrorOut(BaseModel):
    """An error answer of the HTTP API."""

    error: str


class StatusOut(BaseModel):
    """GET /v1/status: the server is Engram's and alive."""

    service: str
    pid: int
