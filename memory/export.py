"""Exporting a home as one JSON document (vault secrets never included)."""

from __future__ import annotations

import json
from typing import TextIO

from memory.store import MemoryStore
from memory.timeutil import iso


def export_home(store: MemoryStore, out: TextIO) -> None:
    """Stream observations, memories, events and chats as JSON to ``out`` (constant memory)."""
    out.write('{"format": "engram-export", "version": 1,\n "observations": [')
    first = True
    for batch in store.iter_observations(1000):
        for o in batch:
            row = {name: getattr(o, name) for name in o.__slots__}
            row["ts_start"], row["ts_end"] = iso(o.ts_start), iso(o.ts_end)
            out.write(("\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False))
            first = False
    out.write('],\n "memories": [')
    first = True
    conn = store.read()
    ids = [r[0] for r in conn.execute("SELECT id FROM memories ORDER BY id")]
    for i in range(0, len(ids), 500):
        for m in store.get_memories(ids[i : i + 500]).values():
            fields = {k: v for k, v in m.fields.items() if k != "secret_ct"}
            row = {
                "id": m.id,
                "type": m.type,
                "title": m.title,
                "summary": m.summary,
                "details": m.details,
                "ts": iso(m.ts),
                "tree_path": list(m.tree_path),
                "source_ids": list(m.source_ids),
                "version": m.version,
                "deleted_at": iso(m.deleted_at),
                "superseded_by": m.superseded_by,
                "fields": fields,
            }
            out.write(
                ("\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False, default=str)
            )
            first = False
    out.write('],\n "memory_events": [')
    first = True
    for r in conn.execute("SELECT * FROM memory_events ORDER BY id"):
        out.write(
            ("\n  " if first else ",\n  ")
            + json.dumps(dict(r) | {"ts": iso(r["ts"])}, ensure_ascii=False)
        )
        first = False
    out.write('],\n "chat_messages": [')
    first = True
    for r in conn.execute("SELECT * FROM chat_messages ORDER BY id"):
        out.write(
            ("\n  " if first else ",\n  ")
            + json.dumps(dict(r) | {"ts": iso(r["ts"])}, ensure_ascii=False)
        )
        first = False
    out.write("]}\n")
