"""The slice of the models layer's LLM interface the agents use (``models.llm.base.LLM``).

Agents are written against this Protocol so tests can pass a scripted fake and any backend
(in-process transformers, an OpenAI-compatible server) fits without an adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

Message = dict[str, str]

# Errors that mean "the model is not reachable right now": the batch stays queued and is retried
# with backoff. Anything else from a model is treated as a bad answer for that one call.
TRANSIENT_NAMES = ("LLMServerError", "ModelUnavailable", "TimeoutError", "ConnectionError")


class AgentLLM(Protocol):
    """A chat model: plain text, streamed text, or JSON constrained by a JSON schema."""

    model_id: str

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Return the assistant's reply."""
        ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield the reply in pieces."""
        ...

    def json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """Return a JSON object valid against ``schema``."""
        ...


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` says the model is unreachable or too slow (retry), not a bad answer."""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    return any(cls.__name__ in TRANSIENT_NAMES for cls in type(exc).__mro__)
