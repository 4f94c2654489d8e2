"""Memory operations the managers propose, their JSON schemas, and their validation.

A manager's answer is ``{"operations": [...]}``; each operation is insert, update, merge or
delete. An answer is accepted whole or rejected whole: one bad operation (unknown id, unknown
type, unknown field, text over a limit) rejects all of it, so a half-understood answer never
half-applies.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from memory.store import memories as mem
from memory.store.records import MEMORY_TYPES

logger = logging.getLogger(__name__)

OP_KINDS = ("insert", "update", "merge", "delete")
MAX_OPS = 8
AGENT_SUMMARY_LIMIT = 600
AGENT_DETAILS_LIMIT = 4_000
TREE_DEPTH = 4
TREE_PART = 40
SCHEMA_CAP = 300

# Fields an LLM may write per type (the rest, e.g. ``secret_ct`` or ``char_limit``, are ours).
LLM_FIELDS: dict[str, dict[str, int]] = {
    "core": {"label": 40, "value": 2_000},
    "episodic": {"event_type": 40, "summary": AGENT_SUMMARY_LIMIT, "details": AGENT_DETAILS_LIMIT},
    "semantic": {"name": 120, "summary": AGENT_SUMMARY_LIMIT, "details": AGENT_DETAILS_LIMIT},
    "procedural": {"summary": AGENT_SUMMARY_LIMIT},
    "resource": {"title": 200, "resource_type": 20, "summary": AGENT_SUMMARY_LIMIT},
    "vault": {},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "core": ("label", "value"),
    "episodic": ("summary",),
    "semantic": ("name", "summary"),
    "procedural": ("summary", "steps"),
    "resource": ("title", "summary"),
    "vault": (),
}


PLACEHOLDERS = frozenset(
    {k for fields in LLM_FIELDS.values() for k in fields}
    | {"id", "ids", "op", "fields", "operations", "observations", "items", "steps", "text"}
    | {"string", "none", "null", "n/a", "na", "unknown", "tbd", "todo", "example", "-", "..."}
)
"""What a weak model writes into a field when it has nothing: a key of the schema or the
prompt, or a placeholder word. A memory named "id" or "None" is noise, so such text is rejected."""


CONTENT = ("name", "title", "summary", "details", "value")
"""Fields that hold what is remembered (a label or a type tag such as "name" may be a key word)."""


_ID_REF = re.compile(r"\s*\[?(?:obs|id|item)\s*#?\d+\b", re.I)
"""A name or summary that starts with a prompt line's id ("obs 29: Calendar ...")."""


