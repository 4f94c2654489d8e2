"""Search-result snippets: the passage of a text around the best match, with the query terms marked.

Qt-free and shared by every face: the CLI turns the spans into rich markup, the app into bold text.
A screen's OCR text begins with whatever sits at the top of the screen (the desktop's top bar, a
clock, tab strips), so its first characters are rarely what the user searched for (#13).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.search.fts import STOPWORDS, tokens

ELLIPSIS = "…"
LEAD = 0.25  # share of the window shown before the first match
_WORD = re.compile(r"[\w][\w'\-.]*", re.UNICODE)
_SPACE = re.compile(r"\s+")
MIN_PREFIX = 4  # "flights" marks "flight": a stem shares a prefix this long or longer


@dataclass(frozen=True, slots=True)
class Snippet:
    """A passage of a text with the query terms in it marked.

    Attributes:
        text: the passage, whitespace collapsed, with ``…`` where it was cut.
        spans: ``(start, end)`` character offsets of each marked term in ``text``, in order.
        matched: True when a query term was found (False: the start of the text is shown).
    """

    text: str
    spans: tuple[tuple[int, int], ...] = ()
    matched: bool = False


def query_terms(query: str) -> list[str]:
    """The words of a query worth marking: its tokens less stopwords (all of them if none left)."""
    toks = tokens(query)
    kept = [t for t in toks if t not in STOPWORDS] or toks
    return list(dict.fromkeys(kept))


def _matches(word: str, terms: list[str]) -> str | None:
    for term in terms:
        if word == term:
            return term
        short, long_ = sorted((word, term), key=len)
        if len(short) >= MIN_PREFIX and long_.startswith(short) and len(long_) - len(short) <= 3:
            return term
    return None


def term_spans(text: str, terms: list[str]) -> list[tuple[int, int, str]]:
    """Every word of ``text`` that matches a term: ``(start, end, term)``, in order."""
    out = []
    for m in _WORD.finditer(text):
        word = m.group().lower().strip("'-.")
        if not word:
            continue
        term = _matches(word, terms)
        if term is None and word.endswith("'s"):
            term = _matches(word[:-2], terms)
        if term is not None:
            start = m.start() + (len(m.group()) - len(m.group().lstrip("'-.")))
            out.append((start, start + len(word), term))
    return out


def _best_window(found: list[tuple[int, int, str]], width: int) -> int:
    """Start offset of the window of ``width`` holding the most distinct terms (then matches)."""
    best, best_key = found[0][0], (-1, -1)
    for i, (start, _, _) in enumerate(found):
        inside = [f for f in found[i:] if f[1] <= start + width]
        key = (len({f[2] for f in inside}), len(inside))
        if key > best_key:
            best, best_key = start, key
    return best


def build_snippet(text: str, query: str, width: int = 200) -> Snippet:
    """The passage of ``text`` (about ``width`` characters) around the best match of ``query``.

    The best match is the window holding the most distinct query terms; it starts a little before
    the first of them, on a word boundary. With no match, the start of the text.
    """
    flat = _SPACE.sub(" ", text or "").strip()
    found = term_spans(flat, query_terms(query))
    if not found:
        cut = _cut_right(flat, width)
        return Snippet(cut + (ELLIPSIS if len(cut) < len(flat) else ""))
    anchor = _best_window(found, width)
    start = max(0, anchor - int(width * LEAD))
    if start > 0:
        space = flat.find(" ", start, anchor)
        start = space + 1 if space != -1 else anchor
    passage = _cut_right(flat[start:], width)
    end = start + len(passage)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(flat) else ""
    shift = len(prefix) - start
    spans = tuple((s + shift, e + shift) for s, e, _ in found if s >= start and e <= end)
    return Snippet(prefix + passage + suffix, spans, True)


def _cut_right(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    space = text.rfind(" ", 0, width + 1)
    return text[: space if space > width // 2 else width].rstrip()
