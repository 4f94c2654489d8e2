"""The meta memory manager: which of the six types a batch concerns (rules, plus the LLM)."""

from __future__ import annotations

import logging
import re

from memory.agents import core, extractors
from memory.agents.llm_protocol import AgentLLM, is_transient
from memory.store.records import MEMORY_TYPES, Observation

logger = logging.getLogger(__name__)

_STEPS = re.compile(
    r"(?m)^\s*(?:\d+[.)]|step \d|\$ |>>> )|\bhow to\b|\binstall\b|\bpip install\b|"
    r"\bgit (?:clone|commit|push)\b",
    re.I,
)
LLM_TYPES = ("semantic", "procedural")
ROUTE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["types"],
    "properties": {
        "types": {
            "type": "array",
            "uniqueItems": True,
            "maxItems": 6,
            "items": {"enum": list(MEMORY_TYPES)},
        }
    },
}


def rule_route(observations: list[Observation], has_llm: bool) -> set[str]:
    """Types the batch concerns by rule: cheap and always run."""
    types: set[str] = set()
    if observations:
        types.add("episodic")
    if extractors.resources(observations):
        types.add("resource")
    if core.facts_from_chat(observations) or core.facts_from_chat(observations, imported=True):
        types.add("core")
    words = sum(len((o.text or "").split()) for o in observations)
    if has_llm and words >= 12:
        types.add("semantic")
    if has_llm and any(_STEPS.search(o.text or "") for o in observations):
        types.add("procedural")
    return types


def llm_route(llm: AgentLLM, text: str, max_tokens: int = 64) -> set[str]:
    """Types the LLM says a batch concerns; an unusable answer gives the empty set.

    Raises:
        Exception: a transient model error (server down or slow).
    """
    messages = [
        {
            "role": "system",
            "content": "Which memory types does this activity concern? semantic: "
            "lasting facts about people, projects, things; procedural: "
            "how-to steps; episodic: events. Include a type when unsure.",
        },
        {"role": "user", "content": text[:2000]},
    ]
    try:
        answer = llm.json(messages, ROUTE_SCHEMA, max_tokens=max_tokens)
    except Exception as exc:
        if is_transient(exc):
            raise
        logger.info("routing answer unusable (%s); using the rules alone", exc)
        return set()
    types = answer.get("types") if isinstance(answer, dict) else None
    if not isinstance(types, list):
        return set()
    return {t for t in types if t in MEMORY_TYPES}
