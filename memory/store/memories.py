"""The six memory types: how each type's fields map onto the shared and typed columns."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from memory.errors import StoreError
from memory.privacy.redaction import scrub_data
from memory.store.records import MEMORY_TYPES, Memory

SUMMARY_LIMIT = 2_000
DETAILS_LIMIT = 50_000
TITLE_LIMIT = 300
CORE_DEFAULT_LIMIT = 5_000


class InvalidMemory(StoreError):
    """A memory's fields break the schema or a limit; nothing was written."""


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """Where a type's fields live: ``title``/``details`` aliases and its typed-table columns."""

    table: str
    columns: tuple[str, ...]
    title_alias: str | None = None
    details_alias: str | None = None


SPECS: dict[str, TypeSpec] = {
    "core": TypeSpec("core_memory", ("label", "char_limit"), "label", "value"),
    "episodic": TypeSpec("episodic_memory", ("occurred_at", "ended_at", "actor", "event_type")),
    "semantic": TypeSpec("semantic_memory", ("source",), "name"),
    "procedural": TypeSpec("procedural_memory", ("entry_type", "steps")),
    "resource": TypeSpec("resource_memory", ("resource_type", "uri"), "title", "content"),
    "vault": TypeSpec(
        "vault_memory", ("entry_type", "source", "sensitivity", "secret_ct"), "caption"
    ),
}
PROCEDURE_TYPES = ("workflow", "guide", "script")
SENSITIVITIES = ("low", "medium", "high")


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidMemory(f"{key} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise InvalidMemory(f"{key} is {len(value)} characters; the limit is {limit}")
    return value


def split_fields(
    mtype: str, data: dict[str, Any], now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a type's fields into shared columns and typed columns, validating both.

    Raises:
        InvalidMemory: unknown type, unknown field, wrong kind of value or over a limit.
    """
    if mtype not in SPECS:
        raise InvalidMemory(
            f"unknown memory type {mtype!r}; expected one of {', '.join(MEMORY_TYPES)}"
        )
    spec = SPECS[mtype]
    allowed = {"title", "summary", "details", "ts", *spec.columns}
    allowed |= {a for a in (spec.title_alias, spec.details_alias) if a}
    unknown = set(data) - allowed
    if unknown:
        raise InvalidMemory(f"unknown field(s) for {mtype}: {', '.join(sorted(unknown))}")
    title_key = spec.title_alias or "title"
    details_key = spec.details_alias or "details"
    limit = DETAILS_LIMIT
    typed = {c: data[c] for c in spec.columns if c in data}
    if mtype == "core":
        limit = int(data.get("char_limit") or CORE_DEFAULT_LIMIT)
        typed["char_limit"] = limit
        typed.setdefault("label", data.get("label") or "human")
    base = {
        "title": _text(data, title_key, TITLE_LIMIT),
        "summary": _text(data, "summary", SUMMARY_LIMIT),
        "details": _text(data, details_key, limit),
        "ts": float(data.get("ts") or data.get("occurred_at") or now),
    }
    _check_typed(mtype, typed, base, now)
    if mtype == "procedural":
        base["details"] = "\n".join(typed["steps"]) if not base["details"] else base["details"]
        typed["steps"] = json.dumps(typed["steps"], ensure_ascii=False)
    return base, typed


def _check_typed(  # noqa: C901 - one short rule per memory type, read top to bottom
    mtype: str, typed: dict[str, Any], base: dict[str, Any], now: float
) -> None:
    if mtype == "core" and not base["title"]:
        raise InvalidMemory("a core block needs a label")
    if mtype == "episodic":
        typed["occurred_at"] = float(typed.get("occurred_at") or base["ts"] or now)
        typed.setdefault("actor", "user")
        typed.setdefault("event_type", "activity")
        base["title"] = base["title"] or str(typed["event_type"])[:TITLE_LIMIT]
        if not base["summary"]:
            raise InvalidMemory("an episodic memory needs a summary")
    if mtype == "semantic" and not base["title"]:
        raise InvalidMemory("a semantic memory needs a name")
    if mtype == "procedural":
        typed.setdefault("entry_type", "workflow")
        if typed["entry_type"] not in PROCEDURE_TYPES:
            raise InvalidMemory(f"entry_type must be one of {', '.join(PROCEDURE_TYPES)}")
        steps = typed.get("steps") or []
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise InvalidMemory("steps must be a list of strings")
        typed["steps"] = steps
    if mtype == "vault":
        typed.setdefault("sensitivity", "high")
        if typed["sensitivity"] not in SENSITIVITIES:
            raise InvalidMemory(f"sensitivity must be one of {', '.join(SENSITIVITIES)}")
        if not base["title"]:
            raise InvalidMemory("a vault entry needs a caption")


def insert(
    conn: sqlite3.Connection,
    mtype: str,
    data: dict[str, Any],
    *,
    source_ids: list[int],
    tree_path: list[str],
    now: float,
) -> int:
    """Insert one memory (shared row, typed row, provenance); its id (caller's transaction)."""
    base, typed = split_fields(mtype, scrub_fields(data), now)
    tree_path = scrub_data(list(tree_path))
    cur = conn.execute(
        "INSERT INTO memories "
        "(type, title, summary, details, ts, tree_path, source_ids, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            mtype,
            base["title"],
            base["summary"],
            base["details"],
            base["ts"],
            json.dumps(list(tree_path), ensure_ascii=False),
            json.dumps(sorted(set(source_ids))),
            now,
            now,
        ),
    )
    mid = int(cur.lastrowid)
    _write_typed(conn, mtype, mid, typed)
    conn.executemany(
        "INSERT OR IGNORE INTO memory_sources (memory_id, observation_id) VALUES (?, ?)",
        [(mid, int(s)) for s in set(source_ids)],
    )
    return mid


def scrub_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Every text field redacted: the one redaction step on memory writes by agents and users (#12).

    Runs before the fields are encoded (``steps`` as JSON); ``secret_ct`` is bytes and passes.
    """
    return scrub_data(dict(data))


def _write_typed(conn: sqlite3.Connection, mtype: str, mid: int, typed: dict[str, Any]) -> None:
    spec = SPECS[mtype]
    cols = [c for c in spec.columns if c in typed]
    conn.execute(
        f"INSERT OR REPLACE INTO {spec.table} (id{''.join(', ' + c for c in cols)}) "
        f"VALUES (?{', ?' * len(cols)})",
        (mid, *[typed[c] for c in cols]),
    )


def update(
    conn: sqlite3.Connection,
    memory: Memory,
    data: dict[str, Any],
    *,
    source_ids: list[int] | None,
    tree_path: list[str] | None,
    now: float,
) -> None:
    """Overwrite a memory's fields with ``data`` merged over its current ones; bump its version."""
    merged = public_fields(memory)
    merged.update(data)
    base, typed = split_fields(memory.type, scrub_fields(merged), now)
    if tree_path is not None:
        tree_path = scrub_data(list(tree_path))
    sources = sorted(set(memory.source_ids) | set(source_ids or []))
    conn.execute(
        "UPDATE memories SET title = ?, summary = ?, details = ?, ts = ?, tree_path = ?, "
        "source_ids = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        (
            base["title"],
            base["summary"],
            base["details"],
            base["ts"],
            json.dumps(
                list(tree_path if tree_path is not None else memory.tree_path), ensure_ascii=False
            ),
            json.dumps(sources),
            now,
            memory.id,
        ),
    )
    _write_typed(conn, memory.type, memory.id, typed)
    conn.executemany(
        "INSERT OR IGNORE INTO memory_sources (memory_id, observation_id) VALUES (?, ?)",
        [(memory.id, s) for s in sources],
    )


def public_fields(memory: Memory) -> dict[str, Any]:
    """The memory's fields under its type's names, as ``split_fields`` accepts them."""
    spec = SPECS[memory.type]
    out: dict[str, Any] = {"summary": memory.summary, "ts": memory.ts}
    out[spec.title_alias or "title"] = memory.title
    out[spec.details_alias or "details"] = memory.details
    for key, value in memory.fields.items():
        if key in spec.columns:
            out[key] = value
    return out


def load(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Memory]:
    """Load memories by id (any state) with their typed fields."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT * FROM memories WHERE id IN ({marks})", ids).fetchall()
    out: dict[int, Memory] = {}
    for row in rows:
        spec = SPECS[row["type"]]
        typed_row = conn.execute(
            f"SELECT * FROM {spec.table} WHERE id = ?", (row["id"],)
        ).fetchone()
        fields = {c: typed_row[c] for c in spec.columns} if typed_row else {}
        if row["type"] == "procedural" and isinstance(fields.get("steps"), str):
            fields["steps"] = json.loads(fields["steps"])
        if spec.title_alias and spec.title_alias not in fields:
            fields[spec.title_alias] = row["title"]
        if spec.details_alias:
            fields[spec.details_alias] = row["details"]
        out[row["id"]] = Memory(
            id=row["id"],
            type=row["type"],
            title=row["title"],
            summary=row["summary"],
            details=row["details"],
            ts=row["ts"],
            tree_path=tuple(json.loads(row["tree_path"])),
            source_ids=tuple(json.loads(row["source_ids"])),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            version=row["version"],
            superseded_by=row["superseded_by"],
            deleted_at=row["deleted_at"],
            fields=fields,
        )
    return out


def snapshot(memory: Memory) -> str:
    """JSON of a memory for the audit log (the vault ciphertext is left out)."""
    fields = {k: v for k, v in memory.fields.items() if k != "secret_ct"}
    return json.dumps(
        {
            "type": memory.type,
            "title": memory.title,
            "summary": memory.summary,
            "details": memory.details,
            "ts": memory.ts,
            "tree_path": list(memory.tree_path),
            "source_ids": list(memory.source_ids),
            "version": memory.version,
            "fields": fields,
        },
        ensure_ascii=False,
        default=str,
    )