class InvalidOps(ValueError):
    """A manager's answer breaks the rules; ``reason`` says which, nothing of it is applied."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Op:
    """One validated operation on one memory type.

    ``ids``: the memories it touches (update/delete: one; merge: target first, then the merged).
    ``op`` may also be ``supersede`` (insert a newer version of ``ids[0]``), used by consolidation.
    """

    op: str
    mtype: str
    fields: dict[str, Any] = field(default_factory=dict)
    ids: tuple[int, ...] = ()
    source_ids: tuple[int, ...] = ()
    tree_path: tuple[str, ...] | None = None
    agent: str = "agent"
    review: str = ""
    """Why the user must confirm this operation first (held as a proposal); empty: apply it."""


def _fields_schema(mtype: str, cap: int = SCHEMA_CAP) -> dict[str, Any]:
    # Schema string caps stay small: llama.cpp expands {0,n} repetitions into grammar rules and
    # aborts on big ones, and the longest answer must fit the token budget or it is cut mid-JSON;
    # validate_answer still enforces the real limits.
    props: dict[str, Any] = {
        k: {"type": "string", "maxLength": min(n, cap)} for k, n in LLM_FIELDS[mtype].items()
    }
    for key in REQUIRED[mtype]:  # the validator rejects empty required text: so does the schema
        if key in props:
            props[key]["minLength"] = 1
    if mtype == "procedural":
        props["entry_type"] = {"enum": ["workflow", "guide", "script"]}
        props["steps"] = {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": min(120, cap)},
            "minItems": 1,
            "maxItems": 4,
        }
    return {
        "type": "object",
        "properties": props,
        "required": list(REQUIRED[mtype]),
        "additionalProperties": False,
    }


def ops_schema(
    mtype: str, shown_ids: list[int], max_ops: int = 2, budget_tokens: int = 1024
) -> dict[str, Any]:
    """The JSON schema a manager's answer must match; ids are limited to the items it was shown."""
    # ~2 characters a token (a weak model spells odd strings in short pieces), ~80 characters of
    # JSON syntax per operation, and room for a full tree_path, or a weak model's answer is cut.
    strings = max(1, len(LLM_FIELDS[mtype]) + (4 if mtype == "procedural" else 0))
    per_op = 80 + TREE_DEPTH * (TREE_PART + 4)
    cap = max(24, min(SCHEMA_CAP, (budget_tokens * 2 - per_op * max_ops) // (max_ops * strings)))
    fields = _fields_schema(mtype, cap)
    partial = {k: v for k, v in fields.items() if k != "required"}  # update/merge change some
    path = {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": TREE_PART},
        "maxItems": TREE_DEPTH,
    }
    variants: list[dict[str, Any]] = [
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["op", "fields"],
            "properties": {"op": {"const": "insert"}, "fields": fields, "tree_path": path},
        }
    ]
    if shown_ids:
        one = {"enum": sorted(shown_ids)}
        variants += [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["op", "id", "fields"],
                "properties": {
                    "op": {"const": "update"},
                    "id": one,
                    "fields": partial,
                    "tree_path": path,
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["op", "ids", "fields"],
                "properties": {
                    "op": {"const": "merge"},
                    "fields": partial,
                    "ids": {
                        "type": "array",
                        "items": one,
                        "minItems": 2,
                        "maxItems": 4,
                        "uniqueItems": True,
                    },
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["op", "id"],
                "properties": {"op": {"const": "delete"}, "id": one},
            },
        ]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["operations"],
        "properties": {
            "operations": {"type": "array", "items": {"anyOf": variants}, "maxItems": max_ops}
        },
    }


def validate_answer(
    answer: Any, mtype: str, shown_ids: list[int], source_ids: list[int], agent: str
) -> list[Op]:
    """Turn a manager's JSON answer into operations, or reject it whole.

    Raises:
        InvalidOps: not an object with ``operations``, an unknown op or type, an id it was not
            shown, an unknown field, text over a limit, or too many operations.
    """
    if mtype not in MEMORY_TYPES:
        raise InvalidOps(f"unknown memory type {mtype!r}")
    if not isinstance(answer, dict) or not isinstance(answer.get("operations"), list):
        raise InvalidOps("the answer is not an object with an 'operations' list")
    raw_ops = answer["operations"]
    if len(raw_ops) > MAX_OPS:
        raise InvalidOps(f"{len(raw_ops)} operations; at most {MAX_OPS} per answer")
    shown = set(shown_ids)
    base = Op("insert", mtype, {}, (), tuple(source_ids), None, agent)
    return [_one(raw, n, base, shown) for n, raw in enumerate(raw_ops)]


def _one(raw: Any, n: int, base: Op, shown: set[int]) -> Op:
    """One operation; ``base`` carries the type, provenance and agent of the answer."""
    mtype = base.mtype
    if not isinstance(raw, dict):
        raise InvalidOps(f"operation {n} is not an object")
    kind = raw.get("op")
    if kind not in OP_KINDS:
        raise InvalidOps(f"operation {n}: unknown op {kind!r}")
    claimed = raw.get("type", mtype)
    if claimed != mtype:
        raise InvalidOps(f"operation {n}: type {claimed!r} is not this manager's type {mtype!r}")
    ids = _ids(raw, n, kind, shown)
    fields = {} if kind == "delete" else _fields(raw.get("fields"), n, mtype, kind)
    path = _tree_path(raw.get("tree_path"), n)
    return Op(kind, mtype, fields, ids, base.source_ids, path, base.agent)


def _ids(raw: dict[str, Any], n: int, kind: str, shown: set[int]) -> tuple[int, ...]:
    if kind == "insert":
        return ()
    values = raw.get("ids") if kind == "merge" else [raw.get("id")]
    if not isinstance(values, list) or not values:
        raise InvalidOps(f"operation {n}: {kind} needs {'ids' if kind == 'merge' else 'an id'}")
    out: list[int] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v not in shown:
            raise InvalidOps(f"operation {n}: id {v!r} is not one of the items shown")
        out.append(v)
    if kind == "merge" and len(set(out)) < 2:
        raise InvalidOps(f"operation {n}: a merge needs two different ids")
    return tuple(dict.fromkeys(out))


def _fields(raw: Any, n: int, mtype: str, kind: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidOps(f"operation {n}: fields must be an object")
    limits = LLM_FIELDS[mtype]
    allowed = set(limits) | ({"entry_type", "steps"} if mtype == "procedural" else set())
    unknown = set(raw) - allowed
    if unknown:
        raise InvalidOps(f"operation {n}: unknown field(s) {sorted(unknown)} for {mtype}")
    for key, limit in limits.items():
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise InvalidOps(f"operation {n}: {key} must be text of at most {limit} characters")
        if key in CONTENT and isinstance(value, str) and _ID_REF.match(value):
            raise InvalidOps(f"operation {n}: {key} {value[:40]!r} names an id, not a memory")
        if (
            key in CONTENT
            and isinstance(value, str)
            and value.strip().strip(".:'\"").lower() in PLACEHOLDERS
        ):
            raise InvalidOps(f"operation {n}: {key} {value!r} is a placeholder, not a memory")
    if kind == "insert":
        missing = [k for k in REQUIRED[mtype] if not raw.get(k)]
        if missing:
            raise InvalidOps(f"operation {n}: insert is missing {missing}")
        try:  # the store's own schema and limits, checked before anything is written
            mem.split_fields(mtype, dict(raw), time.time())
        except mem.InvalidMemory as exc:
            raise InvalidOps(f"operation {n}: {exc}") from exc
    return dict(raw)


def _tree_path(raw: Any, n: int) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or len(raw) > TREE_DEPTH
        or not all(isinstance(p, str) and 0 < len(p) <= TREE_PART for p in raw)
    ):
        raise InvalidOps(f"operation {n}: tree_path must be up to {TREE_DEPTH} short names")
    return tuple(p.strip().lower() for p in raw)
