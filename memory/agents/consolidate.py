"""Consolidation: near-duplicate items merge instead of piling up; nothing is silently lost."""

from __future__ import annotations

import logging
from collections.abc import Callable

from memory.agents.ops import Op
from memory.search.fts import STOPWORDS, tokens
from memory.store.records import Memory

logger = logging.getLogger(__name__)

NEAR = 0.8
Finder = Callable[[str, str, int], list[Memory]]


def _words(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in STOPWORDS}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the content words of two texts."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def is_near_duplicate(title: str, summary: str, other: Memory) -> bool:
    """Same name (ignoring case), or nearly the same words in name and summary."""
    if title and title.strip().casefold() == other.title.strip().casefold():
        return True
    return similarity(f"{title} {summary}", f"{other.title} {other.summary}") >= NEAR


def dedupe_inserts(ops: list[Op], find: Finder) -> list[Op]:
    """Turn inserts that repeat a live item (found by search) into updates of that item."""
    out: list[Op] = []
    for op in ops:
        if op.op != "insert" or op.mtype not in ("semantic", "procedural", "resource"):
            out.append(op)
            continue
        title = str(op.fields.get("name") or op.fields.get("title") or "")
        summary = str(op.fields.get("summary") or "")
        twin = next(
            (
                m
                for m in find(f"{title} {summary}", op.mtype, 5)
                if m.live and is_near_duplicate(title, summary, m)
            ),
            None,
        )
        if twin is None:
            out.append(op)
        else:
            logger.debug("insert repeats memory %s; updating it instead", twin.id)
            out.append(
                Op("update", op.mtype, op.fields, (twin.id,), op.source_ids, op.tree_path, op.agent)
            )
    return out


def duplicate_merges(items: list[Memory], find: Finder, agent: str = "consolidator") -> list[Op]:
    """Merge operations for live items that have a near-duplicate among their search neighbours."""
    ops: list[Op] = []
    taken: set[int] = set()
    for m in items:
        if not m.live or m.id in taken or m.type in ("core", "vault", "episodic"):
            continue
        twins = [
            o
            for o in find(f"{m.title} {m.summary}", m.type, 6)
            if o.id != m.id
            and o.live
            and o.id not in taken
            and is_near_duplicate(m.title, m.summary, o)
        ]
        if not twins:
            continue
        group = [m, *twins[:3]]
        keep = max(group, key=lambda x: (len(x.summary), x.updated_at))
        rest = tuple(x.id for x in group if x.id != keep.id)
        taken.update(x.id for x in group)
        ops.append(Op("merge", m.type, {}, (keep.id, *rest), (), None, agent))
    return ops


def drop_conflicts(ops: list[Op]) -> tuple[list[Op], list[Op]]:
    """Keep operations in order, dropping any that touch an item an earlier one merged away,
    superseded or deleted (two managers, or one answer, may both act on the same item).

    Returns:
        (kept, dropped)
    """
    gone: set[int] = set()
    kept: list[Op] = []
    dropped: list[Op] = []
    for op in ops:
        if set(op.ids) & gone:
            dropped.append(op)
            continue
        kept.append(op)
        if op.op == "merge":
            gone.update(op.ids[1:])
        elif op.op in ("delete", "supersede"):
            gone.update(op.ids[:1])
    return kept, dropped
