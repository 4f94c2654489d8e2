"""Operations from the deterministic extractors (episodes, resources, vault, core): no LLM."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace

from memory.agents import core, extractors
from memory.agents.ops import Op
from memory.errors import BadQuery
from memory.store.records import Memory, Observation

logger = logging.getLogger(__name__)

Finder = Callable[[str, str, int], list[Memory]]
EPISODE_DETAILS = 8_000


Summary = tuple[str, str, list[str]]  # (title, summary, category path) written by the LLM


def episode_ops(
    segs: list[extractors.Segment], find: Finder, summaries: dict[str, Summary]
) -> list[Op]:
    """Insert an episode per segment, or extend the live episode a segment continues.

    With an LLM summary the episode is titled by what happened; the app and window stay on the
    first line of its details (which is also how a later segment finds the episode it continues).
    """
    ops: list[Op] = []
    for seg in segs:
        fields = extractors.episode_fields(seg)
        better = summaries.get(seg.key + str(seg.start))
        path: tuple[str, ...] | None = None
        if better:
            where = fields["title"]
            details = f"{where}\n{fields['summary']}\n{fields['details']}"
            fields["details"] = details[:EPISODE_DETAILS]
            fields["title"], fields["summary"], path = better[0], better[1], tuple(better[2])
            path = path or None
        old = _continued(seg, find)
        if old is None:
            ops.append(Op("insert", "episodic", fields, (), seg.obs_ids, path, "episodic_manager"))
            continue
        merged = dict(fields)
        merged["occurred_at"] = old.fields.get("occurred_at") or old.ts
        merged["ts"] = merged["occurred_at"]
        merged["details"] = f"{old.details}\n{fields['details']}"[-EPISODE_DETAILS:]
        if not better:
            merged["summary"] = _extend_summary(old, seg)
            merged["title"] = old.title  # an LLM title stays until the LLM writes a better one
        ops.append(
            Op("update", "episodic", merged, (old.id,), seg.obs_ids, path, "episodic_manager")
        )
    return ops


def _extend_summary(old: Memory, seg: extractors.Segment) -> str:
    """The old episode's summary with its message count or duration brought up to date."""
    if seg.is_chat:
        total = len(set(old.source_ids) | set(seg.obs_ids))
        return re.sub(r"\b\d+ messages\b", f"{total} messages", old.summary, count=1)
    start = float(old.fields.get("occurred_at") or old.ts)
    minutes = max(1, round((seg.end - start) / 60))
    return re.sub(r"for about \d+ min", f"for about {minutes} min", old.summary, count=1)


def _continued(seg: extractors.Segment, find: Finder) -> Memory | None:
    title = str(extractors.episode_fields(seg)["title"])
    try:
        found = find(title, "episodic", 5)
    except BadQuery:
        return None
    for m in found:
        end = m.fields.get("ended_at") or m.ts
        same = m.title == title or m.details.split("\n", 1)[0] == title
        if m.live and same and -1.0 <= seg.start - float(end) <= extractors.SEGMENT_GAP:
            return m
    return None


def resource_ops(
    observations: list[Observation], by_uri: Callable[[str], Memory | None]
) -> list[Op]:
    """Insert a resource per new URL/file; add provenance to one seen before."""
    apps = {o.id: o.app for o in observations}
    ops: list[Op] = []
    for res in extractors.resources(observations):
        old = by_uri(res.uri)
        if old is None:
            fields = extractors.resource_fields(res, apps.get(res.obs_ids[0]))
            ops.append(
                Op(
                    "insert",
                    "resource",
                    fields,
                    (),
                    res.obs_ids,
                    ("resources", res.resource_type),
                    "resource_manager",
                )
            )
        elif not set(res.obs_ids) <= set(old.source_ids):
            ops.append(
                Op("update", "resource", {}, (old.id,), res.obs_ids, None, "resource_manager")
            )
    return ops


def core_ops(
    observations: list[Observation], blocks: list[Memory], rewrite: Callable[[str, int], str | None]
) -> list[Op]:
    """Fold explicit chat statements into the core block: insert, update or supersede it.

    Only the user's own statements in Engram's chat apply at once; facts from imported chats
    (third-party text) are held for review as a proposal.
    """
    facts = core.facts_from_chat(observations)
    ops = _core_ops(facts, blocks, rewrite)
    imported = core.facts_from_chat(observations, imported=True)
    reason = "core facts from an imported chat: confirm they are yours (#12)"
    return ops + [replace(o, review=reason) for o in _core_ops(imported, blocks, rewrite)]


def _core_ops(
    facts: list[core.Fact], blocks: list[Memory], rewrite: Callable[[str, int], str | None]
) -> list[Op]:
    if not facts:
        return []
    block = core.current_block(blocks)
    old_value = block.details if block else ""
    lines, contradicted = core.merge_facts(core.parse_block(old_value), facts)
    limit = int(block.fields.get("char_limit") or core.CORE_LIMIT) if block else core.CORE_LIMIT
    value = core.render_block(lines)
    if core.needs_rewrite(value, limit):
        value = rewrite(value, limit) or core.render_block(core.shrink(lines, limit))
    sources = tuple(sorted({f.obs_id for f in facts}))
    fields = core.block_fields(value, limit)
    if block is None:
        return [Op("insert", "core", fields, (), sources, ("core",), "core_manager")]
    if value == old_value:
        return []
    kind = "supersede" if contradicted else "update"
    if kind == "supersede":  # the new version carries the old provenance too
        sources = tuple(sorted(set(sources) | set(block.source_ids)))
    return [Op(kind, "core", fields, (block.id,), sources, None, "core_manager")]
