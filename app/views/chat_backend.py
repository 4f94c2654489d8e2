"""The small interface the chat pane streams answers through, and its adapter to MemoryService.

The chat agent lives in ``memory/agents``; the pane only needs ``stream()`` to yield tokens and
citations. ``ServiceChatBackend`` adapts whatever streaming method the service offers and says
clearly when there is none ("the assistant is not configured").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from memory.timeutil import parse_ts

STREAM_METHODS = ("ask_stream", "chat_stream")
NOT_CONFIGURED = (
    "The assistant is not configured yet. Search still works; set an LLM under "
    "Settings → Models once one is installed."
)


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
        """Yield the answer's tokens, its citations, then ``done`` (with the session id if the backend
        kept the turn itself)."""


def normalise_citation(item: Any) -> dict[str, Any]:
    """A citation as the pane uses it: ``n``, ``title``, and where it leads (``observation_id`` of its
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
    ident = str(cite.get("id", ""))
    if ident.startswith("m:") and "memory_id" not in cite:
        cite["memory_id"] = int(ident[2:])
    sources = cite.get("sources") or []
    if sources and "observation_id" not in cite:
        cite["observation_id"] = sources[0].get("observation_id")
    if ident.startswith("o:") and cite.get("observation_id") is None:
        cite["observation_id"] = int(ident[2:])
    ts = cite.get("ts") or (sources[0].get("ts") if sources else None)
    if isinstance(ts, str):
        ts = parse_ts(ts)
    if ts is not None:
        cite["ts"] = float(ts)
    return cite


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
    """Streams from the service's chat method, if it has one."""

    def _method(self, service: Any) -> Any:
        return next(
            (getattr(service, m) for m in STREAM_METHODS if callable(getattr(service, m, None))),
            None,
        )

    def unavailable_reason(self, service: Any) -> str | None:
        """None when the service can stream answers."""
        if self._method(service) is None:
            return NOT_CONFIGURED
        probe = getattr(service, "chat_unavailable_reason", None)
        return probe() if callable(probe) else None

    def stream(
        self,
        service: Any,
        question: str,
        history: list[tuple[str, str]],
        session_id: int | None = None,
    ) -> Iterator[ChatEvent]:
        """Adapt the service's stream to ChatEvents; the service keeps the turn in the session."""
        method = self._method(service)
        if method is None:
            raise RuntimeError(NOT_CONFIGURED)
        turns = [{"role": role, "content": text} for role, text in history]
        stream = method(question, history=turns, session_id=session_id)
        for item in stream:
            yield to_event(item)
        answer = getattr(stream, "result", None)
        if answer is not None:
            yield to_event(answer) if getattr(answer, "citations", None) else ChatEvent("citations")
            yield ChatEvent("done", session_id=getattr(answer, "session_id", None))
