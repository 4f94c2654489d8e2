"""The passage of a result's text around the query's best match, with the query terms' spans.

Interim, Qt-free: the CLI's snippet builder (memory/search/snippets.py, issue #13's search-text
part) will hand the app the same (passage, spans) pair; until then the result list cuts its own.
"""

from __future__ import annotations

import re

STOP = frozenset(
    "a an and are at be by for from has have i in is it me my of on or the to was what "
    "when where which who with you".split()
)


def query_terms(query: str) -> tuple[str, ...]:
    """The words of a query worth marking (no stop words, no one-letter words)."""
    words = re.findall(r"[\w.@:/-]+", query.lower())
    return tuple(dict.fromkeys(w.strip(".:/-") for w in words if w not in STOP and len(w) > 1))


def term_spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) spans of every term in ``text`` (case-insensitive)."""
    if not terms:
        return []
    alts = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True) if t)
    return [m.span() for m in re.finditer(alts, text, re.IGNORECASE)] if alts else []


def passage(
    text: str, terms: tuple[str, ...], width: int = 260
) -> tuple[str, list[tuple[int, int]]]:
    """About ``width`` characters of ``text`` around its densest cluster of terms, and their spans.

    The window starts at a word boundary; "…" marks a cut at either end. Without a match, the
    start of the text.
    """
    flat = " ".join(text.split())
    spans = term_spans(flat, terms)
    if not spans or len(flat) <= width:
        start = 0
    else:
        best = max(spans, key=lambda s: sum(1 for t in spans if s[0] <= t[0] < s[0] + width // 2))
        start = max(0, best[0] - width // 3)
        if start:
            space = flat.rfind(" ", 0, start)
            start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start + width // 2, end)
        end = space if space > 0 else end
    head = "…" if start > 0 else ""
    tail = "…" if end < len(flat) else ""
    cut = head + flat[start:end] + tail
    return cut, term_spans(cut, terms)
