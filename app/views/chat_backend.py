"""The small interface the chat pane streams answers through, and its adapter to MemoryService.

The chat agent lives in ``memory/agents``; the pane only needs ``stream()`` to yield tokens and
citations. ``ServiceChatBackend`` streams from ``MemoryService.ask_stream`` and says when the
configured assistant has no LLM (answers then quote the memories found).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from memory.errors import BadQuery
from memory.search.hits import HitRef
from memory.timeutil import parse_ts

if TYPE_CHECKING:
    from memory.service import MemoryService


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One piece of a streamed answer: ``token`` text, the answer's ``citations``, or ``done``."""

    kind: str
    text: str = ""
    citations: tuple[dict[str, Any], ...] = ()
    session_id: int | None = None  # on the final ``done`` event when the backend kept the turn


class ChatBackend(Protocol):
    """What the chat pane needs; methods run on a worker thread."""

    def unavailable_reason(self, service: Any) -> str | None:
        """None when answers can be streamed, else a sentence for the user."""

    def stream(
        self,
        service: Any,
        question: str,
        history: list[tuple[str, str]],
        session_id: int | None = None,
    ) -> Iterator[ChatEvent]:
        """Yield the answer's tokens, its citations, then ``done`` (with the session id if the
        kept the turn itself)."""


def normalise_citation(item: Any) -> dict[str, Any]:
    """A citation as the pane uses it: ``n``, ``title``, and where it leads (``observation_id`` of
    first source and/or ``memory_id``), plus ``ts`` as unix seconds when known."""
    cite = (
        dict(item)
        if isinstance(item, dict)
        else {
            f: getattr(item, f)
            for f in ("n", "id", "kind", "title", "sources", "observation_id", "memory_id", "ts")
            if getattr(item, f, None) is not None
        }
    )
    ref = _ref(str(cite.get("id", "")))
    if ref is not None and ref.is_memory and "memory_id" not in cite:
        cite["memory_id"] = ref.id
    sources = cite.get("sources") or []
    if sources and "observation_id" not in cite:
        cite["observation_id"] = sources[0].get("observation_id")
    if ref is not None and ref.is_observation and cite.get("observation_id") is None:
        cite["observation_id"] = ref.id
    ts = cite.get("ts") or (sources[0].get("ts") if sources else None)
    if isinstance(ts, str):
        ts = parse_ts(ts)
    if ts is not None:
        cite["ts"] = float(ts)
    return cite


def _ref(text: str) -> HitRef | None:
    try:
        return HitRef.parse(text)
    except BadQuery:
        return None


def to_event(item: Any) -> ChatEvent:
    """Turn what an agent yields (str, dict or object) into a ChatEvent."""
    if isinstance(item, ChatEvent):
        return item
    if isinstance(item, str):
        return ChatEvent("token", item)
    cites = item.get("citations") if isinstance(item, dict) else getattr(item, "citations", None)
    if cites:
        return ChatEvent("citations", citations=tuple(normalise_citation(c) for c in cites))
    text = item.get("text", "") if isinstance(item, dict) else getattr(item, "text", "")
    return ChatEvent("token", str(text or ""))


class ServiceChatBackend:
    """Streams answers from ``MemoryService.ask_stream``; the service keeps each turn."""

    def unavailable_reason(self, service: MemoryService) -> str | None:
        """None when the configured assistant LLM answers, else a sentence for the user."""
        return service.chat_unavailable_reason()

    def stream(
        self,
        service: MemoryService,
        question: str,
        history: list[tuple[str, str]],
        session_id: int | None = None,
    ) -> Iterator[ChatEvent]:
        """Adapt the service's stream to ChatEvents; the service keeps the turn in the session."""
        turns = [{"role": role, "content": text} for role, text in history]
        stream = service.ask_stream(question, history=turns, session_id=session_id)
        for item in stream:
            yield to_event(item)
        answer = stream.result
        if answer is not None:
            yield to_event(answer) if answer.citations else ChatEvent("citations")
            yield ChatEvent("done", session_id=answer.session_id)
