"""Near-duplicate screens folded into one moment, so a scrolled copy never pushes a better hit down.

A recorder keeps a frame whenever enough pixels change: scrolling a page by a few lines, or one
changed line in a chat, gives a new frame with almost the same text. In a result list such copies
would fill several places with the same answer. Two screen hits are one moment when they show the
same window (application and title), were captured within ``GAP_S`` of each other, and share most
of their words; the better-ranked one stays, with the other's frames added to its sources and its
time span widened to cover both.
"""

from __future__ import annotations

import re
from dataclasses import replace

from memory.search.hits import Hit
from memory.store.records import Observation

GAP_S = 15 * 60.0
MIN_OVERLAP = 0.6  # share of the smaller word set that the other frame also shows
_WORD = re.compile(r"\w+", re.UNICODE)
_SCREEN_KINDS = ("screen", "import")


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 1)


def same_moment(
    a: Observation, b: Observation, a_words: frozenset[str], b_words: frozenset[str]
) -> bool:
    """Whether two screen observations are copies of one screen (scrolled or slightly changed)."""
    if a.kind not in _SCREEN_KINDS or b.kind not in _SCREEN_KINDS:
        return False
    if (a.app, a.window_title) != (b.app, b.window_title):
        return False
    a_end = a.ts_end if a.ts_end is not None else a.ts_start
    b_end = b.ts_end if b.ts_end is not None else b.ts_start
    if b.ts_start - a_end > GAP_S or a.ts_start - b_end > GAP_S:
        return False
    small = min(len(a_words), len(b_words))
    if small == 0:
        return not a_words and not b_words
    return len(a_words & b_words) / small >= MIN_OVERLAP


def collapse(hits: list[Hit], observations: dict[int, Observation]) -> list[Hit]:
    """Fold observation hits that are near-duplicates of a better-ranked hit into it."""
    kept: list[Hit] = []
    kept_obs: list[tuple[int, Observation, frozenset[str]]] = []  # (index in kept, obs, words)
    for hit in hits:
        obs = observations.get(hit.ref.id) if hit.ref.is_observation else None
        if obs is None or obs.kind not in _SCREEN_KINDS:
            kept.append(hit)
            continue
        words = _words(obs.text)
        for index, other, other_words in kept_obs:
            if same_moment(other, obs, other_words, words):
                kept[index] = _merge(kept[index], hit)
                break
        else:
            kept_obs.append((len(kept), obs, words))
            kept.append(hit)
    return kept


def _merge(into: Hit, other: Hit) -> Hit:
    """``into`` with ``other``'s sources and its time span widened to cover both."""
    have = {s.observation_id for s in into.sources}
    sources = into.sources + tuple(s for s in other.sources if s.observation_id not in have)
    times = [s.ts for s in sources]
    span = (min(times), max(times)) if times else (into.ts, into.ts)
    return replace(
        into, sources=sources, extra={**into.extra, "span": span, "copies": len(sources)}
    )
