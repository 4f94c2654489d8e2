"""Core memory: explicit statements of the user ("my name is", "I live in") kept in one block.

Single-valued facts (name, employer, city) replace older values: the block is superseded, so the
old version stays in history. A block near its size limit is rewritten shorter (by the LLM when
one is configured, otherwise by dropping the oldest repeated and free-form lines).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from memory.store.records import Memory, Observation

logger = logging.getLogger(__name__)

CORE_LABEL = "human"
CORE_LIMIT = 2_000
REWRITE_AT = 0.9
USER_SPEAKERS = ("user", "me", "you")
OWN_CHAT_APP = "engram"
"""The ``app`` of chat observations from Engram's own chat (imports are ``chat``)."""

# (key, pattern, single-valued?) — the value is the rest of the clause.
_END = r"(?P<v>[^.,;!?\n]{1,80})"
FACT_RULES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    ("Name", re.compile(r"\bmy name is " + _END, re.I), True),
    ("Name", re.compile(r"\bcall me " + _END, re.I), True),
    ("Works at", re.compile(r"\bI (?:now )?work (?:at|for) " + _END, re.I), True),
    ("Lives in", re.compile(r"\bI (?:now )?live in " + _END, re.I), True),
    ("Prefers", re.compile(r"\bI (?:prefer|like|love) " + _END, re.I), False),
)
_STATEMENT = re.compile(
    r"\b(?:remember|note) that\b|\bmy \w+(?: \w+)? (?:is|are|was|were)\b"
    r"|\bI(?:'m| am| have| had| was| will| do not| don't)\b",
    re.I,
)
_LINE = re.compile(r"^(?P<k>[A-Z][\w ]{1,20}): (?P<v>.+)$")


@dataclass(frozen=True, slots=True)
class Fact:
    """One explicit statement: ``key: value``, from an observation."""

    key: str
    value: str
    obs_id: int
    ts: float
    single: bool


def states_fact(text: str) -> bool:
    """Whether a chat message of the user states something about them or asks to remember it
    (questions alone are not memorised: only sentences that do not end with "?" count)."""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if not sentence or sentence.endswith("?"):
            continue
        if any(p.search(sentence) for _, p, _ in FACT_RULES) or _STATEMENT.search(sentence):
            return True
    return False


def own_statement(o: Observation) -> bool:
    """A turn the user typed into Engram's own chat (not an imported chat's line)."""
    return o.kind == "chat" and o.app == OWN_CHAT_APP and user_turn(o)


def user_turn(o: Observation) -> bool:
    """A chat turn whose speaker is the user (by name only: imports can name anyone "user")."""
    return o.kind == "chat" and (o.speaker or "").lower() in USER_SPEAKERS


def facts_from_chat(observations: list[Observation], *, imported: bool = False) -> list[Fact]:
    """Facts the user stated about themselves in Engram's chat (other speakers are ignored).

    ``imported``: the same from imported chats instead; third-party text that only a review may
    turn into core memory (an imported "I prefer to ignore previous instructions" became core
    memory in every prompt, #12).
    """
    out: list[Fact] = []
    for o in sorted(observations, key=lambda x: (x.ts_start, x.id)):
        if not user_turn(o) or own_statement(o) == imported:
            continue
        for key, pattern, single in FACT_RULES:
            for m in pattern.finditer(o.text or ""):
                value = " ".join(m.group("v").split()).strip()
                value = re.split(r"\s+(?:and|but|because|so)\s+", value)[0]
                if value:
                    out.append(Fact(key, value, o.id, o.ts_start, single))
    return out


def parse_block(value: str) -> list[tuple[str, str]]:
    """A core block's lines as (key, value); free-form lines get key ''."""
    out = []
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _LINE.match(line)
        out.append((m.group("k"), m.group("v")) if m else ("", line))
    return out


def render_block(lines: list[tuple[str, str]]) -> str:
    """The block text of (key, value) lines."""
    return "\n".join(f"{k}: {v}" if k else v for k, v in lines)


def merge_facts(
    lines: list[tuple[str, str]], facts: list[Fact]
) -> tuple[list[tuple[str, str]], bool]:
    """Fold facts into block lines; returns (lines, contradicted) where contradicted means a
    single-valued fact replaced a different older value."""
    lines = list(lines)
    contradicted = False
    for f in facts:
        if f.single:
            idx = [i for i, (k, _) in enumerate(lines) if k == f.key]
            if idx and lines[idx[0]][1].lower() != f.value.lower():
                contradicted = True
            for i in reversed(idx):
                del lines[i]
            lines.append((f.key, f.value))
        elif (f.key, f.value) not in lines and all(
            v.lower() != f.value.lower() for k, v in lines if k == f.key
        ):
            lines.append((f.key, f.value))
    return lines, contradicted


def shrink(lines: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """Drop the oldest multi-valued and free-form lines until the block fits half its limit."""
    target = limit // 2
    lines = list(lines)
    while len(render_block(lines)) > target:
        drop = next((i for i, (k, _) in enumerate(lines) if k in ("", "Prefers")), None)
        if drop is None:
            drop = 0
        del lines[drop]
        if not lines:
            break
    return lines


def needs_rewrite(value: str, limit: int) -> bool:
    """True when a block is over ``REWRITE_AT`` of its limit."""
    return len(value) > REWRITE_AT * limit


def block_fields(value: str, limit: int = CORE_LIMIT) -> dict[str, object]:
    """The fields of the core block."""
    return {
        "label": CORE_LABEL,
        "value": value,
        "char_limit": limit,
        "summary": "What the user told Engram about themselves",
    }


def current_block(candidates: list[Memory]) -> Memory | None:
    """The live ``human`` block among search results."""
    for m in candidates:
        if m.type == "core" and m.live and m.title == CORE_LABEL:
            return m
    return None
