"""Memory agents: memorising observations into the six memory types, and memory-aware chat."""

from __future__ import annotations

from memory.agents.chat import Answer, ChatAgent
from memory.agents.config import AgentConfig
from memory.agents.memorizer import BatchResult, LLMUnavailable, Memorizer
from memory.agents.runtime import Agents, AnswerStream
from memory.agents.worker import MemoryWorker

__all__ = [
    "Agents",
    "AgentConfig",
    "Answer",
    "AnswerStream",
    "BatchResult",
    "ChatAgent",
    "LLMUnavailable",
    "Memorizer",
    "MemoryWorker",
]
