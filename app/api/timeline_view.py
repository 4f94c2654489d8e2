"""A timeline summary as the MCP/HTTP ``timeline`` answer: apps, activity runs, episodes (#14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.api.schemas import ActivityOut, AppTimeOut, EpisodeOut, TimelineOut
from memory.timeutil import iso

if TYPE_CHECKING:
    from app.api.policy import Policy
    from memory.timeline import Summary


def timeline_out(
    summary: Summary, policy: Policy, memory_visible: Callable[[int, Policy], bool]
) -> TimelineOut:
    """Bands of hidden apps and episodes the policy hides are left out."""
    bands = [b for b in summary.bands if not policy.app_hidden(b.app)]
    per_app: dict[str, float] = {}
    for b in bands:
        per_app[b.app] = per_app.get(b.app, 0.0) + (b.end - b.start)
    episodes = []
    if "episodic" in policy.exposed:
        for e in summary.episodes:
            if not memory_visible(e.memory_id, policy):
                continue
            apps = sorted({b.app for b in bands if b.start < e.end and b.end > e.start})
            episodes.append(
                EpisodeOut(
                    memory_id=e.memory_id,
                    title=e.title,
                    start=iso(e.start) or "",
                    end=iso(e.end) or "",
                    seconds=round(e.end - e.start, 1),
                    apps=apps,
                )
            )
    return TimelineOut(
        start=iso(summary.start) or "",
        end=iso(summary.end) or "",
        moments=sum(b.count for b in bands),
        apps=[
            AppTimeOut(app=a, seconds=round(s, 1))
            for a, s in sorted(per_app.items(), key=lambda kv: -kv[1])
        ],
        activity=[
            ActivityOut(
                app=b.app,
                start=iso(b.start) or "",
                end=iso(b.end) or "",
                seconds=round(b.end - b.start, 1),
                moments=b.count,
            )
            for b in bands
        ],
        episodes=episodes,
    )
