"""Words that OCR ran together, split again for search.

Small or tightly set text comes out of OCR without its spaces: "NoahAcheampong09:42" for a chat
author and time, "CourtyardRoomsRiga", "Wed4Mar". Searched as one token, "Noah" never matches it.
The split forms are indexed beside the screen's text (in its search context, never shown); the
text itself keeps what OCR read, so a search for the joined word ("PyIndex") still finds it.
"""

from __future__ import annotations

import functools
import re

_TOKEN = re.compile(r"[^\W_]{4,}", re.UNICODE)  # letters and digits; "_" keeps identifiers whole
# a lower-case letter then an upper-case one, or a letter next to a digit
_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
MAX_WORDS = 400


def split_joined(text: str) -> str:
    """The parts of ``text``'s run-together words, space-separated ("" when there are none)."""
    out: list[str] = []
    seen: set[str] = set()
    for token in _TOKEN.findall(text):
        parts = [p for p in _BOUNDARY.split(token) if p]
        if len(parts) < 2 or token in seen:
            continue
        seen.add(token)
        out.extend(parts)
        if len(out) >= MAX_WORDS:
            break
    return " ".join(out)


_RUN = re.compile(r"[^\W_]{10,}", re.UNICODE)
_LETTERS = re.compile(r"[A-Za-z]+|[^A-Za-z]+")
SHORT_WORDS = frozenset(
    "an on in of to at by or is it as be we us my no so up do if me he am".split()
)
COMMON = 110_000
"""Parts of a split must be among the English words this common, two letters or more ("a",
"cheam", "pong" from "Acheampong" mean the run was a name, not words OCR ran together)."""


@functools.cache
def _ranks() -> dict[str, int]:
    import wordninja  # ~0.15 s: its word list loads on first use

    words = wordninja.DEFAULT_LANGUAGE_MODEL._wordcost  # built from its list, commonest first
    return {w: n for n, w in enumerate(words)}


def _common(word: str, ranks: dict[str, int]) -> bool:
    """A common word, or an inflection of one ("renews", "invoiced")."""
    if ranks.get(word, COMMON) < COMMON:
        return True
    for end, back in (("s", ""), ("es", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        stem = word[: -len(end)] + back
        if word.endswith(end) and len(stem) > 2 and ranks.get(stem, COMMON) < COMMON:
            return True
    return False


def _words(run: str) -> list[str]:
    """A run of letters as the words it is made of, or itself when it is not clearly words."""
    ranks = _ranks()
    low = run.lower()
    if len(run) < 10 or _common(low, ranks):
        return [run]
    import wordninja

    parts = wordninja.split(low)
    if len(parts) < 2 or "".join(parts) != low:
        return [run]
    for p in parts:
        if not _common(p, ranks) or (len(p) < 3 and p not in SHORT_WORDS):
            return [run]
    out, at = [], 0
    for p in parts:  # keep the run's own letter case
        out.append(run[at : at + len(p)])
        at += len(p)
    return out


def spaced(text: str) -> str:
    """``text`` with the spaces OCR lost put back, for a reader (a model, a snippet).

    "4.1ThisAgreementrenewsautomaticallyon7October2026" -> "4.1 This Agreement renews
    automatically on 7 October 2026". Only runs of ten or more letters and digits are touched:
    split where the case or letters and digits change, and runs of letters that are not a word
    into common English words when they are clearly made of them; names and identifiers stay.
    """

    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        out: list[str] = []
        for piece in _BOUNDARY.split(token):
            for chunk in _LETTERS.findall(piece):
                out += _words(chunk) if chunk.isalpha() else [chunk]
        return " ".join(p for p in out if p)

    return _RUN.sub(one, text)
