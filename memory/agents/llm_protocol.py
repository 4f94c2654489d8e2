"""The LLM interface the agents are written against (``models.llm.base.LLM``) and its errors.

Agents are written against this Protocol so tests can pass a scripted fake and any backend
(in-process transformers, an OpenAI-compatible server) fits without an adapter.
"""

from __future__ import annotations

from models.llm.base import LLM, Message

__all__ = ["AgentLLM", "Message", "TRANSIENT_NAMES", "is_transient"]

# Errors that mean "the model is not reachable right now": the batch stays queued and is retried
# with backoff. Anything else from a model is treated as a bad answer for that one call.
TRANSIENT_NAMES = ("LLMServerError", "ModelUnavailable", "TimeoutError", "ConnectionError")

AgentLLM = LLM  # one interface: the models layer's; agents name it by what they use it for


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` says the model is unreachable or too slow (retry), not a bad answer."""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    return any(cls.__name__ in TRANSIENT_NAMES for cls in type(exc).__mro__)
